//! Benchmarks of the linearizability checker: `check-kv`, `check-register` and
//! `check-illegal`. Histories are generated from a fixed seed by clients running
//! operations against a sequential object with random latencies, so they are the same
//! on every run.

use detsim::history::{
    Checker, History, KeyValue, KvInput, KvOutput, Model, Operation, Outcome, Register,
    RegisterInput, RegisterOutput,
};
use detsim::time::Instant;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// One measurement of a checker workload.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckBench {
    /// The workload's name, as `detsim-bench` prints it.
    pub workload: &'static str,
    /// Operations checked.
    pub events: u64,
    /// Wall-clock seconds the check took.
    pub wall_s: f64,
    /// Operations per wall-clock second of a single sequential pass of the same
    /// operations through the model (in invocation order, outputs ignored): the cost
    /// floor a checker cannot beat.
    pub baseline_events_per_wall_s: f64,
}

/// The shape of a generated history.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Operations in the history.
    pub operations: usize,
    /// Clients issuing them, each one operation at a time.
    pub clients: u64,
    /// Keys (1 for a register).
    pub keys: u32,
    /// The seed of the generator.
    pub seed: u64,
}

/// 10 000 operations on 100 keys by 10 concurrent clients, linearizable.
pub const CHECK_KV: Workload = Workload {
    operations: 10_000,
    clients: 10,
    keys: 100,
    seed: 0x6b76,
};
/// 1 000 operations on one register by 10 concurrent clients, linearizable.
pub const CHECK_REGISTER: Workload = Workload {
    operations: 1_000,
    clients: 10,
    keys: 1,
    seed: 0x7265,
};

/// `check-kv`: [`CHECK_KV`], checked.
///
/// # Panics
///
/// Panics if the checker does not find the history linearizable.
pub fn check_kv() -> CheckBench {
    let history = kv_history(CHECK_KV);
    measure(
        "check-kv",
        KeyValue::default(),
        &history,
        Verdict::Linearizable,
    )
}

/// `check-register`: [`CHECK_REGISTER`], checked.
///
/// # Panics
///
/// Panics if the checker does not find the history linearizable.
pub fn check_register() -> CheckBench {
    let history = register_history(CHECK_REGISTER);
    measure(
        "check-register",
        Register::new(0),
        &history,
        Verdict::Linearizable,
    )
}

/// `check-illegal`: [`CHECK_KV`] with one read in the middle made stale (it returns a
/// value overwritten before it began), checked.
///
/// # Panics
///
/// Panics if the checker does not find the history not linearizable.
pub fn check_illegal() -> CheckBench {
    let history = make_stale(kv_history(CHECK_KV));
    measure(
        "check-illegal",
        KeyValue::default(),
        &history,
        Verdict::NotLinearizable,
    )
}

/// `check-illegal` on a register: [`CHECK_REGISTER`] with one read in the middle made stale.
///
/// # Panics
///
/// Panics if the checker does not find the history not linearizable.
pub fn check_illegal_register() -> CheckBench {
    let history = make_stale_register(register_history(CHECK_REGISTER));
    measure(
        "check-illegal-register",
        Register::new(0),
        &history,
        Verdict::NotLinearizable,
    )
}

/// `check-stuck`: a history of the shape of the Porcupine corpus' hardest
/// key-value history ([`stuck_history`]: 50 clients, 10 keys, about 2 000
/// operations) where key 0 is practically undecidable and key 1 holds a stale read.
/// Checked with the default options; the checker must report key 1.
///
/// # Panics
///
/// Panics unless the checker reports key 1 as not linearizable.
pub fn check_stuck() -> CheckBench {
    let history = stuck_history();
    measure(
        "check-stuck",
        KeyValue::default(),
        &history,
        Verdict::NotLinearizable,
    )
}

