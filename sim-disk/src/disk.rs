//! The simulated disks of a world: [`Disks`] (the extension: one disk per
//! node, surviving the node's crashes), [`SimStorage`] (a node's disk as a
//! [`Storage`]), and the ambient [`storage`] / [`open`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hasher;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use detsim::{AsNode, Clock, Extension, NodeEvent, NodeId, Sim, SimHandle, SimRng};
use rustc_hash::FxHasher;

use crate::config::{CrashMode, DiskConfig};
use crate::crash::{crash_file, surviving_prefix};
use crate::error::{DiskError, already_exists, is_a_directory, not_a_directory};
use crate::fault::{Fault, FaultConfig};
use crate::file::SimFile;
use crate::fs::{Fs, Kind};
use crate::latency::{LatencyConfig, OpClass};
use crate::path::{canonical, components};
use crate::storage::{Metadata, OpenOptions, Storage};

/// The simulated disks of a world: an [`Extension`] that gives every node its
/// own disk. A disk survives its node's crashes and restarts; at a crash, what
/// was not synced is lost, applied, reordered or torn as the [`CrashMode`]
/// and the seed decide.
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim};
/// use detsim_disk::{CrashMode, DiskConfig, Disks, File, OpenOptions, Storage};
///
/// let mut sim = Sim::new(Seed::new(7));
/// let config = DiskConfig { crash: CrashMode::LoseUnsynced, ..DiskConfig::default() };
/// let disks = Disks::install(&sim, config).unwrap();
/// let n1 = sim.add_node("n1", |_| async {
///     let storage = detsim_disk::storage().unwrap();
///     let file = storage.open("/log", OpenOptions::read_write().create(true)).await.unwrap();
///     file.append(b"synced").await.unwrap();
///     file.sync_all().await.unwrap();
///     storage.sync_dir("/").await.unwrap();
///     file.append(b" lost").await.unwrap();
/// }).unwrap();
/// sim.run(async move {
///     detsim::time::sleep(std::time::Duration::from_secs(1)).await;
///     detsim::handle().crash(n1).unwrap();
///     let storage = disks.storage(n1).unwrap();
///     let file = storage.open("/log", OpenOptions::read_only()).await.unwrap();
///     let mut buf = vec![0; 64];
///     let n = file.read_at(&mut buf, 0).await.unwrap();
///     assert_eq!(&buf[..n], b"synced");
/// }).unwrap();
/// ```
pub struct Disks {
    handle: SimHandle,
    config: DiskConfig,
    disks: RefCell<BTreeMap<NodeId, Rc<Disk>>>,
    /// Per node, the stream that picks what a plan's corruption hits.
    pub(crate) plan_rngs: RefCell<BTreeMap<NodeId, detsim::SimRng>>,
    /// Per node and fault kind: active plan faults and the value before them.
    pub(crate) plan_held: RefCell<crate::plan::Held>,
}

impl fmt::Debug for Disks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disks")
            .field("config", &self.config)
            .field("disks", &self.disks.borrow().len())
            .finish()
    }
}

/// How full a disk is: the sectors every file's cached image holds. A file
/// removed but not yet durably removed (its directory not synced) keeps its
/// space, since a crash may bring it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskUsage {
    /// Bytes of allocated sectors (holes take none).
    pub used: u64,
    /// The capacity in bytes.
    pub capacity: u64,
}

impl Disks {
    /// Validates `config` and installs the disks in `sim`'s world.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a bad configuration (see
    /// [`DiskConfig::validate`]), or [`DiskError::Sim`] if disks are already installed.
    pub fn install(sim: &Sim, config: DiskConfig) -> Result<Rc<Disks>, DiskError> {
        sim.enter(|handle| Disks::install_in(handle, config))
    }

    /// Like [`Disks::install`], from inside a running world.
    ///
    /// # Errors
    ///
    /// As [`Disks::install`], and [`DiskError::OutsideSimulation`] when
    /// `handle`'s world is not running on this thread.
    pub fn install_in(handle: SimHandle, config: DiskConfig) -> Result<Rc<Disks>, DiskError> {
        config.validate()?;
        if SimHandle::try_current() != Some(handle) {
            return Err(DiskError::OutsideSimulation("Disks::install_in"));
        }
        let disks = Rc::new(Disks {
            handle,
            config,
            disks: RefCell::default(),
            plan_rngs: RefCell::default(),
            plan_held: RefCell::default(),
        });
        handle.install(disks.clone())?;
        Ok(disks)
    }

