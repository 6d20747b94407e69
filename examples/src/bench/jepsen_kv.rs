//! Jepsen key-value histories (the format of Porcupine's `test_data/kv` corpus),
//! parsed into a detsim [`History`] and checked against [`JepsenKv`], a string-valued
//! map with get, put and append, partitioned by key.
//!
//! One event a line, an EDN map:
//!
//! ```text
//! {:process 2, :type :invoke, :f :get, :key "0", :value nil}
//! {:process 2, :type :ok, :f :get, :key "0", :value "x 1 0 y"}
//! {:process 1, :type :invoke, :f :append, :key "0", :value "x 1 0 y"}
//! ```
//!
//! `:type` is `:invoke`, `:ok`, `:fail` (the operation did not happen) or `:info`
//! (its outcome is unknown). A get's `:ok` value is the key's whole string; append
//! concatenates; every key starts as `""`. Times are line indices.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant as WallInstant};

use detsim::history::{
    Checker, CheckerOptions, History, Model, Next, Operation, Outcome, Partition,
};
use detsim::time::Instant;
use serde::Serialize;

/// An operation on a [`JepsenKv`] map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JepsenInput {
    /// Read a key's whole value.
    Get(String),
    /// Set a key to a value.
    Put(String, String),
    /// Append a string to a key's value.
    Append(String, String),
}

impl JepsenInput {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            JepsenInput::Get(key) | JepsenInput::Put(key, _) | JepsenInput::Append(key, _) => key,
        }
    }
}

/// The answer to a [`JepsenInput`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum JepsenOutput {
    /// The value a get read.
    Value(String),
    /// A put or an append was applied.
    Done,
}

/// A map from string keys to string values with get, put and append, every key `""`
/// at first: Porcupine's `kvModel`. Keys are independent, so it partitions a history
/// by key, and its state is the value of one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JepsenKv;

impl Model for JepsenKv {
    type State = String;
    type Input = JepsenInput;
    type Output = JepsenOutput;

    fn init(&self) -> String {
        String::new()
    }

    fn step(
        &self,
        state: &String,
        input: &JepsenInput,
        output: Option<&JepsenOutput>,
    ) -> Next<String> {
        match (input, output) {
            (JepsenInput::Get(_), None) => Next::One(state.clone()),
            (JepsenInput::Get(_), Some(JepsenOutput::Value(seen))) => {
                Next::when(seen == state, state.clone())
            }
            (JepsenInput::Put(_, value), None | Some(JepsenOutput::Done)) => {
                Next::One(value.clone())
            }
            (JepsenInput::Append(_, value), None | Some(JepsenOutput::Done)) => {
                let mut next = String::with_capacity(state.len() + value.len());
                next.push_str(state);
                next.push_str(value);
                Next::One(next)
            }
            (JepsenInput::Get(_), Some(JepsenOutput::Done))
            | (JepsenInput::Put(..) | JepsenInput::Append(..), Some(JepsenOutput::Value(_))) => {
                Next::Illegal
            }
        }
    }

    fn is_read_only(&self, input: &JepsenInput, _output: Option<&JepsenOutput>) -> bool {
        matches!(input, JepsenInput::Get(_))
    }

    /// One partition per key, in key order.
    fn partition(&self, operations: &[Operation<JepsenInput, JepsenOutput>]) -> Vec<Partition> {
        Partition::by_key(operations, JepsenInput::key)
    }

    fn describe_operation(&self, input: &JepsenInput, output: Option<&JepsenOutput>) -> String {
        let call = match input {
            JepsenInput::Get(key) => format!("get({key:?})"),
            JepsenInput::Put(key, value) => format!("put({key:?}, {value:?})"),
            JepsenInput::Append(key, value) => format!("append({key:?}, {value:?})"),
        };
        match output {
            Some(JepsenOutput::Value(value)) => format!("{call} → {value:?}"),
            Some(JepsenOutput::Done) => format!("{call} → ok"),
            None => format!("{call} → ?"),
        }
    }

