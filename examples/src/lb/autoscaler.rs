//! The autoscaler: reads the load balancer's statistics every interval (as
//! a cloud's metrics service would), and when the request rate per
//! registered backend passes a threshold, adds one backend in each zone —
//! new nodes in a running world, which register with the load balancer at
//! boot and enter service once their health checks pass.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use detsim::{NodeContext, time};
use detsim_net::{Addr, Net, UdpSocket};

use crate::lb::backend;
use crate::lb::metrics::FleetSample;
use crate::lb::proto::{LB_ADMIN_PORT, Message};
use crate::lb::scenario::{AUTOSCALER, LB, Shared, ZONES, backend_name};

/// The init closure of the autoscaler node; `backends` per zone at the start.
pub(crate) fn init(
    shared: Rc<Shared>,
) -> impl Fn(NodeContext) -> Pin<Box<dyn Future<Output = ()>>> + 'static {
    move |ctx| Box::pin(control(ctx, shared.clone()))
}

async fn control(ctx: NodeContext, shared: Rc<Shared>) {
    let scenario = &shared.scenario;
    let tuning = &scenario.tuning;
    let lb = Addr::resolve(&format!("{LB}:{LB_ADMIN_PORT}")).expect("the load balancer exists");
    let socket = UdpSocket::bind(0).expect("an ephemeral port");
    let mut per_zone = [scenario.backends_per_zone; ZONES.len()];
    let mut previous: Option<(Duration, u64)> = None;
    let mut last_scale: Option<Duration> = None;
    let mut tick = time::interval(tuning.scale_interval);
    loop {
        tick.tick().await;
        let _ = socket.send_to(&Message::StatsQuery.encode(), lb);
        let stats = time::timeout(tuning.scale_interval / 2, async {
            loop {
                match socket.recv().await.map(|d| Message::decode(&d.payload)) {
                    Ok(Some(Message::Stats {
                        requests,
                        registered,
                        healthy,
                    })) => break Some((requests, registered, healthy)),
                    Ok(_) => continue,
                    Err(_) => break None,
                }
            }
        })
        .await;
        let Ok(Some((requests, registered, healthy))) = stats else {
            continue;
        };
        let now = Shared::now();
        shared.recorder.borrow_mut().fleet.push(FleetSample {
            at: now,
            registered,
            healthy,
        });
        let rate = match previous {
            Some((at, count)) if now > at => (requests - count) as f64 / (now - at).as_secs_f64(),
            _ => 0.0,
        };
        previous = Some((now, requests));
        let per_backend = rate / f64::from(registered.max(1));
        let cooled = last_scale.is_none_or(|at| now >= at + tuning.scale_cooldown);
        let room = registered + ZONES.len() as u32 <= tuning.backends_max;
        if !(scenario.autoscale && per_backend > tuning.scale_threshold && cooled && room) {
            continue;
        }
        last_scale = Some(now);
        for (zone, count) in ZONES.iter().zip(&mut per_zone) {
            *count += 1;
            let name = backend_name(zone, *count);
            let handle = ctx.sim();
            handle
                .add_node(&name, backend::init(shared.clone(), zone))
                .unwrap_or_else(|e| panic!("adding {name}: {e}"));
            Net::current()
                .and_then(|net| net.place(name.as_str(), zone))
                .unwrap_or_else(|e| panic!("placing {name} in {zone}: {e}"));
            let what = format!(
                "added {name} in {zone} ({per_backend:.0} requests/s per backend > {:.0})",
                tuning.scale_threshold
            );
            tracing::info!("{what}");
            shared.recorder.borrow_mut().react(now, AUTOSCALER, what);
        }
    }
}