    /// The disks of the world running on this thread.
    ///
    /// # Errors
    ///
    /// [`DiskError::OutsideSimulation`] or [`DiskError::NotInstalled`].
    pub fn current() -> Result<Rc<Disks>, DiskError> {
        let handle =
            SimHandle::try_current().ok_or(DiskError::OutsideSimulation("Disks::current"))?;
        handle.extension::<Disks>().ok_or(DiskError::NotInstalled)
    }

    /// The configuration every disk starts with.
    pub fn config(&self) -> &DiskConfig {
        &self.config
    }

    fn entered(&self, api: &'static str) -> Result<(), DiskError> {
        if SimHandle::try_current() == Some(self.handle) {
            Ok(())
        } else {
            Err(DiskError::OutsideSimulation(api))
        }
    }

    pub(crate) fn handle(&self) -> SimHandle {
        self.handle
    }

    pub(crate) fn disk_of(&self, node: NodeId) -> Result<Rc<Disk>, DiskError> {
        self.disk(node, "a fault plan")
    }

    fn disk(&self, node: impl AsNode, api: &'static str) -> Result<Rc<Disk>, DiskError> {
        self.entered(api)?;
        let node = node.resolve(&self.handle)?;
        if let Some(disk) = self.disks.borrow().get(&node) {
            return Ok(disk.clone());
        }
        let name = self.handle.node_name(node)?;
        let config = &self.config;
        let stream = |purpose: &str| self.handle.stream_rng(&format!("disk/{name}/{purpose}"));
        let disk = Rc::new(Disk {
            node,
            handle: self.handle,
            state: RefCell::new(DiskState {
                fs: Fs::default(),
                sector_size: config.sector_size,
                capacity: config.capacity,
                crash: config.crash,
                faults: config.faults,
                latency: config.latency,
                slow: 1,
                generation: 0,
                seq: 0,
                fault_rng: stream("faults"),
                crash_rng: stream("crash"),
                latency_rng: stream("latency"),
            }),
        });
        self.disks.borrow_mut().insert(node, disk.clone());
        Ok(disk)
    }

    /// `node`'s disk as a [`Storage`]: from the test harness, to set up or
    /// inspect a node's files (for instance after its crash).
    ///
    /// # Errors
    ///
    /// [`DiskError::Sim`] for an unknown node, [`DiskError::OutsideSimulation`].
    pub fn storage(&self, node: impl AsNode) -> Result<SimStorage, DiskError> {
        Ok(SimStorage {
            disk: self.disk(node, "Disks::storage")?,
        })
    }

    /// Injects a fault into `node`'s disk now (see [`Fault`]). Every
    /// injection is a trace event (`disk.inject`).
    ///
    /// # Errors
    ///
    /// [`DiskError::FaultTarget`] when the path is not an existing file, the
    /// offset is past its end, a bit index is past the sector, or a shift is zero.
    pub fn inject(&self, node: impl AsNode, fault: Fault) -> Result<(), DiskError> {
        let disk = self.disk(node, "Disks::inject")?;
        disk.inject(fault)
    }

    /// Replaces the random fault probabilities of `node`'s disk.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a probability outside `[0, 1]`.
    pub fn set_faults(&self, node: impl AsNode, faults: FaultConfig) -> Result<(), DiskError> {
        faults.validate()?;
        let disk = self.disk(node, "Disks::set_faults")?;
        disk.state.borrow_mut().faults = faults;
        disk.emit("disk.config", [0, 0, 0, 0], || format!("faults {faults:?}"));
        Ok(())
    }

    /// Replaces the crash mode of `node`'s disk.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a probability outside `[0, 1]`.
    pub fn set_crash_mode(&self, node: impl AsNode, mode: CrashMode) -> Result<(), DiskError> {
        mode.validate()?;
        let disk = self.disk(node, "Disks::set_crash_mode")?;
        disk.state.borrow_mut().crash = mode;
        disk.emit("disk.config", [1, 0, 0, 0], || {
            format!("crash mode {mode:?}")
        });
        Ok(())
    }

    /// Replaces the latency distributions of `node`'s disk.
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for an inverted range or a bad probability.
    pub fn set_latency(&self, node: impl AsNode, latency: LatencyConfig) -> Result<(), DiskError> {
        latency.validate()?;
        let disk = self.disk(node, "Disks::set_latency")?;
        disk.state.borrow_mut().latency = latency;
        disk.emit("disk.config", [2, 0, 0, 0], || {
            format!("latency {latency:?}")
        });
        Ok(())
    }

