//! Streams: ordered and reliable over a bad link, refused connects, resets
//! on crash, partitions that outlast the timeout, clean EOF, backpressure.

use std::io::ErrorKind;
use std::time::Duration;

use detsim::{Seed, Sim, TraceMode};
use detsim_net::{Latency, LinkProfile, Net, NetBuilder, NetError, TcpListener, TcpStream};
use futures::{AsyncReadExt, AsyncWriteExt};

use super::sleep_ms;

/// A world with a server that accepts one connection and echoes it back
/// until EOF, and an idle client node.
fn echo_world(seed: u64, builder: NetBuilder) -> (Sim, Net) {
    let mut sim = Sim::builder(Seed::new(seed))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    let net = builder.install(&mut sim).unwrap();
    sim.add_node("server", |_| async {
        let listener = TcpListener::bind(80).unwrap();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            detsim::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if stream.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        }
    })
    .unwrap();
    sim.add_node("client", |_| async {}).unwrap();
    (sim, net)
}

/// Runs `client` on the client node and returns its output.
fn on_client<T: 'static>(
    sim: &mut Sim,
    client: impl std::future::Future<Output = T> + 'static,
) -> T {
    sim.run(async move {
        detsim::handle()
            .spawn_on("client", client)
            .unwrap()
            .await
            .unwrap()
    })
    .unwrap()
    .value
}

#[test]
fn bytes_arrive_in_order_and_complete_over_a_lossy_jittery_link() {
    // Proves 200 kB echoed over 20% loss and 1–30 ms jitter come back byte for byte.
    let profile = LinkProfile::default()
        .latency(Latency::uniform(
            Duration::from_millis(1),
            Duration::from_millis(30),
        ))
        .loss(0.2)
        .duplicate(0.1);
    let (mut sim, _) = echo_world(
        1,
        Net::builder()
            .default_link(profile)
            .stream_window(16 * 1024),
    );
    let sent: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let expected = sent.clone();
    let echoed = on_client(&mut sim, async move {
        let stream = TcpStream::connect("server:80").await.unwrap();
        let (mut reader, mut writer) = stream.split();
        let writing = detsim::spawn(async move {
            for chunk in sent.chunks(1000) {
                writer.write_all(chunk).await.unwrap();
            }
            writer.close().await.unwrap();
        });
        let mut echoed = Vec::new();
        reader.read_to_end(&mut echoed).await.unwrap();
        writing.await.unwrap();
        echoed
    });
    assert_eq!(echoed.len(), expected.len());
    assert!(echoed == expected, "the echo differs");
}

#[test]
fn connecting_to_a_port_nobody_listens_on_is_refused() {
    // Proves a connect to an unbound port fails with ConnectionRefused after a round trip.
    let (mut sim, _) = echo_world(2, Net::builder());
    let (error, at) = on_client(&mut sim, async {
        let error = TcpStream::connect("server:81").await.unwrap_err();
        (error, detsim::time::now())
    });
    assert_eq!(error, NetError::ConnectionRefused("server:81".into()));
    assert_eq!(at.as_nanos(), 2_000_000);
}

#[test]
fn a_crash_of_the_server_resets_the_client() {
    // Proves the client's next read fails with ConnectionReset when the server crashes
    // mid-stream, and the write after it with BrokenPipe (Linux reports the reset once).
    let (mut sim, _) = echo_world(3, Net::builder());
    let error = on_client(&mut sim, async {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        stream.write_all(b"hello").await.unwrap();
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await.unwrap();
        detsim::handle().crash("server").unwrap();
        let read = stream.read(&mut buf).await.unwrap_err();
        let write = stream.write_all(b"more").await.unwrap_err();
        (read.kind(), write.kind())
    });
    assert_eq!(error, (ErrorKind::ConnectionReset, ErrorKind::BrokenPipe));
}

#[test]
fn a_crash_of_the_client_resets_the_server_side() {
    // Proves the server's pending read fails with ConnectionReset when the client crashes.
    let mut sim = Sim::new(Seed::new(4));
    Net::builder().install(&mut sim).unwrap();
    sim.add_node("client", |_| async {
        let _stream = TcpStream::connect("server:80").await.unwrap();
        sleep_ms(1_000_000).await;
    })
    .unwrap();
    let server = sim.add_node("server", |_| async {}).unwrap();
    let kind = sim
        .run(async move {
            let task = detsim::handle()
                .spawn_on(server, async {
                    let listener = TcpListener::bind(80).unwrap();
                    let (mut stream, peer) = listener.accept().await.unwrap();
                    assert_eq!(peer.to_string(), "client:49152");
                    let mut buf = [0u8; 1];
                    stream.read(&mut buf).await.unwrap_err().kind()
                })
                .unwrap();
            sleep_ms(100).await;
            detsim::handle().crash("client").unwrap();
            task.await.unwrap()
        })
        .unwrap()
        .value;
    assert_eq!(kind, ErrorKind::ConnectionReset);
}

