//! Node lifecycle: a crash closes the node's sockets and drops its queued
//! inbound data; what it already sent stays in flight; a restart binds afresh.

use std::time::Duration;

use std::cell::RefCell;
use std::rc::Rc;

use detsim::{Seed, Sim};
use detsim_net::{Latency, LinkProfile, Net, NetError, UdpSocket};

use super::sleep_ms;

#[test]
fn crash_closes_sockets_drops_queued_data_and_restart_binds_afresh() {
    // Proves the crash rules: queued inbound datagrams vanish, the port rebinds after restart.
    let mut sim = Sim::new(Seed::new(1));
    Net::builder()
        .default_link(LinkProfile::default().latency(Latency::Constant(Duration::from_millis(50))))
        .install(&mut sim)
        .unwrap();
    let log: Rc<RefCell<Vec<String>>> = Rc::default();
    let seen = log.clone();
    let a = sim
        .add_node("a", move |_| {
            let log = log.clone();
            async move {
                let socket = UdpSocket::bind(1).unwrap();
                while let Ok(d) = socket.recv().await {
                    log.borrow_mut().push(String::from_utf8(d.payload).unwrap());
                }
            }
        })
        .unwrap();
    let b = sim
        .add_node("b", |ctx| async move {
            let socket = UdpSocket::bind(1).unwrap();
            if ctx.incarnation() == 0 {
                socket.send_to(b"first life", "a:1").unwrap();
                sleep_ms(1_000_000).await; // never reads: datagrams queue up
            } else {
                sleep_ms(100).await;
                assert_eq!(socket.try_recv().unwrap(), None, "the old queue survived");
                socket.send_to(b"second life", "a:1").unwrap();
            }
        })
        .unwrap();
    sim.run(async move {
        let h = detsim::handle();
        h.spawn_on(a, async {
            let s = UdpSocket::bind(0).unwrap();
            s.send_to(b"queued-1", "b:1").unwrap();
            s.send_to(b"queued-2", "b:1").unwrap();
        })
        .unwrap();
        sleep_ms(55).await; // both sit in b's inbox since 50 ms
        h.crash(b).unwrap();
        sleep_ms(10).await;
        h.restart(b).unwrap();
        sleep_ms(200).await;
    })
    .unwrap();
    assert_eq!(*seen.borrow(), ["first life", "second life"]);
}

#[test]
fn a_datagram_sent_just_before_a_crash_still_arrives() {
    // Proves datagrams a crashed node already sent stay in flight and are delivered.
    let mut sim = Sim::new(Seed::new(2));
    Net::builder()
        .default_link(LinkProfile::default().latency(Latency::Constant(Duration::from_millis(50))))
        .install(&mut sim)
        .unwrap();
    let a = sim.add_node("a", |_| async {}).unwrap();
    let b = sim.add_node("b", |_| async {}).unwrap();
    let got = sim
        .run(async move {
            let h = detsim::handle();
            let receiver = h
                .spawn_on(a, async {
                    let socket = UdpSocket::bind(1).unwrap();
                    socket.recv().await.unwrap().payload
                })
                .unwrap();
            sleep_ms(1).await;
            h.spawn_on(b, async {
                UdpSocket::bind(1)
                    .unwrap()
                    .send_to(b"last words", "a:1")
                    .unwrap();
            })
            .unwrap();
            sleep_ms(1).await;
            h.crash(b).unwrap(); // 49 ms before arrival
            receiver.await.unwrap()
        })
        .unwrap()
        .value;
    assert_eq!(got, b"last words");
}

#[test]
fn a_socket_kept_outside_its_crashed_node_is_closed() {
    // Proves a crash closes every socket of the node, even one whose handle lives elsewhere.
    let mut sim = Sim::new(Seed::new(3));
    Net::builder().install(&mut sim).unwrap();
    let a = sim.add_node("a", |_| async {}).unwrap();
    let result = sim
        .run(async move {
            let h = detsim::handle();
            let socket = h
                .spawn_on(a, async { UdpSocket::bind(1).unwrap() })
                .unwrap()
                .await
                .unwrap();
            h.crash(a).unwrap();
            (
                socket.send_to(b"x", "a:1").unwrap_err(),
                socket.recv().await.unwrap_err(),
            )
        })
        .unwrap()
        .value;
    assert_eq!(result, (NetError::Closed, NetError::Closed));
}