/// One check of [`stuck_history`] with the default options (for instruction counts).
///
/// # Panics
///
/// Panics unless the checker reports key 1 as not linearizable.
pub fn check_stuck_once() {
    let history = stuck_history();
    let result = Checker::new(KeyValue::default()).check(&history);
    let label = result.counterexample().map(|c| c.label.as_str());
    assert_eq!(label, Some("key 1"), "check-stuck: wrong verdict: {result}");
}

/// 50 clients on 10 keys. Keys 1..=9: 1 800 operations as in [`kv_history`], with one
/// read of key 1 made stale. Key 0, after them: four rounds in which every client
/// writes a distinct value, all at once, then a read of a value nobody wrote; proving
/// it illegal means trying about every subset of every round (some 2⁵⁰ states).
pub fn stuck_history() -> History<KvInput<u32, u32>, KvOutput<u32>> {
    const CLIENTS: u64 = 50;
    let history = kv_history(Workload {
        operations: 1_800,
        clients: CLIENTS,
        keys: 9,
        seed: 0x5157,
    });
    let shift = |input: &KvInput<u32, u32>| match *input {
        KvInput::Get(key) => KvInput::Get(key + 1),
        KvInput::Put(key, value) => KvInput::Put(key + 1, value),
        KvInput::Delete(key) => KvInput::Delete(key + 1),
        KvInput::Cas { key, expected, new } => KvInput::Cas {
            key: key + 1,
            expected,
            new,
        },
    };
    let mut operations: Vec<_> = history
        .operations()
        .iter()
        .map(|operation| Operation {
            client: operation.client,
            input: shift(&operation.input),
            call: operation.call,
            outcome: operation.outcome.clone(),
        })
        .collect();
    make_stale_key(&mut operations, 1);
    let start = operations
        .iter()
        .map(|operation| returned(operation).as_nanos())
        .max()
        .unwrap_or(0)
        + 1_000_000;
    for round in 0..4u64 {
        for client in 0..CLIENTS {
            let value = u32::try_from(1_000_000 + round * CLIENTS + client).expect("small");
            let call = start + round * 1_000_000 + client * 1_000;
            let planned = Planned {
                client,
                call,
                point: call,
                returned: start + round * 1_000_000 + 900_000,
            };
            operations.push(operation(&planned, KvInput::Put(0, value), KvOutput::Put));
        }
    }
    let call = start + 5_000_000;
    let planned = Planned {
        client: 0,
        call,
        point: call,
        returned: call + 100_000,
    };
    operations.push(operation(
        &planned,
        KvInput::Get(0),
        KvOutput::Get(Some(u32::MAX)),
    ));
    into_history(operations)
}

/// Makes the first read of `key` after the middle stale (see [`make_stale`]).
fn make_stale_key(operations: &mut [Operation<KvInput<u32, u32>, KvOutput<u32>>], key: u32) {
    let puts: Vec<_> = operations
        .iter()
        .filter(|operation| matches!(operation.input, KvInput::Put(k, _) if k == key))
        .cloned()
        .collect();
    let mut target = None;
    let reads = operations.iter().enumerate().skip(operations.len() / 2);
    for (index, read) in reads {
        if read.input != KvInput::Get(key) {
            continue;
        }
        let stale = puts.iter().find_map(|old| {
            let KvInput::Put(_, value) = old.input else {
                return None;
            };
            let overwritten = puts
                .iter()
                .any(|new| returned(old) < new.call && returned(new) < read.call);
            overwritten.then_some(value)
        });
        if let Some(value) = stale {
            target = Some((index, value));
            break;
        }
    }
    let (index, value) = target.expect("key has a read that can be made stale");
    if let Outcome::Ok { output, .. } = &mut operations[index].outcome {
        *output = KvOutput::Get(Some(value));
    }
}

/// The verdict a workload must get, or its timing means nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Linearizable,
    NotLinearizable,
}

