//! The simulated network (detsim-net): the link model, every kind of
//! partition, clogs, topology, streams, node lifecycle, typed messages,
//! configuration errors, determinism, and the real backend.

mod clog;
mod config;
mod datagram;
mod determinism;
mod differential;
mod lifecycle;
mod partition;
mod plan;
mod real;
mod stream;
mod topology;
mod typed;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use detsim::time::Instant;
use detsim::{Seed, Sim, TraceMode};
use detsim_net::{Net, NetBuilder, NetEvent, NetEventKind, UdpSocket};

/// A datagram a sink received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Received {
    pub(crate) at: Instant,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) payload: Vec<u8>,
}

impl Received {
    /// `from->to:payload` (the payload as text).
    pub(crate) fn short(&self) -> String {
        format!(
            "{}->{}:{}",
            self.from,
            self.to,
            String::from_utf8_lossy(&self.payload)
        )
    }
}

pub(crate) type Log = Rc<RefCell<Vec<Received>>>;

/// A world with a recorded trace whose nodes each run a sink on port 1
/// that logs every datagram it receives.
pub(crate) struct World {
    pub(crate) sim: Sim,
    pub(crate) net: Net,
    pub(crate) log: Log,
}

pub(crate) fn world(seed: u64, names: &[&str], builder: NetBuilder) -> World {
    let mut sim = Sim::builder(Seed::new(seed))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    let log: Log = Rc::default();
    for name in names {
        let log = log.clone();
        let me = name.to_string();
        sim.add_node(name, move |_| {
            let log = log.clone();
            let me = me.clone();
            async move {
                let socket = UdpSocket::bind(1).unwrap();
                loop {
                    let Ok(d) = socket.recv().await else { return };
                    let from = detsim::handle().node_name(d.source.node).unwrap();
                    log.borrow_mut().push(Received {
                        at: detsim::handle().now(),
                        from,
                        to: me.clone(),
                        payload: d.payload,
                    });
                }
            }
        })
        .unwrap();
    }
    let net = builder.install(&mut sim).unwrap();
    World { sim, net, log }
}

/// From inside a run: sends `payload` from node `from` (an ephemeral port) to `to:1`.
pub(crate) fn send(from: &str, to: &str, payload: impl Into<Vec<u8>>) {
    let payload = payload.into();
    let target = format!("{to}:1");
    detsim::handle()
        .spawn_on(from, async move {
            let socket = UdpSocket::bind(0).unwrap();
            socket.send_to(&payload, target.as_str()).unwrap();
        })
        .unwrap();
}

/// From inside a run: sleeps.
pub(crate) async fn sleep_ms(ms: u64) {
    detsim::time::sleep(Duration::from_millis(ms)).await;
}

/// The network message events of a recorded trace, as lines.
pub(crate) fn net_lines(trace: &detsim::Trace) -> Vec<String> {
    NetEvent::from_trace(trace)
        .iter()
        .map(|e| e.to_string())
        .collect()
}

/// How many events of `kind` the trace has.
pub(crate) fn count(trace: &detsim::Trace, kind: NetEventKind) -> usize {
    NetEvent::from_trace(trace)
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}
