//! A client: issues requests open-loop at the scenario's rate (arrivals do
//! not wait for answers, as real users do not), each with a per-attempt
//! timeout and retries with jittered exponential backoff, and records every
//! request's outcome and latency.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use detsim::{NodeContext, random, time};
use detsim_net::{Addr, UdpSocket};

use crate::lb::metrics::RequestRecord;
use crate::lb::proto::{LB_PORT, Message, Status};
use crate::lb::scenario::{LB, Shared};

/// The init closure of client node number `index` (from 1).
pub(crate) fn init(
    shared: Rc<Shared>,
    index: u32,
) -> impl Fn(NodeContext) -> Pin<Box<dyn Future<Output = ()>>> + 'static {
    move |ctx| Box::pin(generate(ctx, shared.clone(), index))
}

async fn generate(ctx: NodeContext, shared: Rc<Shared>, index: u32) {
    let lb = Addr::resolve(&format!("{LB}:{LB_PORT}")).expect("the load balancer exists");
    let clients = f64::from(shared.scenario.tuning.clients);
    let mut next = 0u64;
    time::sleep(shared.load_start()).await;
    loop {
        let now = Shared::now();
        let rate = shared.load_at(now) / clients;
        if now >= shared.load_end() || rate <= 0.0 {
            return;
        }
        // Uniform gaps with the right mean: integer draws, the same on every platform.
        let mean_ns = 1e9 / rate;
        let gap = random::with(|r| r.below((2.0 * mean_ns) as u64 + 1));
        time::sleep(Duration::from_nanos(gap)).await;
        if Shared::now() >= shared.load_end() {
            return;
        }
        let id = (u64::from(index) << 40) | next;
        next += 1;
        ctx.spawn(request(shared.clone(), lb, id));
    }
}

/// One request: attempts until one succeeds or the attempts run out.
async fn request(shared: Rc<Shared>, lb: Addr, id: u64) {
    let tuning = &shared.scenario.tuning;
    let start = Shared::now();
    let mut attempts = 0;
    let mut ok = false;
    while attempts < tuning.attempts {
        attempts += 1;
        let socket = UdpSocket::bind(0).expect("an ephemeral port");
        let _ = socket.send_to(&Message::Request { id }.encode(), lb);
        let answer = time::timeout(tuning.attempt_timeout, async {
            loop {
                match socket.recv().await {
                    Ok(d) => match Message::decode(&d.payload) {
                        Some(Message::Response { id: got, status }) if got == id => break status,
                        _ => continue,
                    },
                    Err(_) => break Status::Unavailable,
                }
            }
        })
        .await;
        drop(socket);
        if answer == Ok(Status::Ok) {
            ok = true;
            break;
        }
        if attempts < tuning.attempts {
            // Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter").
            let cap = tuning.backoff * (1 << (attempts - 1).min(16));
            let cap = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
            let wait = random::with(|r| r.below(cap.saturating_add(1)));
            time::sleep(Duration::from_nanos(wait)).await;
        }
    }
    let record = RequestRecord {
        start,
        latency: Shared::now() - start,
        ok,
        attempts,
    };
    shared.recorder.borrow_mut().requests.push(record);
}
