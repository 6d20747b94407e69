//! The accept loop: a tower service (an axum `Router`) served by hyper's
//! HTTP/1.1 server on a simulated listener, one task per connection.

use axum::Router;
use detsim_net::{SimTimer, TcpListener};
use hyper_util::service::TowerToHyperService;

/// Serves `router` on `listener` until the listener fails (its node
/// crashed). Each connection is a task of the calling node; hyper's timer
/// is [`SimTimer`] and its `Date` header is off (it reads the wall clock).
pub async fn serve(listener: TcpListener, router: Router) {
    while let Ok((stream, _peer)) = listener.accept().await {
        let service = TowerToHyperService::new(router.clone());
        detsim::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(SimTimer::new())
                .auto_date_header(false)
                .serve_connection(stream, service)
                .await;
        });
    }
}
