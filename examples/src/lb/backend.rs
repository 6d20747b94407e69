//! A backend: registers with the load balancer at boot, answers health
//! checks, and serves requests one at a time from a bounded queue — each
//! costs CPU time and a synced journal record on the node's disk, so a slow
//! disk makes a slow backend.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use detsim::{NodeContext, random, time};
use detsim_net::{Addr, UdpSocket};
use futures::StreamExt;
use futures::channel::mpsc;

use crate::lb::journal::Journal;
use crate::lb::proto::{BACKEND_PORT, HEALTH_PORT, LB_ADMIN_PORT, Message, Status};
use crate::lb::scenario::{LB, Shared};

/// How often a registered backend registers again.
const REGISTER_PERIOD: Duration = Duration::from_secs(5);

/// One queued request.
struct Work {
    id: u64,
    from: Addr,
    deadline: time::Instant,
}

/// The init closure of a backend node in `zone`.
pub(crate) fn init(
    shared: Rc<Shared>,
    zone: &'static str,
) -> impl Fn(NodeContext) -> Pin<Box<dyn Future<Output = ()>>> + 'static {
    move |ctx| Box::pin(serve(ctx, shared.clone(), zone))
}

async fn serve(ctx: NodeContext, shared: Rc<Shared>, zone: &'static str) {
    let tuning = &shared.scenario.tuning;
    let name = ctx.name();
    // Recover the journal first: a backend answers nothing before its disk is usable.
    let storage = detsim_disk::storage().expect("disks are installed");
    let journal = match Journal::open(&storage).await {
        Ok(journal) => journal,
        Err(e) => {
            tracing::warn!("cannot open the journal: {e}");
            return;
        }
    };
    tracing::info!(records = journal.records(), "journal recovered");
    let requests = Rc::new(UdpSocket::bind(BACKEND_PORT).expect("the request port is free"));
    let health = UdpSocket::bind(HEALTH_PORT).expect("the health port is free");

    // Health checks are answered at once while the journal works: the
    // process is up and reachable. (A slow disk is a gray failure that this
    // check does not see.)
    let failed = Rc::new(Cell::new(false));
    let broken = failed.clone();
    ctx.spawn(async move {
        while let Ok(check) = health.recv().await {
            if !broken.get() && Message::decode(&check.payload) == Some(Message::HealthCheck) {
                let _ = health.send_to(&Message::Healthy.encode(), check.source);
            }
        }
    });

    // Register with the load balancer, and again every few seconds, so that
    // a load balancer that lost its state learns its backends again.
    let register = Message::Register {
        name: name.clone(),
        zone: zone.to_owned(),
    };
    ctx.spawn(async move {
        let socket = UdpSocket::bind(0).expect("an ephemeral port");
        let lb = Addr::resolve(&format!("{LB}:{LB_ADMIN_PORT}")).expect("the load balancer exists");
        loop {
            let _ = socket.send_to(&register.encode(), lb);
            let acknowledged = time::timeout(Duration::from_millis(500), async {
                while let Ok(d) = socket.recv().await {
                    if Message::decode(&d.payload) == Some(Message::Registered) {
                        return true;
                    }
                }
                false
            })
            .await;
            if acknowledged == Ok(true) {
                time::sleep(REGISTER_PERIOD).await;
            }
        }
    });

    // One worker: the queue in front of it is the backend's capacity.
    let (queue, mut work) = mpsc::unbounded::<Work>();
    let queued = Rc::new(Cell::new(0usize));
    {
        let (requests, queued, shared) = (requests.clone(), queued.clone(), shared.clone());
        let mut journal = journal;
        ctx.spawn(async move {
            let tuning = &shared.scenario.tuning;
            let (cpu_min, cpu_max) = tuning.service_time;
            let spread = u64::try_from((cpu_max - cpu_min).as_nanos()).unwrap_or(0);
            while let Some(job) = work.next().await {
                queued.set(queued.get() - 1);
                if time::now() >= job.deadline {
                    continue; // nobody waits for it any more
                }
                let cpu = cpu_min + Duration::from_nanos(random::with(|r| r.below(spread + 1)));
                time::sleep(cpu).await;
                let mut record = vec![0u8; tuning.record_size.max(8)];
                record[..8].copy_from_slice(&job.id.to_le_bytes());
                let status = match journal.append(&record).await {
                    Ok(()) => Status::Ok,
                    Err(e) => {
                        // Fail-stop: never retry a failed sync; fail the
                        // health checks until a restart recovers the journal.
                        tracing::warn!("journal append failed: {e}; failing health checks");
                        failed.set(true);
                        Status::Failed
                    }
                };
                let done = Message::Done { id: job.id, status };
                let _ = requests.send_to(&done.encode(), job.from);
            }
        });
    }

    while let Ok(datagram) = requests.recv().await {
        let Some(Message::Forward { id, budget_us }) = Message::decode(&datagram.payload) else {
            continue;
        };
        if queued.get() >= tuning.queue_max {
            let shed = Message::Done {
                id,
                status: Status::Overloaded,
            };
            let _ = requests.send_to(&shed.encode(), datagram.source);
            continue;
        }
        queued.set(queued.get() + 1);
        let deadline = time::now().saturating_add(Duration::from_micros(budget_us));
        let _ = queue.unbounded_send(Work {
            id,
            from: datagram.source,
            deadline,
        });
    }
}