#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock time"
)]
fn measure<M>(
    workload: &'static str,
    model: M,
    history: &History<M::Input, M::Output>,
    verdict: Verdict,
) -> CheckBench
where
    M: Model + Sync,
    M::Input: Sync,
    M::Output: Sync,
    M::State: Send,
{
    let started = std::time::Instant::now();
    let mut state = model.init();
    for operation in history.operations() {
        if let Some(next) = model.step(&state, &operation.input, None).into_vec().pop() {
            state = next;
        }
    }
    std::hint::black_box(&state);
    let baseline_s = started.elapsed().as_secs_f64();

    let mut checker = Checker::new(model);
    let started = std::time::Instant::now();
    let result = checker.check(history);
    let wall_s = started.elapsed().as_secs_f64();
    let got = match &result {
        _ if result.is_linearizable() => Verdict::Linearizable,
        _ if result.is_not_linearizable() => Verdict::NotLinearizable,
        _ => panic!("{workload}: the checker ran out of budget: {result}"),
    };
    assert_eq!(got, verdict, "{workload}: wrong verdict: {result}");
    let events = history.len() as u64;
    CheckBench {
        workload,
        events,
        wall_s,
        baseline_events_per_wall_s: events as f64 / baseline_s.max(1e-9),
    }
}

/// A planned operation: who, when, and where in the sequential order it takes effect.
struct Planned {
    client: u64,
    call: u64,
    point: u64,
    returned: u64,
}

/// Clients issuing `operations` one at a time each, with random think times and
/// latencies (in microseconds), in order of their linearization points.
fn plan(workload: Workload, rng: &mut ChaCha8Rng) -> Vec<Planned> {
    let mut planned = Vec::with_capacity(workload.operations);
    let mut free_at = vec![0u64; workload.clients as usize];
    for index in 0..workload.operations {
        let client = index as u64 % workload.clients;
        let call = free_at[client as usize] + rng.next_u64() % 20;
        let point = call + 1 + rng.next_u64() % 100;
        let returned = point + 1 + rng.next_u64() % 100;
        free_at[client as usize] = returned;
        planned.push(Planned {
            client,
            call: call * 1000,
            point: point * 1000,
            returned: returned * 1000,
        });
    }
    planned.sort_by_key(|planned| (planned.point, planned.client));
    planned
}

fn into_history<I, O>(mut operations: Vec<Operation<I, O>>) -> History<I, O> {
    operations.sort_by_key(|operation| (operation.call, operation.client));
    History::from_operations(operations).expect("generated operations return after their call")
}

fn operation<I, O>(planned: &Planned, input: I, output: O) -> Operation<I, O> {
    Operation {
        client: planned.client,
        input,
        call: Instant::from_nanos(planned.call),
        outcome: Outcome::Ok {
            output,
            at: Instant::from_nanos(planned.returned),
        },
    }
}

/// A linearizable key-value history: gets, puts of unique values, deletes, compare-and-sets.
pub fn kv_history(workload: Workload) -> History<KvInput<u32, u32>, KvOutput<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(workload.seed);
    let planned = plan(workload, &mut rng);
    let mut map = vec![None::<u32>; workload.keys as usize];
    let mut operations = Vec::with_capacity(planned.len());
    for (value, planned) in planned.iter().enumerate() {
        let value = u32::try_from(value).expect("fewer than 2^32 operations");
        let key = u32::try_from(rng.next_u64() % u64::from(workload.keys)).expect("a key");
        let slot = &mut map[key as usize];
        let (input, output) = match rng.next_u64() % 10 {
            0..=4 => (KvInput::Get(key), KvOutput::Get(*slot)),
            5..=7 => {
                *slot = Some(value);
                (KvInput::Put(key, value), KvOutput::Put)
            }
            8 => {
                *slot = None;
                (KvInput::Delete(key), KvOutput::Delete)
            }
            _ => {
                let expected = *slot;
                *slot = Some(value);
                (
                    KvInput::Cas {
                        key,
                        expected,
                        new: value,
                    },
                    KvOutput::Cas(true),
                )
            }
        };
        operations.push(operation(planned, input, output));
    }
    into_history(operations)
}