    /// Slow-disk mode: every latency of `node`'s disk is multiplied by
    /// `factor` (1: normal speed).
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a zero factor.
    pub fn set_slow(&self, node: impl AsNode, factor: u32) -> Result<(), DiskError> {
        if factor == 0 {
            return Err(DiskError::InvalidConfig(
                "slow factor must be at least 1".into(),
            ));
        }
        let disk = self.disk(node, "Disks::set_slow")?;
        disk.state.borrow_mut().slow = factor;
        disk.emit("disk.config", [3, u64::from(factor), 0, 0], || {
            format!("slow x{factor}")
        });
        Ok(())
    }

    /// Sets `node`'s disk capacity in bytes; writes needing more space fail
    /// with `StorageFull` (use the current usage to make a full disk).
    ///
    /// # Errors
    ///
    /// [`DiskError::InvalidConfig`] for a zero capacity.
    pub fn set_capacity(&self, node: impl AsNode, capacity: u64) -> Result<(), DiskError> {
        if capacity == 0 {
            return Err(DiskError::InvalidConfig(
                "capacity must be above zero".into(),
            ));
        }
        let disk = self.disk(node, "Disks::set_capacity")?;
        disk.state.borrow_mut().capacity = capacity;
        disk.emit("disk.config", [4, capacity, 0, 0], || {
            format!("capacity {capacity} bytes")
        });
        Ok(())
    }

    /// How full `node`'s disk is.
    ///
    /// # Errors
    ///
    /// [`DiskError::Sim`] for an unknown node, [`DiskError::OutsideSimulation`].
    pub fn usage(&self, node: impl AsNode) -> Result<DiskUsage, DiskError> {
        let disk = self.disk(node, "Disks::usage")?;
        let state = disk.state.borrow();
        Ok(DiskUsage {
            used: state.fs.used_sectors * state.sector_size,
            capacity: state.capacity,
        })
    }

    /// The page cache of `node` forgets its clean pages (like
    /// `echo 3 > /proc/sys/vm/drop_caches`): reads of data that is not dirty
    /// come from the media again, exposing lost and misdirected writes and
    /// data dropped by a failed sync without a crash.
    ///
    /// # Errors
    ///
    /// [`DiskError::Sim`] for an unknown node, [`DiskError::OutsideSimulation`].
    pub fn drop_caches(&self, node: impl AsNode) -> Result<(), DiskError> {
        let disk = self.disk(node, "Disks::drop_caches")?;
        let mut state = disk.state.borrow_mut();
        let sector_size = state.sector_size;
        let mut delta = 0;
        for inode in state.fs.inodes.values_mut() {
            if let Kind::File(data) = &mut inode.kind {
                delta += data.drop_cache(sector_size);
            }
        }
        state.fs.account(delta);
        disk.emit("disk.drop_caches", [0; 4], String::new);
        Ok(())
    }
}

impl Extension for Disks {
    fn validate_fault(&self, fault: &detsim::Fault) -> Option<Result<(), String>> {
        self.validate_plan_fault(fault)
    }

    fn apply_fault(&self, fault: &detsim::Fault) -> detsim::FaultOutcome {
        self.apply_plan_fault(fault)
    }

    fn on_node_event(&self, node: NodeId, event: NodeEvent) {
        if event == NodeEvent::Crash {
            let disk = self.disks.borrow().get(&node).cloned();
            if let Some(disk) = disk {
                disk.crash();
            }
        }
    }
}

/// The disk of the calling node, as a [`Storage`].
///
/// # Errors
///
/// [`DiskError::OutsideSimulation`], [`DiskError::NotInstalled`], or
/// [`DiskError::NotANode`] when called by the test harness (use
/// [`Disks::storage`] there).
///
/// # Examples
///
/// ```
/// use detsim::{Seed, Sim};
/// use detsim_disk::{DiskConfig, DiskError, Disks};
///
/// let mut sim = Sim::new(Seed::new(1));
/// Disks::install(&sim, DiskConfig::default()).unwrap();
/// sim.add_node("n1", |_| async { assert!(detsim_disk::storage().is_ok()) }).unwrap();
/// sim.run(async { assert_eq!(detsim_disk::storage().unwrap_err(), DiskError::NotANode) }).unwrap();
/// ```
pub fn storage() -> Result<SimStorage, DiskError> {
    let disks = Disks::current()?;
    let node = detsim::current_node().ok_or(DiskError::NotANode)?;
    disks.storage(node)
}

