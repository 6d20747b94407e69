//! The service's only door to the world: [`Runtime`] (a sleep and an HTTP
//! call to a peer), in simulation ([`SimRuntime`]) and on tokio
//! ([`RealRuntime`]).
//!
//! The handlers of an axum `Router` must be `Send` futures. A simulated
//! stream is not `Send` (a world is single-threaded, its handles are `Rc`s),
//! so [`SimRuntime::call`] does not touch the network itself: it hands the
//! request to a task of the node (started by [`SimRuntime::start`]) through
//! a channel and awaits the answer, which is `Send`. On tokio, the same
//! trait is hyper-util's pooled client.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::channel::{mpsc, oneshot};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};

/// A boxed `Send` future, as axum handlers need.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An HTTP answer, its body read in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

/// What the service needs from its runtime, so the same code runs in a
/// world and on tokio.
pub trait Runtime: Clone + Send + Sync + 'static {
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<()>;

    /// Sends `request` (its URI: a path) to `authority` (`host:port`) and
    /// reads the answer; an error is a text saying what failed (connect,
    /// timeout, a broken connection).
    fn call(
        &self,
        authority: &str,
        request: Request<Full<Bytes>>,
    ) -> BoxFuture<Result<Reply, String>>;
}

/// A request the node's caller task sends.
struct Call {
    authority: String,
    request: Request<Full<Bytes>>,
    reply: oneshot::Sender<Result<Reply, String>>,
}

/// [`Runtime`] in a world: virtual time, and HTTP calls over simulated TCP
/// made by a task of the node.
#[derive(Clone, Debug)]
pub struct SimRuntime {
    calls: mpsc::UnboundedSender<Call>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl SimRuntime {
    /// Starts the calling node's caller task: each call it receives runs as
    /// a task of its own, bounded by `call_timeout`.
    ///
    /// # Panics
    ///
    /// Outside a simulation.
    pub fn start(call_timeout: Duration) -> SimRuntime {
        let (calls, mut receiver) = mpsc::unbounded::<Call>();
        detsim::spawn(async move {
            while let Some(call) = receiver.next().await {
                detsim::spawn(async move {
                    let answer =
                        detsim::time::timeout(call_timeout, send(&call.authority, call.request))
                            .await
                            .unwrap_or_else(|_| Err("timed out".to_owned()));
                    let _ = call.reply.send(answer);
                });
            }
        });
        SimRuntime { calls }
    }
}

impl Runtime for SimRuntime {
    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(detsim::time::sleep(duration))
    }

    fn call(
        &self,
        authority: &str,
        request: Request<Full<Bytes>>,
    ) -> BoxFuture<Result<Reply, String>> {
        let (reply, answer) = oneshot::channel();
        let sent = self.calls.unbounded_send(Call {
            authority: authority.to_owned(),
            request,
            reply,
        });
        Box::pin(async move {
            sent.map_err(|_| "the caller task is gone".to_owned())?;
            answer
                .await
                .unwrap_or_else(|_| Err("the call was dropped".to_owned()))
        })
    }
}

/// Sends one HTTP/1.1 request over a new simulated TCP connection to
/// `authority` (`node:port`) and reads the answer in full.
///
/// # Errors
///
/// What failed: connecting, the exchange, reading the body.
pub async fn send(authority: &str, request: Request<Full<Bytes>>) -> Result<Reply, String> {
    let stream = detsim_net::TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .handshake(stream)
        .await
        .map_err(|e| format!("handshake with {authority}: {e}"))?;
    detsim::spawn(async move {
        let _ = connection.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("{authority}: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{authority}: reading the body: {e}"))?
        .to_bytes();
    Ok(Reply { status, body })
}

/// [`Runtime`] on tokio: its timer, and hyper-util's pooled HTTP/1.1 client.
#[derive(Clone, Debug)]
pub struct RealRuntime {
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    call_timeout: Duration,
}

impl RealRuntime {
    /// A runtime whose calls give up after `call_timeout`.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, when used.
    pub fn new(call_timeout: Duration) -> RealRuntime {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        RealRuntime {
            client,
            call_timeout,
        }
    }
}

impl Runtime for RealRuntime {
    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(tokio::time::sleep(duration))
    }

    fn call(
        &self,
        authority: &str,
        mut request: Request<Full<Bytes>>,
    ) -> BoxFuture<Result<Reply, String>> {
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let uri = format!("http://{authority}{path}").parse();
        let (client, timeout) = (self.client.clone(), self.call_timeout);
        Box::pin(async move {
            *request.uri_mut() = uri.map_err(|e| format!("bad uri: {e}"))?;
            let exchange = async {
                let response = client.request(request).await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                Ok(Reply { status, body })
            };
            tokio::time::timeout(timeout, exchange)
                .await
                .unwrap_or_else(|_| Err("timed out".to_owned()))
        })
    }
}
