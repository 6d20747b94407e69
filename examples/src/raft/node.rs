//! The Raft state machine of one node, without any I/O: messages, ticks and
//! client requests go in; a [`Ready`] comes out, telling the node's driver
//! what to persist, then what to send, what to apply and which reads to serve.
//!
//! The driver must persist `Ready::hard_state`, `Ready::truncate_from` and
//! `Ready::entries` (and sync them) **before** sending `Ready::messages`,
//! then call [`RaftNode::advance`] with how far the log is now durable.
//!
//! Implemented from the Raft paper (Ongaro and Ousterhout, 2014): elections
//! with randomized timeouts, log replication with consistency checks and
//! truncation of conflicting entries, the commit rule that counts replicas
//! only for entries of the leader's own term (§5.4.2), check-quorum (a leader
//! that cannot reach a majority steps down) and read-index reads (§6.4 of
//! Ongaro's thesis). Plus one addition for disks that lose acknowledged data:
//! a node in *amnesia* (see [`HardState::amnesia_term`]) votes as if it
//! still held what it lost, and does not campaign until it has caught up.

use std::collections::{BTreeMap, BTreeSet};

use super::bugs::{Bug, Bugs};
use super::log::{Command, Entry, Log};
use super::message::{Body, NodeId, RaftMessage};
use super::storage::HardState;

/// The timing and size knobs of a node, in ticks of the driver's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// This node.
    pub id: NodeId,
    /// How many nodes the cluster has (ids `0..nodes`).
    pub nodes: usize,
    /// A follower campaigns after this many ticks without a leader, drawn in
    /// `election_ticks_min..2 * election_ticks_min`.
    pub election_ticks_min: u32,
    /// A leader sends heartbeats every this many ticks.
    pub heartbeat_ticks: u32,
    /// At most this many entries per append message.
    pub append_entries_max: usize,
    /// The planted bug, if any.
    pub bugs: Bugs,
}

impl Config {
    /// A node of a cluster of `nodes`, with 10 ms ticks in mind: elections
    /// after 150–300 ms, heartbeats every 50 ms.
    pub fn new(id: NodeId, nodes: usize) -> Config {
        assert!(
            nodes >= 1 && nodes <= usize::from(NodeId::MAX),
            "1..=255 nodes"
        );
        assert!(
            usize::from(id) < nodes,
            "node id {id} outside a cluster of {nodes}"
        );
        Config {
            id,
            nodes,
            election_ticks_min: 15,
            heartbeat_ticks: 5,
            append_entries_max: 32,
            bugs: Bugs::default(),
        }
    }

    fn majority(&self) -> usize {
        self.nodes / 2 + 1
    }
}

/// A node's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asks for votes.
    Candidate,
    /// Leads its term.
    Leader,
}

/// What the driver must do after feeding the node an input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// Persist this term, vote and amnesia before sending anything.
    pub hard_state: Option<HardState>,
    /// Remove log entries from this index on (before appending `entries`).
    pub truncate_from: Option<u64>,
    /// Append these entries to the log, and sync.
    pub entries: Vec<Entry>,
    /// Then send these.
    pub messages: Vec<RaftMessage>,
    /// Entries newly committed, in order: apply them.
    pub committed: Vec<Entry>,
    /// Reads confirmed: serve read `id` once entries up to `index` are applied.
    pub reads: Vec<(u64, u64)>,
    /// Reads that cannot be served here any more (leadership lost).
    pub reads_dropped: Vec<u64>,
}

impl Ready {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        *self == Ready::default()
    }

    /// Whether something must be made durable before messages go out.
    pub fn must_persist(&self) -> bool {
        self.hard_state.is_some() || self.truncate_from.is_some() || !self.entries.is_empty()
    }
}

/// Why a request cannot be taken here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotLeader {
    /// The leader this node knows of.
    pub leader: Option<NodeId>,
}

/// The leader's view of one follower.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Progress {
    /// The next index to send.
    next: u64,
    /// The highest index known replicated (and durable) there.
    matched: u64,
    /// The latest read-index round the follower answered in this term.
    read_round: u64,
    /// An append with entries is in flight (cleared by a reply or a heartbeat).
    in_flight: bool,
    /// Heard from in the current check-quorum period.
    active: bool,
}

