//! The backends' journal: what was acknowledged survives a crash, a torn
//! tail is cut off.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use detsim::{Seed, Sim, time};
use detsim_disk::{DiskConfig, Disks};
use examples::lb::Journal;

#[test]
fn acknowledged_records_survive_crashes() {
    // Proves: every append that returned Ok is recovered after a crash on an
    // adversarial disk (unsynced writes lost, reordered or torn).
    for seed in 0..8 {
        let mut sim = Sim::builder(Seed::new(seed)).quiet().build().unwrap();
        Disks::install(&sim, DiskConfig::default()).unwrap();
        let log: Rc<RefCell<Vec<(u64, u64)>>> = Rc::default();
        let l = log.clone();
        let node = sim
            .add_node("api", move |_| {
                let l = l.clone();
                async move {
                    let storage = detsim_disk::storage().unwrap();
                    let mut journal = Journal::open(&storage).await.unwrap();
                    let recovered = journal.records();
                    let mut acked = recovered;
                    l.borrow_mut().push((recovered, acked));
                    loop {
                        journal.append(&[7u8; 100]).await.unwrap();
                        acked += 1;
                        l.borrow_mut().last_mut().unwrap().1 = acked;
                    }
                }
            })
            .unwrap();
        sim.run(async move {
            for i in 0..4u64 {
                time::sleep(Duration::from_millis(7 + 3 * i)).await;
                detsim::handle().crash(node).unwrap();
                detsim::handle().restart(node).unwrap();
            }
            time::sleep(Duration::from_millis(5)).await;
        })
        .unwrap();
        let log = log.borrow();
        assert_eq!(log.len(), 5);
        for pair in log.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            assert!(
                after.0 >= before.1,
                "seed {seed}: acknowledged {} recovered {}",
                before.1,
                after.0
            );
            assert!(
                after.0 <= before.1 + 1,
                "seed {seed}: recovered more than was written"
            );
        }
        assert!(
            log.last().unwrap().1 > 10,
            "seed {seed}: the journal made progress"
        );
    }
}
