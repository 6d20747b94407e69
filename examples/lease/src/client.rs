//! The client: [`LeaseClient`] speaks to the server, [`Lease`] is what it
//! holds, and [`worker`] acquires, holds and releases in a loop.

use std::time::Duration;

use detsim::time::Instant;
use detsim::{Runtime, timeout_on};
use detsim_net::{DatagramSocket, Transport, decode, encode};

use crate::{Config, Error, Reply, Request};

/// A lease the client holds: believe it only while
/// [`is_valid`](Lease::is_valid) says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    token: u64,
    valid_until: Instant,
}

impl Lease {
    /// The fencing token: larger than every earlier holder's.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// Until when, on the client's clock, the client may act on it.
    pub fn valid_until(&self) -> Instant {
        self.valid_until
    }

    /// Whether the client may still act on it at `now` (its clock).
    pub fn is_valid(&self, now: Instant) -> bool {
        now < self.valid_until
    }
}

/// A client of the lease server.
pub struct LeaseClient<R: Runtime, T: Transport> {
    runtime: R,
    socket: T::Datagram,
    server: T::Addr,
    client: u64,
    request_next: u64,
    config: Config,
    buf: Vec<u8>,
}

impl<R: Runtime, T: Transport> LeaseClient<R, T> {
    /// A client numbered `client` (unique among the server's clients) of
    /// the server at `server` (`node:port`).
    ///
    /// # Errors
    ///
    /// [`Error::Net`] if the address does not resolve or no socket binds.
    pub async fn new(
        runtime: R,
        net: &T,
        server: &str,
        client: u64,
        config: Config,
    ) -> Result<LeaseClient<R, T>, Error> {
        let server = net.resolve(server)?;
        let socket = net.bind_datagram(0).await?;
        Ok(LeaseClient {
            runtime,
            socket,
            server,
            client,
            request_next: 0,
            config,
            buf: vec![0u8; 1500],
        })
    }

    /// Asks for the lease: `None` if someone else holds it, the server did
    /// not answer, or its grant came too late to use.
    ///
    /// # Errors
    ///
    /// [`Error::Net`] if a request cannot be sent.
    pub async fn acquire(&mut self) -> Result<Option<Lease>, Error> {
        let client = self.client;
        Ok(self
            .call(|request| Request::Acquire { client, request })
            .await?
            .and_then(|(reply, sent)| self.granted(reply, sent)))
    }

    /// Extends `lease`: the extended lease, or `None` if the server does
    /// not know it any more (or did not answer).
    ///
    /// # Errors
    ///
    /// [`Error::Net`] if a request cannot be sent.
    pub async fn renew(&mut self, lease: &Lease) -> Result<Option<Lease>, Error> {
        let (client, token) = (self.client, lease.token);
        Ok(self
            .call(|request| Request::Renew {
                client,
                request,
                token,
            })
            .await?
            .and_then(|(reply, sent)| self.granted(reply, sent))
            .filter(|renewed| renewed.token == token))
    }

    /// Gives `lease` back. The caller has stopped acting on it already;
    /// if the server does not hear, the lease runs out.
    ///
    /// # Errors
    ///
    /// [`Error::Net`] if a request cannot be sent.
    pub async fn release(&mut self, lease: Lease) -> Result<(), Error> {
        let (client, token) = (self.client, lease.token);
        self.call(|request| Request::Release {
            client,
            request,
            token,
        })
        .await?;
        Ok(())
    }

    /// A grant, valid from the moment its request was `sent` for the ttl
    /// less the margin: the server counts from when it received it, later.
    /// A grant that arrives too late to use (the client was paused, say)
    /// is no lease.
    fn granted(&self, reply: Reply, sent: Instant) -> Option<Lease> {
        match reply {
            Reply::Granted { token, .. } => Some(Lease {
                token,
                valid_until: sent
                    .saturating_add(self.config.ttl.saturating_sub(self.config.margin)),
            })
            .filter(|lease| lease.is_valid(self.runtime.now())),
            _ => None,
        }
    }