    /// The `String` itself plus its heap buffer.
    fn state_bytes(&self, state: &String) -> usize {
        std::mem::size_of::<String>() + state.capacity()
    }
}

/// Why a history file could not be read: the line (1-based) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line, counting from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The `:type` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// The client called.
    Invoke,
    /// The call completed.
    Ok,
    /// The call definitely did not take effect.
    Fail,
    /// The outcome is unknown.
    Info,
}

/// The `:f` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventFn {
    /// Read a key.
    Get,
    /// Set a key.
    Put,
    /// Append to a key.
    Append,
}

/// One parsed line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The client.
    pub process: u64,
    /// Call or completion.
    pub kind: EventType,
    /// The operation.
    pub f: EventFn,
    /// The key.
    pub key: String,
    /// The value (`None`: `nil`).
    pub value: Option<String>,
}

/// An EDN value as it appears in these maps.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Edn {
    Nil,
    Int(u64),
    Keyword(String),
    Str(String),
}

impl Edn {
    fn describe(&self) -> String {
        match self {
            Edn::Nil => "nil".to_owned(),
            Edn::Int(n) => n.to_string(),
            Edn::Keyword(k) => format!(":{k}"),
            Edn::Str(s) => format!("{s:?}"),
        }
    }
}

/// Parses `{:k v, :k v ...}` into keyword-value pairs.
fn parse_map(text: &str) -> Result<Vec<(String, Edn)>, String> {
    let text = text.trim();
    let inner = text
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .ok_or_else(|| "expected a map `{...}`".to_owned())?;
    let mut chars = inner.chars().peekable();
    let mut pairs = Vec::new();
    let skip_space = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
    };
    loop {
        skip_space(&mut chars);
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let key = match parse_value(&mut chars)? {
            Edn::Keyword(key) => key,
            other => {
                return Err(format!(
                    "expected a keyword key, found {}",
                    other.describe()
                ));
            }
        };
        skip_space(&mut chars);
        if chars.peek().is_none() {
            return Err(format!("key :{key} has no value"));
        }
        let value = parse_value(&mut chars)?;
        pairs.push((key, value));
    }
}

fn parse_value(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<Edn, String> {
    let atom = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && !matches!(c, ',' | '"')) {
            word.push(c);
        }
        word
    };
    match chars.peek() {
        Some('"') => {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("unterminated string".to_owned()),
                    Some('"') => return Ok(Edn::Str(s)),
                    Some('\\') => match chars.next() {
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        Some(c @ ('"' | '\\')) => s.push(c),
                        Some(c) => return Err(format!("unknown escape \\{c} in a string")),
                        None => return Err("unterminated string".to_owned()),
                    },
                    Some(c) => s.push(c),
                }
            }
        }
        Some(':') => {
            chars.next();
            let word = atom(chars);
            if word.is_empty() {
                return Err("empty keyword".to_owned());
            }
            Ok(Edn::Keyword(word))
        }
        _ => {
            let word = atom(chars);
            if word == "nil" {
                Ok(Edn::Nil)
            } else if let Ok(n) = word.parse() {
                Ok(Edn::Int(n))
            } else {
                Err(format!("unexpected `{word}`"))
            }
        }
    }
}

/// Parses one line of the format (without its line number).
pub fn parse_event(line: &str) -> Result<Event, String> {
    let pairs = parse_map(line)?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
            .ok_or_else(|| format!("missing :{name}"))
    };
    let process = match get("process")? {
        Edn::Int(n) => *n,
        other => {
            return Err(format!(
                ":process must be an integer, found {}",
                other.describe()
            ));
        }
    };
    let kind = match get("type")? {
        Edn::Keyword(k) if k == "invoke" => EventType::Invoke,
        Edn::Keyword(k) if k == "ok" => EventType::Ok,
        Edn::Keyword(k) if k == "fail" => EventType::Fail,
        Edn::Keyword(k) if k == "info" => EventType::Info,
        other => return Err(format!("unknown :type {}", other.describe())),
    };
    let f = match get("f")? {
        Edn::Keyword(k) if k == "get" => EventFn::Get,
        Edn::Keyword(k) if k == "put" => EventFn::Put,
        Edn::Keyword(k) if k == "append" => EventFn::Append,
        other => return Err(format!("unknown :f {}", other.describe())),
    };
    let key = match get("key")? {
        Edn::Str(s) => s.clone(),
        other => return Err(format!(":key must be a string, found {}", other.describe())),
    };
    let value = match get("value")? {
        Edn::Nil => None,
        Edn::Str(s) => Some(s.clone()),
        other => {
            return Err(format!(
                ":value must be a string or nil, found {}",
                other.describe()
            ));
        }
    };
    Ok(Event {
        process,
        kind,
        f,
        key,
        value,
    })
}