/// Opens a file on the calling node's disk: [`storage`] then [`Storage::open`].
///
/// # Errors
///
/// As [`Storage::open`]; a [`DiskError`] from [`storage`] comes as an `Other` I/O error.
pub async fn open(path: &str, options: OpenOptions) -> io::Result<SimFile> {
    storage()?.open(path, options).await
}

/// One node's disk.
pub(crate) struct Disk {
    pub(crate) node: NodeId,
    pub(crate) handle: SimHandle,
    pub(crate) state: RefCell<DiskState>,
}

pub(crate) struct DiskState {
    pub(crate) fs: Fs,
    pub(crate) sector_size: u64,
    pub(crate) capacity: u64,
    pub(crate) crash: CrashMode,
    pub(crate) faults: FaultConfig,
    pub(crate) latency: LatencyConfig,
    pub(crate) slow: u32,
    /// Incremented at each crash: handles from before it are stale.
    pub(crate) generation: u64,
    pub(crate) seq: u64,
    pub(crate) fault_rng: SimRng,
    pub(crate) crash_rng: SimRng,
    pub(crate) latency_rng: SimRng,
}

impl DiskState {
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

/// A fast, stable hash of bytes for trace events.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

impl Disk {
    pub(crate) fn emit(&self, name: &'static str, args: [u64; 4], detail: impl FnOnce() -> String) {
        self.handle.emit(Some(self.node), name, args, detail);
    }

    /// Fails unless this disk's world is running on this thread.
    pub(crate) fn entered(&self) -> io::Result<()> {
        if SimHandle::try_current() == Some(self.handle) {
            Ok(())
        } else {
            Err(DiskError::OutsideSimulation("a simulated disk operation").into())
        }
    }

    /// Waits the latency of one operation of `class`; with no latency, lets
    /// the other ready tasks run once (a loop of disk operations never
    /// monopolises the executor).
    /// `bytes` is the operation's size, for the bandwidth term.
    pub(crate) async fn delay(&self, class: OpClass, bytes: u64) {
        let duration = {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            let base = state.latency.of(class).sample(&mut state.latency_rng);
            let total = base.saturating_add(state.latency.transfer(class, bytes));
            total.checked_mul(state.slow).unwrap_or(Duration::MAX)
        };
        if duration.is_zero() {
            detsim::yield_now().await;
        } else {
            Clock::sleep(&self.handle, duration).await;
        }
    }

    fn crash(&self) {
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        state.generation += 1;
        let mode = state.crash;
        let journal = state.fs.journal.len();
        let prefix = surviving_prefix(mode, &mut state.crash_rng, journal);
        for (seq, op, survived) in state.fs.crash_names(prefix) {
            let (code, ino) = op.code();
            self.emit(
                "disk.crash.name",
                [seq, code, ino, u64::from(survived)],
                || format!("{op:?} {}", if survived { "survived" } else { "undone" }),
            );
        }
        let sector_size = state.sector_size;
        let mut ops = 0;
        for (ino, inode) in state.fs.inodes.iter_mut() {
            let Kind::File(data) = &mut inode.kind else {
                continue;
            };
            for decided in crash_file(data, sector_size, mode, &mut state.crash_rng) {
                ops += 1;
                let outcome = decided.outcome.code() | (u64::from(decided.was_lost) << 2);
                self.emit(
                    "disk.crash.write",
                    [*ino, decided.seq, outcome, decided.outcome.mask()],
                    || {
                        let what = if decided.len == u64::MAX {
                            format!("set_len({})", decided.offset)
                        } else {
                            format!("write {}+{}", decided.offset, decided.len)
                        };
                        format!(
                            "inode {ino} op #{} {what}: {:?}{}",
                            decided.seq,
                            decided.outcome,
                            if decided.was_lost {
                                " (a lost write)"
                            } else {
                                ""
                            }
                        )
                    },
                );
            }
        }
        state.fs.recount();
        let generation = state.generation;
        self.emit(
            "disk.crash",
            [generation, ops, prefix as u64, journal as u64],
            || {
                format!(
                    "crash #{generation}: {ops} pending file op(s) decided, {prefix} of {journal} directory op(s) survived"
                )
            },
        );
    }