#[test]
fn a_partition_longer_than_the_stream_timeout_breaks_the_stream() {
    // Proves a 3 s partition breaks a stream whose timeout is 2 s: both ends see TimedOut at t = cut + 2 s.
    let (mut sim, net) = echo_world(5, Net::builder().stream_timeout(Duration::from_secs(2)));
    let (kind, at) = on_client(&mut sim, async move {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        net.split(&[&["client"], &["server"]]).unwrap();
        let mut buf = [0u8; 1];
        let kind = stream.read(&mut buf).await.unwrap_err().kind();
        (kind, detsim::time::now())
    });
    assert_eq!(kind, ErrorKind::TimedOut);
    assert_eq!(at.as_nanos(), 2_002_000_000);
}

#[test]
fn a_partition_shorter_than_the_timeout_only_delays_the_stream() {
    // Proves data written during a 1 s partition arrives after the heal, in order, with no error.
    let (mut sim, net) = echo_world(6, Net::builder().stream_timeout(Duration::from_secs(5)));
    let (echo, at) = on_client(&mut sim, async move {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        let cut = net.isolate("server").unwrap();
        stream.write_all(b"during").await.unwrap();
        sleep_ms(1000).await;
        net.heal(cut).unwrap();
        stream.write_all(b"-after").await.unwrap();
        let mut buf = [0u8; 12];
        stream.read_exact(&mut buf).await.unwrap();
        (buf.to_vec(), detsim::time::now())
    });
    assert_eq!(echo, b"during-after");
    // Retransmitted every 200 ms: the first retry after the heal leaves at 1.202 s.
    assert!(
        at.as_nanos() > 1_000_000_000 && at.as_nanos() < 1_300_000_000,
        "{at}"
    );
}

#[test]
fn connect_times_out_across_a_partition() {
    // Proves a connect across a partition fails with TimedOut after the connect timeout.
    let (mut sim, net) = echo_world(7, Net::builder().connect_timeout(Duration::from_secs(3)));
    let (error, at) = on_client(&mut sim, async move {
        net.isolate("server").unwrap();
        let error = TcpStream::connect("server:80").await.unwrap_err();
        (error, detsim::time::now())
    });
    assert_eq!(error, NetError::TimedOut);
    assert!(
        at.as_nanos() >= 3_000_000_000 && at.as_nanos() < 3_300_000_000,
        "{at}"
    );
}

#[test]
fn a_clean_close_gives_eof_after_all_the_data() {
    // Proves close sends FIN: the peer reads everything written, then EOF (0).
    let mut sim = Sim::new(Seed::new(8));
    Net::builder().install(&mut sim).unwrap();
    sim.add_node("server", |_| async {
        let listener = TcpListener::bind(80).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        stream.write_all(b"all of it").await.unwrap();
        drop(stream); // dropping closes cleanly too
        sleep_ms(1_000_000).await;
    })
    .unwrap();
    sim.add_node("client", |_| async {}).unwrap();
    let got = on_client(&mut sim, async {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        let mut all = Vec::new();
        stream.read_to_end(&mut all).await.unwrap();
        let again = stream.read(&mut [0u8; 4]).await.unwrap();
        (all, again)
    });
    assert_eq!(got, (b"all of it".to_vec(), 0));
}

#[test]
fn a_writer_waits_for_a_slow_reader_within_the_window() {
    // Proves backpressure: with a 1 kB window the writer blocks until the reader drains; nothing is lost.
    let mut sim = Sim::new(Seed::new(9));
    Net::builder()
        .stream_window(1024)
        .install(&mut sim)
        .unwrap();
    sim.add_node("server", |_| async {
        let listener = TcpListener::bind(80).unwrap();
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut total = 0;
        let mut buf = [0u8; 100];
        loop {
            sleep_ms(10).await; // a slow reader
            match stream.read(&mut buf).await.unwrap() {
                0 => break,
                n => total += n,
            }
        }
        stream
            .write_all(&(total as u64).to_le_bytes())
            .await
            .unwrap();
    })
    .unwrap();
    sim.add_node("client", |_| async {}).unwrap();
    let (total, wrote_by) = on_client(&mut sim, async {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        stream.write_all(&[7u8; 10_000]).await.unwrap();
        let wrote_by = detsim::time::now();
        stream.close().await.unwrap();
        let mut total = [0u8; 8];
        stream.read_exact(&mut total).await.unwrap();
        (u64::from_le_bytes(total), wrote_by)
    });
    assert_eq!(total, 10_000);
    // 10 kB through a 1 kB window read 100 B per 10 ms: the writer waited ~0.9 s.
    assert!(wrote_by.as_nanos() > 800_000_000, "{wrote_by}");
}

