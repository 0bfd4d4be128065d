//! Damaged metadata must give errors, never panics: every block of an emulator image is
//! mutated (one field at a time, checksum re-sealed so that the damage gets past the
//! checksum), then the image is opened and used, each run bounded in time. Outside the
//! long run (`ERA_LONG_TESTS=1`) a seeded sample of the blocks is mutated.

use crate::common;

use common::damage::within;
use common::long_run::sample;
use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::io::MemIo;
use era_tools::pdata::checksum::{identify, seal};
use era_tools::units::{BlockBuf, BLOCK_SIZE};
use std::sync::Arc;
use std::time::Duration;

fn config(meta: Arc<MemIo>) -> RunConfig {
    RunConfig {
        meta,
        origin: Arc::new(MemOrigin::new(4096 * 512)),
        block_size: 8,
        length: None,
        sync: false,
        meta_name: "m".into(),
        origin_name: "o".into(),
    }
}

const USE: &str = "write 0 8\nwrite 4000 8\ncheckpoint\nstatus\nwrite 8 8\ntake_metadata_snap\nwrite 16 8\ndrop_metadata_snap\nreload 2048\nwrite 2040 8\nstatus\n";

fn image() -> Vec<u8> {
    let meta = Arc::new(MemIo::new(256));
    let mut r = Runner::new(config(meta.clone()));
    let script = "open\nwrite 0 8\nwrite 800 8\ncheckpoint\nwrite 8 8\ntake_metadata_snap\nwrite 24 8\ncheckpoint\nwrite 32 8\nstatus\ncrash";
    for l in parse_script(script).unwrap() {
        r.execute(&l.command, &mut Vec::new()).unwrap();
    }
    meta.to_bytes()
}

/// Blocks mutated outside the long run (of about 20 in use).
const SAMPLED_BLOCKS: usize = 8;

#[test]
fn damaged_metadata_never_panics() {
    let base = image();
    let used: Vec<usize> = (0..base.len() / BLOCK_SIZE)
        .filter(|&b| {
            base[b * BLOCK_SIZE..(b + 1) * BLOCK_SIZE]
                .iter()
                .any(|&x| x != 0)
        })
        .collect();
    assert!(used.len() > 15);
    let used = sample(used, SAMPLED_BLOCKS, 1);
    let offsets = [
        4usize, 8, 12, 16, 20, 24, 28, 32, 40, 44, 52, 60, 68, 180, 184, 188, 192, 200, 208, 216,
        2048, 2052,
    ];
    let values = [0u64, 1, 0xffff_ffff, u64::MAX, 1_000_000];
    for &b in &used {
        for &off in &offsets {
            for &v in &values {
                let mut img = base.clone();
                let blk: &mut BlockBuf = (&mut img[b * BLOCK_SIZE..(b + 1) * BLOCK_SIZE])
                    .try_into()
                    .unwrap();
                let kind = identify(blk);
                blk[off..off + 8].copy_from_slice(&v.to_le_bytes());
                if let Some(kind) = kind {
                    seal(blk, kind);
                }
                let meta = Arc::new(MemIo::from_bytes(img));
                let what = format!("block {b} offset {off} = {v:#x}");
                within(Duration::from_secs(30), &what, move || {
                    let mut r = Runner::new(config(meta));
                    if r.open(None).is_ok() {
                        for l in parse_script(USE).unwrap() {
                            let _ = r.execute(&l.command, &mut Vec::new());
                        }
                        let _ = r.close();
                    }
                });
            }
        }
    }
}
