//! The simulated cluster the sweep runs: five nodes on `sim-net` and
//! `sim-disk`, concurrent clients recording a history, chaos from a swarm of
//! nemeses plus power losses and quick process restarts, then a quiet period
//! in which the cluster must serve a client again (liveness), and at the end
//! a linearizability check of the history.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use detsim::history::{
    Checker, CheckerOptions, KeyValue, KvInput, KvOutput, Model, Recorder, render_html,
};
use detsim::time::Instant;
use detsim::{
    Case, Failure, Fault, Nemesis, NemesisKind, NodeContext, NodeState, Plan, PlanEntry, PollOrder,
    Report, Seed, SimRng, Swarm, Topology, random, time,
};
use detsim_disk::{DiskConfig, Disks};
use detsim_net::{Latency, LinkProfile, Net};

use super::bugs::{Bug, Bugs};
use super::client::{Client, ClientOptions};
use super::kv::{Op, OpResult};
use super::log::Entry;
use super::message::NodeId;
use super::node::{RaftNode, Role};
use super::server::{self, Observer, ServerConfig};

/// The port every node listens on.
pub const PORT: u16 = 7000;

/// The custom fault that crashes the current leader (and restarts it when
/// its duration ends).
pub const CRASH_LEADER: &str = "crash_leader";

/// What one run of the cluster looks like.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Raft nodes (`n1`…).
    pub nodes: usize,
    /// Concurrent clients (`c1`…).
    pub clients: usize,
    /// Keys the clients use (few keys: more contention, sharper checks).
    pub keys: usize,
    /// The planted bug, if any.
    pub bug: Option<Bug>,
    /// Faults happen from 1 s to this instant; then everything is healed.
    pub chaos_end: Duration,
    /// After the faults heal, a client must succeed within this bound.
    pub liveness_within: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            nodes: 5,
            clients: 3,
            keys: 3,
            bug: None,
            chaos_end: Duration::from_secs(20),
            liveness_within: Duration::from_secs(20),
        }
    }
}

/// What a passing run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Client operations recorded.
    pub operations: usize,
    /// Of which answered.
    pub answered: usize,
    /// Faults in the plan.
    pub faults: usize,
}

/// The node names: `n1`…
pub fn node_names(nodes: usize) -> Vec<String> {
    (1..=nodes).map(|i| format!("n{i}")).collect()
}

/// The nodes, in three zones (`z1`, `z2`, `z3`) of one region.
pub fn topology(nodes: usize) -> Topology {
    let mut topology = Topology::nodes(node_names(nodes));
    for (i, name) in node_names(nodes).into_iter().enumerate() {
        let zone = format!("z{}", i % 3 + 1);
        topology.zones.entry(zone).or_default().push(name);
    }
    topology
}

/// The nemesis the swarm samples from: every kind of process, network and
/// disk fault (disk errors at rates a real disk could have, exaggerated for
/// a short run), at most a minority down at once.
pub fn nemesis(options: &Options) -> Nemesis {
    let kinds: Vec<NemesisKind> = NemesisKind::ALL
        .into_iter()
        .filter(|k| *k != NemesisKind::RegionOutage)
        .collect();
    Nemesis::default()
        .kinds(&kinds)
        .weight(NemesisKind::Crash, 3.0)
        .weight(NemesisKind::DiskCorrupt, 0.5)
        .window(Duration::from_secs(1), options.chaos_end)
        .interval(Duration::from_millis(1500))
        .durations(Duration::from_millis(200), Duration::from_secs(4))
        .max_down((options.nodes.max(1) - 1) / 2)
}

