//! The service: an axum `Router` over a replica of the store, replicated
//! with quorums over HTTP (ABD, multi-writer: Attiya, Bar-Noy and Dolev).
//!
//! Every replica is a coordinator. A write asks a majority for the key's
//! newest stamp, picks a bigger one, and stores the value on a majority; a
//! read asks a majority for their copies, writes the newest back to a
//! majority, and returns it. Any two majorities meet, so a read sees every
//! write acknowledged before it began. Without a majority the replica
//! answers `503 Service Unavailable`.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /kv/{key}` | `{"value": 7}` or `{"value": null}` |
//! | `PUT /kv/{key}` | body `{"value": 7}` |
//! | `DELETE /kv/{key}` | |
//! | `GET /internal/kv/{key}` | this replica's copy: `{"stamp": …, "value": …}` |
//! | `PUT /internal/kv/{key}` | store a copy if its stamp is newer |

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::Either;
use futures::stream::FuturesUnordered;
use http::{Method, Request};
use http_body_util::Full;

use super::api::{Stamp, Unavailable, ValueBody, Versioned};
use super::bugs::Bug;
use super::runtime::{BoxFuture, Runtime};

/// The keys and their copies: what a replica keeps.
///
/// It outlives a replica's process, as a disk that never loses an
/// acknowledged write would: every write is applied here before it is
/// acknowledged.
pub type Store = Arc<Mutex<BTreeMap<String, Versioned>>>;

/// How one replica is set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaConfig {
    /// This replica's number, 1-based: `peers[id - 1]` is itself.
    pub id: u64,
    /// This process's incarnation (how often it restarted).
    pub incarnation: u64,
    /// Every replica's `host:port`, this one's included.
    pub peers: Vec<String>,
    /// How long a phase waits for a majority.
    pub quorum_timeout: Duration,
    /// The planted bug, if any.
    pub bug: Option<Bug>,
}

/// One replica: its configuration, its store, its runtime.
#[derive(Debug)]
pub struct Replica<R> {
    config: ReplicaConfig,
    store: Store,
    runtime: R,
    /// The biggest counter this process gave out.
    counter: Mutex<u64>,
}

impl<R: Runtime> Replica<R> {
    /// A replica over `store`.
    pub fn new(config: ReplicaConfig, store: Store, runtime: R) -> Replica<R> {
        assert!(
            config.id >= 1 && config.id as usize <= config.peers.len(),
            "replica ids are 1-based indices into peers"
        );
        Replica {
            config,
            store,
            runtime,
            counter: Mutex::new(0),
        }
    }

    fn majority(&self) -> usize {
        self.config.peers.len() / 2 + 1
    }

    fn local(&self, key: &str) -> Versioned {
        let store = self.store.lock().expect("not poisoned");
        store.get(key).copied().unwrap_or_default()
    }

    fn local_store(&self, key: &str, copy: Versioned) {
        let mut store = self.store.lock().expect("not poisoned");
        let entry = store.entry(key.to_owned()).or_default();
        if copy.stamp > entry.stamp {
            *entry = copy;
        }
    }

