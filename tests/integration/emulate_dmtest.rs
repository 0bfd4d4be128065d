//! Scenarios of the kernel developers' test suite (device-mapper-test-suite,
//! `lib/dmtest/tests/era/`, target.md §19) run on the emulator.

use crate::common;

use common::null_origin::NullOrigin;
use common::recount::assert_space_map_exact;
use common::script::run_script;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::era::invalidate::written_since;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::io::MemIo;
use era_tools::units::DataBlock;
use std::sync::Arc;

fn runner(meta: Arc<MemIo>, origin_bytes: u64, block_size: u32) -> Runner {
    Runner::new(RunConfig {
        meta,
        origin: Arc::new(NullOrigin(origin_bytes)),
        block_size,
        length: None,
        sync: false,
        meta_name: "m".into(),
        origin_name: "o".into(),
    })
}

#[test]
fn creation_refuses_an_origin_of_2_pow_31_blocks() {
    let meta = Arc::new(MemIo::new(1024));
    let sectors = (1u64 << 31) * 64;
    let mut r = runner(meta.clone(), sectors * 512, 64);
    let e = r.open(Some(sectors)).unwrap_err().to_string();
    assert!(
        e.contains("Invalid number of origin blocks 2147483648"),
        "{e}"
    );
    // The refused resume left nothing open: a valid length opens.
    assert!(r.open(Some(1 << 20)).is_ok());
}

#[test]
fn wiped_blocks_have_increasing_eras() {
    let meta = Arc::new(MemIo::new(2048));
    let mut r = runner(meta.clone(), 1 << 30, 128);
    run_script(&mut r, "open");
    let region_sectors = 64 << 11; // 64 MiB
    let mut noted = Vec::new();
    for i in 0..16u64 {
        run_script(&mut r, "checkpoint");
        noted.push(r.target().unwrap().metadata().current_era.get());
        if i % 2 == 0 {
            run_script(
                &mut r,
                &format!("write {} {region_sectors}", i * region_sectors),
            );
        }
    }
    run_script(&mut r, "close");
    assert_eq!(noted, (2..18).collect::<Vec<u32>>());
    let view = open_view(meta.as_ref(), Source::Live).unwrap();
    let md = read_metadata(meta.as_ref(), &view).unwrap();
    let region = |i: u32| (DataBlock::new(i * 1024), DataBlock::new((i + 1) * 1024));
    assert_eq!(
        written_since(md.clone(), noted[7]),
        vec![region(8), region(10), region(12), region(14)]
    );
    assert_eq!(written_since(md.clone(), noted[13]), vec![region(14)]);
    assert_space_map_exact(meta.as_ref(), "wiped");
}

#[test]
fn pausing_does_not_effect_tracking() {
    let meta = Arc::new(MemIo::new(2048));
    let mut r = runner(meta.clone(), 1 << 30, 128);
    run_script(&mut r, "open");
    let region_sectors = 64 << 11;
    let mut noted = Vec::new();
    for i in 0..16u64 {
        run_script(&mut r, "checkpoint");
        noted.push(r.target().unwrap().metadata().current_era.get());
        if i % 2 == 0 {
            run_script(
                &mut r,
                &format!(
                    "write {} {region_sectors}\nsuspend\nresume",
                    i * region_sectors
                ),
            );
        }
    }
    run_script(&mut r, "close");
    let view = open_view(meta.as_ref(), Source::Live).unwrap();
    let md = read_metadata(meta.as_ref(), &view).unwrap();
    let region = |i: u32| (DataBlock::new(i * 1024), DataBlock::new((i + 1) * 1024));
    assert_eq!(
        written_since(md.clone(), noted[7]),
        vec![region(8), region(10), region(12), region(14)]
    );
    assert_eq!(written_since(md.clone(), noted[13]), vec![region(14)]);
}

#[test]
fn many_eras_do_not_exhaust_metadata() {
    let meta = Arc::new(MemIo::new(1024));
    let mut r = runner(meta.clone(), 64 << 20, 8);
    run_script(&mut r, "open");
    let mut peak = 0u64;
    for i in 0..1600u64 {
        run_script(
            &mut r,
            &format!("write {} 8\ncheckpoint", (i * 7919 % 16384) * 8),
        );
        if i % 100 == 99 {
            let status = run_script(&mut r, "status").remove(0);
            let used: u64 = status
                .split_whitespace()
                .nth(4)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            peak = peak.max(used);
        }
    }
    assert!(peak <= 40, "metadata use grows: peak {peak} blocks");
    let status = run_script(&mut r, "status\nstatus").remove(1);
    assert!(status.contains(" 25/1024 1601 -"), "{status}");
    run_script(&mut r, "close");
    assert_space_map_exact(meta.as_ref(), "many eras");
}
