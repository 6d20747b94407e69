//! The real backend: the same echo protocol, written once against
//! `Transport`, passes over tokio UDP/TCP on 127.0.0.1 and in simulation.

use detsim::real::TokioRuntime;
use detsim::{Seed, Sim, Spawn};
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

/// The protocol's client: one datagram echo and one stream exchange.
async fn ask<T: Transport>(net: T, server: &str, port: u16) -> Result<(Vec<u8>, Vec<u8>), NetError> {
    let socket = net.bind_datagram(0).await?;
    let target = net.resolve(&format!("{server}:{port}"))?;
    socket.send_to(b"ping", &target).await?;
    let mut buf = vec![0u8; 2048];
    let (n, _) = socket.recv_from(&mut buf).await?;
    let echoed = buf[..n].to_vec();
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
                .spawn_on(client, ask(net, "server", 7000))
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
    let (echoed, reply) = detsim_net::real::block_on(async move {
        let server = RealNet::new(directory.clone(), "server").unwrap();
        let client = RealNet::new(directory, "client").unwrap();
        let port = 7000;
        let serving = TokioRuntime::new(Seed::new(1)).spawn(async move { serve(server, port).await });
        let result = ask(client, "server", port).await;
        serving.abort();
        result
    })
    .unwrap();
    assert_eq!((echoed.as_slice(), reply.as_slice()), EXPECTED);
}