    fn inject(&self, fault: Fault) -> Result<(), DiskError> {
        let target = |reason: String| DiskError::FaultTarget {
            path: fault.path().to_owned(),
            reason,
        };
        let mut state = self.state.borrow_mut();
        let state = &mut *state;
        let sector_size = state.sector_size;
        let parts = components(fault.path()).map_err(|e| target(e.to_string()))?;
        let ino = state
            .fs
            .resolve(&parts)
            .map_err(|e| target(e.to_string()))?;
        let data = state
            .fs
            .file_mut(ino)
            .ok_or_else(|| target("it is a directory".into()))?;
        let len = data.current.len();
        let in_file = |offset: u64| {
            if offset < len {
                Ok(offset / sector_size)
            } else {
                Err(target(format!(
                    "offset {offset} is past the end of the file ({len} bytes)"
                )))
            }
        };
        let (code, a, b) = match &fault {
            Fault::LatentSectorError { offset, .. } => {
                let index = in_file(*offset)?;
                data.bad.insert(index);
                (0, index, 0)
            }
            Fault::Corrupt {
                offset, corruption, ..
            } => {
                let index = in_file(*offset)?;
                if let crate::fault::Corruption::BitFlip { bit } = corruption {
                    if *bit >= 8 * sector_size {
                        return Err(target(format!(
                            "bit {bit} is past the sector ({sector_size} bytes)"
                        )));
                    }
                }
                if !data.rot(sector_size, index, *corruption) {
                    return Err(target(format!(
                        "offset {offset} is past the durable end of the file ({} bytes): sync it first",
                        data.durable.len()
                    )));
                }
                let kind = match corruption {
                    crate::fault::Corruption::BitFlip { bit } => *bit,
                    crate::fault::Corruption::Zero => u64::MAX,
                };
                (1, index, kind)
            }
            Fault::LoseNextWrite { .. } => {
                data.armed.lose_write = true;
                (2, 0, 0)
            }
            Fault::MisdirectNextWrite { shift_sectors, .. } => {
                if *shift_sectors == 0 {
                    return Err(target("a misdirected write needs a non-zero shift".into()));
                }
                data.armed.misdirect_write = Some(*shift_sectors);
                (3, *shift_sectors as u64, 0)
            }
            Fault::FailNextWrite { .. } => {
                data.armed.fail_write = true;
                (4, 0, 0)
            }
            Fault::FailNextSync { .. } => {
                data.armed.fail_sync = true;
                (5, 0, 0)
            }
        };
        self.emit("disk.inject", [ino, code, a, b], || format!("{fault:?}"));
        Ok(())
    }
}

/// A node's disk as a [`Storage`]. Cheap to clone; every clone is the same disk.
///
/// Obtained in a node with [`storage`], or from the harness with
/// [`Disks::storage`]. Every operation is a trace event (`disk.*`) and takes
/// the virtual time its latency distribution draws.
#[derive(Clone)]
pub struct SimStorage {
    pub(crate) disk: Rc<Disk>,
}

impl fmt::Debug for SimStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimStorage")
            .field("node", &self.disk.node)
            .finish()
    }
}

impl SimStorage {
    /// The node whose disk this is.
    pub fn node(&self) -> NodeId {
        self.disk.node
    }

    async fn metadata_op<R>(
        &self,
        path: &str,
        f: impl FnOnce(&Disk, &mut DiskState, &[&str], u64) -> io::Result<R>,
    ) -> io::Result<R> {
        self.disk.entered()?;
        let parts = components(path)?;
        self.disk.delay(OpClass::Metadata, 0).await;
        let mut state = self.disk.state.borrow_mut();
        let seq = state.next_seq();
        f(&self.disk, &mut state, &parts, seq)
    }
}

impl Storage for SimStorage {
    type File = SimFile;

    async fn open(&self, path: &str, options: OpenOptions) -> io::Result<SimFile> {
        options.validate()?;
        let disk = self.disk.clone();
        self.metadata_op(path, move |d, state, parts, seq| {
            let canonical_path = canonical(parts);
            let (ino, created) = match state.fs.resolve(parts) {
                Ok(ino) => {
                    if options.is_create_new() {
                        return Err(already_exists(&canonical_path));
                    }
                    if state.fs.is_dir(ino) {
                        return Err(is_a_directory(&canonical_path));
                    }
                    (ino, false)
                }
                Err(error) if error.kind() == io::ErrorKind::NotFound && options.is_create() => {
                    let (dir, name) = state.fs.parent(parts)?;
                    (state.fs.create(seq, dir, name, false), true)
                }
                Err(error) => return Err(error),
            };
            let sector_size = state.sector_size;
            let truncate_seq = state.next_seq();
            let mut delta = 0;
            if let Some(inode) = state.fs.inodes.get_mut(&ino) {
                inode.open += 1;
                if options.is_truncate() {
                    if let Kind::File(data) = &mut inode.kind {
                        delta = data.set_len(sector_size, truncate_seq, 0);
                    }
                }
            }
            state.fs.account(delta);
            let flags = u64::from(options.is_read())
                | u64::from(options.is_write()) << 1
                | u64::from(options.is_create()) << 2
                | u64::from(options.is_truncate()) << 3;
            d.emit(
                "disk.open",
                [
                    ino,
                    flags,
                    hash(canonical_path.as_bytes()),
                    u64::from(created),
                ],
                || format!("open {canonical_path} (inode {ino}, {options:?}, created: {created})"),
            );
            Ok(SimFile::new(
                disk,
                ino,
                state.generation,
                canonical_path,
                options,
            ))
        })
        .await
    }

