//! The simulated disk against Linux: random sequences of filesystem
//! operations run on a [`SimStorage`](detsim_disk::SimStorage) and on a
//! [`RealStorage`] in a fresh temporary directory; every result (bytes,
//! lengths, error kinds, sorted listings) must be the same. proptest shrinks
//! a divergent sequence to a minimal one.

use std::fmt;
use std::hash::Hasher;
use std::io;
use std::path::{Path, PathBuf};

use detsim::{Seed, Sim};
use detsim_disk::{
    DiskConfig, Disks, FILE_SIZE_MAX, File, LatencyConfig, OpenOptions, RealStorage, Storage,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

/// One filesystem operation. Handles are indices into the files opened so
/// far (modulo their count; nothing happens while none is open).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `create_dir(path)`.
    CreateDir(String),
    /// `remove_dir(path)`.
    RemoveDir(String),
    /// `remove_file(path)`.
    RemoveFile(String),
    /// `rename(from, to)`.
    Rename(String, String),
    /// `open(path, options)`.
    Open(String, Options),
    /// `write_at` of `len` copies of `byte` at `offset`.
    Write {
        /// Which handle.
        handle: usize,
        /// Where.
        offset: u64,
        /// How many bytes.
        len: usize,
        /// Which byte.
        byte: u8,
    },
    /// `append` of `len` copies of `byte`.
    Append {
        /// Which handle.
        handle: usize,
        /// How many bytes.
        len: usize,
        /// Which byte.
        byte: u8,
    },
    /// `read_at` of `len` bytes at `offset`.
    Read {
        /// Which handle.
        handle: usize,
        /// Where.
        offset: u64,
        /// How many bytes.
        len: usize,
    },
    /// `set_len`.
    SetLen {
        /// Which handle.
        handle: usize,
        /// The new length.
        len: u64,
    },
    /// `len`.
    Len(usize),
    /// `sync_data`.
    SyncData(usize),
    /// `sync_all`.
    SyncAll(usize),
    /// `close`.
    Close(usize),
    /// `read_dir(path)`.
    ReadDir(String),
    /// `metadata(path)`.
    Metadata(String),
    /// `sync_dir(path)`.
    SyncDir(String),
}

/// Open options as plain flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    read: bool,
    write: bool,
    create: bool,
    create_new: bool,
    truncate: bool,
}

impl Options {
    fn get(self) -> OpenOptions {
        OpenOptions::default()
            .read(self.read)
            .write(self.write)
            .create(self.create)
            .create_new(self.create_new)
            .truncate(self.truncate)
    }
}

/// Paths over a small alphabet, so operations collide often; the root too.
fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("/".to_string()),
        12 => proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 1..=3)
            .prop_map(|parts| format!("/{}", parts.join("/"))),
    ]
}

/// Offsets: mostly small, sometimes at the edges of the largest file and of an `i64`.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        12 => 0u64..9000,
        1 => prop_oneof![
            Just(FILE_SIZE_MAX - 1),
            Just(FILE_SIZE_MAX),
            Just(i64::MAX as u64),
            Just(u64::MAX - 1),
        ],
    ]
}

fn options() -> impl Strategy<Value = Options> {
    (any::<[bool; 5]>(), 0u8..4).prop_map(|(flags, shape)| match shape {
        // Mostly the usual shapes; sometimes any combination (some invalid).
        0 => Options {
            read: true,
            write: true,
            create: true,
            create_new: false,
            truncate: flags[0],
        },
        1 => Options {
            read: true,
            write: false,
            create: false,
            create_new: false,
            truncate: false,
        },
        2 => Options {
            read: flags[0],
            write: true,
            create: false,
            create_new: true,
            truncate: false,
        },
        _ => Options {
            read: flags[0],
            write: flags[1],
            create: flags[2],
            create_new: flags[3],
            truncate: flags[4],
        },
    })
}

