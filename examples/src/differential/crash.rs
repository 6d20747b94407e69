//! The crash model against a small reference model of "what is durable
//! after these syncs": random sequences of directory operations (creates,
//! writes, renames across directories, renamed directories, removes) and
//! syncs, then a crash, on a simulated disk; what the disk holds after the
//! crash must be what the reference says.
//!
//! The reference states the model the book gives, directly: a directory
//! operation is durable after a crash when a later `sync_dir` of one of the
//! directories it changes made it durable, or made durable a later operation
//! that depends on it (both concern the same entry or the same inode); the
//! other operations survive as a prefix of the order they were made in
//! ([`CrashMode::Adversarial`]) or not at all ([`CrashMode::LoseUnsynced`]).
//! A file's bytes are what its last `sync_all` saw ([`CrashMode::LoseUnsynced`]).

use std::collections::{BTreeMap, BTreeSet};

use detsim::{Seed, Sim};
use detsim_disk::{CrashMode, DiskConfig, Disks, File, LatencyConfig, OpenOptions, Storage};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// One step of a crash scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `create_dir(path)`.
    CreateDir(String),
    /// Create `path`, write `byte` × `len`, `sync_all`, close.
    CreateFile(String, u8, usize),
    /// Open `path`, write `byte` × `len` at 0 (not synced), close.
    Overwrite(String, u8, usize),
    /// `rename(from, to)`.
    Rename(String, String),
    /// `remove_file(path)`.
    RemoveFile(String),
    /// `remove_dir(path)`.
    RemoveDir(String),
    /// `sync_dir(path)`.
    SyncDir(String),
}

