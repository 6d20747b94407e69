//! The lease service in simulation: the code of `src/` on simulated time,
//! network and disks (detsim is a dev-dependency), under crashes, pauses,
//! partitions, clogs, latency spikes and wall-clock jumps drawn from each
//! seed. What must hold: no two clients ever believe they hold the lease at
//! once, and a new holder's fencing token is larger than every earlier one.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use detsim::time::Instant;
use detsim::{
    Case, Failure, Nemesis, NemesisKind, NodeContext, Report, Seed, Sweep, Topology, always,
    check_case_determinism, sometimes, time,
};
use detsim_disk::{DiskConfig, Disks};
use detsim_net::Net;
use lease::{Belief, Config, LeaseClient, PORT, WorkerOptions, serve, worker};

const CLIENTS: usize = 3;
const NODES: [&str; 4] = ["lease", "c1", "c2", "c3"];

/// What the clients believed, on true time.
#[derive(Default)]
struct Watch {
    /// Per client, until when it last believed it holds the lease.
    believed_until: [Option<Instant>; CLIENTS],
    /// The largest token granted, and to whom.
    token_max: u64,
    token_holder: usize,
    grants: u64,
    handovers: u64,
}

impl Watch {
    fn saw(&mut self, client: usize, belief: Belief, ctx: &NodeContext) {
        // The plans jump wall clocks only, so a node's monotonic clock reads
        // true time and beliefs of different clients compare.
        always!(
            ctx.now() == detsim::handle().now(),
            "monotonic clocks read true time in this test"
        );
        match belief {
            Belief::Holds { token, from, until } => {
                always!(
                    from < until,
                    "a client reports only a lease it can still use"
                );
                for (other, believed) in self.believed_until.iter().enumerate() {
                    if other != client {
                        let end = believed.unwrap_or(Instant::ZERO);
                        always!(
                            from >= end,
                            "two clients never hold the lease at once (c{} from {} while c{} until {})",
                            client + 1,
                            from,
                            other + 1,
                            end
                        );
                    }
                }
                if token > self.token_max {
                    if self.token_max > 0 && self.token_holder != client {
                        self.handovers += 1;
                    }
                    self.token_max = token;
                    self.token_holder = client;
                } else {
                    always!(
                        token == self.token_max && client == self.token_holder,
                        "a new holder's token is larger than every earlier one (c{} got {}, c{} had {})",
                        client + 1,
                        token,
                        self.token_holder + 1,
                        self.token_max
                    );
                }
                self.believed_until[client] = Some(until);
                self.grants += 1;
            }
            Belief::Gone { at, .. } => {
                let believed = &mut self.believed_until[client];
                *believed = believed.map(|until| until.min(at));
            }
        }
    }
}

/// One world: the server, three contending clients and the seed's faults.
fn run(case: &Case, config: Config) -> Result<Report<()>, Failure> {
    let mut sim = case.builder().build().expect("a valid world");
    Net::builder().install(&mut sim).expect("a valid network");
    Disks::install(&sim, DiskConfig::default()).expect("a valid disk");
    sim.add_node("lease", move |ctx: NodeContext| async move {
        let net = Net::current().expect("the network is installed");
        let storage = detsim_disk::storage().expect("disks are installed");
        serve(ctx, net, storage, PORT, config)
            .await
            .expect("the server runs until it crashes");
    })
    .expect("a unique name");
    let watch = Rc::new(RefCell::new(Watch::default()));
    for client in 0..CLIENTS {
        let watch = watch.clone();
        sim.add_node(NODES[client + 1], move |ctx: NodeContext| {
            let watch = watch.clone();
            async move {
                let net = Net::current().expect("the network is installed");
                let lease_client =
                    LeaseClient::new(ctx, &net, "lease:7000", client as u64 + 1, config)
                        .await
                        .expect("a client socket");
                let report = move |belief| watch.borrow_mut().saw(client, belief, &ctx);
                worker(lease_client, WorkerOptions::default(), report)
                    .await
                    .expect("the worker runs until its node crashes");
            }
        })
        .expect("a unique name");
    }
    let nemesis = Nemesis::default()
        .kinds(&[
            NemesisKind::Crash,
            NemesisKind::Pause,
            NemesisKind::PartitionHalves,
            NemesisKind::Isolate,
            NemesisKind::Clog,
            NemesisKind::LatencySpike,
            NemesisKind::ClockJump,
        ])
        .window(Duration::from_secs(1), Duration::from_secs(30))
        .durations(Duration::from_millis(200), Duration::from_secs(3));
    let topology = Topology::nodes(NODES);
    sim.apply_plan(case.plan(|| nemesis.plan(case.seed(), &topology)))
        .expect("a valid plan");
    sim.run(async move {
        time::sleep(Duration::from_secs(40)).await;
        let watch = watch.borrow();
        always!(watch.grants > 0, "some client got the lease");
        sometimes!(watch.handovers >= 3, "the lease changed hands three times");
    })
}

#[test]
fn one_holder_at_a_time_under_chaos() {
    // Proves the lease is safe (one believer at a time, growing fencing
    // tokens) on 256 seeds of crashes, pauses, partitions, clogs, latency
    // and clock jumps, and that the lease still changes hands.
    let report = Sweep::new("lease_one_holder_at_a_time")
        .seeds(256)
        .replay_command("cargo test -p lease --test sim -- one_holder_at_a_time_under_chaos")
        .run(|case| run(case, Config::default()))
        .expect("a valid sweep");
    report.assert_passed();
    assert!(report.sometimes_never().is_empty(), "{report}");
}

#[test]
fn a_server_without_its_grace_period_grants_twice() {
    // Proves the check has teeth: a server that grants right after a restart
    // (forgetting the lease it granted before its crash) is caught giving
    // the lease to a second client while the first still holds it.
    let config = Config {
        grace: Duration::ZERO,
        ..Config::default()
    };
    let report = Sweep::new("lease_without_grace")
        .seeds(64)
        .ignore_env()
        .regressions(None)
        .progress(false)
        .minimize(false)
        .run(|case| run(case, config))
        .expect("a valid sweep");
    let failure = report.first_failure().expect("a seed that grants twice");
    let message = failure.failure.to_string();
    assert!(
        message.contains("two clients never hold the lease at once"),
        "{message}"
    );
}

#[test]
fn a_run_is_deterministic() {
    // Proves the service adds no hidden nondeterminism: the same seed gives
    // the same trace twice.
    check_case_determinism(Case::new(Seed::new(7), None), |case| {
        run(case, Config::default())
    })
    .expect("the same seed gives the same trace");
}