/// The seed's fault plan: the swarm's faults (data-destroying disk faults,
/// corruption and latent sector errors, on at most a minority of the nodes:
/// no replication survives more), plus, now and then, a power
/// loss (a majority or all of the nodes crash at the same instant, as when a
/// rack loses power), quick process restarts (a crash the supervisor
/// restarts within a few hundred milliseconds), and crashes of whoever leads
/// at the time ([`CRASH_LEADER`]).
pub fn chaos(seed: Seed, options: &Options) -> Plan {
    let topology = topology(options.nodes);
    let mut entries = Vec::new();
    let faulty_max = (options.nodes.max(1) - 1) / 2;
    let mut rotten = std::collections::BTreeSet::new();
    for entry in Swarm::new(nemesis(options)).plan(seed, &topology).entries {
        // Two lasting disk faults of one kind on one node must not overlap:
        // the later one's undo would restore the state the earlier one set
        // (a disk left full for ever), see the report on detsim-disk.
        let overlaps = |e: &PlanEntry| {
            e.fault.kind() == entry.fault.kind()
                && e.fault.nodes() == entry.fault.nodes()
                && entry.at <= e.end()
                && e.duration.is_some()
        };
        let lasting_disk = entry.fault.kind().starts_with("disk") && entry.duration.is_some();
        if lasting_disk && entries.iter().any(overlaps) {
            continue;
        }
        // Replication tolerates f faulty disks, not more: silent corruption
        // and latent sector errors (data unreadable until rewritten) hit at
        // most a minority of the nodes in a run.
        if let Fault::DiskCorrupt { node, .. } | Fault::DiskReadErrors { node, .. } = &entry.fault {
            if !rotten.contains(node) && rotten.len() >= faulty_max {
                continue;
            }
            rotten.insert(node.clone());
        }
        entries.push(entry);
    }
    let mut rng = SimRng::stream(seed, "raft/chaos");
    let names = node_names(options.nodes);
    let start = Duration::from_secs(1);
    let window = options
        .chaos_end
        .saturating_sub(start + Duration::from_secs(3));
    let mut extra = Vec::new();
    if rng.chance(0.5) {
        let at = start + window.mul_f64(rng.unit_f64());
        let count = if rng.chance(0.5) {
            names.len()
        } else {
            names.len() / 2 + 1
        };
        let duration = Duration::from_millis(50 + rng.below(2000));
        let mut order = names.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for node in order.into_iter().take(count) {
            extra.push((at, duration, node));
        }
    }
    for _ in 0..rng.below(4) {
        let at = start + window.mul_f64(rng.unit_f64());
        let duration = Duration::from_millis(20 + rng.below(300));
        let node = names[rng.below(names.len() as u64) as usize].clone();
        extra.push((at, duration, node));
    }
    // Jepsen's favourite: kill whoever leads, restart it a little later.
    for _ in 0..rng.below(4) {
        let at = start + window.mul_f64(rng.unit_f64());
        let at = Duration::from_millis(at.as_millis() as u64);
        let duration = Duration::from_millis(100 + rng.below(3000));
        let fault = Fault::Custom {
            name: CRASH_LEADER.into(),
            args: serde_json::Value::Null,
        };
        entries.push(PlanEntry::new(at, fault, Some(duration)));
    }
    for (at, duration, node) in extra {
        let at = Duration::from_millis(at.as_millis() as u64);
        let end = at + duration;
        // Keep the plan consistent: no other crash or pause of this node overlaps.
        let clash = |e: &PlanEntry| {
            matches!(&e.fault, Fault::Crash { node: n } | Fault::Pause { node: n } if *n == node)
                && e.at <= end
                && at <= e.end()
        };
        if entries.iter().any(clash) {
            continue;
        }
        entries.push(PlanEntry::new(at, Fault::Crash { node }, Some(duration)));
    }
    entries.sort_by_key(|e| e.at);
    Plan::new(entries)
}

/// What the test watches: entries applied by each node must agree (State
/// Machine Safety), and the nodes' states for failure reports.
#[derive(Default)]
struct Watch {
    applied: RefCell<BTreeMap<u64, (NodeId, Entry)>>,
    violation: RefCell<Option<String>>,
    states: RefCell<BTreeMap<NodeId, String>>,
    /// Each node's (role, term) after its last input.
    roles: RefCell<BTreeMap<NodeId, (Role, u64)>>,
}