/// A step as generated: indices into what exists when it runs (so most
/// steps are valid and renames move real files and directories), turned
/// into a [`Step`] on paths by [`concrete`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant says what its indices pick.
pub enum Gen {
    /// A directory named `NAMES[name]` in the `parent`-th directory.
    CreateDir { parent: usize, name: usize },
    /// A synced file named `NAMES[name]` in the `parent`-th directory:
    /// `len` copies of `byte`.
    CreateFile {
        parent: usize,
        name: usize,
        byte: u8,
        len: usize,
    },
    /// Un-synced bytes over the `file`-th file.
    Overwrite { file: usize, byte: u8, len: usize },
    /// The `from`-th entry renamed to `NAMES[name]` in the `to`-th directory.
    Rename { from: usize, to: usize, name: usize },
    /// The `file`-th file removed.
    RemoveFile { file: usize },
    /// The `dir`-th directory (not the root) removed.
    RemoveDir { dir: usize },
    /// The `dir`-th directory synced (0 is the root).
    SyncDir { dir: usize },
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

fn gen_step() -> impl Strategy<Value = Gen> {
    let i = 0usize..16;
    let name = 0usize..NAMES.len();
    prop_oneof![
        3 => (i.clone(), name.clone()).prop_map(|(parent, name)| Gen::CreateDir { parent, name }),
        4 => (i.clone(), name.clone(), any::<u8>(), 1usize..600)
            .prop_map(|(parent, name, byte, len)| Gen::CreateFile { parent, name, byte, len }),
        1 => (i.clone(), any::<u8>(), 1usize..600)
            .prop_map(|(file, byte, len)| Gen::Overwrite { file, byte, len }),
        5 => (i.clone(), i.clone(), name).prop_map(|(from, to, name)| Gen::Rename { from, to, name }),
        1 => i.clone().prop_map(|file| Gen::RemoveFile { file }),
        1 => i.clone().prop_map(|dir| Gen::RemoveDir { dir }),
        5 => i.prop_map(|dir| Gen::SyncDir { dir }),
    ]
}

/// A scenario: generated steps, whether every directory is synced before
/// the crash, and the crash mode (`true`: adversarial).
pub fn scenario() -> impl Strategy<Value = (Vec<Gen>, bool, bool)> {
    (
        proptest::collection::vec(gen_step(), 1..40),
        any::<bool>(),
        any::<bool>(),
    )
}

/// Turns generated steps into steps on paths, against the model's tree as
/// each step finds it. A step the model rejects is kept (the judge skips it).
pub fn concrete(gens: &[Gen]) -> Vec<Step> {
    let mut model = Model::new();
    let mut steps = Vec::with_capacity(gens.len());
    for g in gens {
        let (dirs, files) = model.paths();
        let pick = |list: &[String], i: usize| list[i % list.len()].clone();
        let join = |dir: &str, name: usize| {
            if dir == "/" {
                format!("/{}", NAMES[name])
            } else {
                format!("{dir}/{}", NAMES[name])
            }
        };
        let step = match *g {
            Gen::CreateDir { parent, name } => Step::CreateDir(join(&pick(&dirs, parent), name)),
            Gen::CreateFile {
                parent,
                name,
                byte,
                len,
            } => Step::CreateFile(join(&pick(&dirs, parent), name), byte, len),
            Gen::Overwrite { file, byte, len } if !files.is_empty() => {
                Step::Overwrite(pick(&files, file), byte, len)
            }
            Gen::Rename { from, to, name } => {
                let entries: Vec<String> = dirs[1..].iter().chain(&files).cloned().collect();
                if entries.is_empty() {
                    continue;
                }
                Step::Rename(pick(&entries, from), join(&pick(&dirs, to), name))
            }
            Gen::RemoveFile { file } if !files.is_empty() => Step::RemoveFile(pick(&files, file)),
            Gen::RemoveDir { dir } if dirs.len() > 1 => Step::RemoveDir(pick(&dirs[1..], dir)),
            Gen::SyncDir { dir } => Step::SyncDir(pick(&dirs, dir)),
            _ => continue,
        };
        model.step(&step);
        steps.push(step);
    }
    steps
}

/// A directory operation of the reference, by inode.
#[derive(Clone, Debug)]
enum MetaOp {
    Link {
        dir: u64,
        name: String,
        ino: u64,
    },
    Unlink {
        dir: u64,
        name: String,
        ino: u64,
    },
    Rename {
        from: (u64, String),
        to: (u64, String),
        ino: u64,
    },
}

impl MetaOp {
    fn dirs(&self) -> Vec<u64> {
        match self {
            MetaOp::Link { dir, .. } | MetaOp::Unlink { dir, .. } => vec![*dir],
            MetaOp::Rename { from, to, .. } => vec![from.0, to.0],
        }
    }

    /// Whether the later `self` depends on the earlier `other`.
    fn depends_on(&self, other: &MetaOp) -> bool {
        let entries = |op: &MetaOp| -> Vec<(u64, String)> {
            match op {
                MetaOp::Link { dir, name, .. } | MetaOp::Unlink { dir, name, .. } => {
                    vec![(*dir, name.clone())]
                }
                MetaOp::Rename { from, to, .. } => vec![from.clone(), to.clone()],
            }
        };
        let ino = |op: &MetaOp| match op {
            MetaOp::Link { ino, .. } | MetaOp::Unlink { ino, .. } | MetaOp::Rename { ino, .. } => {
                *ino
            }
        };
        ino(self) == ino(other) || entries(self).iter().any(|e| entries(other).contains(e))
    }