/// A read waiting for its read-index round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PendingRead {
    id: u64,
    index: u64,
    round: u64,
}

/// One Raft node. See the module documentation.
#[derive(Clone, Debug)]
pub struct RaftNode {
    config: Config,
    hard: HardState,
    log: Log,
    /// The log is durable up to here (what the driver last said).
    durable_index: u64,
    commit: u64,
    role: Role,
    leader: Option<NodeId>,
    election_elapsed: u32,
    election_timeout: u32,
    heartbeat_elapsed: u32,
    votes: BTreeSet<NodeId>,
    progress: Vec<Progress>,
    read_round: u64,
    /// Reads waiting for the leader's first commit in its term.
    reads_unindexed: Vec<u64>,
    reads: Vec<PendingRead>,
    rng: u64,
    ready: Ready,
}

impl RaftNode {
    /// A node starting from what recovery found on its disk (`log` is the
    /// durable log). `seed` drives its election timeouts.
    pub fn new(config: Config, hard: HardState, log: Log, seed: u64) -> RaftNode {
        let durable_index = log.last_index();
        let mut node = RaftNode {
            config,
            hard,
            log,
            durable_index,
            commit: 0,
            role: Role::Follower,
            leader: None,
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            votes: BTreeSet::new(),
            progress: vec![Progress::default(); config.nodes],
            read_round: 0,
            reads_unindexed: Vec::new(),
            reads: Vec::new(),
            rng: seed | 1,
            ready: Ready::default(),
        };
        node.reset_election_timer();
        node
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The current term.
    pub fn term(&self) -> u64 {
        self.hard.term
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The leader this node follows (itself when leading).
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The commit index.
    pub fn commit(&self) -> u64 {
        self.commit
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Term, vote and amnesia.
    pub fn hard_state(&self) -> HardState {
        self.hard
    }

    /// Whether the node is in amnesia (may not vote or campaign).
    pub fn in_amnesia(&self) -> bool {
        (self.log.last_term(), self.log.last_index()) < self.acknowledged()
    }

    /// The most up-to-date position this node ever acknowledged: its log's
    /// end, or what its disk lost (amnesia), whichever is later. Votes are
    /// granted only to candidates at least this up to date.
    fn acknowledged(&self) -> (u64, u64) {
        let log = (self.log.last_term(), self.log.last_index());
        log.max((self.hard.amnesia_term, self.hard.amnesia_index))
    }

    /// Takes what the driver must do now.
    pub fn take_ready(&mut self) -> Ready {
        std::mem::take(&mut self.ready)
    }

    /// One tick of the driver's clock.
    pub fn tick(&mut self) {
        self.election_elapsed += 1;
        match self.role {
            Role::Leader => {
                self.heartbeat_elapsed += 1;
                if self.heartbeat_elapsed >= self.config.heartbeat_ticks {
                    self.heartbeat_elapsed = 0;
                    self.broadcast_append(true);
                }
                if self.election_elapsed >= self.config.election_ticks_min {
                    self.election_elapsed = 0;
                    self.check_quorum();
                }
            }
            Role::Follower | Role::Candidate => {
                if self.election_elapsed >= self.election_timeout {
                    self.campaign();
                }
            }
        }
    }

    /// The driver made the log durable up to `index`.
    pub fn advance(&mut self, index: u64) {
        self.durable_index = index.min(self.log.last_index());
        if self.role == Role::Leader {
            self.maybe_commit();
        }
    }

    /// A client asks the leader to replicate a command; returns its index.
    ///
    /// # Errors
    ///
    /// [`NotLeader`] when this node does not lead.
    pub fn propose(&mut self, command: Command) -> Result<u64, NotLeader> {
        if self.role != Role::Leader {
            return Err(NotLeader {
                leader: self.leader,
            });
        }
        let index = self.append_own(command);
        self.broadcast_append(false);
        Ok(index)
    }

    /// A client asks for a linearizable read, `id` chosen by the driver. The
    /// read comes back in [`Ready::reads`] once this node has confirmed it
    /// still leads (a round of heartbeats acknowledged by a majority).
    ///
    /// # Errors
    ///
    /// [`NotLeader`] when this node does not lead.
    pub fn read(&mut self, id: u64) -> Result<(), NotLeader> {
        if self.role != Role::Leader {
            return Err(NotLeader {
                leader: self.leader,
            });
        }
        if self.config.bugs.has(Bug::StaleLeaderRead) {
            // The mistake: "I am the leader, so my state is the latest."
            self.ready.reads.push((id, 0));
            return Ok(());
        }
        self.reads_unindexed.push(id);
        self.index_reads();
        Ok(())
    }

    /// A message from another node.
    pub fn step(&mut self, message: RaftMessage) {
        if message.to != self.config.id || usize::from(message.from) >= self.config.nodes {
            return;
        }
        if message.term > self.hard.term {
            let leader = match message.body {
                Body::Append { .. } => Some(message.from),
                _ => None,
            };
            // The vote-without-persist bug persists a term bump that comes
            // with a vote request lazily, together with the vote.
            let lazy = self.config.bugs.has(Bug::VoteWithoutPersist)
                && matches!(message.body, Body::RequestVote { .. });
            self.become_follower(message.term, leader, !lazy);
        }
        if message.term < self.hard.term {
            // A stale sender: tell it the term so it steps down.
            match message.body {
                Body::RequestVote { .. } => self.send(message.from, Body::Vote { granted: false }),
                // No read round: a reply to a stale leader confirms no read.
                Body::Append { .. } => self.send(
                    message.from,
                    Body::AppendReply {
                        success: false,
                        index: self.log.last_index(),
                        read_round: 0,
                    },
                ),
                Body::Vote { .. } | Body::AppendReply { .. } => {}
            }
            return;
        }
        match message.body {
            Body::RequestVote {
                last_index,
                last_term,
            } => self.on_request_vote(message.from, last_index, last_term),
            Body::Vote { granted } => self.on_vote(message.from, granted),
            Body::Append {
                prev_index,
                prev_term,
                entries,
                commit,
                read_round,
            } => self.on_append(
                message.from,
                prev_index,
                prev_term,
                entries,
                commit,
                read_round,
            ),
            Body::AppendReply {
                success,
                index,
                read_round,
            } => self.on_append_reply(message.from, success, index, read_round),
        }
    }

    // ----- elections -----

    fn random_below(&mut self, n: u32) -> u32 {
        // xorshift64*: deterministic from the seed.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as u32 % n.max(1)
    }

    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        let min = self.config.election_ticks_min;
        self.election_timeout = min + self.random_below(min);
    }

    fn campaign(&mut self) {
        self.reset_election_timer();
        if self.in_amnesia() {
            // Its log lacks entries it acknowledged: it cannot lead.
            return;
        }
        self.role = Role::Candidate;
        self.leader = None;
        self.hard.term += 1;
        self.hard.voted_for = Some(self.config.id);
        self.mark_hard_state();
        self.votes = BTreeSet::from([self.config.id]);
        if self.votes.len() >= self.config.majority() {
            self.become_leader();
            return;
        }
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        for peer in self.peers() {
            self.send(
                peer,
                Body::RequestVote {
                    last_index,
                    last_term,
                },
            );
        }
    }

    fn on_request_vote(&mut self, from: NodeId, last_index: u64, last_term: u64) {
        let free = self.hard.voted_for.is_none_or(|v| v == from);
        let granted = free && (last_term, last_index) >= self.acknowledged();
        if granted {
            self.hard.voted_for = Some(from);
            if !self.config.bugs.has(Bug::VoteWithoutPersist) {
                self.mark_hard_state();
            }
            self.reset_election_timer();
        }
        self.send(from, Body::Vote { granted });
    }

    fn on_vote(&mut self, from: NodeId, granted: bool) {
        if self.role != Role::Candidate || !granted {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.config.majority() {
            self.become_leader();
        }
    }

    fn become_follower(&mut self, term: u64, leader: Option<NodeId>, persist: bool) {
        if term > self.hard.term {
            self.hard.term = term;
            self.hard.voted_for = None;
            if persist {
                self.mark_hard_state();
            }
        }
        if self.role == Role::Leader {
            self.drop_reads();
            // Coverage for the explorer: a leader that had entries of an
            // earlier term above its commit point loses leadership (the
            // middle of the paper's Figure 8).
            let uncommitted = self.log.last_index().saturating_sub(self.commit).min(3);
            detsim::coverage!("leader steps down with uncommitted entries", uncommitted);
        }
        self.role = Role::Follower;
        self.leader = leader;
        self.votes.clear();
    }

    fn become_leader(&mut self) {
        self.role = Role::Leader;
        self.leader = Some(self.config.id);
        self.heartbeat_elapsed = 0;
        self.election_elapsed = 0;
        let next = self.log.last_index() + 1;
        // Coverage for the explorer: the leader of term T holds entries of
        // an earlier term that are not known committed (Figure 8's start).
        let gap = self.hard.term.saturating_sub(self.log.last_term()).min(3);
        let uncommitted = self.log.last_index().saturating_sub(self.commit).min(3);
        detsim::coverage!(
            "new leader: term gap to its last entry, uncommitted entries",
            (gap, uncommitted)
        );
        for (id, progress) in self.progress.iter_mut().enumerate() {
            *progress = Progress {
                next,
                active: id == usize::from(self.config.id),
                ..Progress::default()
            };
        }
        if self.config.bugs.has(Bug::Figure8) {
            // The naive leader of the paper's Figure 8: no no-op, it commits
            // earlier entries by counting instead.
            self.broadcast_append(true);
            return;
        }
        // The no-op commits the entries of earlier terms (§5.4.2) and lets
        // reads be served.
        self.append_own(Command::Noop);
        self.broadcast_append(false);
    }

    fn check_quorum(&mut self) {
        let me = usize::from(self.config.id);
        let active = self
            .progress
            .iter()
            .enumerate()
            .filter(|(id, p)| *id == me || p.active)
            .count();
        for progress in &mut self.progress {
            progress.active = false;
        }
        if active < self.config.majority() {
            // Cut off from a majority: another leader may exist; stop serving.
            let term = self.hard.term;
            self.become_follower(term, None, true);
        }
    }

    // ----- replication -----

    fn append_own(&mut self, command: Command) -> u64 {
        let entry = Entry {
            index: self.log.last_index() + 1,
            term: self.hard.term,
            command,
        };
        let index = entry.index;
        self.log.append(entry.clone());
        self.ready.entries.push(entry);
        if self.config.bugs.has(Bug::AckBeforeDurable) {
            // The mistake: count our own copy before it is on disk.
            self.durable_index = index;
        }
        self.maybe_commit();
        index
    }

    fn broadcast_append(&mut self, heartbeat: bool) {
        for peer in self.peers() {
            let progress = self.progress[usize::from(peer)];
            let behind = progress.next <= self.log.last_index();
            if heartbeat || (behind && !progress.in_flight) {
                self.send_append(peer);
            }
        }
    }

    fn send_append(&mut self, peer: NodeId) {
        let progress = &mut self.progress[usize::from(peer)];
        let prev_index = progress.next - 1;
        let entries = self
            .log
            .slice(progress.next, self.config.append_entries_max)
            .to_vec();
        progress.in_flight = !entries.is_empty();
        let prev_term = self
            .log
            .term_at(prev_index)
            .expect("next is within the log");
        let body = Body::Append {
            prev_index,
            prev_term,
            entries,
            commit: self.commit,
            read_round: self.read_round,
        };
        self.send(peer, body);
    }

    fn on_append(
        &mut self,
        from: NodeId,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry>,
        commit: u64,
        read_round: u64,
    ) {
        // Same term: `from` is the leader.
        if self.role != Role::Follower || self.leader != Some(from) {
            let term = self.hard.term;
            self.become_follower(term, Some(from), true);
        }
        self.election_elapsed = 0;
        let reply = |success, index| Body::AppendReply {
            success,
            index,
            read_round,
        };
        if self.log.term_at(prev_index) != Some(prev_term) {
            let hint = self.log.last_index().min(prev_index.saturating_sub(1));
            self.send(from, reply(false, hint));
            return;
        }
        let last_new = prev_index + entries.len() as u64;
        for entry in entries {
            match self.log.term_at(entry.index) {
                Some(term) if term == entry.term => {}
                Some(_) if self.config.bugs.has(Bug::NoTruncate) => {
                    // The mistake: "entries already in the log are the same".
                }
                Some(term) => {
                    // Coverage for the explorer: how far above the commit
                    // point, and how many terms back, a conflict is cut.
                    detsim::coverage!(
                        "follower truncates a conflict (entries above commit, term gap)",
                        (
                            entry.index.saturating_sub(self.commit).min(3),
                            entry.term.saturating_sub(term).min(3)
                        )
                    );
                    detsim::always!(
                        entry.index > self.commit,
                        "committed entries are never truncated"
                    );
                    self.truncate_from(entry.index);
                    self.append_follower(entry);
                }
                None => self.append_follower(entry),
            }
        }
        if commit > self.commit {
            self.set_commit(commit.min(last_new));
        }
        self.send(from, reply(true, last_new));
    }

    fn truncate_from(&mut self, index: u64) {
        self.log.truncate_from(index);
        self.durable_index = self.durable_index.min(index - 1);
        self.ready.entries.retain(|e| e.index < index);
        self.ready.truncate_from = Some(self.ready.truncate_from.map_or(index, |t| t.min(index)));
    }

    fn append_follower(&mut self, entry: Entry) {
        self.log.append(entry.clone());
        self.ready.entries.push(entry);
    }

    fn on_append_reply(&mut self, from: NodeId, success: bool, index: u64, read_round: u64) {
        if self.role != Role::Leader {
            return;
        }
        let last = self.log.last_index();
        let progress = &mut self.progress[usize::from(from)];
        progress.active = true;
        progress.read_round = progress.read_round.max(read_round);
        progress.in_flight = false;
        if success {
            progress.matched = progress.matched.max(index.min(last));
            progress.next = progress.next.max(progress.matched + 1);
            self.maybe_commit();
        } else {
            // Back up, to just past the follower's hint.
            progress.next = (index + 1).min(progress.next.saturating_sub(1)).max(1);
        }
        self.confirm_reads();
        if self.progress[usize::from(from)].next <= last {
            self.send_append(from);
        }
    }

    fn maybe_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let me = usize::from(self.config.id);
        let mut matched: Vec<u64> = self
            .progress
            .iter()
            .enumerate()
            .map(|(id, p)| {
                if id == me {
                    self.durable_index
                } else {
                    p.matched
                }
            })
            .collect();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        let replicated = matched[self.config.majority() - 1];
        if replicated <= self.commit {
            return;
        }
        let term = self
            .log
            .term_at(replicated)
            .expect("replicated entries are in the log");
        // §5.4.2: only entries of the current term are committed by counting.
        let earlier = term != self.hard.term;
        detsim::sometimes!(earlier, "a majority holds an entry of an earlier term");
        if earlier {
            detsim::coverage!(
                "a majority holds an entry of an earlier term (term gap)",
                self.hard.term.saturating_sub(term).min(3)
            );
        }
        if !earlier || self.config.bugs.has(Bug::Figure8) {
            self.set_commit(replicated);
        }
    }

    fn set_commit(&mut self, commit: u64) {
        if commit <= self.commit {
            return;
        }
        let from = self.commit + 1;
        self.ready
            .committed
            .extend_from_slice(self.log.slice(from, (commit - self.commit) as usize));
        self.commit = commit;
        if self.role == Role::Leader {
            self.index_reads();
        }
    }

    // ----- reads -----

    fn index_reads(&mut self) {
        if self.reads_unindexed.is_empty() {
            return;
        }
        if self.log.term_at(self.commit) != Some(self.hard.term) {
            // Until its no-op commits, a new leader does not know the commit index.
            return;
        }
        self.read_round += 1;
        let (index, round) = (self.commit, self.read_round);
        for id in std::mem::take(&mut self.reads_unindexed) {
            self.reads.push(PendingRead { id, index, round });
        }
        self.broadcast_append(true);
        self.confirm_reads();
    }

    fn confirm_reads(&mut self) {
        if self.reads.is_empty() {
            return;
        }
        let me = usize::from(self.config.id);
        let mut rounds: Vec<u64> = self
            .progress
            .iter()
            .enumerate()
            .map(|(id, p)| {
                if id == me {
                    self.read_round
                } else {
                    p.read_round
                }
            })
            .collect();
        rounds.sort_unstable_by(|a, b| b.cmp(a));
        let confirmed = rounds[self.config.majority() - 1];
        let (done, waiting): (Vec<PendingRead>, Vec<PendingRead>) =
            self.reads.iter().partition(|r| r.round <= confirmed);
        self.reads = waiting;
        self.ready
            .reads
            .extend(done.iter().map(|r| (r.id, r.index)));
    }

    fn drop_reads(&mut self) {
        let dropped = std::mem::take(&mut self.reads_unindexed)
            .into_iter()
            .chain(std::mem::take(&mut self.reads).into_iter().map(|r| r.id));
        self.ready.reads_dropped.extend(dropped);
        for progress in &mut self.progress {
            progress.read_round = 0;
        }
    }

    // ----- helpers -----

    fn peers(&self) -> impl Iterator<Item = NodeId> + 'static {
        let me = self.config.id;
        (0..self.config.nodes as NodeId).filter(move |id| *id != me)
    }

    fn send(&mut self, to: NodeId, body: Body) {
        self.ready.messages.push(RaftMessage {
            from: self.config.id,
            to,
            term: self.hard.term,
            body,
        });
    }

    fn mark_hard_state(&mut self) {
        self.ready.hard_state = Some(self.hard);
    }

    /// A summary for failure reports: `n1 leader t7 last 42 commit 40`.
    pub fn describe(&self) -> String {
        let role = match self.role {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        };
        let amnesia = if self.in_amnesia() { " amnesia" } else { "" };
        format!(
            "{role} t{} last {} commit {}{amnesia}",
            self.hard.term,
            self.log.last_index(),
            self.commit
        )
    }

    /// Per-follower match indexes, as the leader sees them (empty otherwise).
    pub fn matched(&self) -> BTreeMap<NodeId, u64> {
        if self.role != Role::Leader {
            return BTreeMap::new();
        }
        self.progress
            .iter()
            .enumerate()
            .map(|(id, p)| (id as NodeId, p.matched))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::kv::Op;

    /// A cluster in memory: messages delivered in order unless a node is cut
    /// off; every Ready is "persisted" at once.
    struct Cluster {
        nodes: Vec<RaftNode>,
        queue: std::collections::VecDeque<RaftMessage>,
        cut: BTreeSet<NodeId>,
        applied: Vec<Vec<Entry>>,
    }

    impl Cluster {
        fn new(count: usize, bug: Option<Bug>) -> Cluster {
            let nodes = (0..count)
                .map(|id| {
                    let mut config = Config::new(id as NodeId, count);
                    config.bugs = Bugs(bug);
                    RaftNode::new(config, HardState::default(), Log::default(), id as u64 + 1)
                })
                .collect();
            Cluster {
                nodes,
                queue: Default::default(),
                cut: BTreeSet::new(),
                applied: vec![Vec::new(); count],
            }
        }

        fn drain(&mut self, id: usize) {
            let ready = self.nodes[id].take_ready();
            let last = self.nodes[id].log().last_index();
            self.nodes[id].advance(last);
            self.applied[id].extend(ready.committed);
            self.queue.extend(ready.messages);
            let again = self.nodes[id].take_ready();
            self.applied[id].extend(again.committed);
            self.queue.extend(again.messages);
        }

        fn settle(&mut self) {
            for id in 0..self.nodes.len() {
                self.drain(id);
            }
            while let Some(message) = self.queue.pop_front() {
                if self.cut.contains(&message.from) || self.cut.contains(&message.to) {
                    continue;
                }
                let to = usize::from(message.to);
                self.nodes[to].step(message);
                self.drain(to);
            }
        }

        fn tick(&mut self, ticks: u32) {
            for _ in 0..ticks {
                for id in 0..self.nodes.len() {
                    self.nodes[id].tick();
                }
                self.settle();
            }
        }

        fn leader(&self) -> Option<usize> {
            let leaders: Vec<usize> = (0..self.nodes.len())
                .filter(|id| {
                    self.nodes[*id].role() == Role::Leader && !self.cut.contains(&(*id as NodeId))
                })
                .collect();
            leaders.first().copied()
        }
    }

    fn put(client: u64, seq: u64) -> Command {
        Command::Client {
            client,
            seq,
            op: Op::Put {
                key: "k".into(),
                value: seq,
            },
        }
    }

    #[test]
    fn a_leader_is_elected_and_replicates() {
        // Proves election, replication and commit in a healthy cluster.
        let mut cluster = Cluster::new(3, None);
        cluster.tick(40);
        let leader = cluster.leader().expect("a leader after 400 ms");
        let index = cluster.nodes[leader].propose(put(1, 1)).unwrap();
        cluster.settle();
        cluster.tick(10);
        for node in &cluster.nodes {
            assert!(node.commit() >= index, "{}", node.describe());
        }
        assert!(cluster.applied.iter().all(|a| a.len() as u64 >= index));
        assert_eq!(cluster.applied[0], cluster.applied[1]);
    }

    #[test]
    fn a_cut_off_leader_steps_down_and_a_new_one_takes_over() {
        // Proves check-quorum and re-election after a partition.
        let mut cluster = Cluster::new(5, None);
        cluster.tick(40);
        let old = cluster.leader().unwrap();
        cluster.cut.insert(old as NodeId);
        cluster.tick(60);
        assert_ne!(cluster.nodes[old].role(), Role::Leader, "check-quorum");
        let new = cluster.leader().expect("a new leader");
        assert!(cluster.nodes[new].term() > cluster.nodes[old].term() || new != old);
        cluster.cut.clear();
        cluster.tick(20);
        assert_eq!(cluster.nodes[old].log(), cluster.nodes[new].log());
    }

    #[test]
    fn reads_wait_for_a_majority_to_confirm_leadership() {
        // Proves a read index is served only after a heartbeat round, and a
        // cut-off leader never serves it (unless the stale-read bug is planted).
        for bug in [None, Some(Bug::StaleLeaderRead)] {
            let mut cluster = Cluster::new(3, bug);
            cluster.tick(40);
            let leader = cluster.leader().unwrap();
            let others: Vec<NodeId> = (0..3).filter(|id| *id != leader as NodeId).collect();
            cluster.cut.extend(others);
            cluster.nodes[leader].read(7).unwrap();
            let ready = cluster.nodes[leader].take_ready();
            assert_eq!(ready.reads.is_empty(), bug.is_none(), "{bug:?}");
            cluster.cut.clear();
        }
        let mut cluster = Cluster::new(3, None);
        cluster.tick(40);
        let leader = cluster.leader().unwrap();
        cluster.nodes[leader].read(9).unwrap();
        cluster
            .queue
            .extend(cluster.nodes[leader].take_ready().messages);
        let mut served = Vec::new();
        while let Some(message) = cluster.queue.pop_front() {
            let to = usize::from(message.to);
            cluster.nodes[to].step(message);
            let ready = cluster.nodes[to].take_ready();
            served.extend(ready.reads);
            cluster.queue.extend(ready.messages);
        }
        assert_eq!(served.len(), 1);
        assert_eq!(served[0].0, 9);
    }

    /// Builds Figure 8's situation (c): leader 0 of term 4 holds an entry of
    /// term 2 at index 2 that it has replicated to a majority, while node 4
    /// holds a conflicting entry of term 3 there.
    fn figure_8(bug: Option<Bug>) -> RaftNode {
        let e = |index, term| Entry {
            index,
            term,
            command: Command::Noop,
        };
        let mut config = Config::new(0, 5);
        config.bugs = Bugs(bug);
        let log = Log::from_entries(vec![e(1, 1), e(2, 2)]);
        let hard = HardState {
            term: 3,
            voted_for: None,
            amnesia_term: 0,
            amnesia_index: 0,
        };
        let mut leader = RaftNode::new(config, hard, log, 1);
        for _ in 0..40 {
            leader.tick();
            if leader.role() == Role::Candidate {
                break;
            }
        }
        assert_eq!(leader.term(), 4);
        for from in [1, 2] {
            leader.step(RaftMessage {
                from,
                to: 0,
                term: 4,
                body: Body::Vote { granted: true },
            });
        }
        assert_eq!(leader.role(), Role::Leader);
        leader.advance(leader.log().last_index());
        leader.take_ready();
        // Followers 1 and 2 now hold index 2 (term 2), not yet the no-op at 3.
        for from in [1, 2] {
            leader.step(RaftMessage {
                from,
                to: 0,
                term: 4,
                body: Body::AppendReply {
                    success: true,
                    index: 2,
                    read_round: 0,
                },
            });
        }
        leader
    }

    #[test]
    fn entries_of_earlier_terms_are_not_committed_by_counting() {
        // Proves the §5.4.2 rule: a majority holding index 2 (term 2) does not
        // commit it under a term-4 leader; the figure-8 bug does.
        assert_eq!(figure_8(None).commit(), 0);
        assert_eq!(figure_8(Some(Bug::Figure8)).commit(), 2);
    }

    #[test]
    fn a_node_in_amnesia_votes_as_if_it_had_not_forgotten() {
        // Proves the rule for disks that lost acknowledged entries: no
        // campaign, and votes only for candidates as up to date as what was
        // acknowledged; catching up ends it.
        let hard = HardState {
            term: 5,
            voted_for: None,
            amnesia_term: 4,
            amnesia_index: 3,
        };
        let mut node = RaftNode::new(Config::new(1, 3), hard, Log::default(), 3);
        for _ in 0..100 {
            node.tick();
        }
        assert_eq!(node.role(), Role::Follower);
        node.take_ready();
        let ask = |from, term, last_index, last_term| RaftMessage {
            from,
            to: 1,
            term,
            body: Body::RequestVote {
                last_index,
                last_term,
            },
        };
        node.step(ask(0, 6, 2, 4));
        assert_eq!(
            node.take_ready().messages[0].body,
            Body::Vote { granted: false }
        );
        node.step(ask(2, 7, 3, 4));
        assert_eq!(
            node.take_ready().messages[0].body,
            Body::Vote { granted: true }
        );
        let e = |index, term| Entry {
            index,
            term,
            command: Command::Noop,
        };
        node.step(RaftMessage {
            from: 2,
            to: 1,
            term: 7,
            body: Body::Append {
                prev_index: 0,
                prev_term: 0,
                entries: vec![e(1, 2), e(2, 4), e(3, 4)],
                commit: 0,
                read_round: 0,
            },
        });
        assert!(!node.in_amnesia());
    }

    #[test]
    fn conflicting_entries_are_truncated_unless_the_bug_keeps_them() {
        // Proves truncation on conflict, and what no-truncate does instead.
        for bug in [None, Some(Bug::NoTruncate)] {
            let e = |index, term| Entry {
                index,
                term,
                command: Command::Noop,
            };
            let mut config = Config::new(1, 3);
            config.bugs = Bugs(bug);
            let log = Log::from_entries(vec![e(1, 1), e(2, 2), e(3, 2)]);
            let hard = HardState {
                term: 3,
                voted_for: None,
                amnesia_term: 0,
                amnesia_index: 0,
            };
            let mut node = RaftNode::new(config, hard, log, 5);
            node.step(RaftMessage {
                from: 0,
                to: 1,
                term: 3,
                body: Body::Append {
                    prev_index: 1,
                    prev_term: 1,
                    entries: vec![e(2, 3)],
                    commit: 2,
                    read_round: 0,
                },
            });
            let ready = node.take_ready();
            match bug {
                None => {
                    assert_eq!(ready.truncate_from, Some(2));
                    assert_eq!(node.log().entries(), &[e(1, 1), e(2, 3)]);
                    assert_eq!(ready.committed, vec![e(1, 1), e(2, 3)]);
                }
                Some(_) => {
                    assert_eq!(node.log().entries(), &[e(1, 1), e(2, 2), e(3, 2)]);
                    assert_eq!(ready.committed, vec![e(1, 1), e(2, 2)]);
                }
            }
        }
    }
}