/// Parses a whole file (blank lines skipped) into events with their 0-based line index.
pub fn parse_events(text: &str) -> Result<Vec<(usize, Event)>, ParseError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            parse_event(line)
                .map(|event| (index, event))
                .map_err(|message| ParseError {
                    line: index + 1,
                    message,
                })
        })
        .collect()
}

/// Parses a file into a detsim history: each `:invoke` is matched with its
/// process's next `:ok`, `:fail` or `:info`; an invoke never completed is pending
/// (unknown outcome). A line's index is its time.
pub fn parse_history(text: &str) -> Result<History<JepsenInput, JepsenOutput>, ParseError> {
    let events = parse_events(text)?;
    let mut operations: Vec<Operation<JepsenInput, JepsenOutput>> = Vec::new();
    // The open operation of each process: its index in `operations`, and its `:f`.
    let mut open: BTreeMap<u64, (usize, EventFn)> = BTreeMap::new();
    for (index, event) in events {
        let at = Instant::from_nanos(index as u64);
        let error = |message: String| ParseError {
            line: index + 1,
            message,
        };
        match event.kind {
            EventType::Invoke => {
                if let Some((previous, _)) = open.get(&event.process) {
                    return Err(error(format!(
                        "process {} invokes while its operation from line {} is open",
                        event.process,
                        operations[*previous].call.as_nanos() + 1
                    )));
                }
                let input = match (event.f, event.value) {
                    (EventFn::Get, _) => JepsenInput::Get(event.key),
                    (EventFn::Put, Some(value)) => JepsenInput::Put(event.key, value),
                    (EventFn::Append, Some(value)) => JepsenInput::Append(event.key, value),
                    (EventFn::Put | EventFn::Append, None) => {
                        return Err(error(format!("{:?} invoked with a nil :value", event.f)));
                    }
                };
                open.insert(event.process, (operations.len(), event.f));
                operations.push(Operation {
                    client: event.process,
                    input,
                    call: at,
                    outcome: Outcome::Unknown { at: None },
                });
            }
            EventType::Ok | EventType::Fail | EventType::Info => {
                let Some((op, f)) = open.remove(&event.process) else {
                    return Err(error(format!(
                        "process {} completes an operation it did not invoke",
                        event.process
                    )));
                };
                let operation = &mut operations[op];
                if f != event.f || operation.input.key() != event.key {
                    return Err(error(format!(
                        "completion {:?} on key {:?} does not match the invocation {:?} on key {:?}",
                        event.f,
                        event.key,
                        f,
                        operation.input.key()
                    )));
                }
                operation.outcome = match event.kind {
                    EventType::Ok => {
                        let output = match (f, event.value) {
                            (EventFn::Get, Some(value)) => JepsenOutput::Value(value),
                            (EventFn::Get, None) => {
                                return Err(error("a get completed ok with a nil :value".into()));
                            }
                            (EventFn::Put | EventFn::Append, _) => JepsenOutput::Done,
                        };
                        Outcome::Ok { output, at }
                    }
                    EventType::Fail => Outcome::Failed { at },
                    EventType::Info | EventType::Invoke => Outcome::Unknown { at: Some(at) },
                };
            }
        }
    }
    History::from_operations(operations).map_err(|err| ParseError {
        line: 0,
        message: format!("not a valid history: {err}"),
    })
}