/// One operation.
pub fn op() -> impl Strategy<Value = Op> {
    let handle = 0usize..4;
    prop_oneof![
        3 => path().prop_map(Op::CreateDir),
        1 => path().prop_map(Op::RemoveDir),
        1 => path().prop_map(Op::RemoveFile),
        3 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        5 => (path(), options()).prop_map(|(p, o)| Op::Open(p, o)),
        4 => (handle.clone(), offset(), 0usize..6000, any::<u8>())
            .prop_map(|(handle, offset, len, byte)| Op::Write { handle, offset, len, byte }),
        2 => (handle.clone(), 0usize..3000, any::<u8>())
            .prop_map(|(handle, len, byte)| Op::Append { handle, len, byte }),
        3 => (handle.clone(), offset(), 0usize..10_000)
            .prop_map(|(handle, offset, len)| Op::Read { handle, offset, len }),
        1 => (handle.clone(), offset()).prop_map(|(handle, len)| Op::SetLen { handle, len }),
        1 => handle.clone().prop_map(Op::Len),
        1 => handle.clone().prop_map(Op::SyncData),
        1 => handle.clone().prop_map(Op::SyncAll),
        1 => handle.prop_map(Op::Close),
        2 => path().prop_map(Op::ReadDir),
        1 => path().prop_map(Op::Metadata),
        1 => path().prop_map(Op::SyncDir),
    ]
}

/// A sequence of operations.
pub fn ops(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), len)
}

/// What one operation returned, comparable across backends.
fn outcome<T: fmt::Debug>(result: io::Result<T>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(error) => format!("err {:?}", error.kind()),
    }
}

fn digest(bytes: &[u8]) -> String {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(bytes);
    format!("{} bytes #{:016x}", bytes.len(), hasher.finish())
}

/// Runs `ops` on `storage`: one line per operation.
pub async fn run<S: Storage>(storage: &S, ops: &[Op]) -> Vec<String> {
    let mut files: Vec<S::File> = Vec::new();
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let handle = |h: usize| (!files.is_empty()).then(|| h % files.len());
        let line = match op {
            Op::CreateDir(p) => outcome(storage.create_dir(p).await),
            Op::RemoveDir(p) => outcome(storage.remove_dir(p).await),
            Op::RemoveFile(p) => outcome(storage.remove_file(p).await),
            Op::Rename(a, b) => outcome(storage.rename(a, b).await),
            Op::SyncDir(p) => outcome(storage.sync_dir(p).await),
            Op::ReadDir(p) => outcome(storage.read_dir(p).await),
            Op::Metadata(p) => outcome(storage.metadata(p).await.map(|m| {
                (
                    m.is_dir(),
                    m.is_file(),
                    if m.is_dir() { 0 } else { m.len() },
                )
            })),
            Op::Open(p, o) => match storage.open(p, o.get()).await {
                Ok(file) => {
                    files.push(file);
                    "ok".to_string()
                }
                Err(error) => outcome::<()>(Err(error)),
            },
            Op::Write {
                handle: h,
                offset,
                len,
                byte,
            } => match handle(*h) {
                Some(i) => outcome(files[i].write_at(&vec![*byte; *len], *offset).await),
                None => "no file".to_string(),
            },
            Op::Append {
                handle: h,
                len,
                byte,
            } => match handle(*h) {
                Some(i) => outcome(files[i].append(&vec![*byte; *len]).await),
                None => "no file".to_string(),
            },
            Op::Read {
                handle: h,
                offset,
                len,
            } => match handle(*h) {
                Some(i) => {
                    let mut buf = vec![0u8; *len];
                    outcome(
                        files[i]
                            .read_at(&mut buf, *offset)
                            .await
                            .map(|n| digest(&buf[..n])),
                    )
                }
                None => "no file".to_string(),
            },
            Op::SetLen { handle: h, len } => match handle(*h) {
                Some(i) => outcome(files[i].set_len(*len).await),
                None => "no file".to_string(),
            },
            Op::Len(h) => match handle(*h) {
                Some(i) => outcome(files[i].len()),
                None => "no file".to_string(),
            },
            Op::SyncData(h) => match handle(*h) {
                Some(i) => outcome(files[i].sync_data().await),
                None => "no file".to_string(),
            },
            Op::SyncAll(h) => match handle(*h) {
                Some(i) => outcome(files[i].sync_all().await),
                None => "no file".to_string(),
            },
            Op::Close(h) => match handle(*h) {
                Some(i) => outcome(files[i].close()),
                None => "no file".to_string(),
            },
        };
        out.push(line);
    }
    // The final tree, with every file's bytes.
    out.push(format!("tree {:?}", tree(storage, "/").await));
    out
}

