//! The simulated network against Linux's TCP and UDP on loopback: the same
//! scenarios, written once against [`Transport`], run on the simulation and
//! on `detsim_net::real` (tokio), and report the same observations: error
//! kinds after a close, a reset and a shutdown, refused connects, binding
//! twice, the peer address `accept` names, datagram sizes, and bytes.

use std::future::Future;
use std::hash::Hasher;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use detsim::real::TokioRuntime;
use detsim::{Clock, Seed, Sim, SimHandle, Spawn, timeout_on};
use detsim_net::real::{Directory, RealNet};
use detsim_net::{DatagramSocket, Net, NetError, StreamListener, Transport};
use futures::{AsyncReadExt, AsyncWriteExt};

/// Where a scenario runs: a network per node, a clock, and a way to run a
/// task on a node.
pub trait Backend: Clone + 'static {
    /// The network.
    type T: Transport;
    /// The clock.
    type C: Clock + Clone + 'static;
    /// `node`'s view of the network.
    fn net(&self, node: &str) -> Self::T;
    /// The clock.
    fn clock(&self) -> Self::C;
    /// Runs `task` on `node` and waits for its output.
    fn on<F>(&self, node: &str, task: F) -> Pin<Box<dyn Future<Output = F::Output>>>
    where
        F: Future + 'static,
        F::Output: 'static;
}

/// The simulated network, inside a running world with nodes `a` and `b`.
#[derive(Clone)]
pub struct SimBackend {
    net: Net,
}

impl Backend for SimBackend {
    type T = Net;
    type C = SimHandle;

    fn net(&self, _node: &str) -> Net {
        self.net.clone()
    }

    fn clock(&self) -> SimHandle {
        detsim::handle()
    }

    fn on<F>(&self, node: &str, task: F) -> Pin<Box<dyn Future<Output = F::Output>>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = detsim::handle()
            .spawn_on(node, task)
            .expect("nodes a and b exist");
        Box::pin(async move { handle.await.expect("the task completes") })
    }
}

/// The real network: loopback sockets of one process, nodes `a` and `b`.
#[derive(Clone)]
pub struct RealBackend {
    directory: Directory,
    runtime: TokioRuntime,
}

impl Backend for RealBackend {
    type T = RealNet;
    type C = TokioRuntime;

    fn net(&self, node: &str) -> RealNet {
        RealNet::new(self.directory.clone(), node).expect("nodes a and b exist")
    }

    fn clock(&self) -> TokioRuntime {
        self.runtime.clone()
    }

    fn on<F>(&self, _node: &str, task: F) -> Pin<Box<dyn Future<Output = F::Output>>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = self.runtime.spawn(task);
        Box::pin(async move { handle.await.expect("the task completes") })
    }
}

fn kind(error: &NetError) -> io::ErrorKind {
    error.kind()
}

fn io_result<T: std::fmt::Debug>(result: io::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(error) => format!("err {:?}", error.kind()),
    }
}

fn net_result<T>(result: Result<T, NetError>) -> String {
    match result {
        Ok(_) => "ok".to_string(),
        Err(error) => format!("err {:?}", kind(&error)),
    }
}

fn node_of(addr: &impl std::fmt::Display) -> String {
    let text = addr.to_string();
    text.rsplit_once(':')
        .map_or(text.clone(), |(node, _)| node.to_string())
}

fn digest(bytes: &[u8]) -> String {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(bytes);
    format!("{} bytes #{:016x}", bytes.len(), hasher.finish())
}

/// Binds inside the task (the simulated network binds when the call is
/// made, so the call must happen on the node).
async fn listen<T: Transport>(net: T, port: u16) -> Result<T::Listener, NetError> {
    net.bind_listener(port).await
}

async fn bind<T: Transport>(net: T, port: u16) -> Result<T::Datagram, NetError> {
    net.bind_datagram(port).await
}

async fn sleep<B: Backend>(backend: &B, ms: u64) {
    backend.clock().sleep(Duration::from_millis(ms)).await;
}

