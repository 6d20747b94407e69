//! Latency: every operation takes the virtual time its distribution draws, a
//! slow disk takes its factor longer, and every operation is a trace event.

use std::time::Duration;

use detsim::{EventKind, time};
use detsim_disk::{Bandwidth, DiskConfig, File, Latency, LatencyConfig, OpenOptions, Storage};

use super::{config, world};

fn fixed() -> LatencyConfig {
    LatencyConfig {
        read: Latency::Fixed(Duration::from_micros(100)),
        write: Latency::Fixed(Duration::from_micros(10)),
        sync: Latency::Fixed(Duration::from_millis(1)),
        metadata: Latency::Fixed(Duration::from_micros(20)),
        bandwidth: Bandwidth::NONE,
    }
}

/// open, write, sync, read, sync_dir: returns the virtual time they took.
async fn workload(storage: detsim_disk::SimStorage) -> Duration {
    let start = time::now();
    let f = storage
        .open("/f", OpenOptions::read_write().create(true))
        .await
        .unwrap();
    f.write_at(b"data", 0).await.unwrap();
    f.sync_data().await.unwrap();
    f.read_at(&mut [0; 4], 0).await.unwrap();
    storage.sync_dir("/").await.unwrap();
    Duration::from_nanos(time::now().as_nanos() - start.as_nanos())
}

#[test]
fn each_operation_takes_the_latency_of_its_kind() {
    // Proves open 20 µs + write 10 µs + sync 1 ms + read 100 µs + sync_dir 1 ms of virtual time.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            latency: fixed(),
            ..config()
        },
    );
    let took = sim
        .run(async move { workload(disks.storage(n1).unwrap()).await })
        .unwrap()
        .value;
    assert_eq!(took, Duration::from_micros(20 + 10 + 1000 + 100 + 1000));
}

#[test]
fn a_slow_disk_takes_its_factor_longer() {
    // Proves slow-disk mode: one node's disk ten times slower, the other unchanged.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            latency: fixed(),
            ..config()
        },
    );
    let n2 = sim.add_node("n2", |_| async {}).unwrap();
    let (fast, slow) = sim
        .run(async move {
            disks.set_slow(n2, 10).unwrap();
            let fast = detsim::spawn(workload(disks.storage(n1).unwrap()));
            let slow = detsim::spawn(workload(disks.storage(n2).unwrap()));
            (fast.await.unwrap(), slow.await.unwrap())
        })
        .unwrap()
        .value;
    assert_eq!(fast, Duration::from_micros(2130));
    assert_eq!(slow, Duration::from_micros(21300));
}

#[test]
fn drawn_latencies_depend_only_on_the_seed() {
    // Proves the default distributions give a fixed total for a seed, and another for another seed.
    let run = |seed| {
        let (mut sim, disks, n1) = world(seed, DiskConfig::default());
        sim.run(async move { workload(disks.storage(n1).unwrap()).await })
            .unwrap()
            .value
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    let took = run(1);
    assert!(
        took >= Duration::from_micros(5 + 2 + 200 + 20 + 200),
        "{took:?}"
    );
    assert!(
        took <= Duration::from_micros(20 + 10 + 2000 + 100 + 2000),
        "{took:?}"
    );
}

#[test]
fn every_operation_is_a_trace_event_with_its_node_and_virtual_time() {
    // Proves the exact event sequence of a small workload, stamped with node n1 and the time each op ended.
    let (mut sim, disks, n1) = world(
        1,
        DiskConfig {
            latency: fixed(),
            ..config()
        },
    );
    let report = sim
        .run(async move { workload(disks.storage(n1).unwrap()).await })
        .unwrap();
    let events: Vec<(String, u64)> = report
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Ext { name, .. } if name.starts_with("disk.") => {
                assert_eq!(e.node, Some(n1));
                Some((name.to_string(), e.time.as_nanos() / 1000))
            }
            _ => None,
        })
        .collect();
    let expected = [
        ("disk.open", 20),
        ("disk.write", 30),
        ("disk.sync_data", 1030),
        ("disk.read", 1130),
        ("disk.sync_dir", 2130),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|(n, t)| (n.to_string(), *t)).collect();
    assert_eq!(events, expected);
}
