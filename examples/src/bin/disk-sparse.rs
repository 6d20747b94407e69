//! `disk-sparse`: writes 10 MiB spread across a 1 GiB simulated file, syncs,
//! crashes and restarts the node, reads it all back, and prints the disk's
//! usage. Run it under `/usr/bin/time -v` to see that the process holds
//! about 10 MiB of file data, not 1 GiB:
//!
//! ```text
//! cargo build --release -p examples --bin disk-sparse
//! /usr/bin/time -v target/release/disk-sparse
//! ```

use detsim::{Seed, Sim};
use detsim_disk::{DiskConfig, Disks, File, OpenOptions, Storage};

const FILE: u64 = 1 << 30;
const WRITTEN: u64 = 10 << 20;
const BLOCK: u64 = 4096;

fn main() {
    let mut sim = Sim::builder(Seed::new(1))
        .quiet()
        .build()
        .expect("valid config");
    let disks = Disks::install(&sim, DiskConfig::default()).expect("valid disk config");
    let node = sim.add_node("n1", |_| async {}).expect("fresh name");
    let report = sim
        .run(async move {
            let storage = disks.storage(node).expect("a node's disk");
            let file = storage
                .open("/sparse", OpenOptions::read_write().create(true))
                .await
                .expect("create");
            file.set_len(FILE).await.expect("size");
            let blocks = WRITTEN / BLOCK;
            let stride = FILE / blocks / BLOCK * BLOCK;
            for i in 0..blocks {
                let block = vec![(i % 251) as u8 + 1; BLOCK as usize];
                file.write_at(&block, i * stride).await.expect("write");
            }
            file.sync_all().await.expect("sync");
            storage.sync_dir("/").await.expect("sync dir");
            detsim::handle().crash(node).expect("crash");
            detsim::handle().restart(node).expect("restart");
            let file = storage
                .open("/sparse", OpenOptions::read_only())
                .await
                .expect("reopen");
            let mut buf = vec![0; BLOCK as usize];
            for i in 0..blocks {
                file.read_at(&mut buf, i * stride).await.expect("read");
                assert!(buf.iter().all(|b| *b == (i % 251) as u8 + 1));
            }
            assert_eq!(file.len().expect("len"), FILE);
            disks.usage(node).expect("usage")
        })
        .expect("disk-sparse runs");
    println!(
        "file length {} MiB, written {} MiB, disk usage {} MiB",
        FILE >> 20,
        WRITTEN >> 20,
        report.value.used >> 20
    );
}