/// The result of checking one file, as the JSON line `check-jepsen` prints.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    /// The file's name.
    pub file: String,
    /// Operations in the history.
    pub operations: usize,
    /// Distinct processes.
    pub clients: usize,
    /// Distinct keys (partitions).
    pub keys: usize,
    /// `linearizable`, `not linearizable` or `unknown`.
    pub verdict: &'static str,
    /// What the file name says: `linearizable` for `-ok`, `not linearizable` for `-bad`.
    pub expected: Option<&'static str>,
    /// For a history not linearizable: the failing partition's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing: Option<String>,
    /// Partitions left undecided, each as `label: reason after N steps, M memo entries`.
    pub undecided: Vec<String>,
    /// Wall milliseconds of the first check (a fresh checker).
    pub first_ms: f64,
    /// Best wall milliseconds over the runs (a fresh checker each).
    pub best_ms: f64,
    /// Runs measured.
    pub runs: usize,
}

/// Checks `history` `runs` times (at least once) with a fresh checker each time and
/// `options` (the benchmark uses `CheckerOptions::default()`), and reports the verdict
/// of the first run and the times.
#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock time"
)]
pub fn check_file(
    file: &str,
    history: &History<JepsenInput, JepsenOutput>,
    runs: usize,
    options: &CheckerOptions,
) -> FileReport {
    let mut times = Vec::new();
    let mut first = None;
    for _ in 0..runs.max(1) {
        let mut checker = Checker::with_options(JepsenKv, options.clone());
        let start = WallInstant::now();
        let result = checker.check(history);
        times.push(start.elapsed());
        first.get_or_insert(result);
    }
    let result = first.expect("at least one run");
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let clients: BTreeSet<u64> = history.operations().iter().map(|op| op.client).collect();
    let keys: BTreeSet<&str> = history
        .operations()
        .iter()
        .map(|op| op.input.key())
        .collect();
    let expected = if file.contains("-ok") {
        Some("linearizable")
    } else if file.contains("-bad") {
        Some("not linearizable")
    } else {
        None
    };
    FileReport {
        file: file.to_owned(),
        operations: history.len(),
        clients: clients.len(),
        keys: keys.len(),
        verdict: result.verdict(),
        expected,
        failing: result.counterexample().map(|c| c.label.clone()),
        undecided: result.undecided().iter().map(ToString::to_string).collect(),
        first_ms: ms(times[0]),
        best_ms: times.iter().copied().map(ms).fold(f64::INFINITY, f64::min),
        runs: times.len(),
    }
}

/// One key checked alone: for finding where the time of a file goes.
#[derive(Clone, Debug, Serialize)]
pub struct KeyReport {
    /// The file's name.
    pub file: String,
    /// The key.
    pub key: String,
    /// Operations on it.
    pub operations: usize,
    /// The verdict for this key alone.
    pub verdict: &'static str,
    /// Why it is undecided, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undecided: Option<String>,
    /// Wall milliseconds of one check with `CheckerOptions::default()`.
    pub wall_ms: f64,
}