    fn apply(&self, dirs: &mut BTreeMap<u64, BTreeMap<String, u64>>) {
        match self {
            MetaOp::Link { dir, name, ino } => {
                dirs.entry(*dir).or_default().insert(name.clone(), *ino);
            }
            MetaOp::Unlink { dir, name, ino } => {
                let d = dirs.entry(*dir).or_default();
                if d.get(name) == Some(ino) {
                    d.remove(name);
                }
            }
            MetaOp::Rename { from, to, ino } => {
                let d = dirs.entry(from.0).or_default();
                if d.get(&from.1) == Some(ino) {
                    d.remove(&from.1);
                }
                dirs.entry(to.0).or_default().insert(to.1.clone(), *ino);
            }
        }
    }
}

/// The reference: the cached namespace, and the history of directory
/// operations and syncs from which the durable one is computed.
#[derive(Default)]
struct Model {
    /// Cached entries per directory inode (0 is the root).
    dirs: BTreeMap<u64, BTreeMap<String, u64>>,
    is_dir: BTreeMap<u64, bool>,
    next: u64,
    /// Bytes as the last `sync_all` saw them.
    synced: BTreeMap<u64, Vec<u8>>,
    /// Bytes as reads see them.
    cached: BTreeMap<u64, Vec<u8>>,
    ops: Vec<MetaOp>,
    /// `(how many ops had been made, the synced directory)`.
    syncs: Vec<(usize, u64)>,
}

fn split(path: &str) -> Vec<&str> {
    path.trim_start_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect()
}

impl Model {
    fn new() -> Model {
        let mut model = Model {
            next: 1,
            ..Model::default()
        };
        model.dirs.insert(0, BTreeMap::new());
        model.is_dir.insert(0, true);
        model
    }

    fn resolve(&self, parts: &[&str]) -> Option<u64> {
        let mut ino = 0;
        for part in parts {
            ino = *self.dirs.get(&ino)?.get(*part)?;
        }
        Some(ino)
    }

    fn parent<'p>(&self, path: &'p str) -> Option<(u64, &'p str)> {
        let parts = split(path);
        let (name, dir) = parts.split_last()?;
        let dir = self.resolve(dir)?;
        self.is_dir[&dir].then_some((dir, *name))
    }

    fn is_ancestor(&self, ancestor: u64, mut ino: u64) -> bool {
        // Walk up through the cached tree (parents are unique).
        loop {
            if ino == ancestor {
                return true;
            }
            let parent = self
                .dirs
                .iter()
                .find(|(_, d)| d.values().any(|i| *i == ino))
                .map(|(p, _)| *p);
            match parent {
                Some(p) => ino = p,
                None => return false,
            }
        }
    }

    fn record(&mut self, op: MetaOp) {
        op.apply(&mut self.dirs);
        self.ops.push(op);
    }

    /// Applies `step` if it is valid; returns whether it was.
    fn step(&mut self, step: &Step) -> bool {
        match step {
            Step::CreateDir(p) | Step::CreateFile(p, ..) => {
                let Some((dir, name)) = self.parent(p) else {
                    return false;
                };
                if self.dirs[&dir].contains_key(name) {
                    return false;
                }
                let ino = self.next;
                self.next += 1;
                let is_dir = matches!(step, Step::CreateDir(_));
                self.is_dir.insert(ino, is_dir);
                if is_dir {
                    self.dirs.insert(ino, BTreeMap::new());
                } else if let Step::CreateFile(_, byte, len) = step {
                    self.synced.insert(ino, vec![*byte; *len]);
                    self.cached.insert(ino, vec![*byte; *len]);
                }
                self.record(MetaOp::Link {
                    dir,
                    name: name.to_string(),
                    ino,
                });
                true
            }
            Step::Overwrite(p, byte, len) => match self.resolve(&split(p)) {
                Some(ino) if !self.is_dir[&ino] => {
                    let data = self.cached.entry(ino).or_default();
                    if data.len() < *len {
                        data.resize(*len, 0);
                    }
                    data[..*len].fill(*byte);
                    true
                }
                _ => false,
            },
            Step::RemoveFile(p) | Step::RemoveDir(p) => {
                let Some((dir, name)) = self.parent(p) else {
                    return false;
                };
                let Some(&ino) = self.dirs[&dir].get(name) else {
                    return false;
                };
                let want_dir = matches!(step, Step::RemoveDir(_));
                if self.is_dir[&ino] != want_dir || (want_dir && !self.dirs[&ino].is_empty()) {
                    return false;
                }
                self.record(MetaOp::Unlink {
                    dir,
                    name: name.to_string(),
                    ino,
                });
                true
            }
            Step::Rename(a, b) => {
                let (Some((from_dir, from)), Some((to_dir, to))) = (self.parent(a), self.parent(b))
                else {
                    return false;
                };
                let Some(&ino) = self.dirs[&from_dir].get(from) else {
                    return false;
                };
                if self.is_dir[&ino] && self.is_ancestor(ino, to_dir) {
                    return false; // into itself
                }
                if self.is_ancestor(self.resolve(&split(b)).unwrap_or(u64::MAX), from_dir) {
                    return false; // onto an ancestor
                }
                match self.dirs[&to_dir].get(to) {
                    Some(&existing) if existing == ino => return false, // a no-op
                    // Only a file over a file in these scenarios.
                    Some(&existing) if self.is_dir[&existing] || self.is_dir[&ino] => {
                        return false;
                    }
                    _ => {}
                }
                self.record(MetaOp::Rename {
                    from: (from_dir, from.to_string()),
                    to: (to_dir, to.to_string()),
                    ino,
                });
                true
            }
            Step::SyncDir(p) => match self.resolve(&split(p)) {
                Some(ino) if self.is_dir[&ino] => {
                    self.syncs.push((self.ops.len(), ino));
                    true
                }
                _ => false,
            },
        }
    }

