//! The simulated deployment the sweep runs: three replicas of the service
//! on `sim-net`, clients recording a history through real HTTP requests
//! over simulated TCP, a swarm nemesis (crashes, pauses, clock faults,
//! every partition kind, clogs, latency spikes), then a quiet period in
//! which a client must be served again (liveness), and the history checked
//! for linearizability.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use detsim::history::{Checker, KeyValue, KvInput, KvOutput, Recorder, render_html};
use detsim::time::Instant;
use detsim::{
    Case, Failure, Nemesis, NemesisKind, NodeContext, Plan, PollOrder, Report, Seed, Topology,
    random, time,
};
use detsim_net::{Latency, LinkProfile, Net, TcpListener};
use http::{Method, Request, StatusCode};
use http_body_util::Full;

use super::api::{Unavailable, ValueBody};
use super::bugs::Bug;
use super::runtime::{self, SimRuntime};
use super::serve::serve;
use super::service::{self, Replica, ReplicaConfig, Store};

/// The port every replica serves on.
pub const PORT: u16 = 8080;

/// What one run looks like.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Replicas (`r1`…).
    pub replicas: usize,
    /// Concurrent clients (`c1`…).
    pub clients: usize,
    /// Keys the clients use.
    pub keys: usize,
    /// The planted bug, if any.
    pub bug: Option<Bug>,
    /// The nemesis kinds (default: [`nemesis_kinds`]).
    pub kinds: Vec<NemesisKind>,
    /// Faults happen from 1 s to this instant; then everything is healed.
    pub chaos_end: Duration,
    /// After the faults heal, a client must be served within this bound.
    pub liveness_within: Duration,
    /// How long a replica waits for a majority in one phase: longer than
    /// the slowest exchange a latency spike (up to 500 ms each way) makes,
    /// so only a cut, a clog or a pause leaves a replica without a quorum.
    pub quorum_timeout: Duration,
    /// How long a client waits for an answer (then the outcome is unknown).
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            replicas: 3,
            clients: 3,
            keys: 3,
            bug: None,
            kinds: nemesis_kinds(),
            chaos_end: Duration::from_secs(10),
            liveness_within: Duration::from_secs(10),
            quorum_timeout: Duration::from_millis(1500),
            request_timeout: Duration::from_secs(3),
        }
    }
}

/// The nemesis kinds of the default run: process faults, clock faults and
/// every network fault (no disks: the store is in memory, see [`Store`]).
pub fn nemesis_kinds() -> Vec<NemesisKind> {
    vec![
        NemesisKind::Crash,
        NemesisKind::Pause,
        NemesisKind::ClockJump,
        NemesisKind::ClockDrift,
        NemesisKind::PartitionHalves,
        NemesisKind::PartitionMajorityRing,
        NemesisKind::PartitionBridge,
        NemesisKind::Isolate,
        NemesisKind::OneWay,
        NemesisKind::PartialPartition,
        NemesisKind::Clog,
        NemesisKind::LatencySpike,
    ]
}

/// What a passing run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Client operations recorded.
    pub operations: usize,
    /// Of which answered with success.
    pub answered: usize,
    /// Faults in the plan.
    pub faults: usize,
}

/// The replica names: `r1`…
pub fn replica_names(replicas: usize) -> Vec<String> {
    (1..=replicas).map(|i| format!("r{i}")).collect()
}

/// The seed's fault plan: a swarm over `options.kinds` on the replicas, at
/// most a minority of them down (crashed, paused or isolated) at once.
pub fn chaos(seed: Seed, options: &Options) -> Plan {
    let nemesis = Nemesis::default()
        .kinds(&options.kinds)
        .window(Duration::from_secs(1), options.chaos_end)
        .interval(Duration::from_millis(1000))
        .durations(Duration::from_millis(200), Duration::from_secs(3))
        .max_down((options.replicas.max(1) - 1) / 2);
    nemesis
        .swarm(seed)
        .plan(seed, &Topology::nodes(replica_names(options.replicas)))
}

/// The history's types.
pub type Input = KvInput<String, u64>;
/// The history's types.
pub type Output = KvOutput<u64>;

/// A random operation of a client: get, put (the value names the client
/// and the operation, so every written value is unique) or delete.
fn random_op(client: u64, n: u64, keys: usize) -> Input {
    random::with(|rng| {
        let key = format!("k{}", rng.below(keys as u64));
        match rng.below(10) {
            0..5 => KvInput::Get(key),
            5..9 => KvInput::Put(key, client * 1_000_000 + n),
            _ => KvInput::Delete(key),
        }
    })
}

/// The HTTP request of `op`.
fn http_request(op: &Input) -> Request<Full<Bytes>> {
    let (method, key, body) = match op {
        KvInput::Get(key) => (Method::GET, key, None),
        KvInput::Put(key, value) => (Method::PUT, key, Some(*value)),
        KvInput::Delete(key) => (Method::DELETE, key, None),
        KvInput::Cas { .. } => unreachable!("the service has no compare-and-set"),
    };
    let body = body.map_or_else(Bytes::new, |value| {
        Bytes::from(serde_json::to_vec(&ValueBody { value: Some(value) }).expect("serializable"))
    });
    Request::builder()
        .method(method)
        .uri(format!("/kv/{key}"))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid request")
}