impl Observer for Watch {
    fn applied(&self, node: NodeId, entry: &Entry) {
        let mut applied = self.applied.borrow_mut();
        match applied.get(&entry.index) {
            Some((first, seen)) if seen != entry => {
                let mut violation = self.violation.borrow_mut();
                if violation.is_none() {
                    *violation = Some(format!(
                        "n{} applied {entry:?} at index {}, but n{} applied {seen:?}",
                        node + 1,
                        entry.index,
                        first + 1
                    ));
                }
            }
            Some(_) => {}
            None => {
                applied.insert(entry.index, (node, entry.clone()));
            }
        }
    }

    fn state(&self, node: NodeId, raft: &RaftNode) {
        // Coverage for the explorer, the precondition of Figure 8's loss: a
        // node holds, at an index some node applied, an entry of a later
        // term than the applied one (and whether it campaigns or leads).
        let log = raft.log();
        let applied = self.applied.borrow();
        let last = log.last_index();
        for index in last.saturating_sub(4).max(1)..=last {
            let (Some((_, committed)), Some(term)) = (applied.get(&index), log.term_at(index))
            else {
                continue;
            };
            if term > committed.term {
                detsim::coverage!(
                    "a node holds a later-term entry at an applied index (role)",
                    raft.role()
                );
                break;
            }
        }
        drop(applied);
        self.states.borrow_mut().insert(node, raft.describe());
        self.roles
            .borrow_mut()
            .insert(node, (raft.role(), raft.term()));
    }
}

impl Watch {
    /// The running node that leads the highest term, if any.
    fn leader(&self, handle: detsim::SimHandle) -> Option<String> {
        let roles = self.roles.borrow();
        roles
            .iter()
            .filter(|(_, (role, _))| *role == Role::Leader)
            .map(|(id, (_, term))| (*term, format!("n{}", id + 1)))
            .filter(|(_, name)| handle.node_state(name.as_str()) == Ok(NodeState::Running))
            .max()
            .map(|(_, name)| name)
    }

