//! The picture of a history.

use detsim::history::{KeyValue, KvInput, KvOutput, check, render_html};

use super::{failed, history, ok, pending};

#[test]
fn the_picture_is_self_contained_and_shows_the_counterexample() {
    // Proves the HTML file is written, needs no network, and names the counterexample's operations.
    let history = history(vec![
        ok(1, KvInput::Put("a", 1), KvOutput::Put, 0, 10),
        ok(2, KvInput::Get("a"), KvOutput::Get(Some(1)), 5, 15),
        ok(1, KvInput::Put("b", 1), KvOutput::Put, 20, 30),
        ok(2, KvInput::Get("b"), KvOutput::Get(None), 40, 50),
        pending(3, KvInput::Delete("a"), 45),
        failed(3, KvInput::Delete("b"), 60, 70),
    ]);
    let model = KeyValue::default();
    let result = check(&model, &history);
    let counterexample = result.counterexample().expect("the read of b is stale");
    let html = render_html(&model, &history, &result);
    let path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("history-counterexample.html");
    std::fs::write(&path, &html).expect("the picture is written");
    let written = std::fs::read_to_string(&path).expect("the picture is read back");

    assert!(written.starts_with("<!DOCTYPE html>"));
    assert!(
        !written.contains("src=") && !written.contains("href=") && !written.contains("<script src")
    );
    assert!(written.contains("<b>not linearizable</b>"));
    let descriptions: Vec<_> = counterexample
        .prefix
        .iter()
        .map(|step| step.description.clone())
        .chain(
            counterexample
                .unplaced
                .iter()
                .map(|unplaced| unplaced.description.clone()),
        )
        .collect();
    assert_eq!(descriptions, ["put(\"b\", 1)", "get(\"b\") → None"]);
    for description in &descriptions {
        let escaped = description.replace('"', "&quot;");
        assert!(
            written.contains(&escaped),
            "the picture names {description}"
        );
    }
    assert!(written.contains("<g class=\"op unplaced\">"));
    assert!(written.contains("<g class=\"op linearized\">"));
    assert!(
        written.contains(">1. put(&quot;b&quot;, 1)</text>"),
        "the prefix is numbered"
    );
    // The counterexample's partition comes first, unfolded; the other one too, folded.
    let b = written
        .find("partition 1: key &quot;b&quot;")
        .expect("key b is drawn");
    let a = written
        .find("partition 0: key &quot;a&quot;")
        .expect("key a is drawn");
    assert!(b < a);
    assert!(
        written.contains("<g class=\"op unknown\">") && written.contains("<g class=\"op failed\">")
    );
}

#[test]
fn the_picture_of_a_linearizable_history_highlights_nothing() {
    // Proves only a counterexample is coloured: a fine history is drawn plainly.
    let history = history(vec![
        ok(1, KvInput::Put("a", 1), KvOutput::Put, 0, 10),
        ok(2, KvInput::Get("a"), KvOutput::Get(Some(1)), 5, 15),
    ]);
    let model = KeyValue::default();
    let html = render_html(&model, &history, &check(&model, &history));
    assert!(html.contains("<b>linearizable</b>"));
    assert!(html.contains("get(&quot;a&quot;) → Some(1)"));
    assert!(!html.contains("class=\"op unplaced\"") && !html.contains("class=\"op linearized\""));
    assert!(!html.contains("<pre class=\"report\">"));
}

#[test]
fn the_picture_explains_the_counterexample_and_dashes_assumed_operations() {
    // Proves an unknown-outcome write the search applied is drawn apart from completed ones, times read in their unit, and the failure is put in words.
    use detsim::history::{Register, RegisterInput as In, RegisterOutput as Out};

    use super::timed_out;

    let history = history(vec![
        ok(1, In::Write(1), Out::Written, 0, 10),
        timed_out(2, In::Write(2), 15, 25),
        ok(1, In::Read, Out::Read(2), 20, 30),
        ok(1, In::Read, Out::Read(1), 40, 1_500),
    ]);
    let model = Register::new(0);
    let result = check(&model, &history);
    assert!(result.is_not_linearizable());
    let html = render_html(&model, &history, &result);
    assert!(html.contains("4 operations in 1 partition: <b>not linearizable</b>"));
    assert!(html.contains("partition 0: all operations (4 operations)"));
    assert!(
        html.contains("<g class=\"op assumed\"><title>op 1, client 2: write(2) → ?\ncalled at t=15 ns, gave up at t=25 ns, outcome unknown\noutcome unknown — assumed applied here, #2, state after: 2</title>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<g class=\"op linearized\"><title>op 0, client 1: write(1)\ncalled at t=0 ns"
        )
    );
    assert!(html.contains("returned ok at t=1.5 µs"));
    let explain = html
        .split("<p class=\"explain\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .expect("the counterexample is explained");
    assert_eq!(
        explain,
        "read() → 1 (op 3, client 1) called at t=40 ns, returned ok at t=1.5 µs: the last operation \
         to complete before it was called was read() → 2 (op 2, client 1, returned at t=30 ns); the \
         last change of the state to complete before it was called was write(1) (op 0, client 1, \
         returned at t=10 ns); after the linearized operations the state is 2; the model forbids it \
         in that state, and no operation overlaps it in time."
    );
}
