//! The real backend: the same echo protocol, written once against
//! `Transport`, passes over tokio UDP/TCP on 127.0.0.1 and in simulation.

use std::time::Duration;

use detsim::real::TokioRuntime;
use detsim::{Clock, Seed, Sim, Spawn, timeout_on};
use detsim_net::real::{Directory, RealNet};
use detsim_net::{DatagramSocket, Net, NetError, StreamListener, Transport};
use futures::{AsyncReadExt, AsyncWriteExt};

/// The protocol's server: echoes datagrams on `port` and streams on `port + 1`.
async fn serve<T: Transport>(net: T, port: u16) -> Result<(), NetError> {
    let socket = net.bind_datagram(port).await?;
    let listener = net.bind_listener(port + 1).await?;
    let datagrams = async {
        let mut buf = vec![0u8; 2048];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await?;
            socket.send_to(&buf[..n], &from).await?;
        }
    };
    let streams = async {
        loop {
            let (mut stream, _) = listener.accept().await?;
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await?;
            request.reverse();
            stream.write_all(&request).await?;
            stream.close().await?;
        }
    };
    let result: Result<((), ()), NetError> = futures::future::try_join(datagrams, streams).await;
    result.map(|_| ())
}

/// The protocol's client: one datagram echo (retried every 100 ms until
/// the server answers, as a real client must) and one stream exchange.
async fn ask<T: Transport, C: Clock>(
    net: T,
    clock: C,
    server: &str,
    port: u16,
) -> Result<(Vec<u8>, Vec<u8>), NetError> {
    let socket = net.bind_datagram(0).await?;
    let target = net.resolve(&format!("{server}:{port}"))?;
    let mut buf = vec![0u8; 2048];
    let echoed = loop {
        socket.send_to(b"ping", &target).await?;
        if let Ok(received) = timeout_on(
            &clock,
            Duration::from_millis(100),
            socket.recv_from(&mut buf),
        )
        .await
        {
            let (n, _) = received?;
            break buf[..n].to_vec();
        }
    };
    let mut stream = net
        .connect_stream(net.resolve(&format!("{server}:{}", port + 1))?)
        .await?;
    stream.write_all(b"stream").await?;
    stream.close().await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok((echoed, reply))
}

const EXPECTED: (&[u8], &[u8]) = (b"ping", b"maerts");

#[test]
fn echo_protocol_passes_in_simulation() {
    // Proves the generic protocol works on the simulated network.
    let mut sim = Sim::new(Seed::new(1));
    let net = Net::builder().install(&mut sim).unwrap();
    let server_net = net.clone();
    sim.add_node("server", move |_| {
        let net = server_net.clone();
        async move { serve(net, 7000).await.unwrap() }
    })
    .unwrap();
    let client = sim.add_node("client", |_| async {}).unwrap();
    let (echoed, reply) = sim
        .run(async move {
            detsim::handle()
                .spawn_on(client, ask(net, detsim::handle(), "server", 7000))
                .unwrap()
                .await
                .unwrap()
        })
        .unwrap()
        .value
        .unwrap();
    assert_eq!((echoed.as_slice(), reply.as_slice()), EXPECTED);
}

#[test]
fn echo_protocol_passes_on_real_loopback_sockets() {
    // Proves the same protocol code passes over tokio UDP and TCP on 127.0.0.1.
    let directory = Directory::new()
        .node("server", 0)
        .unwrap()
        .node("client", 0)
        .unwrap();
    let rt = TokioRuntime::new(Seed::new(1));
    let (echoed, reply) = detsim_net::real::block_on(async move {
        let server = RealNet::new(directory.clone(), "server").unwrap();
        let client = RealNet::new(directory, "client").unwrap();
        let port = 7000;
        let serving = rt.spawn(async move { serve(server, port).await });
        let asking = ask(client, rt.clone(), "server", port);
        let result = timeout_on(&rt, Duration::from_secs(10), asking).await;
        serving.abort();
        result.expect("the real exchange took over 10 s")
    })
    .unwrap();
    assert_eq!((echoed.as_slice(), reply.as_slice()), EXPECTED);
}
