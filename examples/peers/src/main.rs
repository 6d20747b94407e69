//! `peers`: detsim's benchmark workloads W1–W5 on its peers, madsim and
//! turmoil, run once each for instruction counts (`callgrind.sh` beside this
//! crate) or timed (`--wall`).
//!
//! ```text
//! peers --once <workload> <peer> [scale-down]   # one run, one JSON line
//! peers --wall <workload> <peer> [scale-down]   # the same, with wall time
//! peers --once startup <peer>                   # does nothing (subtracted)
//! ```
//!
//! One source builds two binaries: with `RUSTFLAGS="--cfg madsim"` the madsim
//! peer (madsim's simulator only exists under that cfg), without it the
//! turmoil peer; each binary runs its own peer and refuses the other.
//! `scale-down` (default 1) divides the one count of a workload that does not
//! change what an event costs: see [`workloads::Workload::scaled`].

mod workloads;

#[cfg(madsim)]
mod madsim_peer;
#[cfg(not(madsim))]
mod turmoil_peer;

use std::process::exit;

use workloads::Workload;

/// The peer this binary was built for.
#[cfg(madsim)]
const PEER: &str = "madsim";
/// The peer this binary was built for.
#[cfg(not(madsim))]
const PEER: &str = "turmoil";

/// Runs `workload` on this binary's peer; returns the events done and the
/// virtual seconds covered.
fn run(workload: &Workload) -> (u64, f64) {
    #[cfg(madsim)]
    return workload.run(&madsim_peer::WORLDS);
    #[cfg(not(madsim))]
    return workload.run(&turmoil_peer::WORLDS);
}

fn usage() -> ! {
    eprintln!(
        "usage: peers --once|--wall <workload> <peer> [scale-down]\n  \
         workloads: startup, {}\n  peers: madsim (built with RUSTFLAGS=\"--cfg madsim\"), \
         turmoil (built without)",
        workloads::NAMES.join(", ")
    );
    exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, name, peer, scale_down) = match args.as_slice() {
        [mode, name, peer] => (mode, name, peer, 1),
        [mode, name, peer, k] => match k.parse::<u64>() {
            Ok(k) if k > 0 => (mode, name, peer, k),
            _ => usage(),
        },
        _ => usage(),
    };
    let wall = match mode.as_str() {
        "--once" => false,
        "--wall" => true,
        _ => usage(),
    };
    if peer != "madsim" && peer != "turmoil" {
        usage();
    }
    if peer != PEER {
        eprintln!(
            "peers: this binary runs {PEER}; {peer} is the other build (see callgrind.sh: \
             madsim needs RUSTFLAGS=\"--cfg madsim\", turmoil must not have it)"
        );
        exit(2);
    }
    if name == "startup" {
        println!(r#"{{"peer":"{PEER}","workload":"startup","unit":"none","events":0}}"#);
        return;
    }
    let Some(workload) = Workload::named(name, scale_down) else {
        usage();
    };
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let (events, sim_s) = run(&workload);
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    assert_eq!(events, workload.events(), "{name} on {PEER}: events");
    let unit = workload.unit();
    let timing = if wall {
        format!(
            r#","wall_s":{elapsed:.6},"events_per_wall_s":{:.0}"#,
            events as f64 / elapsed
        )
    } else {
        String::new()
    };
    println!(
        r#"{{"peer":"{PEER}","workload":"{name}","unit":"{unit}","events":{events},"scale_down":{scale_down},"sim_s":{sim_s:.3}{timing}}}"#
    );
}