    async fn remove_file(&self, path: &str) -> io::Result<()> {
        self.metadata_op(path, |d, state, parts, seq| {
            let ino = state.fs.remove(seq, parts, false)?;
            let path = canonical(parts);
            d.emit("disk.remove", [ino, hash(path.as_bytes()), seq, 0], || {
                format!("remove {path} (inode {ino})")
            });
            Ok(())
        })
        .await
    }

    async fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let to_parts = components(to)?;
        self.metadata_op(from, |d, state, parts, seq| {
            let ino = state.fs.rename(seq, parts, &to_parts)?;
            let (from, to) = (canonical(parts), canonical(&to_parts));
            d.emit(
                "disk.rename",
                [ino, hash(from.as_bytes()), hash(to.as_bytes()), seq],
                || format!("rename {from} -> {to} (inode {ino})"),
            );
            Ok(())
        })
        .await
    }

    async fn create_dir(&self, path: &str) -> io::Result<()> {
        self.metadata_op(path, |d, state, parts, seq| {
            let path = canonical(parts);
            if parts.is_empty() {
                return Err(already_exists(&path));
            }
            let (dir, name) = state.fs.parent(parts)?;
            state.fs.check_free(dir, name, &path)?;
            let ino = state.fs.create(seq, dir, name, true);
            d.emit(
                "disk.create_dir",
                [ino, hash(path.as_bytes()), seq, 0],
                || format!("create_dir {path} (inode {ino})"),
            );
            Ok(())
        })
        .await
    }

    async fn remove_dir(&self, path: &str) -> io::Result<()> {
        self.metadata_op(path, |d, state, parts, seq| {
            let ino = state.fs.remove(seq, parts, true)?;
            let path = canonical(parts);
            d.emit(
                "disk.remove_dir",
                [ino, hash(path.as_bytes()), seq, 0],
                || format!("remove_dir {path} (inode {ino})"),
            );
            Ok(())
        })
        .await
    }

    async fn read_dir(&self, path: &str) -> io::Result<Vec<String>> {
        self.metadata_op(path, |d, state, parts, _| {
            let path = canonical(parts);
            let ino = state.fs.resolve(parts)?;
            let dir = state.fs.dir(ino).ok_or_else(|| not_a_directory(&path))?;
            let names: Vec<String> = dir.entries.keys().cloned().collect();
            d.emit("disk.read_dir", [ino, names.len() as u64, 0, 0], || {
                format!("read_dir {path}: {names:?}")
            });
            Ok(names)
        })
        .await
    }

    async fn metadata(&self, path: &str) -> io::Result<Metadata> {
        self.metadata_op(path, |d, state, parts, _| {
            let ino = state.fs.resolve(parts)?;
            let metadata = match state.fs.file(ino) {
                Some(data) => Metadata::new(data.current.len(), false),
                None => Metadata::new(0, true),
            };
            d.emit(
                "disk.metadata",
                [ino, metadata.len(), u64::from(metadata.is_dir()), 0],
                || format!("metadata {}: {metadata:?}", canonical(parts)),
            );
            Ok(metadata)
        })
        .await
    }

    async fn sync_dir(&self, path: &str) -> io::Result<()> {
        self.disk.entered()?;
        let parts = components(path)?;
        self.disk.delay(OpClass::Sync, 0).await;
        let mut state = self.disk.state.borrow_mut();
        let path = canonical(&parts);
        let ino = state.fs.resolve(&parts)?;
        if !state.fs.is_dir(ino) {
            return Err(not_a_directory(&path));
        }
        let count = state.fs.sync_dir(ino);
        self.disk.emit("disk.sync_dir", [ino, count, 0, 0], || {
            format!("sync_dir {path}: {count} directory op(s) made durable")
        });
        Ok(())
    }
}
