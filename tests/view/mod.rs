//! The run viewer: what it reads from a trace (lanes, arrows paired by
//! message id, drops with their reason, faults, client operations, the
//! failure), the page it writes (self-contained, the same for the same
//! seed), and a trace read back from JSON lines drawing the same page.

use std::time::Duration;

use detsim::history::{Recorder, RegisterInput, RegisterOutput};
use detsim::{
    ArrowEnd, Failure, Fault, Plan, PlanEntry, RunView, Seed, Sim, Trace, TraceMode, time,
};
use detsim_net::{Net, Partition, UdpSocket};

const MS: u64 = 1_000_000;

/// An arrow as a row: id, sent, ended, source, target, kind, end.
type ArrowRow<'a> = (u64, u64, Option<u64>, usize, usize, &'a str, ArrowEnd);

/// Three nodes with a sink on port 1; `a` writes a register through a
/// client operation while it sends to `b` (delivered) and to `c` (cut by a
/// partition), `c` crashes for 10 ms by plan, and the run fails at 50 ms.
fn run(seed: u64) -> Failure {
    let mut sim = Sim::builder(Seed::new(seed))
        .trace(TraceMode::RECORD)
        .quiet()
        .build()
        .unwrap();
    for name in ["a", "b", "c"] {
        sim.add_node(name, |_| async {
            let socket = UdpSocket::bind(1).unwrap();
            while socket.recv().await.is_ok() {}
        })
        .unwrap();
    }
    let net = Net::builder().install(&mut sim).unwrap();
    sim.apply_plan(Plan::new(vec![PlanEntry::new(
        Duration::from_millis(20),
        Fault::Crash { node: "c".into() },
        Some(Duration::from_millis(10)),
    )]))
    .unwrap();
    let recorder: Recorder<RegisterInput<u64>, RegisterOutput<u64>> = Recorder::default();
    sim.run(async move {
        let h = detsim::handle();
        h.spawn_on("a", async move {
            let op = recorder.invoke(7, RegisterInput::Write(3));
            let socket = UdpSocket::bind(2).unwrap();
            socket.send_to(b"hello", "b:1").unwrap();
            time::sleep(Duration::from_millis(5)).await;
            net.partition(Partition::Isolate("c".into())).unwrap();
            socket.send_to(b"lost", "c:1").unwrap();
            recorder.ok(op, RegisterOutput::Written);
        })
        .unwrap();
        time::sleep(Duration::from_millis(50)).await;
        h.fail("the story ends here");
        time::sleep(Duration::from_millis(1)).await;
    })
    .unwrap_err()
}

#[test]
fn the_view_reads_lanes_arrows_drops_operations_and_the_failure() {
    // Proves each message becomes one arrow from its send to its delivery or drop, with the reason.
    let failure = run(1);
    let view = RunView::new(failure.trace());
    assert_eq!(view.lanes(), ["a", "b", "c"]);
    let arrows: Vec<ArrowRow<'_>> = view
        .arrows()
        .iter()
        .map(|a| {
            (
                a.id,
                a.sent,
                a.ended,
                a.source,
                a.target,
                a.kind.as_str(),
                a.end,
            )
        })
        .collect();
    assert_eq!(
        arrows,
        [
            (1, 0, Some(MS), 0, 1, "datagram :1", ArrowEnd::Delivered),
            (
                2,
                5 * MS,
                Some(5 * MS),
                0,
                2,
                "datagram :1",
                ArrowEnd::Dropped("partition")
            ),
        ]
    );
    let ops = view.operations();
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (
            ops[0].op,
            ops[0].client,
            ops[0].lane,
            ops[0].call,
            ops[0].end
        ),
        (0, 7, 0, 0, Some(5 * MS))
    );
    assert_eq!(
        (ops[0].outcome, ops[0].label.as_str()),
        ("ok", "Write(3) → Written")
    );
    let mark = view.failure().expect("the run failed");
    assert_eq!(mark.time, 50 * MS);
    assert_eq!(mark.cause, "check failed: the story ends here");
}