/// Sends `op` to `target` over HTTP and records it: an answer is `ok`; a
/// `503` that says the write cannot have taken effect, or a failed read,
/// is `fail`; anything else (a timeout, a broken connection) is `unknown`.
/// Returns whether it succeeded.
async fn record_call(
    recorder: &Recorder<Input, Output>,
    client: u64,
    target: &str,
    op: Input,
    timeout: Duration,
) -> bool {
    let id = recorder.invoke(client, op.clone());
    let reply = time::timeout(timeout, runtime::send(target, http_request(&op))).await;
    let reply = match reply {
        Ok(Ok(reply)) => Some(reply),
        Ok(Err(_)) | Err(_) => None,
    };
    let is_read = matches!(op, KvInput::Get(_));
    match reply {
        Some(reply) if reply.status == StatusCode::OK => {
            let output = match op {
                KvInput::Get(_) => match serde_json::from_slice::<ValueBody>(&reply.body) {
                    Ok(body) => KvOutput::Get(body.value),
                    Err(_) => {
                        recorder.fail(id);
                        return false;
                    }
                },
                KvInput::Put(..) => KvOutput::Put,
                _ => KvOutput::Delete,
            };
            recorder.ok(id, output);
            true
        }
        Some(reply) if reply.status == StatusCode::SERVICE_UNAVAILABLE => {
            let maybe = serde_json::from_slice::<Unavailable>(&reply.body)
                .map_or(true, |u| u.maybe_applied);
            if is_read || !maybe {
                recorder.fail(id);
            } else {
                recorder.unknown(id);
            }
            false
        }
        _ if is_read => {
            recorder.fail(id);
            false
        }
        _ => {
            recorder.unknown(id);
            false
        }
    }
}

/// Runs the deployment for one case of a sweep: the case's seed, and its
/// plan (imposed, or drawn by [`chaos`]).
///
/// # Errors
///
/// The [`Failure`] of the run: a non-linearizable history, a liveness
/// failure after the faults healed, or a panic.
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
    let names = replica_names(options.replicas);
    let peers: Vec<String> = names.iter().map(|n| format!("{n}:{PORT}")).collect();
    for (i, name) in names.iter().enumerate() {
        let store = Store::default();
        let config = ReplicaConfig {
            id: i as u64 + 1,
            incarnation: 0,
            peers: peers.clone(),
            quorum_timeout: options.quorum_timeout,
            bug: options.bug,
        };
        let call_timeout = options.quorum_timeout;
        sim.add_node(name, move |ctx: NodeContext| {
            let config = ReplicaConfig {
                incarnation: ctx.incarnation(),
                ..config.clone()
            };
            let store = store.clone();
            async move {
                let runtime = SimRuntime::start(call_timeout);
                let replica = Arc::new(Replica::new(config, store, runtime));
                let listener = TcpListener::bind(PORT).expect("the port is free");
                serve(listener, service::router(replica)).await;
            }
        })
        .expect("unique node names");
    }
    let recorder: Recorder<Input, Output> = Recorder::default();
    let stop = Rc::new(Cell::new(false));
    for client in 1..=options.clients as u64 {
        let (recorder, stop, peers) = (recorder.clone(), stop.clone(), peers.clone());
        let (keys, timeout) = (options.keys, options.request_timeout);
        sim.add_node(&format!("c{client}"), move |_| {
            let (recorder, stop, peers) = (recorder.clone(), stop.clone(), peers.clone());
            async move {
                let mut n = 0;
                while !stop.get() {
                    n += 1;
                    let op = random_op(client, n, keys);
                    let target = random::with(|rng| rng.below(peers.len() as u64)) as usize;
                    record_call(&recorder, client, &peers[target], op, timeout).await;
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
    // One data centre: 0.3–2 ms links, no loss (TCP would hide it anyway,
    // at the price of retransmission timeouts longer than a quorum's).
    let link = LinkProfile::default().latency(Latency::uniform(
        Duration::from_micros(300),
        Duration::from_millis(2),
    ));
    Net::builder()
        .default_link(link)
        .install(&mut sim)
        .expect("a valid network");
    let plan = case.plan(|| chaos(case.seed(), options));
    let faults = plan.len();
    let quiet_from = Instant::ZERO + plan.quiet_from().max(Duration::from_secs(1));
    sim.apply_plan(plan).expect("a valid plan");

    let verdict: Rc<RefCell<Option<String>>> = Rc::default();
    let v = verdict.clone();
    sim.enter(|h| {
        h.invariant("the history is linearizable", move || {
            v.borrow().clone().map_or(Ok(()), Err)
        });
    });

    let handle = sim.handle();
    let (replay, seed) = (case.is_replay(), case.seed());
    let probe_id = options.clients as u64 + 1;
    let (probe_recorder, probe_peers) = (recorder.clone(), peers.clone());
    let (liveness_within, timeout) = (options.liveness_within, options.request_timeout);
    let body = async move {
        let goal = handle
            .spawn_on(probe, async move {
                time::sleep_until(quiet_from).await;
                let key = "k0".to_owned();
                let mut attempt = 0;
                for op in [
                    KvInput::Put(key.clone(), probe_id * 1_000_000 + 1),
                    KvInput::Get(key),
                ] {
                    loop {
                        attempt += 1;
                        let target = &probe_peers[attempt % probe_peers.len()];
                        if record_call(&probe_recorder, probe_id, target, op.clone(), timeout).await
                        {
                            break;
                        }
                        time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
            .expect("the probe node exists");
        detsim::liveness(
            "a client is served after the faults heal",
            quiet_from,
            liveness_within,
            String::new,
            goal,
        )
        .await
        .expect("the probe finishes");
        stop.set(true);
        time::sleep(timeout + Duration::from_millis(500)).await;
        let history = recorder.history();
        let mut checker = Checker::new(KeyValue::<String, u64>::default());
        let result = checker.check(&history);
        if result.is_not_linearizable() && replay {
            let dir = std::env::var_os("SIM_ARTIFACTS")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| std::env::temp_dir().join("detsim"));
            let path = dir.join(format!("httpkv-history-{seed}.html"));
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
