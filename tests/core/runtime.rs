//! The runtime traits: one piece of protocol code on a simulated node and on tokio.

use std::time::Duration;

use detsim::real::TokioRuntime;
use detsim::{Runtime, Seed, Sim, timeout_on};
use futures::StreamExt;

/// Protocol code generic over the runtime: a lease holder renews every 10 ms
/// from a spawned task; the caller measures the gaps between renewals and
/// gives up on a renewal that takes longer than 1 s.
async fn renewal_gaps<R: Runtime>(rt: R) -> Vec<Duration> {
    let (tx, mut rx) = futures::channel::mpsc::unbounded();
    let renewer = rt.clone();
    let task = rt.spawn(async move {
        for _ in 0..5 {
            renewer.sleep(Duration::from_millis(10)).await;
            tx.unbounded_send(renewer.now()).unwrap();
        }
    });
    let mut last = rt.now();
    let mut gaps = Vec::new();
    while let Ok(Some(at)) = timeout_on(&rt, Duration::from_secs(1), rx.next()).await {
        gaps.push(at - last);
        last = at;
    }
    task.await.unwrap();
    gaps
}

#[test]
fn the_same_protocol_code_runs_in_simulation_exactly() {
    // On a simulated node the gaps are exactly the period.
    let mut sim = Sim::new(Seed::new(1));
    let report = sim
        .run(async { renewal_gaps(detsim::context()).await })
        .unwrap();
    assert_eq!(report.value, vec![Duration::from_millis(10); 5]);
}

#[test]
fn the_same_protocol_code_runs_on_tokio() {
    // On tokio the same code sees real time: each gap lasts at least the period.
    let rt = TokioRuntime::new(Seed::new(1));
    let gaps = rt.clone().block_on(renewal_gaps(rt));
    assert_eq!(gaps.len(), 5);
    assert!(
        gaps.iter().all(|gap| *gap >= Duration::from_millis(10)),
        "{gaps:?}"
    );
    assert!(
        gaps.iter().all(|gap| *gap < Duration::from_secs(1)),
        "{gaps:?}"
    );
}
