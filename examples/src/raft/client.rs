//! A client of the store: finds the leader, retries with the same command
//! number until it gets an answer or gives up. Generic over the network and
//! the clock, like the servers.

use std::time::Duration;

use detsim::{Clock, timeout_on};
use detsim_net::{DatagramSocket, Transport};

use super::kv::{ClientId, Op, OpResult};
use super::message::{Outcome, Reply, Request, Wire};
use super::server::DATAGRAM_SIZE_MAX;

/// How a client waits and retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// How long to wait for one answer before trying another node.
    pub attempt_timeout: Duration,
    /// How long to keep trying before giving up (the outcome is then unknown).
    pub give_up_after: Duration,
    /// How long to wait before retrying after "not the leader".
    pub redirect_pause: Duration,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            attempt_timeout: Duration::from_millis(200),
            give_up_after: Duration::from_secs(2),
            redirect_pause: Duration::from_millis(20),
        }
    }
}

/// A client session.
pub struct Client<T: Transport, C: Clock> {
    id: ClientId,
    seq: u64,
    socket: T::Datagram,
    servers: Vec<T::Addr>,
    leader: usize,
    clock: C,
    options: ClientOptions,
    buf: Vec<u8>,
}

impl<T: Transport, C: Clock> Client<T, C> {
    /// A client with session `id` of the servers at `addresses` (`name:port`).
    ///
    /// # Errors
    ///
    /// When the socket cannot be bound or an address does not resolve.
    pub async fn connect(
        net: &T,
        clock: C,
        id: ClientId,
        addresses: &[String],
        options: ClientOptions,
    ) -> Result<Self, detsim_net::NetError> {
        let socket = net.bind_datagram(0).await?;
        let servers = addresses
            .iter()
            .map(|a| net.resolve(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Client {
            id,
            seq: 0,
            socket,
            servers,
            leader: (id as usize) % addresses.len().max(1),
            clock,
            options,
            buf: vec![0; DATAGRAM_SIZE_MAX],
        })
    }

    /// The node the client currently takes for the leader (an index into
    /// the addresses it was given).
    pub fn leader_hint(&self) -> usize {
        self.leader
    }

    /// The session id.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// Runs `op`; `None` if no answer came before giving up (it may or may
    /// not have taken effect).
    pub async fn call(&mut self, op: Op) -> Option<OpResult> {
        self.seq += 1;
        let request = Wire::Request(Request {
            client: self.id,
            seq: self.seq,
            op,
        })
        .encode();
        let deadline = self.clock.now() + self.options.give_up_after;
        while self.clock.now() < deadline {
            let target = self.servers[self.leader].clone();
            let _ = self.socket.send_to(&request, &target).await;
            match self.answer().await {
                Some(Outcome::Done(result)) => return Some(result),
                Some(Outcome::NotLeader { leader }) => {
                    self.leader = match leader {
                        Some(leader) if usize::from(leader) < self.servers.len() => {
                            usize::from(leader)
                        }
                        _ => (self.leader + 1) % self.servers.len(),
                    };
                    self.clock.sleep(self.options.redirect_pause).await;
                }
                None => self.leader = (self.leader + 1) % self.servers.len(),
            }
        }
        None
    }

    /// The answer to the current command, or `None` after the attempt timeout.
    async fn answer(&mut self) -> Option<Outcome> {
        let seq = self.seq;
        let socket = &self.socket;
        let buf = &mut self.buf;
        let wait = async move {
            loop {
                let Ok((len, _)) = socket.recv_from(buf).await else {
                    continue;
                };
                if let Some(Wire::Reply(Reply { seq: s, outcome })) = Wire::decode(&buf[..len]) {
                    if s == seq {
                        return outcome;
                    }
                }
            }
        };
        timeout_on(&self.clock, self.options.attempt_timeout, wait)
            .await
            .ok()
    }
}
