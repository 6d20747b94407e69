//! The simulated network against Linux's loopback TCP and UDP (the real
//! tokio backend): the same scenarios, the same observations.

use examples::differential::net;

#[test]
fn stream_and_datagram_scenarios_match_the_real_network() {
    // Proves close, reset, shutdown, refused, bind twice, peer addresses and sizes agree.
    let (sim, _) = net::run_sim(1, 100_000);
    let real = net::run_real(100_000);
    for ((name, s), (_, r)) in sim.iter().zip(&real) {
        assert_eq!(s, r, "scenario {name}");
    }
    let lines = |name: &str| sim.iter().find(|(n, _)| *n == name).unwrap().1.clone();
    assert_eq!(lines("refused"), ["err ConnectionRefused"]);
    assert_eq!(
        lines("bind_twice"),
        ["ok", "err AddrInUse", "ok", "ok", "err AddrInUse"]
    );
    assert_eq!(lines("peer_address"), ["ok", "accepted from node a"]);
    assert_eq!(
        lines("write_after_peer_close"),
        [
            "read ok \"0 bytes #f456d26876d72d91\"".to_string(),
            "1 write(s) then err BrokenPipe".to_string(),
            "read ok \"0 bytes #f456d26876d72d91\"".to_string(),
            "write err BrokenPipe".to_string(),
        ]
    );
    assert_eq!(
        lines("close_with_unread_data")[1],
        "read err ConnectionReset"
    );
    assert_eq!(lines("write_after_shutdown")[2], "write err BrokenPipe");
    assert_eq!(lines("empty_read"), ["empty read ok 0"]);
    assert_eq!(
        lines("datagram_sizes")[..3],
        [
            "send 65507: ok",
            "send 65508: err InvalidData",
            "send 0: ok"
        ]
    );
}

#[test]
fn the_simulated_scenarios_are_deterministic() {
    // Proves the same world seed gives the same observations and trace fingerprint.
    assert_eq!(net::run_sim(5, 2_000_000), net::run_sim(5, 2_000_000));
}