/// Checks each key's operations as a history of its own, with `options`.
#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock time"
)]
pub fn check_keys(
    file: &str,
    history: &History<JepsenInput, JepsenOutput>,
    options: &CheckerOptions,
) -> Vec<KeyReport> {
    let mut by_key: BTreeMap<&str, Vec<Operation<JepsenInput, JepsenOutput>>> = BTreeMap::new();
    for op in history.operations() {
        by_key.entry(op.input.key()).or_default().push(op.clone());
    }
    by_key
        .into_iter()
        .map(|(key, operations)| {
            let count = operations.len();
            let sub = History::from_operations(operations).expect("a part of a valid history");
            let mut checker = Checker::with_options(JepsenKv, options.clone());
            let start = WallInstant::now();
            let result = checker.check(&sub);
            let wall = start.elapsed();
            KeyReport {
                file: file.to_owned(),
                key: key.to_owned(),
                operations: count,
                verdict: result.verdict(),
                undecided: result.undecided().first().map(ToString::to_string),
                wall_ms: wall.as_secs_f64() * 1e3,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_operations() {
        let text = concat!(
            "{:process 2, :type :invoke, :f :get, :key \"0\", :value nil}\n",
            "{:process 1, :type :invoke, :f :append, :key \"0\", :value \"x 1 0 y\"}\n",
            "{:process 1, :type :ok, :f :append, :key \"0\", :value \"x 1 0 y\"}\n",
            "{:process 2, :type :ok, :f :get, :key \"0\", :value \"x 1 0 y\"}\n",
            "{:process 3, :type :invoke, :f :put, :key \"1\", :value \"a \\\"q\\\"\"}\n",
            "{:process 3, :type :info, :f :put, :key \"1\", :value \"a \\\"q\\\"\"}\n",
            "{:process 4, :type :invoke, :f :append, :key \"1\", :value \"z\"}\n",
            "{:process 4, :type :fail, :f :append, :key \"1\", :value \"z\"}\n",
            "{:process 5, :type :invoke, :f :get, :key \"1\", :value nil}\n",
        );
        let history = parse_history(text).unwrap();
        let ops = history.operations();
        assert_eq!(ops.len(), 5);
        assert_eq!(ops[0].client, 2);
        assert_eq!(ops[0].input, JepsenInput::Get("0".into()));
        assert_eq!(ops[0].call, Instant::from_nanos(0));
        assert_eq!(
            ops[0].outcome,
            Outcome::Ok {
                output: JepsenOutput::Value("x 1 0 y".into()),
                at: Instant::from_nanos(3)
            }
        );
        assert_eq!(
            ops[1].input,
            JepsenInput::Append("0".into(), "x 1 0 y".into())
        );
        assert_eq!(ops[1].output(), Some(&JepsenOutput::Done));
        assert_eq!(ops[2].input, JepsenInput::Put("1".into(), "a \"q\"".into()));
        assert_eq!(
            ops[2].outcome,
            Outcome::Unknown {
                at: Some(Instant::from_nanos(5))
            }
        );
        assert!(ops[3].is_failed());
        assert_eq!(ops[4].outcome, Outcome::Unknown { at: None });
        let result = Checker::new(JepsenKv).check(&history);
        assert!(result.is_linearizable(), "{result}");
    }

    #[test]
    fn a_malformed_line_names_its_line() {
        let text = concat!(
            "{:process 0, :type :invoke, :f :get, :key \"0\", :value nil}\n",
            "\n",
            "{:process 0, :type :ok, :f :get, :key \"0\" :value \"\n",
        );
        let err = parse_history(text).unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.to_string().starts_with("line 3: "), "{err}");

        let err =
            parse_events("{:process 0, :type :done, :f :get, :key \"0\", :value nil}").unwrap_err();
        assert_eq!(
            err,
            ParseError {
                line: 1,
                message: "unknown :type :done".into()
            }
        );
        let err = parse_events("{:process 0, :type :ok, :f :get, :value nil}").unwrap_err();
        assert_eq!(err.message, "missing :key");
        let err = parse_events(":process 0").unwrap_err();
        assert_eq!(err.message, "expected a map `{...}`");
        let err =
            parse_history("{:process 7, :type :ok, :f :get, :key \"0\", :value \"\"}").unwrap_err();
        assert_eq!(err.line, 1);
        assert!(err.message.contains("did not invoke"), "{err}");
    }

    #[test]
    fn a_stale_read_is_not_linearizable() {
        let text = concat!(
            "{:process 0, :type :invoke, :f :append, :key \"k\", :value \"a\"}\n",
            "{:process 0, :type :ok, :f :append, :key \"k\", :value \"a\"}\n",
            "{:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n",
            "{:process 1, :type :ok, :f :get, :key \"k\", :value \"\"}\n",
        );
        let history = parse_history(text).unwrap();
        let result = Checker::new(JepsenKv).check(&history);
        assert_eq!(result.counterexample().unwrap().label, "key \"k\"");
    }

    #[test]
    fn state_bytes_counts_the_heap() {
        let state = "x 0 1 y".to_owned();
        assert!(JepsenKv.state_bytes(&state) >= std::mem::size_of::<String>() + 7);
    }
}
