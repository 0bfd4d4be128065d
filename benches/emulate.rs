//! era_emulate's I/O path, measured (run by hand):
//!
//! `cargo bench --bench emulate`
//!
//! On a 16M-block origin (block size 8 sectors, a sparse 64 GiB file) and 256 MiB of
//! metadata: N single-block writes to distinct blocks over 10 eras (each a first write
//! in its era, so each commits the metadata), then N rewrites of blocks already marked in
//! the current era, against the same N writes sent to the origin file directly. Runs
//! once with `--unsafe-no-sync` behaviour and once with fdatasync at every commit.
//! `ERA_BENCH_WRITES` sets N (default 1,000,000); `ERA_BENCH_SYNC_WRITES` sets N for the
//! synced run (default 100,000: each commit waits for the disk).

use era_tools::emulate::origin::{FileOrigin, Origin};
use era_tools::emulate::target::{Message, Target};
use era_tools::io::{BlockIo, FileIo, OpenMode};
use std::sync::Arc;
use std::time::Instant;

const NR_BLOCKS: u64 = 16 << 20;
const BLOCK_SECTORS: u64 = 8;
const BLOCK_BYTES: usize = 4096;

/// The i-th block of a fixed permutation of all blocks (odd multiplier mod 2^24).
fn block(i: u64) -> u64 {
    (i.wrapping_mul(2_654_435_761)) % NR_BLOCKS
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run(writes: u64, sync: bool) {
    let dir =
        tempfile::tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/tmp".into())).unwrap();
    let meta_path = dir.path().join("meta.img");
    let origin_path = dir.path().join("origin.img");
    std::fs::File::create(&meta_path)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    std::fs::File::create(&origin_path)
        .unwrap()
        .set_len(NR_BLOCKS * BLOCK_BYTES as u64)
        .unwrap();
    let meta: Arc<dyn BlockIo> =
        Arc::new(FileIo::open(&meta_path, OpenMode::WriteExclusive).unwrap());
    let open_origin = || {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&origin_path)
            .unwrap();
        Arc::new(FileOrigin::new(f, sync).unwrap())
    };
    let origin: Arc<dyn Origin> = open_origin();
    let mut target = Target::construct(
        meta,
        origin,
        NR_BLOCKS * BLOCK_SECTORS,
        BLOCK_SECTORS as u32,
        sync,
    )
    .unwrap();
    target.resume().unwrap();
    let data = vec![0xa5u8; BLOCK_BYTES];
    let per_era = writes.div_ceil(10);

    let t = Instant::now();
    for i in 0..writes {
        if i > 0 && i % per_era == 0 {
            target
                .message(Message::parse(&["checkpoint"]).unwrap())
                .unwrap();
        }
        target.write(block(i) * BLOCK_SECTORS, &data).unwrap();
    }
    let first = t.elapsed().as_secs_f64();

    // Rewrites of the blocks marked in the current (last) era, against the same writes
    // sent straight to the origin file: alternated in ten rounds so that neither side
    // gets the warmer page cache.
    let last_era_start = (writes - 1) / per_era * per_era;
    let marked = writes - last_era_start;
    let direct = open_origin();
    let (mut rewrites, mut plain) = (0.0, 0.0);
    let round = writes.div_ceil(10);
    for r in 0..10 {
        let range = r * round..((r + 1) * round).min(writes);
        let t = Instant::now();
        for i in range.clone() {
            target
                .write(block(last_era_start + i % marked) * BLOCK_SECTORS, &data)
                .unwrap();
        }
        rewrites += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for i in range {
            direct
                .write_at(
                    block(last_era_start + i % marked) * BLOCK_BYTES as u64,
                    &data,
                )
                .unwrap();
        }
        plain += t.elapsed().as_secs_f64();
    }

    let status = target.status().unwrap();
    println!(
        "| {} | {writes} | {:.0} | {:.0} | {:.0} | {:+.1}% | {:?} |",
        if sync {
            "fdatasync"
        } else {
            "--unsafe-no-sync"
        },
        writes as f64 / first,
        writes as f64 / rewrites,
        writes as f64 / plain,
        (rewrites - plain) / plain * 100.0,
        status,
    );
}

fn main() {
    println!("| mode | writes | first writes/s | rewrites/s | origin directly/s | rewrite overhead | final status |");
    println!("|---|---|---|---|---|---|---|");
    run(env("ERA_BENCH_WRITES", 1_000_000), false);
    run(env("ERA_BENCH_SYNC_WRITES", 100_000), true);
}