#[test]
fn the_page_is_self_contained_and_carries_lanes_arrows_faults_and_the_failure() {
    // Proves the HTML names every lane, encodes both arrows (decoded here), bands the plan entry and marks the failure, fetching nothing.
    let failure = run(1);
    let html = RunView::new(failure.trace())
        .title("three nodes")
        .render_html();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for (index, lane) in ["a", "b", "c"].iter().enumerate() {
        assert!(
            html.contains(&format!(
                "<div class=\"lane-name\" data-lane=\"{index}\">{lane}</div>"
            )),
            "lane {lane}"
        );
    }
    assert!(html.contains(
        "<p class=\"failure-mark\" data-time-ns=\"50000000\">failed at t=0.050000s: check failed: the story ends here</p>"
    ));
    assert!(html.contains(
        "3 lanes, 2 messages (1 dropped), 1 fault, 1 client operation; ran to t=0.050000s"
    ));
    // No external reference of any kind: no fetched script, style, image or font.
    for needle in [
        "src=",
        "href=",
        "<link",
        "@import",
        "fetch(",
        "XMLHttpRequest",
        "http:",
        "https:",
    ] {
        assert!(!html.contains(needle), "the page contains {needle:?}");
    }
    assert_eq!(
        html.matches("url(").count(),
        html.matches("url(#").count(),
        "url() only refers inside the page"
    );
    // The data: the arrows as base64 varints, decoded as the script does.
    let data = between(
        &html,
        "id=\"run-data\" data-arrows=\"2\" data-marks=\"2\">",
        "</script>",
    );
    let json: serde_json::Value = serde_json::from_str(data).unwrap();
    // The marks: c crashes at 20 ms and restarts at 30 ms (time µs delta, lane, kind, text).
    assert_eq!(
        decode(json["marks"].as_str().unwrap()),
        [20_000, 2, 0, 0, 10_000, 2, 1, 0]
    );
    let msgs = decode(json["msgs"].as_str().unwrap());
    // (send µs delta, duration µs, source, target, kind, outcome | flags << 4, length)
    assert_eq!(msgs, [0, 1_000, 0, 1, 0, 0, 5, 5_000, 0, 0, 2, 0, 2 + 2, 4]);
    assert_eq!(json["kinds"], serde_json::json!(["datagram :1"]));
    assert_eq!(json["lanes"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(
        json["faults"][0][1], 20_000,
        "the crash band starts at 20 ms"
    );
    assert_eq!(json["faults"][0][2], 30_000, "and ends at 30 ms");
    assert_eq!(
        json["intervals"],
        serde_json::json!([[2, 20_000, 30_000, 0]]),
        "c is down for 10 ms"
    );
    assert_eq!(json["failure"][0], 50_000);
    assert!(
        html.contains("<script>\n\"use strict\";"),
        "the drawing script is inline"
    );
}

#[test]
fn the_same_seed_draws_the_same_page() {
    // Proves the page is a function of the seed: two runs, byte-identical HTML.
    let first = RunView::new(run(3).trace()).render_html();
    let second = RunView::new(run(3).trace()).render_html();
    assert_eq!(first, second);
}

#[test]
fn a_trace_read_back_from_json_lines_draws_the_same_page() {
    // Proves the CLI path: JSON lines (fault entries included) read back into the same picture.
    let failure = run(2);
    let mut lines = Vec::new();
    failure.trace().write_json_lines(&mut lines).unwrap();
    let text = String::from_utf8(lines).unwrap();
    let read = Trace::from_json_lines(&text).unwrap();
    assert_eq!(read.node_names, ["a", "b", "c"]);
    assert_eq!(read.events, failure.trace().events);
    assert_eq!(
        RunView::new(&read).render_html(),
        RunView::new(failure.trace()).render_html()
    );
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).expect("start marker") + start.len();
    let to = from + text[from..].find(end).expect("end marker");
    &text[from..to]
}

/// Base64, then LEB128 varints: what the page's script does.
fn decode(base64: &str) -> Vec<u64> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = Vec::new();
    let digits: Vec<u32> = base64
        .bytes()
        .filter(|b| *b != b'=')
        .map(|b| ALPHABET.find(b as char).unwrap() as u32)
        .collect();
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= d << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            bytes.push((n >> (16 - 8 * i)) as u8);
        }
    }
    let mut values = Vec::new();
    let (mut value, mut shift) = (0u64, 0);
    for b in bytes {
        value |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            values.push(value);
            (value, shift) = (0, 0);
        }
    }
    values
}

#[test]
fn a_long_run_keeps_every_message_of_the_detail_window_and_counts_the_rest() {
    // Proves the size bound: beyond `detail_max`, messages outside the window are counted, unusual ones kept.
    let failure = run(1);
    let view = RunView::new(failure.trace())
        .window(40 * MS, 50 * MS)
        .detail_max(1);
    assert_eq!(view.detail_window(), (5 * MS, 50 * MS));
    let html = view.render_html();
    let data = between(&html, "id=\"run-data\" data-arrows=\"1\"", "</script>");
    let json: serde_json::Value = serde_json::from_str(&data[data.find('{').unwrap()..]).unwrap();
    assert_eq!(json["detail"], serde_json::json!([5_000, 50_000]));
    assert_eq!(
        json["elided"],
        serde_json::json!([1]),
        "the delivery at 0 ms is counted"
    );
    let msgs = decode(json["msgs"].as_str().unwrap());
    assert_eq!(msgs, [5_000, 0, 0, 2, 0, 4, 4], "the drop is kept");
    assert!(html.contains("every message, disk sync, info log and client operation is drawn from t=0.005000s to t=0.050000s"));
    assert_eq!(json["window"], serde_json::json!([40_000, 50_000]));
}
