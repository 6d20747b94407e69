//! tokio's I/O traits and hyper's runtime adapters on simulated streams:
//! tokio-util's `Framed`, `tokio::io::copy` over `tokio::io::split` halves,
//! `BufReader`, hyper's HTTP/1.1 and HTTP/2 client and server connections,
//! an axum `Router` through hyper-util, and hyper's timer on virtual time.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use detsim::time::Instant;
use detsim::{Seed, Sim};
use detsim_net::{Latency, LinkProfile, Net, SimExecutor, SimTimer, TcpListener, TcpStream};
use futures::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::rt::Timer;
use hyper::service::service_fn;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::codec::{Framed, LinesCodec};

/// A world with a 1 ms constant-latency network, a `server` running
/// `serve`, and a `client` node.
fn world<S, F>(serve: S) -> (Sim, detsim::NodeId)
where
    S: Fn() -> F + 'static,
    F: std::future::Future<Output = ()> + 'static,
{
    let mut sim = Sim::new(Seed::new(16));
    Net::builder()
        .default_link(LinkProfile::default().latency(Latency::constant(Duration::from_millis(1))))
        .install(&mut sim)
        .unwrap();
    sim.add_node("server", move |_| serve()).unwrap();
    let client = sim.add_node("client", |_| async {}).unwrap();
    (sim, client)
}

/// Runs `body` on the client node; its output and the virtual instant it ended.
fn on_client<T: 'static>(
    sim: &mut Sim,
    client: detsim::NodeId,
    body: impl std::future::Future<Output = T> + 'static,
) -> (T, Instant) {
    sim.run(async move {
        let value = detsim::handle()
            .spawn_on(client, body)
            .unwrap()
            .await
            .unwrap();
        (value, detsim::time::now())
    })
    .unwrap()
    .value
}

fn ms(millis: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(millis)
}

#[test]
fn tokio_util_framed_lines_round_trip() {
    // Proves tokio-util's `Framed` works unchanged on a simulated stream:
    // lines out, upper-cased lines back, in order, at exact virtual times.
    let (mut sim, client) = world(|| async {
        let listener = TcpListener::bind(7).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        while let Some(Ok(line)) = lines.next().await {
            lines.send(line.to_uppercase()).await.unwrap();
        }
    });
    let (replies, at) = on_client(&mut sim, client, async {
        let stream = TcpStream::connect("server:7").await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        let mut replies = Vec::new();
        for line in ["one", "two", "three"] {
            lines.send(line).await.unwrap();
            replies.push(lines.next().await.unwrap().unwrap());
        }
        replies
    });
    assert_eq!(replies, ["ONE", "TWO", "THREE"]);
    // A 2 ms handshake, then three 2 ms round trips.
    assert_eq!(at, ms(8));
}

#[test]
fn tokio_copy_echoes_through_split_halves() {
    // Proves `tokio::io::split` halves and `tokio::io::copy` work: 1 MB
    // (four 256 KiB stream windows) echoed back byte for byte, then EOF.
    let (mut sim, client) = world(|| async {
        let listener = TcpListener::bind(7).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let (mut reader, mut writer) = tokio::io::split(stream);
        let copied = tokio::io::copy(&mut reader, &mut writer).await.unwrap();
        assert_eq!(copied, 1_000_000);
        writer.shutdown().await.unwrap();
    });
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let (echoed, _) = on_client(&mut sim, client, async move {
        let stream = TcpStream::connect("server:7").await.unwrap();
        let (mut reader, mut writer) = tokio::io::split(stream);
        let send = detsim::spawn(async move {
            writer.write_all(&data).await.unwrap();
            writer.shutdown().await.unwrap();
        });
        let mut echoed = Vec::new();
        reader.read_to_end(&mut echoed).await.unwrap();
        send.await.unwrap();
        echoed
    });
    assert_eq!(echoed.len(), expected.len());
    assert!(echoed == expected, "the echo differs");
}

#[test]
fn tokio_bufreader_reads_lines_across_segments() {
    // Proves `tokio::io::BufReader` assembles lines written in pieces that
    // arrive as separate segments, and sees EOF at the close.
    let (mut sim, client) = world(|| async {
        let listener = TcpListener::bind(7).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        for piece in ["hel", "lo\nwor", "ld\n", "last"] {
            stream.write_all(piece.as_bytes()).await.unwrap();
            detsim::time::sleep(Duration::from_millis(5)).await;
        }
        stream.shutdown().await.unwrap();
    });
    let (lines, at) = on_client(&mut sim, client, async {
        let stream = TcpStream::connect("server:7").await.unwrap();
        let mut reader = tokio::io::BufReader::new(stream);
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            lines.push(line);
        }
        lines
    });
    assert_eq!(lines, ["hello\n", "world\n", "last"]);
    // The server accepts when the SYN arrives (1 ms), writes at 1, 6, 11
    // and 16 ms, closes at 21 ms; the FIN arrives 1 ms later.
    assert_eq!(at, ms(22));
}

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    Ok(Response::new(Full::new(Bytes::from(format!(
        "{path}: {} bytes",
        body.len()
    )))))
}