    /// Which operations a sync made durable, by the definition.
    fn durable(&self) -> Vec<bool> {
        let mut durable = vec![false; self.ops.len()];
        for &(made, dir) in &self.syncs {
            let mut chosen = vec![false; made];
            for j in (0..made).rev() {
                if self.ops[j].dirs().contains(&dir) {
                    chosen[j] = true;
                }
                if chosen[j] {
                    let (earlier, later) = self.ops.split_at(j);
                    for (op, chosen) in earlier.iter().zip(chosen.iter_mut()) {
                        if later[0].depends_on(op) {
                            *chosen = true;
                        }
                    }
                }
            }
            for (i, c) in chosen.into_iter().enumerate() {
                durable[i] |= c;
            }
        }
        durable
    }

    /// The tree after a crash that keeps the durable operations and the
    /// first `prefix` of the others.
    fn after_crash(&self, prefix: usize, data: &BTreeMap<u64, Vec<u8>>) -> Vec<String> {
        let durable = self.durable();
        let mut dirs: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
        let mut rest = 0;
        for (op, durable) in self.ops.iter().zip(durable) {
            if durable {
                op.apply(&mut dirs);
            } else {
                if rest < prefix {
                    op.apply(&mut dirs);
                }
                rest += 1;
            }
        }
        self.render(&dirs, data)
    }

    fn pending(&self) -> usize {
        self.durable().iter().filter(|d| !**d).count()
    }

    fn render(
        &self,
        dirs: &BTreeMap<u64, BTreeMap<String, u64>>,
        data: &BTreeMap<u64, Vec<u8>>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(0u64, String::new())];
        while let Some((ino, path)) = stack.pop() {
            for (name, child) in dirs.get(&ino).into_iter().flatten() {
                let child_path = format!("{path}/{name}");
                if self.is_dir[child] {
                    out.push(format!("{child_path}/"));
                    stack.push((*child, child_path));
                } else {
                    out.push(format!(
                        "{child_path} {}",
                        bytes(data.get(child).map_or(&[][..], |d| d))
                    ));
                }
            }
        }
        out.sort();
        out
    }

    /// The cached tree's directories (the root first) and files, sorted.
    fn paths(&self) -> (Vec<String>, Vec<String>) {
        let mut dirs = self.all_dirs();
        dirs[1..].sort();
        let mut files = Vec::new();
        let mut stack = vec![(0u64, String::new())];
        while let Some((ino, path)) = stack.pop() {
            for (name, child) in &self.dirs[&ino] {
                let child_path = format!("{path}/{name}");
                if self.is_dir[child] {
                    stack.push((*child, child_path));
                } else {
                    files.push(child_path);
                }
            }
        }
        files.sort();
        (dirs, files)
    }

    /// Every directory of the cached tree.
    fn all_dirs(&self) -> Vec<String> {
        let mut out = vec!["/".to_string()];
        let mut stack = vec![(0u64, String::new())];
        while let Some((ino, path)) = stack.pop() {
            for (name, child) in &self.dirs[&ino] {
                if self.is_dir[child] {
                    let child_path = format!("{path}/{name}");
                    out.push(child_path.clone());
                    stack.push((*child, child_path));
                }
            }
        }
        out
    }
}

