//! The load balancer: backends register with it; it health-checks them
//! (healthy after N passed checks, out of service after M failed ones),
//! spreads requests over the healthy ones by "power of two choices" on their
//! outstanding requests (slow backends collect outstanding work and get
//! less), and fails over: a try that times out or is refused goes to another
//! backend.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use detsim::{NodeContext, random, time};
use detsim_net::{Addr, UdpSocket};

use crate::lb::proto::{BACKEND_PORT, HEALTH_PORT, LB_ADMIN_PORT, LB_PORT, Message, Status};
use crate::lb::scenario::{LB, Shared};

/// What the health checks say about a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    /// Registered, not yet passed enough checks.
    Initial,
    Healthy,
    Unhealthy,
}

struct Target {
    name: String,
    node: detsim::NodeId,
    health: Health,
    /// Consecutive passed checks.
    passed: u32,
    /// Consecutive failed checks.
    failed: u32,
    /// Tries sent and not answered yet.
    outstanding: u32,
}

#[derive(Default)]
struct Balancer {
    /// Registered backends; never removed, so indices are stable.
    targets: Vec<Target>,
    /// Client requests received.
    requests: u64,
}

impl Balancer {
    /// Power of two choices among the healthy backends not in `tried`.
    fn pick(&self, tried: &[usize]) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.targets.len())
            .filter(|i| self.targets[*i].health == Health::Healthy && !tried.contains(i))
            .collect();
        match candidates.len() {
            0 => None,
            1 => Some(candidates[0]),
            n => {
                let (a, b) = random::with(|r| {
                    let a = r.below(n as u64) as usize;
                    let b = r.below(n as u64 - 1) as usize;
                    (a, if b >= a { b + 1 } else { b })
                });
                let (a, b) = (candidates[a], candidates[b]);
                if self.targets[b].outstanding < self.targets[a].outstanding {
                    Some(b)
                } else {
                    Some(a)
                }
            }
        }
    }

    fn healthy(&self) -> u32 {
        self.targets
            .iter()
            .filter(|t| t.health == Health::Healthy)
            .count() as u32
    }
}

/// The init closure of the load balancer node.
pub(crate) fn init(
    shared: Rc<Shared>,
) -> impl Fn(NodeContext) -> Pin<Box<dyn Future<Output = ()>>> + 'static {
    move |ctx| Box::pin(serve(ctx, shared.clone()))
}

async fn serve(ctx: NodeContext, shared: Rc<Shared>) {
    let state = Rc::new(RefCell::new(Balancer::default()));
    ctx.spawn(admin(state.clone()));
    ctx.spawn(health_checks(state.clone(), shared.clone()));
    let front = Rc::new(UdpSocket::bind(LB_PORT).expect("the load balancer's port is free"));
    while let Ok(datagram) = front.recv().await {
        let Some(Message::Request { id }) = Message::decode(&datagram.payload) else {
            continue;
        };
        state.borrow_mut().requests += 1;
        let (front, state, shared) = (front.clone(), state.clone(), shared.clone());
        ctx.spawn(async move {
            let status = forward(&state, &shared, id).await;
            let response = Message::Response { id, status };
            let _ = front.send_to(&response.encode(), datagram.source);
        });
    }
}

/// Sends a request to a backend, and to another one if that fails.
async fn forward(state: &RefCell<Balancer>, shared: &Shared, id: u64) -> Status {
    let tuning = &shared.scenario.tuning;
    let mut tried = Vec::new();
    for _ in 0..tuning.tries {
        let Some(index) = state.borrow().pick(&tried) else {
            break;
        };
        tried.push(index);
        let node = {
            let mut state = state.borrow_mut();
            let target = &mut state.targets[index];
            target.outstanding += 1;
            target.node
        };
        let socket = UdpSocket::bind(0).expect("an ephemeral port");
        let budget_us = u64::try_from(tuning.try_timeout.as_micros()).unwrap_or(u64::MAX);
        let request = Message::Forward { id, budget_us };
        let _ = socket.send_to(&request.encode(), Addr::new(node, BACKEND_PORT));
        let answer = time::timeout(tuning.try_timeout, async {
            loop {
                match socket.recv().await {
                    Ok(d) => match Message::decode(&d.payload) {
                        Some(Message::Done { id: done, status }) if done == id => break status,
                        _ => continue,
                    },
                    Err(_) => break Status::Failed,
                }
            }
        })
        .await;
        state.borrow_mut().targets[index].outstanding -= 1;
        if answer == Ok(Status::Ok) {
            return Status::Ok;
        }
    }
    Status::Unavailable
}