fn post(path: &str, body: &'static str) -> Request<Full<Bytes>> {
    Request::post(path)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

#[test]
fn hyper_http1_request_and_response() {
    // Proves hyper's HTTP/1.1 server and client connections run in a world
    // on the adapters: the exact answer, at an exact virtual time.
    let (mut sim, client) = world(|| async {
        let listener = TcpListener::bind(80).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        hyper::server::conn::http1::Builder::new()
            .timer(SimTimer::new())
            .auto_date_header(false)
            .serve_connection(stream, service_fn(hello))
            .await
            .unwrap();
    });
    let ((status, headers, body), at) = on_client(&mut sim, client, async {
        let stream = TcpStream::connect("server:80").await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
        detsim::spawn(connection);
        let response = sender.send_request(post("/echo", "ping")).await.unwrap();
        let status = response.status();
        let headers: Vec<String> = response
            .headers()
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
            .collect();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, body)
    });
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers, ["content-length: 14"], "no Date header");
    assert_eq!(body, "/echo: 4 bytes");
    // A 2 ms TCP handshake, then one 2 ms round trip.
    assert_eq!(at, ms(4));
}

#[test]
fn hyper_http2_request_and_response() {
    // Proves HTTP/2 runs too: hyper's http2 server and client spawn their
    // streams and connection drivers through `SimExecutor`, and two
    // requests share one connection.
    let (mut sim, client) = world(|| async {
        let listener = TcpListener::bind(80).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        hyper::server::conn::http2::Builder::new(SimExecutor)
            .timer(SimTimer::new())
            .auto_date_header(false)
            .serve_connection(stream, service_fn(hello))
            .await
            .unwrap();
    });
    let (bodies, at) = on_client(&mut sim, client, async {
        let stream = TcpStream::connect("server:80").await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http2::Builder::new(SimExecutor)
            .timer(SimTimer::new())
            .handshake(stream)
            .await
            .unwrap();
        detsim::spawn(connection);
        let mut bodies = Vec::new();
        for (path, body) in [("/a", "x"), ("/bb", "yy")] {
            let response = sender.send_request(post(path, body)).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.version(), http::Version::HTTP_2);
            bodies.push(response.into_body().collect().await.unwrap().to_bytes());
        }
        bodies
    });
    assert_eq!(bodies, ["/a: 1 bytes", "/bb: 2 bytes"]);
    // A 2 ms TCP handshake, then two 2 ms round trips: the client sends its
    // preface, settings and first request without waiting for the server's.
    assert_eq!(at, ms(6));
}

#[test]
fn an_axum_router_is_served_through_hyper_util() {
    // Proves a tower service (an axum `Router`, through hyper-util's
    // `TowerToHyperService`) is served by the httpkv example's accept loop
    // on a simulated listener, several connections in turn.
    let (mut sim, client) = world(|| async {
        let router = axum::Router::new().route(
            "/hello/{name}",
            axum::routing::get(
                |axum::extract::Path(name): axum::extract::Path<String>| async move {
                    format!("hello, {name}")
                },
            ),
        );
        let listener = TcpListener::bind(80).unwrap();
        examples::httpkv::serve::serve(listener, router).await;
    });
    let (answers, _) = on_client(&mut sim, client, async {
        let mut answers = Vec::new();
        for (name, path) in [("ada", "/hello/ada"), ("bob", "/nowhere")] {
            let request = Request::get(path).body(Full::new(Bytes::new())).unwrap();
            let reply = examples::httpkv::runtime::send("server:80", request)
                .await
                .unwrap();
            answers.push((name, reply.status, reply.body));
        }
        answers
    });
    assert_eq!(
        answers,
        [
            ("ada", StatusCode::OK, Bytes::from("hello, ada")),
            ("bob", StatusCode::NOT_FOUND, Bytes::new()),
        ]
    );
}

#[test]
fn hyper_timer_sleeps_on_virtual_time() {
    // Proves `SimTimer` is virtual time: `sleep`, `sleep_until` and `reset`
    // end at exact virtual instants, and `now()` advances by exactly the
    // virtual time that passed.
    let mut sim = Sim::new(Seed::new(16));
    let report = sim
        .run(async {
            let timer = SimTimer::new();
            let start = timer.now();
            let mut ends = Vec::new();
            timer.sleep(Duration::from_millis(1500)).await;
            ends.push(detsim::time::now());
            timer.sleep_until(start + Duration::from_secs(4)).await;
            ends.push(detsim::time::now());
            let mut sleep = timer.sleep(Duration::from_secs(100));
            timer.reset(&mut sleep, start + Duration::from_secs(5));
            sleep.await;
            ends.push(detsim::time::now());
            assert_eq!(timer.now() - start, Duration::from_secs(5));
            assert_eq!(timer.to_virtual(timer.now()), detsim::time::now());
            ends
        })
        .unwrap();
    assert_eq!(report.value, [ms(1500), ms(4000), ms(5000)]);
}

#[test]
fn hyper_header_read_timeout_fires_at_the_virtual_deadline() {
    // Proves hyper's own timeouts run on the virtual clock: a client that
    // connects and never sends a request is dropped by the server's
    // 2 s header-read timeout, and sees EOF exactly then (+1 ms latency).
    let (mut sim, client) = world(|| async {
        let listener = TcpListener::bind(80).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        let result = hyper::server::conn::http1::Builder::new()
            .timer(SimTimer::new())
            .header_read_timeout(Duration::from_secs(2))
            .serve_connection(stream, service_fn(hello))
            .await;
        assert!(result.is_err(), "the connection ends in a timeout error");
    });
    let (read, at) = on_client(&mut sim, client, async {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        let mut buf = Vec::new();
        stream.read_to_end(&mut buf).await.unwrap()
    });
    assert_eq!(read, 0);
    // The server accepted when the SYN arrived (1 ms); its timer started
    // at its first read of the connection, then.
    assert_eq!(at, ms(2000 + 1 + 1));
}
