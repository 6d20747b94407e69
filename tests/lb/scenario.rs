//! What each fault does to the service, what failover and scale-out buy,
//! the plot, and determinism.

use std::time::Duration;

use examples::lb::{LB, plot, table};

use super::{outcome, short};

/// The milliseconds of an optional latency (0 when absent).
fn ms(d: Option<Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[test]
fn failover_keeps_availability_through_chaos_kong() {
    // Proves: with a whole zone cut off, health checks take its backends out
    // of service and the load balancer's retries hide the in-flight losses.
    let kong = outcome().row("chaos kong");
    assert!(kong.stats.requests > 1000, "{kong:?}");
    assert!(
        kong.stats.availability() >= 99.9,
        "{}",
        table(&outcome().rows)
    );
    assert_eq!(
        kong.healthy,
        (6, 9),
        "the zone's 3 backends of 9 left service"
    );
    let out: Vec<_> = outcome()
        .recorder
        .reactions
        .iter()
        .filter(|r| r.what.contains("out of service") && r.at >= kong.phase.start)
        .filter(|r| r.at < kong.phase.start + Duration::from_secs(1))
        .map(|r| r.what.split(' ').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out.iter().all(|b| b.starts_with("api-1b-")), "{out:?}");
}

#[test]
fn without_retries_the_same_faults_cost_availability() {
    // Proves that the availability above is the failover's doing: with one
    // try per request (no load-balancer failover, no client retry), the
    // crash, the slow disk and the zone outage lose requests.
    let mut scenario = short(0x2a);
    scenario.tuning.tries = 1;
    scenario.tuning.attempts = 1;
    let bare = scenario.run().unwrap();
    let lost = |o: &examples::lb::Outcome| {
        ["chaos monkey", "slow disk", "chaos kong"]
            .map(|p| o.row(p).stats.requests - o.row(p).stats.succeeded)
            .iter()
            .sum::<u64>()
    };
    assert_eq!(lost(outcome()), 0, "{}", table(&outcome().rows));
    assert!(lost(&bare) >= 10, "{}", table(&bare.rows));
    assert!(bare.row("chaos kong").stats.availability() < 99.9);
}

#[test]
fn latency_monkey_raises_the_tail_not_the_median() {
    // Proves: +100 ms each way on one zone's links shows in p99 (the requests
    // that still go there), while power-of-two-choices keeps most away.
    let steady = outcome().row("steady").stats.clone();
    let monkey = outcome().row("latency monkey").stats.clone();
    assert!(ms(steady.p99) < 50.0, "{steady:?}");
    assert!(ms(monkey.p99) >= 200.0, "{monkey:?}");
    assert!(ms(monkey.p50) < 1.5 * ms(steady.p50), "{monkey:?}");
    assert_eq!(monkey.availability(), 100.0);
}

#[test]
fn chaos_monkey_crash_is_detected_and_routed_around() {
    // Proves: the crashed backend leaves service within a second (two failed
    // checks 500 ms apart) and comes back within a second of its restart.
    let o = outcome();
    let phase = &o.row("chaos monkey").phase;
    let when = |what: &str| {
        o.recorder
            .reactions
            .iter()
            .find(|r| r.actor == LB && r.what.starts_with(what) && r.at >= phase.start)
            .map(|r| r.at)
            .unwrap_or_else(|| panic!("no reaction {what:?}"))
    };
    let out = when("api-1a-1 out of service");
    assert!(out > phase.start && out <= phase.start + Duration::from_secs(1));
    let back = when("api-1a-1 healthy again");
    assert!(back > phase.end && back <= phase.end + Duration::from_secs(1));
    assert_eq!(o.row("chaos monkey").healthy, (5, 6));
}

#[test]
fn slow_disk_is_a_gray_failure() {
    // Proves: a disk 100x slower makes its backend slow (every request syncs
    // its journal) without failing a health check.
    let slow = outcome().row("slow disk");
    assert!(ms(slow.stats.p99) >= 100.0, "{slow:?}");
    assert_eq!(slow.healthy, (6, 6));
    let phase = &slow.phase;
    assert!(
        !outcome()
            .recorder
            .reactions
            .iter()
            .filter(|r| r.at >= phase.start && r.at < phase.end)
            .any(|r| r.what.contains("out of service")),
        "health checks do not see a slow disk"
    );
}

#[test]
fn rising_load_adds_a_backend_per_zone_while_the_world_runs() {
    // Proves: the autoscaler adds nodes to the running world when the load
    // per backend passes its threshold; they register and enter service.
    let o = outcome();
    assert_eq!(o.added_backends(), ["api-1a-3", "api-1b-3", "api-1c-3"]);
    let rises = &o.row("load rises").phase;
    let added = o
        .recorder
        .reactions
        .iter()
        .find(|r| r.what.starts_with("added"));
    let added = added.expect("a scale-out").at;
    assert!(
        added > rises.start && added < rises.end,
        "{added:?} outside {rises:?}"
    );
    for name in o.added_backends() {
        let in_service = o
            .recorder
            .reactions
            .iter()
            .find(|r| r.what.starts_with(&format!("{name} in service")))
            .unwrap_or_else(|| panic!("{name} never entered service"));
        assert!(in_service.at <= added + Duration::from_secs(2));
    }
    assert_eq!(o.row("recovery").registered, 9);
    let mut without = short(0x2a);
    without.autoscale = false;
    assert_eq!(without.phases(), short(0x2a).phases());
}

#[test]
fn the_plot_is_an_svg_with_every_phase() {
    // Proves: the plot is a self-contained SVG naming each phase, with the
    // latency lines, written where asked.
    let o = outcome();
    let svg = plot::svg(o);
    let path = std::env::temp_dir().join(format!("detsim-lb-test-{}.svg", std::process::id()));
    std::fs::write(&path, &svg).unwrap();
    let back = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(back.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(back.trim_end().ends_with("</svg>"));
    for phase in &o.phases {
        assert!(
            back.contains(&format!(">{}</text>", phase.name)),
            "{}",
            phase.name
        );
    }
    for class in ["p50", "p99", "availability", "healthy-backends"] {
        assert!(back.contains(&format!("class=\"{class}\"")), "{class}");
    }
    assert!(
        !back.contains("http://") || back.matches("http://").count() == 1,
        "no external resource"
    );
    let buckets = plot::series(o, Duration::from_secs(1));
    assert_eq!(buckets.len(), 28);
    assert_eq!(
        buckets.iter().map(|b| b.stats.requests).sum::<u64>(),
        o.recorder.requests.len() as u64
    );
}

#[test]
fn the_same_seed_gives_the_same_table() {
    // Proves determinism end to end: another run of seed 0x2a gives the same
    // table, reactions and trace fingerprint; another seed another run.
    let again = short(0x2a).run().unwrap();
    let first = outcome();
    assert_eq!(table(&again.rows), table(&first.rows));
    assert_eq!(again.recorder.reactions, first.recorder.reactions);
    assert_eq!(again.fingerprint, first.fingerprint);
    let other = short(0x2b).run().unwrap();
    assert_ne!(other.fingerprint, first.fingerprint);
}

#[test]
fn the_plan_reads_in_plain_words() {
    // Proves: the faults are a fault plan whose timeline prints in words.
    let plan = short(0x2a).plan().to_string();
    assert_eq!(
        plan,
        "t=6.000000s crash api-1a-1 for 4s\n\
         t=10.000000s link lb -> api-1c-1 +100ms latency for 4s\n\
         t=10.000000s link api-1c-1 -> lb +100ms latency for 4s\n\
         t=10.000000s link lb -> api-1c-2 +100ms latency for 4s\n\
         t=10.000000s link api-1c-2 -> lb +100ms latency for 4s\n\
         t=14.000000s disk on api-1b-1 100x slower for 4s\n\
         t=22.000000s zone us-east-1b outage for 4s"
    );
}

#[test]
fn failover_and_scale_out_hold_for_other_seeds() {
    // Proves the story is not one lucky seed: for a few more seeds, no
    // request is lost to any fault and the autoscaler adds a backend per zone.
    for seed in [1, 2, 3] {
        let o = short(seed).run().unwrap();
        for row in &o.rows {
            assert_eq!(
                row.stats.availability(),
                100.0,
                "seed {seed}\n{}",
                table(&o.rows)
            );
        }
        assert_eq!(o.added_backends().len(), 3, "seed {seed}");
        assert_eq!(o.row("chaos kong").healthy, (6, 9), "seed {seed}");
    }
}
