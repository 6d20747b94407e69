//! The book's chapters and the README, compiled and run as doc-tests, so the
//! documentation can never drift from the API.

#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadMe;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/getting-started.md")]
pub struct GettingStarted;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/nodes.md")]
pub struct Nodes;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/reference/failures.md")]
pub struct Failures;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/reading-failures.md")]
pub struct ReadingFailures;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/history.md")]
pub struct HistoryChapter;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/sweeps.md")]
pub struct Sweeps;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/replay.md")]
pub struct Replay;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/fault-plans.md")]
pub struct FaultPlans;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/chaos.md")]
pub struct Chaos;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/storage.md")]
pub struct StorageChapter;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/network.md")]
pub struct NetworkChapter;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/pingpong.md")]
pub struct PingPong;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/load-balancer.md")]
pub struct LoadBalancerChapter;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/raft.md")]
pub struct RaftChapter;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/third-party.md")]
pub struct ThirdParty;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/reference/determinism.md")]
pub struct DeterminismRules;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/tokio-services.md")]
pub struct TokioServicesChapter;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/exploration.md")]
pub struct Exploration;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/reference/common-mistakes.md")]
pub struct CommonMistakes;

#[cfg(doctest)]
#[doc = include_str!("../../book/src/reference/speed.md")]
pub struct Speed;
