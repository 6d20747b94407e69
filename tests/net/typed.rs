//! Typed messages: serde types over datagrams and length-delimited frames
//! on streams, and what a corrupting link does to them.

use detsim::{Seed, Sim};
use detsim_net::{
    Byzantine, Framed, LinkProfile, Net, NetError, TcpListener, TcpStream, Typed, UdpSocket,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Request {
    Put { key: String, value: Vec<u8> },
    Get { key: String },
}

#[test]
fn typed_datagrams_round_trip() {
    // Proves a serde enum crosses a datagram intact and its encoding is compact postcard.
    assert_eq!(
        detsim_net::encode(&Request::Get { key: "k".into() }).unwrap(),
        [1, 1, b'k']
    );
    let mut sim = Sim::new(Seed::new(1));
    Net::builder().install(&mut sim).unwrap();
    sim.add_node("server", |_| async {
        let mut socket = Typed::new(UdpSocket::bind(1).unwrap());
        let (request, from): (Request, _) = socket.recv_from().await.unwrap();
        socket.send_to(&request, &from).await.unwrap();
    })
    .unwrap();
    let client = sim.add_node("client", |_| async {}).unwrap();
    let back = sim
        .run(async move {
            detsim::handle()
                .spawn_on(client, async {
                    let mut socket = Typed::new(UdpSocket::bind(0).unwrap());
                    let request = Request::Put {
                        key: "x".into(),
                        value: vec![1, 2, 3],
                    };
                    socket
                        .send_to(&request, &"server:1".parse().unwrap())
                        .await
                        .unwrap();
                    socket.recv_from::<Request>().await.unwrap().0
                })
                .unwrap()
                .await
                .unwrap()
        })
        .unwrap()
        .value;
    assert_eq!(
        back,
        Request::Put {
            key: "x".into(),
            value: vec![1, 2, 3]
        }
    );
}

#[test]
fn framed_streams_carry_many_messages_then_eof() {
    // Proves frames survive arbitrary segmenting: 300 messages in order, then a clean None.
    let mut sim = Sim::new(Seed::new(2));
    Net::builder().install(&mut sim).unwrap();
    sim.add_node("server", |_| async {
        let listener = TcpListener::bind(9).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut framed = Framed::new(stream);
        while let Some(request) = framed.recv::<Request>().await.unwrap() {
            framed.send(&request).await.unwrap();
        }
    })
    .unwrap();
    let client = sim.add_node("client", |_| async {}).unwrap();
    let got = sim
        .run(async move {
            detsim::handle()
                .spawn_on(client, async {
                    let stream = TcpStream::connect("server:9").await.unwrap();
                    let mut framed = Framed::new(stream);
                    let mut got = Vec::new();
                    for i in 0..300 {
                        let request = Request::Put {
                            key: format!("k{i}"),
                            value: vec![i as u8; i % 50],
                        };
                        framed.send(&request).await.unwrap();
                        got.push(framed.recv::<Request>().await.unwrap().unwrap());
                    }
                    futures::AsyncWriteExt::close(framed.get_mut())
                        .await
                        .unwrap();
                    got
                })
                .unwrap()
                .await
                .unwrap()
        })
        .unwrap()
        .value;
    assert_eq!(got.len(), 300);
    assert_eq!(
        got[299],
        Request::Put {
            key: "k299".into(),
            value: vec![43; 49]
        }
    );
}

#[test]
fn a_truncating_link_makes_typed_datagrams_fail_to_decode() {
    // Proves corruption surfaces as a Codec error to typed receivers, not a panic.
    let mut sim = Sim::new(Seed::new(3));
    Net::builder()
        .default_link(LinkProfile::default().byzantine(Byzantine {
            truncate: 1.0,
            ..Byzantine::default()
        }))
        .install(&mut sim)
        .unwrap();
    sim.add_node("a", |_| async {
        let socket = Typed::new(UdpSocket::bind(1).unwrap());
        let request = Request::Put {
            key: "key".into(),
            value: vec![9; 20],
        };
        socket
            .send_to(&request, &"b:1".parse().unwrap())
            .await
            .unwrap();
    })
    .unwrap();
    let b = sim.add_node("b", |_| async {}).unwrap();
    let error = sim
        .run(async move {
            detsim::handle()
                .spawn_on(b, async {
                    let mut socket = Typed::new(UdpSocket::bind(1).unwrap());
                    socket.recv_from::<Request>().await.unwrap_err()
                })
                .unwrap()
                .await
                .unwrap()
        })
        .unwrap()
        .value;
    assert!(matches!(error, NetError::Codec(_)), "{error}");
}
