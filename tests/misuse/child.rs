//! `misuse-child`: small programs that make the mistakes which end a process
//! or depend on its environment, run by the misuse suite
//! (`tests/misuse/hangs.rs`, `sweeps.rs`) as a child process, so a hang is
//! bounded by the watchdog and the suite's own timeout, never by CI's.
//!
//! `misuse-child <scenario>`; the scenarios are the arms of `main`.

use std::time::Duration;

use detsim::{Case, Plan, Seed, Sim, Sweep, time};

fn main() {
    let scenario = std::env::args().nth(1).unwrap_or_default();
    match scenario.as_str() {
        // A node's task that never returns from its poll: the watchdog (one
        // second here) must print the seed, node, task and replay line, and
        // end the process.
        "spin" => {
            let mut sim = Sim::builder(Seed::new(0x2a))
                .watchdog(Some(Duration::from_secs(1)))
                .replay("SIM_SEED=0x000000000000002a misuse-child spin")
                .build()
                .unwrap();
            sim.add_node("n1", |_| async {
                time::sleep(Duration::from_millis(1500)).await;
                spin();
            })
            .unwrap();
            let _ = sim.run(time::sleep(Duration::from_secs(10)));
            println!("unreachable: the spinning task returned");
        }
        // The same inside a sweep, with the limit from SIM_WATCHDOG: the
        // report names the seed that hung and the sweep's replay line.
        "spin-in-sweep" => {
            let report = Sweep::new("spin-in-sweep")
                .seeds(8)
                .threads(1)
                .regressions(None)
                .progress(false)
                .replay_command("misuse-child spin-in-sweep")
                .run(|case| {
                    let seed = case.seed().get();
                    let mut sim = case.builder().build().unwrap();
                    sim.add_node("worker", move |_| async move {
                        time::sleep(Duration::from_millis(10)).await;
                        if seed == 3 {
                            spin();
                        }
                    })
                    .unwrap();
                    sim.run(time::sleep(Duration::from_secs(1)))
                });
            println!("unreachable: {report:?}");
        }
        // A long run whose every step is short: the watchdog must stay quiet
        // even though the run takes far longer than its limit.
        "long-but-moving" => {
            let mut sim = Sim::builder(Seed::new(7))
                .watchdog(Some(Duration::from_millis(100)))
                .build()
                .unwrap();
            sim.add_node("n1", |_| async {
                loop {
                    // Each step does a little work; the whole run takes seconds.
                    std::hint::black_box((0..20_000u64).sum::<u64>());
                    time::sleep(Duration::from_millis(1)).await;
                }
            })
            .unwrap();
            let report = sim.run(time::sleep(Duration::from_secs(60))).unwrap();
            println!("finished: {} steps", report.steps);
        }
        // Environment mistakes a sweep must refuse before it runs anything.
        "sweep-env" => {
            let result = Sweep::new("sweep-env")
                .seeds(3)
                .regressions(None)
                .progress(false)
                .run(|case| case.builder().build().unwrap().run(async {}));
            match result {
                Ok(report) => println!("ran: {report}"),
                Err(error) => println!("refused: {error}"),
            }
        }
        // A replay with SIM_PLAN of a test that never asks its case for the plan.
        "plan-ignored" => {
            let report = Sweep::new("plan-ignored")
                .regressions(None)
                .progress(false)
                .run(|case: &Case| {
                    let mut sim = case.builder().build().unwrap();
                    sim.add_node("n1", |_| std::future::pending::<()>())
                        .unwrap();
                    sim.run(time::sleep(Duration::from_secs(1)))
                })
                .unwrap();
            println!("{report}");
        }
        // The same test taking its plan from the case: the plan applies.
        "plan-taken" => {
            let report = Sweep::new("plan-taken")
                .regressions(None)
                .progress(false)
                .run(|case: &Case| {
                    let mut sim = case.builder().build().unwrap();
                    sim.add_node("n1", |_| std::future::pending::<()>())
                        .unwrap();
                    sim.apply_plan(case.plan(Plan::default)).unwrap();
                    sim.run(time::sleep(Duration::from_secs(1)))
                })
                .unwrap();
            println!("{report}");
        }
        other => {
            eprintln!("misuse-child: unknown scenario {other:?}");
            std::process::exit(2);
        }
    }
}

/// A poll that never returns (and that the optimizer cannot remove).
fn spin() -> ! {
    loop {
        std::hint::spin_loop();
    }
}