/// A read with a deadline, so a scenario never hangs.
async fn read_once<B: Backend>(
    backend: &B,
    stream: &mut <B::T as Transport>::Stream,
    len: usize,
) -> String {
    let mut buf = vec![0u8; len];
    match timeout_on(
        &backend.clock(),
        Duration::from_secs(2),
        stream.read(&mut buf),
    )
    .await
    {
        Ok(result) => io_result(result.map(|n| digest(&buf[..n]))),
        Err(_) => "read timed out".to_string(),
    }
}

/// The scenarios' names, in the order [`run`] runs them.
pub const SCENARIOS: [&str; 9] = [
    "refused",
    "bind_twice",
    "peer_address",
    "write_after_peer_close",
    "close_with_unread_data",
    "write_after_shutdown",
    "empty_read",
    "data_then_close",
    "datagram_sizes",
];

/// Runs every scenario on `backend`; `size` is the payload of `data_then_close`.
pub async fn run<B: Backend>(backend: B, size: usize) -> Vec<(&'static str, Vec<String>)> {
    let mut out = Vec::new();
    for (i, name) in SCENARIOS.iter().enumerate() {
        // Each scenario on its own ports.
        let port = 7000 + 10 * i as u16;
        let lines = scenario(&backend, name, port, size).await;
        out.push((*name, lines));
    }
    out
}

