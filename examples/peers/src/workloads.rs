//! The five workloads, with detsim's constants (`examples/src/bench/net.rs`,
//! `core.rs`): the same counts, seeds, delays and units.

use std::time::Duration;

/// Round trips of `pingpong` (detsim's `PINGPONG_ROUND_TRIPS`).
pub const PINGPONG_ROUND_TRIPS: u64 = 200_000;
/// Tasks of `timers-node` (`TIMER_TASKS`).
pub const TIMER_TASKS: u64 = 10_000;
/// Sleeps per task of `timers-node` (`TIMER_SLEEPS`).
pub const TIMER_SLEEPS: u64 = 100;
/// Longest sleep of `timers-node`, in ms: each is 1..=1000 ms.
pub const TIMER_MAX_MS: u64 = 1000;
/// Nodes of `broadcast` (`BROADCAST_NODES`).
pub const BROADCAST_NODES: u64 = 16;
/// Rounds of `broadcast` (`BROADCAST_ROUNDS`).
pub const BROADCAST_ROUNDS: u64 = 200;
/// Worlds of `seeds` (`SEEDS_WORLDS`).
pub const SEEDS_WORLDS: u64 = 200;
/// Round trips per world of `seeds` (`SEEDS_ROUND_TRIPS`).
pub const SEEDS_ROUND_TRIPS: u64 = 2_000;
/// Worlds of `worlds-net` (`NET_WORLDS`).
pub const NET_WORLDS: u64 = 2_000;
/// The constant one-way delay of every link.
pub const ONE_WAY: Duration = Duration::from_millis(1);
/// Seed of `pingpong`'s world (detsim's `pingpong_world(1, …)`).
pub const PINGPONG_SEED: u64 = 1;
/// Seed of `timers-node`'s world.
pub const TIMERS_SEED: u64 = 1;
/// Seed of `broadcast`'s world.
pub const BROADCAST_SEED: u64 = 3;

/// The workload names, in detsim's W1–W5 order.
pub const NAMES: [&str; 5] = [
    "pingpong",
    "timers-node",
    "broadcast",
    "seeds",
    "worlds-net",
];

/// One workload with its counts, after any scaling down.
#[derive(Clone, Copy, Debug)]
pub enum Workload {
    /// W1: one world (seed 1), 2 hosts, `round_trips` 8-byte UDP round trips
    /// over constant 1 ms links. Events: messages (2 per round trip).
    Pingpong {
        /// Round trips.
        round_trips: u64,
    },
    /// W2: one node, `tasks` tasks each sleeping a seeded random 1..=1000 ms
    /// `sleeps` times. Events: timer firings.
    TimersNode {
        /// Tasks.
        tasks: u64,
        /// Sleeps per task.
        sleeps: u64,
    },
    /// W3: 16 hosts, `rounds` rounds of all-to-all; each host sends to the 15
    /// others and waits for the round's 15 messages. Events: messages received.
    Broadcast {
        /// Rounds.
        rounds: u64,
    },
    /// W4: `worlds` fresh worlds (seeds 0..), each `round_trips` ping-pong
    /// round trips. Events: messages.
    Seeds {
        /// Worlds.
        worlds: u64,
        /// Round trips per world.
        round_trips: u64,
    },
    /// W5: `worlds` fresh worlds (seeds 0..), each 2 hosts and 1 round trip.
    /// Events: worlds.
    WorldsNet {
        /// Worlds.
        worlds: u64,
    },
}

impl Workload {
    /// The workload called `name`, its counts divided by `scale_down`.
    pub fn named(name: &str, scale_down: u64) -> Option<Workload> {
        Some(
            match name {
                "pingpong" => Workload::Pingpong {
                    round_trips: PINGPONG_ROUND_TRIPS,
                },
                "timers-node" => Workload::TimersNode {
                    tasks: TIMER_TASKS,
                    sleeps: TIMER_SLEEPS,
                },
                "broadcast" => Workload::Broadcast {
                    rounds: BROADCAST_ROUNDS,
                },
                "seeds" => Workload::Seeds {
                    worlds: SEEDS_WORLDS,
                    round_trips: SEEDS_ROUND_TRIPS,
                },
                "worlds-net" => Workload::WorldsNet { worlds: NET_WORLDS },
                _ => return None,
            }
            .scaled(scale_down),
        )
    }