/// Registrations from backends and statistics for the autoscaler.
async fn admin(state: Rc<RefCell<Balancer>>) {
    let socket = UdpSocket::bind(LB_ADMIN_PORT).expect("the control port is free");
    while let Ok(datagram) = socket.recv().await {
        let reply = match Message::decode(&datagram.payload) {
            Some(Message::Register { name, zone }) => {
                let mut state = state.borrow_mut();
                if !state.targets.iter().any(|t| t.name == name) {
                    tracing::info!("registered {name} in {zone}");
                    state.targets.push(Target {
                        name,
                        node: datagram.source.node,
                        health: Health::Initial,
                        passed: 0,
                        failed: 0,
                        outstanding: 0,
                    });
                }
                Message::Registered
            }
            Some(Message::StatsQuery) => {
                let state = state.borrow();
                Message::Stats {
                    requests: state.requests,
                    registered: state.targets.len() as u32,
                    healthy: state.healthy(),
                }
            }
            _ => continue,
        };
        let _ = socket.send_to(&reply.encode(), datagram.source);
    }
}

/// Checks every registered backend each interval, concurrently.
async fn health_checks(state: Rc<RefCell<Balancer>>, shared: Rc<Shared>) {
    let tuning = &shared.scenario.tuning;
    let mut tick = time::interval(tuning.health_interval);
    loop {
        tick.tick().await;
        let count = state.borrow().targets.len();
        for index in 0..count {
            let (state, shared) = (state.clone(), shared.clone());
            detsim::spawn(async move {
                let passed = check(&state, &shared, index).await;
                record(&state, &shared, index, passed);
            });
        }
    }
}

async fn check(state: &RefCell<Balancer>, shared: &Shared, index: usize) -> bool {
    let node = state.borrow().targets[index].node;
    let socket = UdpSocket::bind(0).expect("an ephemeral port");
    let _ = socket.send_to(&Message::HealthCheck.encode(), Addr::new(node, HEALTH_PORT));
    let reply = time::timeout(shared.scenario.tuning.health_timeout, socket.recv()).await;
    matches!(reply, Ok(Ok(d)) if Message::decode(&d.payload) == Some(Message::Healthy))
}

fn record(state: &RefCell<Balancer>, shared: &Shared, index: usize, passed: bool) {
    let tuning = &shared.scenario.tuning;
    let mut state = state.borrow_mut();
    let target = &mut state.targets[index];
    let before = target.health;
    if passed {
        target.passed += 1;
        target.failed = 0;
        if target.health != Health::Healthy && target.passed >= tuning.healthy_threshold {
            target.health = Health::Healthy;
        }
    } else {
        target.failed += 1;
        target.passed = 0;
        if target.health != Health::Unhealthy && target.failed >= tuning.unhealthy_threshold {
            target.health = Health::Unhealthy;
        }
    }
    let what = match (before, target.health) {
        (Health::Initial, Health::Healthy) => format!("{} in service", target.name),
        (Health::Unhealthy, Health::Healthy) => format!("{} healthy again", target.name),
        (_, Health::Unhealthy) if before != Health::Unhealthy => format!(
            "{} out of service ({} failed health checks)",
            target.name, target.failed
        ),
        _ => return,
    };
    let healthy = state.healthy();
    tracing::info!("{what}; {healthy} healthy");
    let what = format!("{what}; {healthy} healthy");
    shared.recorder.borrow_mut().react(Shared::now(), LB, what);
}