fn bytes(data: &[u8]) -> String {
    match data.first() {
        None => "empty".to_string(),
        Some(b) if data.iter().all(|x| x == b) => format!("{}x{b}", data.len()),
        Some(_) => format!("{} mixed bytes", data.len()),
    }
}

/// The tree a storage holds, rendered like the model's.
async fn observe<S: Storage>(storage: &S) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let listing = if dir.is_empty() { "/" } else { &dir };
        for name in storage.read_dir(listing).await.expect("a directory lists") {
            let path = format!("{dir}/{name}");
            let meta = storage.metadata(&path).await.expect("a listed name exists");
            if meta.is_dir() {
                out.push(format!("{path}/"));
                stack.push(path);
            } else {
                let file = storage
                    .open(&path, OpenOptions::read_only())
                    .await
                    .expect("a listed file opens");
                let mut buf = vec![0; meta.len() as usize];
                let n = file.read_at(&mut buf, 0).await.expect("a file reads");
                out.push(format!("{path} {}", bytes(&buf[..n])));
            }
        }
    }
    out.sort();
    out
}

/// What one scenario found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Steps the model found valid (and the disk ran).
    pub steps: usize,
    /// Of them, renames between two directories.
    pub renames_across: usize,
    /// Of them, renames of a directory.
    pub directory_renames: usize,
    /// The tree after the crash.
    pub observed: Vec<String>,
    /// The trees the model allows.
    pub allowed: Vec<Vec<String>>,
    /// The crash's trace fingerprint.
    pub fingerprint: u64,
}

