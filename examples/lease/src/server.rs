//! The server: [`Server`], the grant rules, and [`serve`], its loop.

use detsim::Runtime;
use detsim::time::Instant;
use detsim_disk::Storage;
use detsim_net::{DatagramSocket, Transport, decode, encode};

use crate::{Config, Error, Reply, Request, TokenStore};

/// Who holds the lease, as the server knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Holder {
    client: u64,
    token: u64,
    /// On the server's clock.
    expiry: Instant,
}

/// The server's state: the holder (forgotten by a crash), the token store
/// (not forgotten) and the end of the grace period after a start.
#[derive(Debug)]
pub struct Server<S: Storage> {
    config: Config,
    tokens: TokenStore<S>,
    holder: Option<Holder>,
    grace_until: Instant,
}

impl<S: Storage> Server<S> {
    /// A server starting at `now` on its clock, with the tokens of `tokens`.
    pub fn new(config: Config, tokens: TokenStore<S>, now: Instant) -> Server<S> {
        Server {
            config,
            tokens,
            holder: None,
            grace_until: now.saturating_add(config.grace),
        }
    }

    /// Answers `request`, received at `now` on the server's clock.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if a new token could not be made durable; the
    /// lease is then granted to nobody.
    pub async fn handle(&mut self, request: &Request, now: Instant) -> Result<Reply, Error> {
        let id = request.request();
        if now < self.grace_until {
            // Whoever held the lease before the restart may still believe it does.
            return Ok(match request {
                Request::Release { .. } => Reply::Released { request: id },
                _ => Reply::Busy { request: id },
            });
        }
        let expiry = now.saturating_add(self.config.ttl);
        match *request {
            Request::Acquire { client, .. } => match self.holder {
                Some(holder) if holder.client != client && holder.expiry > now => {
                    Ok(Reply::Busy { request: id })
                }
                // Free, expired, or the asker's own (a retry, or a client
                // that restarted): a new token every time, so that a late
                // Release or Renew of an earlier grant cannot touch this one.
                _ => {
                    self.holder = None;
                    let token = self.tokens.next().await?;
                    self.holder = Some(Holder {
                        client,
                        token,
                        expiry,
                    });
                    Ok(Reply::Granted { request: id, token })
                }
            },
            Request::Renew { client, token, .. } => match self.holder {
                // Even if it expired: nobody had it since, so extending it
                // is the same as granting it again.
                Some(holder) if holder.client == client && holder.token == token => {
                    self.holder = Some(Holder { expiry, ..holder });
                    Ok(Reply::Granted { request: id, token })
                }
                _ => Ok(Reply::Lost { request: id }),
            },
            Request::Release { client, token, .. } => {
                if self
                    .holder
                    .is_some_and(|h| h.client == client && h.token == token)
                {
                    self.holder = None;
                }
                Ok(Reply::Released { request: id })
            }
        }
    }
}

/// Serves the lease on `port` of `net`, with its tokens on `storage`,
/// until the task is dropped.
///
/// # Errors
///
/// [`Error::Net`] if the port cannot be bound or a reply cannot be sent;
/// [`Error::Storage`] or [`Error::Corrupt`] if the token file cannot be
/// opened. A token that cannot be made durable is not an error of the
/// server: that request gets `Busy`.
pub async fn serve<R: Runtime, T: Transport, S: Storage>(
    runtime: R,
    net: T,
    storage: S,
    port: u16,
    config: Config,
) -> Result<(), Error> {
    let tokens = TokenStore::open(&storage).await?;
    let socket = net.bind_datagram(port).await?;
    let mut server = Server::new(config, tokens, runtime.now());
    let mut buf = vec![0u8; 1500];
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        // Garbage is not a request; a real network delivers some.
        let Ok(request) = decode::<Request>(&buf[..n]) else {
            continue;
        };
        let reply = match server.handle(&request, runtime.now()).await {
            Ok(reply) => reply,
            Err(_) => Reply::Busy {
                request: request.request(),
            },
        };
        socket.send_to(&encode(&reply)?, &from).await?;
    }
}
