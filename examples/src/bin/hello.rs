//! A first simulation: three nodes exchange heartbeats over in-memory
//! mailboxes; one crashes and restarts; the others notice. It prints what
//! happened in virtual time, the run's report with its trace fingerprint, and
//! checks that a second run of the same seed gives the same fingerprint.
//!
//! ```text
//! cargo run --release -p examples --bin hello -- --seed 0x2a
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use clap::Parser;
use detsim::{NodeContext, Report, Seed, Sim, SimBuilder, check_determinism, random, time};
use futures::StreamExt;
use futures::channel::mpsc;

/// Runs the heartbeat simulation for one seed.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The world's seed, in hex (0x2a) or decimal.
    #[arg(long, default_value = "0x2a")]
    seed: Seed,
}

/// Who can be reached: each live node's inbox, by name.
type Mailboxes = Rc<RefCell<BTreeMap<String, mpsc::UnboundedSender<String>>>>;

const NODES: [&str; 3] = ["n1", "n2", "n3"];

/// One node: announce itself every 500 ms (plus seeded jitter), and report a
/// peer as suspect when nothing was heard from it for 2 s.
async fn node(ctx: NodeContext, mailboxes: Mailboxes) {
    let me = ctx.name();
    let (tx, mut inbox) = mpsc::unbounded();
    mailboxes.borrow_mut().insert(me.clone(), tx);
    tracing::info!(incarnation = ctx.incarnation(), "up");
    let sender = {
        let (me, mailboxes) = (me.clone(), mailboxes.clone());
        ctx.spawn(async move {
            loop {
                let jitter = random::with(|rng| rng.below(100));
                time::sleep(Duration::from_millis(500 + jitter)).await;
                for (peer, tx) in mailboxes.borrow().iter() {
                    if *peer != me {
                        let _ = tx.unbounded_send(me.clone());
                    }
                }
            }
        })
    };
    let mut last_heard: BTreeMap<String, time::Instant> = BTreeMap::new();
    let mut suspects: Vec<String> = Vec::new();
    let mut check = time::interval(Duration::from_secs(1));
    loop {
        futures::select_biased! {
            from = inbox.next() => {
                let Some(from) = from else { break };
                if let Some(i) = suspects.iter().position(|s| *s == from) {
                    suspects.remove(i);
                    tracing::info!(peer = %from, "peer is back");
                }
                last_heard.insert(from, time::now());
            }
            _ = futures::FutureExt::fuse(check.tick()) => {
                for (peer, heard) in &last_heard {
                    if time::now() - *heard > Duration::from_secs(2) && !suspects.contains(peer) {
                        suspects.push(peer.clone());
                        tracing::warn!(peer = %peer, "peer suspected down");
                    }
                }
            }
        }
    }
    drop(sender);
}

fn simulate(mut sim: Sim) -> Result<Report<()>, detsim::Failure> {
    let mailboxes: Mailboxes = Rc::default();
    for name in NODES {
        let mailboxes = mailboxes.clone();
        sim.add_node(name, move |ctx| node(ctx, mailboxes.clone()))
            .expect("distinct valid names");
    }
    let boxes = mailboxes.clone();
    sim.run(async move {
        let h = detsim::handle();
        time::sleep(Duration::from_secs(3)).await;
        tracing::info!("crashing n2");
        h.crash("n2").expect("n2 runs");
        // A crashed node's inbox is gone; so is its mailbox entry.
        boxes.borrow_mut().remove("n2");
        time::sleep(Duration::from_secs(4)).await;
        tracing::info!("restarting n2");
        h.restart("n2").expect("n2 is down");
        time::sleep(Duration::from_secs(3)).await;
    })
}

fn main() {
    let args = Args::parse();
    println!(
        "detsim hello: 3 nodes, heartbeats, n2 crashes at 3s and restarts at 7s (seed {})",
        args.seed
    );
    let builder = SimBuilder::new(args.seed)
        .console("info")
        .expect("a known level");
    let report =
        simulate(builder.clone().build().expect("valid config")).unwrap_or_else(|failure| {
            eprintln!("{failure}");
            std::process::exit(1);
        });
    println!("{report}");
    match check_determinism(builder.quiet(), simulate) {
        Ok(fingerprint) => {
            println!("determinism check: two more runs gave fingerprint {fingerprint} again")
        }
        Err(divergence) => {
            eprintln!("{divergence}");
            std::process::exit(1);
        }
    }
}