#[test]
fn a_full_backlog_refuses_and_a_dropped_listener_resets_its_queue() {
    // Proves a listener queues at most backlog_max connections (the next is refused) and dropping it resets them.
    let mut sim = Sim::new(Seed::new(10));
    Net::builder().backlog_max(2).install(&mut sim).unwrap();
    let server = sim.add_node("server", |_| async {}).unwrap();
    sim.add_node("client", |_| async {}).unwrap();
    let outcome = sim
        .run(async move {
            let h = detsim::handle();
            let listener = h
                .spawn_on(server, async { TcpListener::bind(80).unwrap() })
                .unwrap()
                .await
                .unwrap();
            let connect = || {
                h.spawn_on("client", async { TcpStream::connect("server:80").await })
                    .unwrap()
            };
            let (first, second) = (connect(), connect());
            sleep_ms(10).await;
            let third = connect().await.unwrap().map(|_| ());
            let mut first = first.await.unwrap().unwrap();
            let second = second.await.unwrap().map(|_| ());
            drop(listener); // the two queued connections are reset
            let read = h
                .spawn_on("client", async move {
                    let mut buf = [0u8; 1];
                    first.read(&mut buf).await.map_err(|e| e.kind())
                })
                .unwrap()
                .await
                .unwrap();
            (second, third, read)
        })
        .unwrap()
        .value;
    assert_eq!(
        outcome,
        (
            Ok(()),
            Err(NetError::ConnectionRefused("server:80".into())),
            Err(ErrorKind::ConnectionReset)
        )
    );
}

#[test]
fn a_clog_delays_a_stream_without_breaking_it() {
    // Proves a clog longer than the stream timeout only delays the bytes, in order.
    let (mut sim, net) = echo_world(11, Net::builder().stream_timeout(Duration::from_secs(1)));
    let (echo, at) = on_client(&mut sim, async move {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        net.clog_node("server").unwrap();
        for part in [&b"one,"[..], b"two,", b"three"] {
            stream.write_all(part).await.unwrap();
        }
        let release = detsim::spawn(async move {
            sleep_ms(3000).await;
            net.unclog_all();
        });
        let mut buf = [0u8; 13];
        stream.read_exact(&mut buf).await.unwrap();
        release.await.unwrap();
        (buf.to_vec(), detsim::time::now())
    });
    assert_eq!(echo, b"one,two,three");
    assert!(at.as_nanos() >= 3_002_000_000, "{at}");
}

#[test]
fn a_large_write_to_a_closed_peer_fails_with_broken_pipe_instead_of_hanging() {
    // Proves a 1 MiB write to a peer that closed (without reading) ends with BrokenPipe
    // once the peer's reset comes back, within a round trip or two of virtual time.
    let mut sim = Sim::builder(Seed::new(9)).quiet().build().unwrap();
    Net::builder().install(&mut sim).unwrap();
    sim.add_node("server", |_| async {
        let listener = TcpListener::bind(80).unwrap();
        let (stream, _) = listener.accept().await.unwrap();
        drop(stream); // a FIN: nothing was unread yet
        std::future::pending::<()>().await;
    })
    .unwrap();
    sim.add_node("client", |_| async {}).unwrap();
    let (read, write, at) = on_client(&mut sim, async {
        let mut stream = TcpStream::connect("server:80").await.unwrap();
        let mut buf = [0u8; 8];
        let read = stream.read(&mut buf).await.map_err(|e| e.kind());
        let write = stream
            .write_all(&vec![7u8; 1 << 20])
            .await
            .map_err(|e| e.kind());
        (read, write, detsim::time::now())
    });
    assert_eq!(read, Ok(0));
    assert_eq!(write, Err(ErrorKind::BrokenPipe));
    assert!(at.as_nanos() < 100_000_000, "{at:?}");
}
