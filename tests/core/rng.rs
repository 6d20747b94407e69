//! Randomness: named streams, stability when nodes or consumers are added.

use std::cell::RefCell;
use std::rc::Rc;

use detsim::{Seed, Sim, SimRng, random};
use rand_core::RngCore;

fn draws_of_n1(seed: u64, extra_nodes: usize) -> Vec<u64> {
    let out = Rc::new(RefCell::new(Vec::new()));
    let mut sim = Sim::new(Seed::new(seed));
    // Other nodes, added before n1, that draw too.
    for i in 0..extra_nodes {
        sim.add_node(&format!("x{i}"), |_| async {
            for _ in 0..5 {
                random::next_u64();
            }
        })
        .unwrap();
    }
    let o = out.clone();
    sim.add_node("n1", move |_| {
        let o = o.clone();
        async move {
            for _ in 0..5 {
                o.borrow_mut()
                    .push(random::with(|rng| rng.below(1_000_000)));
            }
        }
    })
    .unwrap();
    sim.run(async {
        // The harness draws too.
        random::next_u64();
    })
    .unwrap();
    out.take()
}

#[test]
fn adding_nodes_does_not_change_another_nodes_draws() {
    // Each node has its own named stream: n1's draws are the same with 0, 1 or 5 other nodes.
    let alone = draws_of_n1(11, 0);
    assert_eq!(alone.len(), 5);
    assert_eq!(draws_of_n1(11, 1), alone);
    assert_eq!(draws_of_n1(11, 5), alone);
    assert_ne!(draws_of_n1(12, 0), alone, "another seed draws differently");
}

#[test]
fn named_streams_are_independent_of_each_other_and_of_order() {
    // Drawing from one stream does not advance another; the stream depends only on (seed, name).
    let seed = Seed::new(77);
    let mut a = SimRng::stream(seed, "disk/n1");
    let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
    let mut b = SimRng::stream(seed, "net/n1->n2");
    for _ in 0..100 {
        b.next_u64();
    }
    let mut a2 = SimRng::stream(seed, "disk/n1");
    let again: Vec<u64> = (0..4).map(|_| a2.next_u64()).collect();
    assert_eq!(first, again);
    let mut c = SimRng::stream(seed, "disk/n2");
    assert_ne!(c.next_u64(), first[0]);
}

#[test]
fn sim_rng_helpers_respect_their_bounds() {
    // chance(0) never, chance(1) always, chance(p) about p; unit in [0,1).
    let mut rng = SimRng::stream(Seed::new(1), "t");
    assert!((0..1000).all(|_| !rng.chance(0.0)));
    assert!((0..1000).all(|_| rng.chance(1.0)));
    let hits = (0..10_000).filter(|_| rng.chance(0.3)).count();
    assert!((2_800..3_200).contains(&hits), "{hits}");
    assert!(
        (0..1000)
            .map(|_| rng.unit_f64())
            .all(|x| (0.0..1.0).contains(&x))
    );
}
