//! The same HTTP key-value service on real sockets and time: three replicas
//! on 127.0.0.1, each an axum `Router` served by hyper on a tokio listener,
//! replicating through hyper-util's client; a client sends a few requests,
//! then one replica is stopped (a majority still serves), then another (no
//! majority: `503`). No line of the service differs from what the
//! simulation runs: only its [`Runtime`] and the accept loop.
//!
//! ```text
//! cargo run --release -p examples --bin httpkv-real
//! ```

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use examples::httpkv::runtime::{RealRuntime, Runtime};
use examples::httpkv::service::{self, Replica, ReplicaConfig, Store};
use http::{Method, Request};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

/// Serves `router` on `listener`, each connection a task of a `JoinSet`
/// that dies with this future (so aborting it stops the replica).
async fn serve(listener: tokio::net::TcpListener, router: axum::Router) {
    let mut connections = tokio::task::JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        let service = TowerToHyperService::new(router.clone());
        connections.spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn request(method: Method, key: &str, value: Option<u64>) -> Request<Full<Bytes>> {
    let body = match value {
        Some(value) => Bytes::from(format!("{{\"value\":{value}}}")),
        None => Bytes::new(),
    };
    Request::builder()
        .method(method)
        .uri(format!("/kv/{key}"))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid request")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let mut listeners = Vec::new();
    for _ in 0..3 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        listeners.push(listener);
    }
    let peers: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().expect("bound").to_string())
        .collect();
    let mut replicas = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let config = ReplicaConfig {
            id: i as u64 + 1,
            incarnation: 0,
            peers: peers.clone(),
            quorum_timeout: Duration::from_millis(300),
            bug: None,
        };
        let replica = Replica::new(
            config,
            Store::default(),
            RealRuntime::new(Duration::from_millis(300)),
        );
        let router = service::router(Arc::new(replica));
        println!("r{} serves on http://{}", i + 1, peers[i]);
        replicas.push(tokio::spawn(serve(listener, router)));
    }
    let client = RealRuntime::new(Duration::from_secs(2));
    #[allow(clippy::disallowed_methods)] // real mode: wall-clock timestamps
    let start = std::time::Instant::now();
    let steps: [&[(usize, Method, Option<u64>)]; 3] = [
        &[
            (0, Method::PUT, Some(1)),
            (1, Method::GET, None),
            (2, Method::DELETE, None),
            (0, Method::GET, None),
            (1, Method::PUT, Some(2)),
        ],
        &[(0, Method::PUT, Some(3)), (1, Method::GET, None)],
        &[(0, Method::GET, None)],
    ];
    for (round, step) in steps.iter().enumerate() {
        if round > 0 {
            let stopped = 3 - round;
            replicas[stopped].abort();
            println!("stopping r{}", stopped + 1);
        }
        for (target, method, value) in step.iter().cloned() {
            let label = match value {
                Some(v) => format!("{method} /kv/greeting {{\"value\":{v}}}"),
                None => format!("{method} /kv/greeting"),
            };
            let reply = client
                .call(&peers[target], request(method, "greeting", value))
                .await;
            let answer = match reply {
                Ok(reply) => format!(
                    "{} {}",
                    reply.status.as_u16(),
                    String::from_utf8_lossy(&reply.body)
                ),
                Err(error) => format!("error: {error}"),
            };
            println!(
                "{:>9.3}s  r{}  {label:<32} -> {answer}",
                start.elapsed().as_secs_f64(),
                target + 1
            );
        }
    }
}