/// Every path under `dir` with its kind and, for files, a digest of its bytes.
async fn tree<S: Storage>(storage: &S, dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_string()];
    while let Some(dir) = stack.pop() {
        let names = match storage.read_dir(&dir).await {
            Ok(names) => names,
            Err(error) => {
                out.push(format!("{dir}: err {:?}", error.kind()));
                continue;
            }
        };
        for name in names {
            let path = if dir == "/" {
                format!("/{name}")
            } else {
                format!("{dir}/{name}")
            };
            match storage.metadata(&path).await {
                Ok(m) if m.is_dir() => {
                    out.push(format!("{path}/"));
                    stack.push(path);
                }
                Ok(m) => {
                    let text = match storage.open(&path, OpenOptions::read_only()).await {
                        Ok(file) => {
                            let mut buf = vec![0u8; m.len().min(1 << 20) as usize];
                            match file.read_at(&mut buf, 0).await {
                                Ok(n) => digest(&buf[..n]),
                                Err(error) => format!("err {:?}", error.kind()),
                            }
                        }
                        Err(error) => format!("err {:?}", error.kind()),
                    };
                    out.push(format!("{path} len {} {text}", m.len()));
                }
                Err(error) => out.push(format!("{path}: err {:?}", error.kind())),
            }
        }
    }
    out.sort();
    out
}

/// `ops` on a fresh simulated disk (no latency, no faults).
pub fn run_sim(ops: &[Op]) -> Vec<String> {
    let mut sim = Sim::builder(Seed::new(0))
        .quiet()
        .build()
        .expect("a valid world");
    let config = DiskConfig {
        latency: LatencyConfig::ZERO,
        ..DiskConfig::default()
    };
    let disks = Disks::install(&sim, config).expect("a valid disk");
    let node = sim.add_node("n1", |_| async {}).expect("a fresh node");
    let ops = ops.to_vec();
    sim.run(async move {
        let storage = disks.storage(node).expect("the node's disk");
        run(&storage, &ops).await
    })
    .expect("the operations run")
    .value
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(base: &Path, case: u64) -> io::Result<TempDir> {
        let dir = base.join(format!("case-{case}"));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `ops` on a fresh directory `case-<n>` under `base`.
///
/// # Panics
///
/// If the directory cannot be made.
pub fn run_real(base: &Path, case: u64, ops: &[Op]) -> Vec<String> {
    let dir = TempDir::new(base, case).expect("a temporary directory");
    let storage = RealStorage::new(&dir.0).expect("the directory exists");
    futures::executor::block_on(run(&storage, ops))
}

/// The first line where the backends differ, with both lines.
pub fn divergence(sim: &[String], real: &[String], ops: &[Op]) -> Option<String> {
    let at = sim.iter().zip(real).position(|(a, b)| a != b)?;
    let op = ops
        .get(at)
        .map_or("the final tree".to_string(), |op| format!("{op:?}"));
    Some(format!(
        "operation {at} ({op}): simulated {:?}, real {:?}",
        sim[at], real[at]
    ))
}

/// The outcome of a differential run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Sequences run.
    pub cases: u32,
    /// Operations run (on each backend).
    pub operations: u64,
}

/// Runs `cases` random sequences (proptest, seeded by `seed`: the same
/// seed gives the same sequences) on both backends, under `base`.
///
/// # Errors
///
/// The minimal sequence (after shrinking) on which the backends differ,
/// and where.
pub fn check(cases: u32, seed: u64, base: &Path) -> Result<Summary, String> {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 10_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng(seed));
    let operations = std::cell::Cell::new(0u64);
    let case = std::cell::Cell::new(0u64);
    let result = runner.run(&ops(1..40), |ops| {
        case.set(case.get() + 1);
        operations.set(operations.get() + ops.len() as u64);
        let sim = run_sim(&ops);
        let real = run_real(base, case.get(), &ops);
        match divergence(&sim, &real, &ops) {
            None => Ok(()),
            Some(message) => Err(TestCaseError::fail(message)),
        }
    });
    match result {
        Ok(()) => Ok(Summary {
            cases,
            operations: operations.get(),
        }),
        Err(error) => Err(format!("the simulated disk differs from Linux: {error}")),
    }
}

/// proptest's deterministic generator, keyed by `seed`.
pub(crate) fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}