    /// The others' addresses.
    fn others(&self) -> impl Iterator<Item = &String> {
        let me = self.config.id as usize - 1;
        self.config
            .peers
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != me)
            .map(|(_, peer)| peer)
    }

    /// Waits for a majority of answers (this replica's own counts as one);
    /// `None` when the others' answers cannot make a majority, or not within
    /// the quorum timeout.
    async fn gather<T: Send + 'static>(
        &self,
        own: T,
        calls: Vec<BoxFuture<Option<T>>>,
    ) -> Option<Vec<T>> {
        let need = self.majority();
        let mut answers = vec![own];
        let mut pending: FuturesUnordered<BoxFuture<Option<T>>> = calls.into_iter().collect();
        let mut deadline = self.runtime.sleep(self.config.quorum_timeout);
        while answers.len() < need {
            match futures::future::select(pending.next(), &mut deadline).await {
                Either::Left((Some(Some(answer)), _)) => answers.push(answer),
                Either::Left((Some(None), _)) => {}
                Either::Left((None, _)) | Either::Right(_) => return None,
            }
        }
        Some(answers)
    }

    /// Phase one: a majority's copies of `key`.
    async fn query(&self, key: &str) -> Option<Vec<Versioned>> {
        let calls = self
            .others()
            .map(|peer| {
                let call = self.runtime.call(peer, internal(Method::GET, key, None));
                Box::pin(async move {
                    let reply = call.await.ok()?;
                    if reply.status != StatusCode::OK {
                        return None;
                    }
                    serde_json::from_slice::<Versioned>(&reply.body).ok()
                }) as BoxFuture<Option<Versioned>>
            })
            .collect();
        self.gather(self.local(key), calls).await
    }

    /// Phase two: `copy` stored on a majority.
    async fn store(&self, key: &str, copy: Versioned) -> bool {
        self.local_store(key, copy);
        let calls = self
            .others()
            .map(|peer| {
                let call = self
                    .runtime
                    .call(peer, internal(Method::PUT, key, Some(copy)));
                Box::pin(async move {
                    let reply = call.await.ok()?;
                    (reply.status == StatusCode::OK).then_some(())
                }) as BoxFuture<Option<()>>
            })
            .collect();
        self.gather((), calls).await.is_some()
    }

    /// A quorum read.
    pub async fn read(&self, key: &str) -> Result<Option<u64>, Unavailable> {
        let Some(copies) = self.query(key).await else {
            if self.config.bug == Some(Bug::LocalReadOnTimeout) {
                let value = self.local(key).value;
                tracing::warn!(
                    key,
                    ?value,
                    "no quorum in time: answering from the local copy"
                );
                return Ok(value);
            }
            return Err(unavailable("no quorum answered the read", false));
        };
        let newest = copies
            .into_iter()
            .max_by_key(|c| c.stamp)
            .expect("a majority is not empty");
        if self.config.bug != Some(Bug::SkipWriteBack) && !self.store(key, newest).await {
            return Err(unavailable("no quorum took the read's write-back", false));
        }
        Ok(newest.value)
    }

    /// A quorum write (`None`: delete).
    pub async fn write(&self, key: &str, value: Option<u64>) -> Result<(), Unavailable> {
        let Some(copies) = self.query(key).await else {
            return Err(unavailable("no quorum answered the write's query", false));
        };
        let newest = copies.iter().map(|c| c.stamp.counter).max().unwrap_or(0);
        let counter = {
            let mut last = self.counter.lock().expect("not poisoned");
            *last = (*last).max(newest) + 1;
            *last
        };
        let stamp = Stamp {
            counter,
            replica: self.config.id,
            incarnation: self.config.incarnation,
        };
        if self.store(key, Versioned { stamp, value }).await {
            Ok(())
        } else {
            Err(unavailable("no quorum took the write", true))
        }
    }
}

fn unavailable(error: &str, maybe_applied: bool) -> Unavailable {
    Unavailable {
        error: error.to_owned(),
        maybe_applied,
    }
}

/// A request of the replicas' API.
fn internal(method: Method, key: &str, copy: Option<Versioned>) -> Request<Full<Bytes>> {
    let body = copy.map_or_else(Bytes::new, |c| {
        Bytes::from(serde_json::to_vec(&c).expect("serializable"))
    });
    Request::builder()
        .method(method)
        .uri(format!("/internal/kv/{key}"))
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("a valid request")
}

/// The service's routes over `replica`.
pub fn router<R: Runtime>(replica: Arc<Replica<R>>) -> Router {
    Router::new()
        .route(
            "/kv/{key}",
            get(get_key::<R>).put(put_key::<R>).delete(delete_key::<R>),
        )
        .route(
            "/internal/kv/{key}",
            get(internal_get::<R>).put(internal_put::<R>),
        )
        .with_state(replica)
}

fn answer(result: Result<Option<u64>, Unavailable>) -> Response {
    match result {
        Ok(value) => Json(ValueBody { value }).into_response(),
        Err(unavailable) => (StatusCode::SERVICE_UNAVAILABLE, Json(unavailable)).into_response(),
    }
}

async fn get_key<R: Runtime>(
    State(replica): State<Arc<Replica<R>>>,
    Path(key): Path<String>,
) -> Response {
    answer(replica.read(&key).await)
}

async fn put_key<R: Runtime>(
    State(replica): State<Arc<Replica<R>>>,
    Path(key): Path<String>,
    Json(body): Json<ValueBody>,
) -> Response {
    answer(replica.write(&key, body.value).await.map(|()| body.value))
}

async fn delete_key<R: Runtime>(
    State(replica): State<Arc<Replica<R>>>,
    Path(key): Path<String>,
) -> Response {
    answer(replica.write(&key, None).await.map(|()| None))
}

async fn internal_get<R: Runtime>(
    State(replica): State<Arc<Replica<R>>>,
    Path(key): Path<String>,
) -> Json<Versioned> {
    Json(replica.local(&key))
}

async fn internal_put<R: Runtime>(
    State(replica): State<Arc<Replica<R>>>,
    Path(key): Path<String>,
    Json(copy): Json<Versioned>,
) -> StatusCode {
    replica.local_store(&key, copy);
    StatusCode::OK
}