/// Runs a scenario on a simulated disk with seed `seed` and judges it.
pub fn judge(seed: u64, steps: &[Step], sync_all_first: bool, adversarial: bool) -> Verdict {
    let mut model = Model::new();
    let mut valid = Vec::new();
    let (mut renames_across, mut directory_renames) = (0, 0);
    for step in steps {
        let before = model.ops.len();
        if model.step(step) {
            valid.push(step.clone());
            if let Some(MetaOp::Rename { from, to, ino }) = model.ops.get(before) {
                renames_across += usize::from(from.0 != to.0);
                directory_renames += usize::from(model.is_dir[ino]);
            }
        }
    }
    let steps = valid.len();
    let dirs = if sync_all_first {
        let dirs = model.all_dirs();
        for dir in &dirs {
            model.step(&Step::SyncDir(dir.clone()));
        }
        dirs
    } else {
        Vec::new()
    };
    let crash = if adversarial {
        CrashMode::ADVERSARIAL
    } else {
        CrashMode::LoseUnsynced
    };
    let mut sim = Sim::builder(Seed::new(seed))
        .quiet()
        .build()
        .expect("a valid world");
    let config = DiskConfig {
        latency: LatencyConfig::ZERO,
        crash,
        ..DiskConfig::default()
    };
    let disks = Disks::install(&sim, config).expect("a valid disk");
    let node = sim.add_node("n1", |_| async {}).expect("a fresh node");
    let report = sim
        .run(async move {
            let storage = disks.storage(node).expect("the node's disk");
            for step in &valid {
                let done = match step {
                    Step::CreateDir(p) => storage.create_dir(p).await,
                    Step::CreateFile(p, byte, len) => {
                        async {
                            let f = storage
                                .open(p, OpenOptions::read_write().create_new(true))
                                .await?;
                            f.write_at(&vec![*byte; *len], 0).await?;
                            f.sync_all().await?;
                            f.close()
                        }
                        .await
                    }
                    Step::Overwrite(p, byte, len) => {
                        async {
                            let f = storage.open(p, OpenOptions::read_write()).await?;
                            f.write_at(&vec![*byte; *len], 0).await?;
                            f.close()
                        }
                        .await
                    }
                    Step::Rename(a, b) => storage.rename(a, b).await,
                    Step::RemoveFile(p) => storage.remove_file(p).await,
                    Step::RemoveDir(p) => storage.remove_dir(p).await,
                    Step::SyncDir(p) => storage.sync_dir(p).await,
                };
                if let Err(error) = done {
                    panic!("{step:?} is valid in the model but failed: {error}");
                }
            }
            for dir in &dirs {
                storage.sync_dir(dir).await.expect("a directory syncs");
            }
            let handle = detsim::handle();
            handle.crash(node).expect("crash");
            handle.restart(node).expect("restart");
            observe(&storage).await
        })
        .expect("the scenario runs");
    let data = if adversarial {
        // Un-synced writes are applied or torn at random: names only.
        BTreeMap::new()
    } else {
        model.synced.clone()
    };
    let observed = if adversarial {
        names_only(&report.value)
    } else {
        report.value
    };
    let allowed: Vec<Vec<String>> = if adversarial {
        (0..=model.pending())
            .map(|prefix| names_only(&model.after_crash(prefix, &data)))
            .collect()
    } else {
        vec![model.after_crash(0, &data)]
    };
    let cached = model.render(&model.dirs, &model.cached);
    let mut allowed = allowed;
    if sync_all_first {
        // Every directory synced: exactly the cached names.
        let cached_names = names_only(&cached);
        allowed.retain(|tree| names_only(tree) == cached_names);
        assert!(
            !allowed.is_empty(),
            "the model's own durable tree after syncing everything differs from the cache"
        );
    }
    Verdict {
        steps,
        renames_across,
        directory_renames,
        observed,
        allowed,
        fingerprint: report.trace.fingerprint.0,
    }
}

fn names_only(tree: &[String]) -> Vec<String> {
    let set: BTreeSet<String> = tree
        .iter()
        .map(|line| line.split(' ').next().unwrap_or(line).to_string())
        .collect();
    set.into_iter().collect()
}

/// What a run of many scenarios covered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Scenarios run.
    pub cases: u32,
    /// Valid steps run, in all.
    pub steps: u64,
    /// Renames between two directories, in all.
    pub renames_across: u64,
    /// Renames of a directory, in all.
    pub directory_renames: u64,
}

/// Runs `cases` random scenarios (seeded by `seed`) and checks every one.
///
/// # Errors
///
/// The minimal scenario (after shrinking) whose crash left a tree the
/// model does not allow.
pub fn check(cases: u32, seed: u64) -> Result<Summary, String> {
    let summary = std::cell::RefCell::new(Summary::default());
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 10_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, super::disk::rng(seed));
    let result = runner.run(
        &(scenario(), any::<u64>()),
        |((gens, sync_all_first, adversarial), world_seed)| {
            let steps = concrete(&gens);
            let verdict = judge(world_seed, &steps, sync_all_first, adversarial);
            {
                let mut summary = summary.borrow_mut();
                summary.cases += 1;
                summary.steps += verdict.steps as u64;
                summary.renames_across += verdict.renames_across as u64;
                summary.directory_renames += verdict.directory_renames as u64;
            }
            if verdict.allowed.contains(&verdict.observed) {
                Ok(())
            } else {
                Err(TestCaseError::fail(format!(
                    "steps {steps:?} (every directory synced first: {sync_all_first}, adversarial: \
                     {adversarial}): after the crash the disk holds {:?}; the model allows {:?}",
                    verdict.observed, verdict.allowed
                )))
            }
        },
    );
    result
        .map(|()| summary.into_inner())
        .map_err(|e| format!("the crash model differs from its reference: {e}"))
}