async fn scenario<B: Backend>(backend: &B, name: &str, port: u16, size: usize) -> Vec<String> {
    let (a, b) = (backend.net("a"), backend.net("b"));
    let target = |p: u16| a.resolve(&format!("b:{p}")).expect("b resolves");
    let mut out = Vec::new();
    match name {
        "refused" => {
            let result = backend.on("a", a.connect_stream(target(port))).await;
            out.push(net_result(result));
        }
        "bind_twice" => {
            let b2 = b.clone();
            let lines = backend
                .on("b", async move {
                    let mut out = Vec::new();
                    let first = b2.bind_listener(port).await;
                    out.push(net_result(first.as_ref().map(|_| ()).map_err(Clone::clone)));
                    out.push(net_result(b2.bind_listener(port).await));
                    drop(first);
                    out.push(net_result(b2.bind_listener(port).await));
                    let socket = b2.bind_datagram(port).await;
                    out.push(net_result(
                        socket.as_ref().map(|_| ()).map_err(Clone::clone),
                    ));
                    out.push(net_result(b2.bind_datagram(port).await));
                    out
                })
                .await;
            out.extend(lines);
        }
        "peer_address" => {
            let listener = backend
                .on("b", listen(b.clone(), port))
                .await
                .expect("b listens");
            let connect = backend.on("a", a.connect_stream(target(port)));
            let accepted = backend.on("b", async move {
                let accepted = listener.accept().await.map(|(_, peer)| peer);
                (listener, accepted)
            });
            let (stream, (_listener, accepted)) = futures::join!(connect, accepted);
            out.push(net_result(stream));
            match accepted {
                Ok(peer) => out.push(format!("accepted from node {}", node_of(&peer))),
                Err(error) => out.push(format!("accept err {:?}", kind(&error))),
            }
        }
        "write_after_peer_close" => {
            let listener = backend
                .on("b", listen(b.clone(), port))
                .await
                .expect("b listens");
            let closer = backend.on("b", async move {
                // Accept, then close without reading or writing: a FIN.
                let (stream, _) = listener.accept().await.expect("accepts");
                drop(stream);
                listener
            });
            let backend2 = backend.clone();
            let a2 = a.clone();
            let t = target(port);
            let client = backend.on("a", async move {
                let mut out = Vec::new();
                let mut stream = a2.connect_stream(t).await.expect("connects");
                out.push(format!(
                    "read {}",
                    read_once(&backend2, &mut stream, 16).await
                ));
                let mut writes = 0;
                let error = loop {
                    match stream.write(b"x").await {
                        Ok(_) if writes < 50 => writes += 1,
                        Ok(_) => break "never failed".to_string(),
                        Err(error) => break format!("err {:?}", error.kind()),
                    }
                    sleep(&backend2, 20).await;
                };
                out.push(format!("{writes} write(s) then {error}"));
                out.push(format!(
                    "read {}",
                    read_once(&backend2, &mut stream, 16).await
                ));
                out.push(format!("write {}", io_result(stream.write(b"y").await)));
                out
            });
            let (_listener, lines) = futures::join!(closer, client);
            out.extend(lines);
        }
        "close_with_unread_data" => {
            let listener = backend
                .on("b", listen(b.clone(), port))
                .await
                .expect("b listens");
            let backend2 = backend.clone();
            let closer = backend.on("b", async move {
                let (stream, _) = listener.accept().await.expect("accepts");
                sleep(&backend2, 100).await; // the data arrives, unread
                drop(stream); // a reset, not a FIN
                listener
            });
            let backend3 = backend.clone();
            let a2 = a.clone();
            let t = target(port);
            let client = backend.on("a", async move {
                let mut out = Vec::new();
                let mut stream = a2.connect_stream(t).await.expect("connects");
                out.push(format!(
                    "write {}",
                    io_result(stream.write_all(b"hello").await)
                ));
                sleep(&backend3, 300).await;
                out.push(format!(
                    "read {}",
                    read_once(&backend3, &mut stream, 16).await
                ));
                out.push(format!("write {}", io_result(stream.write(b"y").await)));
                out.push(format!(
                    "read {}",
                    read_once(&backend3, &mut stream, 16).await
                ));
                out
            });
            let (_listener, lines) = futures::join!(closer, client);
            out.extend(lines);
        }
        "write_after_shutdown" => {
            let listener = backend
                .on("b", listen(b.clone(), port))
                .await
                .expect("b listens");
            let backend2 = backend.clone();
            let server = backend.on("b", async move {
                let (mut stream, _) = listener.accept().await.expect("accepts");
                let mut got = Vec::new();
                let read = timeout_on(
                    &backend2.clock(),
                    Duration::from_secs(2),
                    stream.read_to_end(&mut got),
                )
                .await;
                (listener, read.is_ok(), got)
            });
            let a2 = a.clone();
            let t = target(port);
            let client = backend.on("a", async move {
                let mut out = Vec::new();
                let mut stream = a2.connect_stream(t).await.expect("connects");
                out.push(format!(
                    "write {}",
                    io_result(stream.write_all(b"bye").await)
                ));
                out.push(format!("close {}", io_result(stream.close().await)));
                out.push(format!("write {}", io_result(stream.write(b"more").await)));
                (stream, out)
            });
            let ((_listener, finished, got), (_stream, lines)) = futures::join!(server, client);
            out.extend(lines);
            out.push(format!(
                "server read to EOF: {finished}, {}",
                String::from_utf8_lossy(&got)
            ));
        }
        "empty_read" => {
            let listener = backend
                .on("b", listen(b.clone(), port))
                .await
                .expect("b listens");
            let backend2 = backend.clone();
            let server = backend.on("b", async move {
                let (stream, _) = listener.accept().await.expect("accepts");
                sleep(&backend2, 300).await;
                (listener, stream)
            });
            let backend3 = backend.clone();
            let a2 = a.clone();
            let t = target(port);
            let client = backend.on("a", async move {
                let mut stream = a2.connect_stream(t).await.expect("connects");
                let result = timeout_on(
                    &backend3.clock(),
                    Duration::from_millis(100),
                    stream.read(&mut []),
                )
                .await;
                match result {
                    Ok(read) => format!("empty read {}", io_result(read)),
                    Err(_) => "empty read blocked".to_string(),
                }
            });
            let (_server, line) = futures::join!(server, client);
            out.push(line);
        }
        "data_then_close" => {
            let listener = backend
                .on("b", listen(b.clone(), port))
                .await
                .expect("b listens");
            let server = backend.on("b", async move {
                let (mut stream, _) = listener.accept().await.expect("accepts");
                let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                let written = stream.write_all(&payload).await;
                let closed = stream.close().await;
                drop(stream);
                (listener, io_result(written), io_result(closed))
            });
            let backend2 = backend.clone();
            let a2 = a.clone();
            let t = target(port);
            let client = backend.on("a", async move {
                let mut stream = a2.connect_stream(t).await.expect("connects");
                let mut got = Vec::new();
                let read = timeout_on(
                    &backend2.clock(),
                    Duration::from_secs(10),
                    stream.read_to_end(&mut got),
                )
                .await;
                match read {
                    Ok(result) => format!("{} then {}", io_result(result), digest(&got)),
                    Err(_) => "read timed out".to_string(),
                }
            });
            let ((_listener, written, closed), line) = futures::join!(server, client);
            out.push(format!("server write {written}, close {closed}"));
            out.push(line);
        }
        "datagram_sizes" => {
            let receiver = backend
                .on("b", bind(b.clone(), port))
                .await
                .expect("b binds");
            let a2 = a.clone();
            let t = target(port);
            let sender = backend.on("a", async move {
                let socket = a2.bind_datagram(0).await.expect("a binds");
                let mut out = Vec::new();
                for len in [65_507usize, 65_508, 0] {
                    let payload = vec![7u8; len];
                    out.push(format!(
                        "send {len}: {}",
                        net_result(socket.send_to(&payload, &t).await)
                    ));
                }
                (socket, out)
            });
            let (_socket, lines) = sender.await;
            out.extend(lines);
            let backend2 = backend.clone();
            let got = backend
                .on("b", async move {
                    let mut out = Vec::new();
                    let mut buf = vec![0u8; 70_000];
                    for _ in 0..2 {
                        match timeout_on(
                            &backend2.clock(),
                            Duration::from_secs(2),
                            receiver.recv_from(&mut buf),
                        )
                        .await
                        {
                            Ok(Ok((n, from))) => {
                                out.push(format!(
                                    "received {n} bytes from node {}",
                                    node_of(&from)
                                ));
                            }
                            Ok(Err(error)) => out.push(format!("recv err {:?}", kind(&error))),
                            Err(_) => out.push("recv timed out".to_string()),
                        }
                    }
                    out
                })
                .await;
            out.extend(got);
        }
        other => out.push(format!("unknown scenario {other}")),
    }
    out
}