    /// Sends `make(request)` until a reply to that very send arrives, up to
    /// `attempts` times: the reply and when its send left.
    async fn call(
        &mut self,
        make: impl Fn(u64) -> Request,
    ) -> Result<Option<(Reply, Instant)>, Error> {
        for _ in 0..self.config.attempts {
            let id = self.request_next;
            self.request_next += 1;
            let sent = self.runtime.now();
            let bytes = encode(&make(id))?;
            self.socket.send_to(&bytes, &self.server).await?;
            let deadline = sent.saturating_add(self.config.reply_timeout);
            loop {
                let left = deadline.saturating_duration_since(self.runtime.now());
                if left == Duration::ZERO {
                    break;
                }
                let received =
                    timeout_on(&self.runtime, left, self.socket.recv_from(&mut self.buf));
                let Ok(received) = received.await else {
                    break;
                };
                let (n, _) = received?;
                match decode::<Reply>(&self.buf[..n]) {
                    Ok(reply) if reply.request() == id => return Ok(Some((reply, sent))),
                    // A late or duplicated answer to an earlier send, or garbage.
                    _ => continue,
                }
            }
        }
        Ok(None)
    }
}

/// What a [`worker`] believed, reported as it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Belief {
    /// From `from` (when the grant arrived) until `until` (both on the
    /// client's clock), the client holds the lease with `token`.
    Holds {
        /// The fencing token.
        token: u64,
        /// When the grant or renewal arrived.
        from: Instant,
        /// Until when it is valid.
        until: Instant,
    },
    /// From `at` on, the client no longer acts on the lease with `token`.
    Gone {
        /// The fencing token.
        token: u64,
        /// When the client stopped.
        at: Instant,
    },
}

/// How a [`worker`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerOptions {
    /// How long it holds a lease it got, at most (a random part of it).
    pub hold_max: Duration,
    /// How long it rests between attempts, at most (a random part of it).
    pub rest_max: Duration,
    /// How often it renews a lease it holds.
    pub renew_every: Duration,
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            hold_max: Duration::from_secs(3),
            rest_max: Duration::from_millis(500),
            renew_every: Duration::from_millis(600),
        }
    }
}

/// Acquires the lease, holds it for a while (renewing it), releases it,
/// rests, and again, until the task is dropped; tells `report` each change
/// of what it believes.
///
/// # Errors
///
/// [`Error::Net`] if a request cannot be sent.
pub async fn worker<R: Runtime, T: Transport>(
    mut client: LeaseClient<R, T>,
    options: WorkerOptions,
    mut report: impl FnMut(Belief),
) -> Result<(), Error> {
    let runtime = client.runtime.clone();
    let random_part = |max: Duration| {
        let max = u64::try_from(max.as_micros()).unwrap_or(u64::MAX);
        Duration::from_micros(runtime.next_u64() % max.saturating_add(1))
    };
    loop {
        if let Some(mut lease) = client.acquire().await? {
            let from = runtime.now();
            report(Belief::Holds {
                token: lease.token,
                from,
                until: lease.valid_until,
            });
            let done = from.saturating_add(random_part(options.hold_max));
            loop {
                let now = runtime.now();
                if now >= done || !lease.is_valid(now) {
                    break;
                }
                runtime
                    .sleep(options.renew_every.min(done.saturating_duration_since(now)))
                    .await;
                if runtime.now() >= done {
                    break;
                }
                match client.renew(&lease).await? {
                    Some(renewed) => {
                        lease = renewed;
                        report(Belief::Holds {
                            token: lease.token,
                            from: runtime.now(),
                            until: lease.valid_until,
                        });
                    }
                    None => break,
                }
            }
            report(Belief::Gone {
                token: lease.token,
                at: runtime.now(),
            });
            if lease.is_valid(runtime.now()) {
                client.release(lease).await?;
            }
        }
        runtime.sleep(random_part(options.rest_max)).await;
    }
}
