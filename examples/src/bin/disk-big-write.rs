//! `disk-big-write`: one 1 GiB `write_at` (or `--chunks N` writes adding up
//! to 1 GiB) to a simulated file, then a sync; prints the virtual time each
//! took. Run it under `/usr/bin/time -v` to see the process's peak memory:
//! the disk holds the written sectors once (shared by the cache, the write
//! cache and, after the sync, the durable image), beside the caller's buffer.
//!
//! ```text
//! cargo build --release -p examples --bin disk-big-write
//! /usr/bin/time -v target/release/disk-big-write              # one 1 GiB write
//! /usr/bin/time -v target/release/disk-big-write --chunks 1024 # 1024 writes of 1 MiB
//! ```

use clap::Parser;
use detsim::{Seed, Sim, time};
use detsim_disk::{DiskConfig, Disks, File, OpenOptions, Storage};

const TOTAL: usize = 1 << 30;

#[derive(Parser)]
#[command(about = "One big write to a simulated disk: virtual time and memory")]
struct Args {
    /// How many writes make up the 1 GiB (1: one write of 1 GiB).
    #[arg(long, default_value_t = 1)]
    chunks: usize,
}

fn main() {
    let args = Args::parse();
    if args.chunks == 0 || TOTAL % args.chunks != 0 {
        eprintln!(
            "--chunks must divide 1 GiB ({TOTAL} bytes), got {}",
            args.chunks
        );
        std::process::exit(2);
    }
    let chunk = TOTAL / args.chunks;
    let chunks = args.chunks;
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
                .open("/big", OpenOptions::read_write().create(true))
                .await
                .expect("create");
            let data = vec![7u8; chunk];
            let start = time::now();
            for i in 0..chunks {
                file.write_at(&data, (i * chunk) as u64)
                    .await
                    .expect("write");
            }
            let written = time::now();
            file.sync_data().await.expect("sync");
            let synced = time::now();
            assert_eq!(file.len().expect("len"), TOTAL as u64);
            (written - start, synced - written)
        })
        .expect("disk-big-write runs");
    let (write, sync) = report.value;
    println!(
        "{chunks} write(s) of {} MiB: writing took {write:?} of virtual time, the sync {sync:?}",
        chunk >> 20
    );
}