    /// Divides by `k` the one count that leaves the cost of an event alone:
    /// `pingpong`'s round trips, `timers-node`'s sleeps per task (the 10 000
    /// tasks stay, so the timer queue is as full and virtual time per firing
    /// is the same), `broadcast`'s rounds, `seeds`' worlds (each world keeps
    /// its 2 000 round trips) and `worlds-net`'s worlds.
    pub fn scaled(self, k: u64) -> Workload {
        let div = |n: u64| (n / k).max(1);
        match self {
            Workload::Pingpong { round_trips } => Workload::Pingpong {
                round_trips: div(round_trips),
            },
            Workload::TimersNode { tasks, sleeps } => Workload::TimersNode {
                tasks,
                sleeps: div(sleeps),
            },
            Workload::Broadcast { rounds } => Workload::Broadcast {
                rounds: div(rounds),
            },
            Workload::Seeds {
                worlds,
                round_trips,
            } => Workload::Seeds {
                worlds: div(worlds),
                round_trips,
            },
            Workload::WorldsNet { worlds } => Workload::WorldsNet {
                worlds: div(worlds),
            },
        }
    }

    /// The unit of the workload's events.
    pub fn unit(&self) -> &'static str {
        match self {
            Workload::Pingpong { .. } | Workload::Broadcast { .. } | Workload::Seeds { .. } => {
                "message"
            }
            Workload::TimersNode { .. } => "firing",
            Workload::WorldsNet { .. } => "world",
        }
    }

    /// The events a run must do.
    pub fn events(&self) -> u64 {
        match *self {
            Workload::Pingpong { round_trips } => 2 * round_trips,
            Workload::TimersNode { tasks, sleeps } => tasks * sleeps,
            Workload::Broadcast { rounds } => BROADCAST_NODES * (BROADCAST_NODES - 1) * rounds,
            Workload::Seeds {
                worlds,
                round_trips,
            } => worlds * 2 * round_trips,
            Workload::WorldsNet { worlds } => worlds,
        }
    }
}

/// A peer's worlds: what each workload is made of.
pub struct Worlds {
    /// One pingpong world of `round_trips` with `seed`; returns virtual seconds.
    pub pingpong: fn(seed: u64, round_trips: u64) -> f64,
    /// The timers-node world; returns the firings and virtual seconds.
    pub timers_node: fn(tasks: u64, sleeps: u64) -> (u64, f64),
    /// The broadcast world; returns the messages and virtual seconds.
    pub broadcast: fn(rounds: u64) -> (u64, f64),
}

impl Workload {
    /// Runs the workload on a peer's `worlds`; returns the events done and the
    /// virtual seconds covered.
    pub fn run(&self, worlds: &Worlds) -> (u64, f64) {
        match *self {
            Workload::Pingpong { round_trips } => (
                2 * round_trips,
                (worlds.pingpong)(PINGPONG_SEED, round_trips),
            ),
            Workload::TimersNode { tasks, sleeps } => (worlds.timers_node)(tasks, sleeps),
            Workload::Broadcast { rounds } => (worlds.broadcast)(rounds),
            Workload::Seeds {
                worlds: count,
                round_trips,
            } => {
                let sim_s = (0..count)
                    .map(|seed| (worlds.pingpong)(seed, round_trips))
                    .sum();
                (count * 2 * round_trips, sim_s)
            }
            Workload::WorldsNet { worlds: count } => {
                let sim_s = (0..count).map(|seed| (worlds.pingpong)(seed, 1)).sum();
                (count, sim_s)
            }
        }
    }
}
