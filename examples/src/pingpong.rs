//! The smallest complete detsim program: two nodes, a message, a sleep, a
//! crash and a restart — and a sweep of ten seeds over it.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Case, Failure, Report, SimBuilder, always, sometimes, time};
use detsim_net::{Latency, LinkProfile, Net, UdpSocket};

/// What the pinger saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Pings sent.
    pub sent: u32,
    /// Pongs received in time.
    pub answered: u32,
    /// Pings that timed out.
    pub timed_out: u32,
}

/// One world: `ping` sends a ping every 100 ms and waits 50 ms for the pong;
/// `pong` answers on port 7000. `pong` crashes at 1 s and restarts at 2 s;
/// the run lasts 3 s. Links are a LAN with 1–3 ms of seeded jitter.
///
/// # Errors
///
/// The run's [`Failure`], if an assertion fails.
pub fn run(case: &Case) -> Result<Report<Stats>, Failure> {
    world(case.builder())
}

/// The same world, from a builder (to choose its logging, say).
///
/// # Errors
///
/// The run's [`Failure`], if an assertion fails.
pub fn world(builder: SimBuilder) -> Result<Report<Stats>, Failure> {
    let mut sim = builder.build().expect("a valid configuration");
    let stats = Rc::new(RefCell::new(Stats::default()));
    sim.add_node("pong", |ctx| async move {
        tracing::info!(incarnation = ctx.incarnation(), "pong up");
        let socket = UdpSocket::bind(7000).expect("port 7000 is free after a restart");
        while let Ok(ping) = socket.recv().await {
            let mut reply = b"pong".to_vec();
            reply.extend_from_slice(ping.payload.get(4..).unwrap_or_default());
            // A crashed or unreachable sender just loses the reply.
            let _ = socket.send_to(&reply, ping.source);
        }
    })
    .expect("a fresh name");
    let s = stats.clone();
    sim.add_node("ping", move |_| {
        let stats = s.clone();
        async move {
            let socket = UdpSocket::bind(7001).expect("a free port");
            for n in 0u32.. {
                time::sleep(Duration::from_millis(100)).await;
                socket
                    .send_to(format!("ping {n}").as_bytes(), "pong:7000")
                    .expect("pong is a node of this world");
                stats.borrow_mut().sent += 1;
                match time::timeout(Duration::from_millis(50), socket.recv()).await {
                    Ok(Ok(pong)) => {
                        always!(
                            pong.payload == format!("pong {n}").into_bytes(),
                            "the pong answers this ping"
                        );
                        stats.borrow_mut().answered += 1;
                    }
                    _ => {
                        tracing::warn!(n, "no pong in 50 ms");
                        stats.borrow_mut().timed_out += 1;
                    }
                }
            }
        }
    })
    .expect("a fresh name");
    Net::builder()
        .default_link(LinkProfile {
            latency: Latency::uniform(Duration::from_millis(1), Duration::from_millis(3)),
            ..LinkProfile::default()
        })
        .install(&mut sim)
        .expect("a valid network");
    sim.run(async move {
        let h = detsim::handle();
        time::sleep(Duration::from_secs(1)).await;
        tracing::info!("crashing pong");
        h.crash("pong").expect("pong is running");
        time::sleep(Duration::from_secs(1)).await;
        tracing::info!("restarting pong");
        h.restart("pong").expect("pong is down");
        time::sleep(Duration::from_millis(1050)).await;
        let stats = stats.borrow().clone();
        sometimes!(stats.timed_out > 0, "a ping went unanswered");
        always!(
            stats.answered + stats.timed_out + 1 >= stats.sent,
            "every ping is accounted for"
        );
        stats
    })
}

#[cfg(test)]
mod tests {
    use detsim::{Seed, Sweep};

    use super::*;

    #[test]
    fn ten_seeds_pass_and_see_exactly_the_outage() {
        // Ten seeds pass; every ping outside the outage is answered; the
        // one-second outage costs six or seven pings (a 150 ms cycle).
        let report = Sweep::new("pingpong")
            .ignore_env()
            .regressions(None)
            .progress(false)
            .seeds(10)
            .run(run)
            .unwrap();
        report.assert_passed();
        assert!(report.sometimes_never().is_empty());
        for seed in 0..10 {
            let stats = run(&Case::new(Seed::new(seed), None)).unwrap().value;
            assert!((6..=7).contains(&stats.timed_out), "seed {seed}: {stats:?}");
            assert_eq!(stats.answered + stats.timed_out, stats.sent, "seed {seed}");
        }
        // A snapshot of one seed: a change here is a change of behaviour.
        let stats = run(&Case::new(Seed::new(3), None)).unwrap().value;
        assert_eq!(
            stats,
            Stats {
                sent: 26,
                answered: 19,
                timed_out: 7
            }
        );
        let again = run(&Case::new(Seed::new(3), None)).unwrap();
        assert_eq!(
            again.trace.fingerprint,
            run(&Case::new(Seed::new(3), None))
                .unwrap()
                .trace
                .fingerprint
        );
    }
}