    fn describe(&self) -> String {
        let states = self.states.borrow();
        states
            .iter()
            .map(|(id, state)| format!("n{}: {state}", id + 1))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The history's types.
pub type Input = KvInput<String, u64>;
/// The history's types.
pub type Output = KvOutput<u64>;

fn to_input(op: &Op) -> Input {
    match op.clone() {
        Op::Get { key } => KvInput::Get(key),
        Op::Put { key, value } => KvInput::Put(key, value),
        Op::Delete { key } => KvInput::Delete(key),
        Op::Cas { key, expected, new } => KvInput::Cas { key, expected, new },
    }
}

fn to_output(op: &Op, result: OpResult) -> Option<Output> {
    Some(match (op, result) {
        (Op::Get { .. }, OpResult::Value(value)) => KvOutput::Get(value),
        (Op::Put { .. }, OpResult::Done) => KvOutput::Put,
        (Op::Delete { .. }, OpResult::Done) => KvOutput::Delete,
        (Op::Cas { .. }, OpResult::Swapped(swapped)) => KvOutput::Cas(swapped),
        _ => return None,
    })
}

/// A random operation of client `client`, its `n`th.
fn random_op(client: u64, n: u64, keys: usize) -> Op {
    random::with(|rng| {
        let key = format!("k{}", rng.below(keys as u64));
        let value = client * 1_000_000 + n;
        match rng.below(20) {
            0..8 => Op::Get { key },
            8..15 => Op::Put { key, value },
            15..17 => Op::Delete { key },
            _ => {
                let expected = if rng.chance(0.3) {
                    None
                } else {
                    Some(client * 1_000_000 + rng.below(n.max(1)))
                };
                Op::Cas {
                    key,
                    expected,
                    new: value,
                }
            }
        }
    })
}

/// Runs one client operation and records it.
async fn record_call<C: detsim::Clock>(
    client: &mut Client<Net, C>,
    recorder: &Recorder<Input, Output>,
    op: Op,
) -> Option<OpResult> {
    let id = recorder.invoke(client.id(), to_input(&op));
    let result = client.call(op.clone()).await;
    match result.clone().and_then(|r| to_output(&op, r)) {
        Some(output) => recorder.ok(id, output),
        None => recorder.unknown(id),
    }
    result
}

/// Runs the cluster for one case of a sweep: the case's seed, and its plan
/// (imposed, or drawn by [`chaos`]).
///
/// # Errors
///
/// The [`Failure`] of the run: an invariant (entries applied differently,
/// a non-linearizable history), a liveness failure after the faults healed,
/// or a panic.
///
/// # Panics
///
/// If the world cannot be built (a bad imposed plan, for instance).
pub fn run(case: &Case, options: &Options) -> Result<Report<Summary>, Failure> {
    let mut sim = case
        .builder()
        .poll_order(PollOrder::Random)
        .build()
        .expect("a valid world");
    let names = node_names(options.nodes);
    let addresses: Vec<String> = names.iter().map(|n| format!("{n}:{PORT}")).collect();
    let watch = Rc::new(Watch::default());
    let bugs = Bugs(options.bug);
    for (id, name) in names.iter().enumerate() {
        let config = ServerConfig {
            id: id as NodeId,
            addresses: addresses.clone(),
            port: PORT,
            tick: Duration::from_millis(10),
            bugs,
        };
        let watch = watch.clone();
        sim.add_node(name, move |ctx: NodeContext| {
            let (config, watch) = (config.clone(), watch.clone());
            async move {
                let net = Net::current().expect("the network is installed");
                let storage = detsim_disk::storage().expect("disks are installed");
                if let Err(error) = server::run(net, storage, ctx, config, watch).await {
                    tracing::error!(%error, "the node cannot start: it stays down");
                }
            }
        })
        .expect("unique node names");
    }
    let recorder: Recorder<Input, Output> = Recorder::default().describe_with(|input, output| {
        KeyValue::<String, u64>::default().describe_operation(input, output)
    });
    let stop = Rc::new(Cell::new(false));
    let client_options = ClientOptions::default();
    for client in 1..=options.clients as u64 {
        let (recorder, stop, addresses) = (recorder.clone(), stop.clone(), addresses.clone());
        let keys = options.keys;
        sim.add_node(&format!("c{client}"), move |ctx: NodeContext| {
            let (recorder, stop, addresses) = (recorder.clone(), stop.clone(), addresses.clone());
            async move {
                let net = Net::current().expect("the network is installed");
                let mut session = Client::connect(&net, ctx, client, &addresses, client_options)
                    .await
                    .expect("clients connect");
                let mut n = 0;
                while !stop.get() {
                    n += 1;
                    let op = random_op(client, n, keys);
                    record_call(&mut session, &recorder, op).await;
                    let think = random::with(|rng| rng.below(30));
                    time::sleep(Duration::from_millis(think)).await;
                }
            }
        })
        .expect("unique node names");
    }
    let probe = sim
        .add_node("probe", |_| std::future::pending::<()>())
        .expect("unique node names");
    // A data centre: three zones, links of 0.3–2 ms with a little loss,
    // duplication and reordering.
    let link = LinkProfile::default()
        .latency(Latency::uniform(
            Duration::from_micros(300),
            Duration::from_millis(2),
        ))
        .loss(0.001)
        .duplicate(0.001);
    let mut net = Net::builder().default_link(link).region("r1");
    for zone in ["z1", "z2", "z3"] {
        net = net.zone(zone, "r1");
    }
    for (zone, nodes) in &topology(options.nodes).zones {
        for node in nodes {
            net = net.place(node, zone);
        }
    }
    net.install(&mut sim).expect("a valid network");
    Disks::install(&sim, DiskConfig::default()).expect("a valid disk");
    let leader_of = watch.clone();
    sim.enter(|h| {
        h.on_custom_fault(CRASH_LEADER, move |_| {
            let leader = leader_of.leader(h).ok_or("no leader to crash")?;
            h.crash(leader.as_str()).map_err(|e| e.to_string())?;
            Ok(Some(Box::new(move || {
                let _ = h.restart(leader.as_str());
            })))
        });
    });
    // Drawn from the seed, or for a forked run from the fork's seed after
    // the fork instant, so that exploring forks the faults too.
    let plan = case.plan_from(|seed| chaos(seed, options));
    let faults = plan.len();
    let quiet_from = Instant::ZERO + plan.quiet_from().max(Duration::from_secs(1));
    sim.apply_plan(plan).expect("a valid plan");

    let handle = sim.handle();
    let verdict: Rc<RefCell<Option<String>>> = Rc::default();
    let (v, w) = (verdict.clone(), watch.clone());
    sim.enter(|h| {
        h.invariant(
            "entries applied at an index are the same on every node",
            move || w.violation.borrow().clone().map_or(Ok(()), Err),
        );
        h.invariant("the history is linearizable", move || {
            v.borrow().clone().map_or(Ok(()), Err)
        });
    });

    let liveness_within = options.liveness_within;
    let (replay, seed) = (case.is_replay(), case.seed());
    let probe_id = options.clients as u64 + 1;
    let (probe_recorder, probe_addresses) = (recorder.clone(), addresses.clone());
    let body = async move {
        let goal = handle
            .spawn_on(probe, async move {
                let net = Net::current().expect("the network is installed");
                let ctx = detsim::context();
                let mut session =
                    Client::connect(&net, ctx, probe_id, &probe_addresses, client_options)
                        .await
                        .expect("clients connect");
                time::sleep_until(quiet_from).await;
                let key = "k0".to_owned();
                for op in [
                    Op::Put {
                        key: key.clone(),
                        value: probe_id * 1_000_000 + 1,
                    },
                    Op::Get { key },
                ] {
                    while record_call(&mut session, &probe_recorder, op.clone())
                        .await
                        .is_none()
                    {}
                }
            })
            .expect("the probe node exists");
        let describe = {
            let watch = watch.clone();
            move || watch.describe()
        };
        detsim::liveness(
            "a client is served after the faults heal",
            quiet_from,
            liveness_within,
            describe,
            goal,
        )
        .await
        .expect("the probe finishes");
        stop.set(true);
        time::sleep(client_options.give_up_after + Duration::from_millis(500)).await;
        let history = recorder.history();
        let mut checker = Checker::with_options(
            KeyValue::<String, u64>::default(),
            CheckerOptions {
                memo_entries_max: 1 << 20,
                ..CheckerOptions::default()
            },
        );
        let result = checker.check(&history);
        if result.is_not_linearizable() && replay {
            // A replay also draws the history, where the trace goes.
            let dir = std::env::var_os("SIM_ARTIFACTS")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::env::temp_dir().join("detsim"));
            let path = dir.join(format!("kv-history-{seed}.html"));
            let html = render_html(checker.model(), &history, &result);
            match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, html)) {
                Ok(()) => eprintln!("the history is drawn in {}", path.display()),
                Err(error) => eprintln!("cannot write {}: {error}", path.display()),
            }
        }
        if result.is_not_linearizable() {
            *verdict.borrow_mut() = Some(result.to_string());
            time::sleep(Duration::from_millis(1)).await;
        }
        let answered = history.operations().iter().filter(|op| op.is_ok()).count();
        Summary {
            operations: history.len(),
            answered,
            faults,
        }
    };
    sim.run(body)
}
