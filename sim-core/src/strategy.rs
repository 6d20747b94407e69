//! proptest strategies for seeds and fault plans (feature `proptest`).
//!
//! A plan strategy draws a list of raw fault draws and assembles them with a
//! [`Nemesis`]; proptest's shrinking of that list removes faults one by one,
//! so a failing `proptest!` over `(seed, plan)` shrinks to a minimal plan,
//! and proptest's own persistence file replays it.
//!
//! ```
//! use detsim::{Nemesis, Topology, strategy};
//! use proptest::prelude::*;
//!
//! proptest! {
//!     #![proptest_config(ProptestConfig { cases: 8, failure_persistence: None, ..ProptestConfig::default() })]
//!     fn plans_stay_inside_the_window(
//!         seed in strategy::seed(),
//!         plan in strategy::plan(Nemesis::default(), Topology::nodes(["a", "b", "c"]), 12),
//!     ) {
//!         let _ = seed;
//!         prop_assert!(plan.quiet_from() <= Nemesis::default().end);
//!     }
//! }
//! # plans_stay_inside_the_window();
//! ```

use proptest::prelude::*;

use crate::{Nemesis, Plan, Seed, Topology};

/// Any seed; shrinks towards 0.
pub fn seed() -> impl Strategy<Value = Seed> {
    any::<u64>().prop_map(Seed::new)
}

/// Plans of up to `entries_max` faults drawn by `nemesis` over `topology`;
/// shrinking removes faults (and moves the rest earlier and shorter).
pub fn plan(
    nemesis: Nemesis,
    topology: Topology,
    entries_max: usize,
) -> impl Strategy<Value = Plan> {
    proptest::collection::vec(
        (any::<usize>(), any::<u64>(), 0.0..1.0f64, 0.0..1.0f64),
        0..=entries_max,
    )
    .prop_map(move |draws| nemesis.assemble(&draws, &topology))
}