/// A linearizable register history: reads, writes of unique values, compare-and-sets.
pub fn register_history(workload: Workload) -> History<RegisterInput<u32>, RegisterOutput<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(workload.seed);
    let planned = plan(workload, &mut rng);
    let mut register = 0u32;
    let mut operations = Vec::with_capacity(planned.len());
    for (value, planned) in planned.iter().enumerate() {
        let value = u32::try_from(value + 1).expect("fewer than 2^32 operations");
        let (input, output) = match rng.next_u64() % 10 {
            0..=4 => (RegisterInput::Read, RegisterOutput::Read(register)),
            5..=8 => {
                register = value;
                (RegisterInput::Write(value), RegisterOutput::Written)
            }
            _ => {
                let expected = if rng.next_u64() % 2 == 0 {
                    register
                } else {
                    value
                };
                let swapped = expected == register;
                if swapped {
                    register = value;
                }
                (
                    RegisterInput::Cas {
                        expected,
                        new: value,
                    },
                    RegisterOutput::Cas(swapped),
                )
            }
        };
        operations.push(operation(planned, input, output));
    }
    into_history(operations)
}

/// When an ok operation returned.
fn returned<I, O>(operation: &Operation<I, O>) -> Instant {
    operation.returned().expect("generated operations complete")
}

/// Makes the first read after the middle stale: it returns the value of a write that
/// a later write, finished before the read began, overwrote.
pub fn make_stale(
    history: History<KvInput<u32, u32>, KvOutput<u32>>,
) -> History<KvInput<u32, u32>, KvOutput<u32>> {
    let mut operations = history.operations().to_vec();
    let puts = |key: u32| {
        operations
            .iter()
            .filter(move |operation| matches!(operation.input, KvInput::Put(k, _) if k == key))
            .collect::<Vec<_>>()
    };
    let mut target = None;
    for (index, read) in operations.iter().enumerate().skip(operations.len() / 2) {
        let KvInput::Get(key) = read.input else {
            continue;
        };
        let puts = puts(key);
        let stale = puts.iter().find_map(|old| {
            let KvInput::Put(_, value) = old.input else {
                return None;
            };
            let overwritten = puts
                .iter()
                .any(|new| returned(old) < new.call && returned(new) < read.call);
            overwritten.then_some(value)
        });
        if let Some(value) = stale {
            target = Some((index, value));
            break;
        }
    }
    let (index, value) = target.expect("the history has a read that can be made stale");
    if let Outcome::Ok { output, .. } = &mut operations[index].outcome {
        *output = KvOutput::Get(Some(value));
    }
    History::from_operations(operations).expect("well formed")
}

/// [`make_stale`] for a register.
pub fn make_stale_register(
    history: History<RegisterInput<u32>, RegisterOutput<u32>>,
) -> History<RegisterInput<u32>, RegisterOutput<u32>> {
    let mut operations = history.operations().to_vec();
    let writes: Vec<_> = operations
        .iter()
        .filter(|operation| matches!(operation.input, RegisterInput::Write(_)))
        .cloned()
        .collect();
    let mut target = None;
    for (index, read) in operations.iter().enumerate().skip(operations.len() / 2) {
        if read.input != RegisterInput::Read {
            continue;
        }
        let stale = writes.iter().find_map(|old| {
            let RegisterInput::Write(value) = old.input else {
                return None;
            };
            let overwritten = writes
                .iter()
                .any(|new| returned(old) < new.call && returned(new) < read.call);
            let recent = read
                .call
                .saturating_duration_since(returned(old))
                .as_micros()
                < 1000;
            (overwritten && recent).then_some(value)
        });
        if let Some(value) = stale {
            target = Some((index, value));
            break;
        }
    }
    let (index, value) = target.expect("the history has a read that can be made stale");
    if let Outcome::Ok { output, .. } = &mut operations[index].outcome {
        *output = RegisterOutput::Read(value);
    }
    History::from_operations(operations).expect("well formed")
}