/// Every scenario on the simulated network with world seed `seed`, and the
/// run's trace fingerprint.
pub fn run_sim(seed: u64, size: usize) -> (Vec<(&'static str, Vec<String>)>, u64) {
    let mut sim = Sim::builder(Seed::new(seed))
        .quiet()
        .build()
        .expect("a valid world");
    let net = Net::builder().install(&mut sim).expect("a valid network");
    sim.add_node("a", |_| async {}).expect("a fresh node");
    sim.add_node("b", |_| async {}).expect("a fresh node");
    let report = sim
        .run(run(SimBackend { net }, size))
        .expect("the scenarios run");
    (report.value, report.trace.fingerprint.0)
}

/// Every scenario on the real network (loopback, OS-chosen ports).
pub fn run_real(size: usize) -> Vec<(&'static str, Vec<String>)> {
    let directory = Directory::new()
        .node("a", 0)
        .and_then(|d| d.node("b", 0))
        .expect("two names");
    let runtime = TokioRuntime::new(Seed::new(0));
    detsim_net::real::block_on(run(RealBackend { directory, runtime }, size))
}

/// Runs the scenarios `rounds` times (world seeds and payload sizes from
/// `seed`) on both backends.
///
/// # Errors
///
/// The first scenario whose observations differ, with both.
pub fn check(rounds: u32, seed: u64) -> Result<u32, String> {
    let mut rng = super::disk::rng(seed);
    for round in 0..rounds {
        use proptest::prelude::RngCore;
        let world = rng.next_u64();
        let size = (rng.next_u64() % 3_000_000) as usize;
        let (sim, _) = run_sim(world, size);
        let real = run_real(size);
        for ((name, s), (_, r)) in sim.iter().zip(&real) {
            if s != r {
                return Err(format!(
                    "round {round} (world seed {world:#x}, {size} bytes): scenario {name}: simulated {s:?}, real {r:?}"
                ));
            }
        }
    }
    Ok(rounds)
}
