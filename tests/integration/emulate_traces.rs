//! The hand-worked conformance traces of target.md §17 (A: the main trace, checked on a
//! real kernel; B: crash with a digest in flight; C: the kernel developers' crash
//! reproduction; D: the thin-provisioning-tools snapshot image).

use crate::common;

use common::recount::assert_space_map_exact;
use common::script::run_script;
use era_tools::emulate::origin::MemOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::parse_script;
use era_tools::era::ir::EraMetadata;
use era_tools::era::metadata::{open_view, read_metadata, read_superblock, Source};
use era_tools::era::superblock::Superblock;
use era_tools::io::MemIo;
use era_tools::units::Era;
use era_tools::units::MetaBlock;
use std::collections::BTreeMap;
use std::sync::Arc;

struct Rig {
    meta: Arc<MemIo>,
    runner: Runner,
}

impl Rig {
    fn new(meta_blocks: u64, origin_sectors: u64, block_size: u32) -> Rig {
        let meta = Arc::new(MemIo::new(meta_blocks));
        let runner = Runner::new(RunConfig {
            meta: meta.clone(),
            origin: Arc::new(MemOrigin::new(origin_sectors as usize * 512)),
            block_size,
            length: None,
            sync: true,
            meta_name: "meta".into(),
            origin_name: "origin".into(),
        });
        Rig { meta, runner }
    }

    /// Runs script lines; returns what they printed.
    fn run(&mut self, script: &str) -> Vec<String> {
        run_script(&mut self.runner, script)
    }

    /// The INFO target part of one status (`8 used/total era snap`).
    fn status(&mut self) -> String {
        let line = self.run("status").remove(0);
        line.splitn(4, ' ').nth(3).unwrap().to_string()
    }

    fn sb(&self) -> Superblock {
        read_superblock(self.meta.as_ref()).unwrap()
    }

    fn md(&self, source: Source) -> EraMetadata {
        let v = open_view(self.meta.as_ref(), source).unwrap();
        read_metadata(self.meta.as_ref(), &v).unwrap()
    }

    /// Non-zero entries of the fold.
    fn fold(&self, source: Source) -> BTreeMap<u32, u32> {
        nonzero(&self.md(source).folded_eras())
    }

    /// Archived writesets (era → set bits), live current writeset excluded.
    fn tree(&self, source: Source) -> BTreeMap<u32, Vec<u32>> {
        let md = self.md(source);
        let sb = self.sb();
        md.writesets
            .iter()
            .filter(|w| {
                source == Source::Snapshot
                    || sb.current_writeset.root == MetaBlock::new(0)
                    || w.era != sb.current_era
            })
            .map(|w| (w.era.get(), bits(&w.bits, w.nr_bits)))
            .collect()
    }

    fn array(&self, source: Source) -> BTreeMap<u32, u32> {
        nonzero(&self.md(source).era_array)
    }
}

fn nonzero(eras: &[u32]) -> BTreeMap<u32, u32> {
    eras.iter()
        .enumerate()
        .filter(|(_, &e)| e != 0)
        .map(|(b, &e)| (b as u32, e))
        .collect()
}

fn bits(words: &[u64], nr_bits: u32) -> Vec<u32> {
    (0..nr_bits)
        .filter(|&b| (words[(b / 64) as usize] >> (b % 64)) & 1 == 1)
        .collect()
}

fn map(pairs: &[(u32, u32)]) -> BTreeMap<u32, u32> {
    pairs.iter().copied().collect()
}

/// Block `b` of trace A (block size 8): one 4 KiB write.
fn wb(b: u32) -> String {
    format!("write {} 8", b * 8)
}

#[test]
fn trace_a_main() {
    let mut r = Rig::new(1024, 128, 8);
    r.run("open"); // A1
    assert_eq!(r.status(), "8 9/1024 1 -");
    r.run(&format!("{}\n{}", wb(1), wb(2))); // A2, A3
    assert_eq!(r.status(), "8 9/1024 1 -"); // A4
    r.run("checkpoint"); // A5
    assert_eq!(r.tree(Source::Live), BTreeMap::from([(1, vec![1, 2])]));
    assert_eq!(r.status(), "8 11/1024 2 -"); // A6
    r.run(&format!("{}\n{}", wb(2), wb(5))); // A7, A8
    assert_eq!(
        r.tree(Source::Live),
        BTreeMap::new(),
        "A7 persisted the digest"
    );
    assert_eq!(r.array(Source::Live), map(&[(1, 1), (2, 1)]));
    assert_eq!(r.status(), "8 9/1024 2 -"); // A9
    assert_eq!(r.fold(Source::Live), map(&[(1, 1), (2, 2), (5, 2)]));
    r.run("take_metadata_snap"); // A10
    let c = r.sb().metadata_snap;
    assert!(!c.is_zero());
    assert_eq!(r.status(), format!("8 12/1024 3 {c}")); // A11
    r.run(&format!("{}\n{}", wb(5), wb(7))); // A12, A13
    assert_eq!(r.status(), format!("8 15/1024 3 {c}")); // A14
    assert_eq!(r.fold(Source::Live), map(&[(1, 1), (2, 2), (5, 3), (7, 3)]));
    assert_eq!(r.fold(Source::Snapshot), map(&[(1, 1), (2, 2), (5, 2)]));
    assert_eq!(r.tree(Source::Snapshot), BTreeMap::from([(2, vec![2, 5])]));
    assert_eq!(r.array(Source::Snapshot), map(&[(1, 1), (2, 1)]));
    let snap = Superblock::unpack(
        &era_tools::pdata::read_block(r.meta.as_ref(), c).unwrap(),
        c,
    )
    .unwrap();
    assert_eq!((snap.current_era.get(), snap.metadata_snap.get()), (3, 0));
    assert_space_map_exact(r.meta.as_ref(), "A14");
    r.run("drop_metadata_snap"); // A15
    assert_eq!(r.status(), "8 9/1024 3 -"); // A16
    r.run("close"); // A17
    let sb = r.sb();
    assert_eq!(
        (
            sb.current_era.get(),
            sb.current_writeset.nr_bits,
            sb.current_writeset.root.get()
        ),
        (3, 16, 0)
    );
    assert_eq!(r.tree(Source::Live), BTreeMap::from([(3, vec![5, 7])]));
    assert_eq!(r.array(Source::Live), map(&[(1, 1), (2, 2), (5, 2)]));
    assert_space_map_exact(r.meta.as_ref(), "A17");
    r.run("open"); // A18
    assert_eq!(r.status(), "8 15/1024 4 -"); // A19
    assert_eq!(r.status(), "8 9/1024 4 -"); // A20
    r.run(&wb(0)); // A21
    r.run("crash"); // A22
    let sb = r.sb();
    assert!(
        !sb.current_writeset.root.is_zero(),
        "A22 keeps a live writeset"
    );
    assert_eq!(sb.current_era, Era::new(4));
    assert_eq!(r.tree(Source::Live), BTreeMap::new());
    assert_eq!(
        r.array(Source::Live),
        map(&[(1, 1), (2, 2), (5, 3), (7, 3)])
    );
    assert_eq!(
        r.fold(Source::Live),
        map(&[(0, 4), (1, 1), (2, 2), (5, 3), (7, 3)])
    );
    assert_space_map_exact(r.meta.as_ref(), "A22");
    r.run("open"); // A23
    assert_eq!(r.tree(Source::Live), BTreeMap::from([(4, vec![0])]));
    assert_eq!(r.status(), "8 11/1024 5 -"); // A24
    r.run("close"); // A25
    assert_eq!(r.tree(Source::Live), BTreeMap::from([(5, vec![])]));
    assert_eq!(
        r.array(Source::Live),
        map(&[(0, 4), (1, 1), (2, 2), (5, 3), (7, 3)])
    );
    assert_eq!(r.sb().current_writeset.root, MetaBlock::new(0));
    assert_eq!(r.sb().current_era, Era::new(5));
    assert_space_map_exact(r.meta.as_ref(), "A25");
}

#[test]
fn trace_b_crash_with_digest_in_flight() {
    let mut r = Rig::new(1024, 128, 8);
    r.run("open"); // B1
    r.run(&wb(3)); // B2
    r.run("checkpoint"); // B3
    r.run(&wb(9)); // B4
    r.run("crash"); // B5
    assert_eq!(r.tree(Source::Live), BTreeMap::from([(1, vec![3])]));
    assert_eq!(r.array(Source::Live), BTreeMap::new());
    assert_eq!(r.fold(Source::Live), map(&[(3, 1), (9, 2)]));
    r.run("open"); // B6
    assert_eq!(r.sb().current_era, Era::new(3));
    assert_eq!(r.status(), "8 17/1024 3 -"); // B7
    assert_eq!(r.status(), "8 9/1024 3 -"); // B8
    r.run("close"); // B9
    assert_eq!(r.tree(Source::Live), BTreeMap::from([(3, vec![])]));
    assert_eq!(r.array(Source::Live), map(&[(3, 1), (9, 2)]));
    assert_space_map_exact(r.meta.as_ref(), "B9");
}

#[test]
fn trace_c_recovered_writeset_reaches_the_snapshot() {
    let mut r = Rig::new(1024, 128, 8);
    r.run(&format!("open\n{}\ncrash\nopen", wb(0)));
    assert_eq!(r.sb().current_era, Era::new(2));
    r.run("take_metadata_snap");
    assert_eq!(r.sb().current_era, Era::new(3));
    assert_eq!(
        r.tree(Source::Snapshot),
        BTreeMap::from([(1, vec![0]), (2, vec![])])
    );
    assert_eq!(r.fold(Source::Snapshot), map(&[(0, 1)]));
    r.run("close");
    assert_space_map_exact(r.meta.as_ref(), "C");
}

#[test]
fn trace_d_snapshot_image_of_the_tools_test_suite() {
    let mut r = Rig::new(1024, 65536, 128);
    r.run("open");
    let w = |range: std::ops::Range<u32>| -> String {
        range.map(|b| format!("write {} 128\n", b * 128)).collect()
    };
    r.run(&w(0..64));
    r.run("checkpoint");
    r.run(&w(0..32));
    r.run("take_metadata_snap");
    r.run(&w(0..16));
    r.run("close");
    let sb = r.sb();
    assert_eq!(sb.current_era, Era::new(3));
    assert_eq!(
        (sb.current_writeset.nr_bits, sb.current_writeset.root.get()),
        (512, 0)
    );
    assert_eq!(
        r.tree(Source::Live),
        BTreeMap::from([(3, (0..16).collect())])
    );
    let mut a: Vec<(u32, u32)> = (0..32).map(|b| (b, 2)).collect();
    a.extend((32..64).map(|b| (b, 1)));
    assert_eq!(r.array(Source::Live), map(&a));
    assert_eq!(sb.sm_root.nr_allocated, 15);
    assert!(!sb.metadata_snap.is_zero());
    let snap = Superblock::unpack(
        &era_tools::pdata::read_block(r.meta.as_ref(), sb.metadata_snap).unwrap(),
        sb.metadata_snap,
    )
    .unwrap();
    assert_eq!((snap.current_era.get(), snap.metadata_snap.get()), (3, 0));
    assert_eq!(snap.sm_root.nr_allocated, 11);
    assert_eq!(
        r.tree(Source::Snapshot),
        BTreeMap::from([(2, (0..32).collect())])
    );
    assert_eq!(
        r.array(Source::Snapshot),
        map(&(0..64).map(|b| (b, 1)).collect::<Vec<_>>())
    );
    assert_space_map_exact(r.meta.as_ref(), "D");
}

#[test]
fn rejected_operations_change_nothing() {
    let mut r = Rig::new(1024, 128, 8);
    r.run("open");
    let mut out = Vec::new();
    let l = |s: &str| parse_script(s).unwrap().remove(0).command;
    assert!(r
        .runner
        .execute(&l("drop_metadata_snap"), &mut out)
        .is_err());
    assert!(r
        .runner
        .execute(&l("message checkpoint now"), &mut out)
        .is_err());
    assert!(r.runner.execute(&l("message bogus"), &mut out).is_err());
    assert!(
        r.runner.execute(&l("write 120 16"), &mut out).is_err(),
        "past the end"
    );
    r.run("message CheckPoint");
    assert_eq!(r.sb().current_era, Era::new(2));
    r.run("take_metadata_snap");
    assert!(r
        .runner
        .execute(&l("take_metadata_snap"), &mut out)
        .is_err());
    let snap = r.sb().metadata_snap;
    assert!(
        r.status().ends_with(&format!(" 3 {snap}")),
        "era and snapshot unchanged"
    );
    r.run("suspend");
    for cmd in ["status", "checkpoint", "write 0 8", "read 0 8"] {
        assert!(
            r.runner.execute(&l(cmd), &mut out).is_err(),
            "{cmd} while suspended"
        );
    }
    assert_eq!(r.run("table"), vec!["0 128 era meta origin 8".to_string()]);
    r.run("resume");
    assert_eq!(r.sb().current_era, Era::new(4));
    r.run("close");
    assert_space_map_exact(r.meta.as_ref(), "rejections");
}

#[test]
fn reads_return_what_was_written() {
    let mut r = Rig::new(1024, 128, 8);
    r.run("open\nwrite 3 2 0x41");
    let a = r.run("read 3 2");
    let want = format!("read 3 2 crc32c={:08x}", crc32c::crc32c(&[0x41u8; 1024]));
    assert_eq!(a, vec![want]);
    r.run("reload 96");
    assert_eq!(r.run("read 3 2"), a, "data survives a reload");
    r.run("close");
}

#[test]
fn a_different_block_size_is_refused() {
    let mut r = Rig::new(1024, 128, 8);
    r.run("open\nclose");
    let mut other = Runner::new(RunConfig {
        meta: r.meta.clone(),
        origin: Arc::new(MemOrigin::new(128 * 512)),
        block_size: 16,
        length: None,
        sync: true,
        meta_name: "m".into(),
        origin_name: "o".into(),
    });
    let e = other.open(None).unwrap_err().to_string();
    assert!(
        e.contains("changing the data block size (from 8 to 16)"),
        "{e}"
    );
}

/// Reload while active (target.md §10.4: the new instance never sees the old one's
/// postsuspend) and
/// suspend-then-reload (close + open) give the same logical state.
#[test]
fn both_reload_orders_give_the_same_fold() {
    let mut folds = Vec::new();
    for script in ["reload 96", "suspend\nreload 96"] {
        let mut r = Rig::new(1024, 128, 8);
        r.run(&format!(
            "open\n{}\ncheckpoint\n{}\n{script}\n{}\nclose",
            wb(1),
            wb(2),
            wb(11)
        ));
        assert_eq!(r.sb().nr_blocks, 12);
        assert_space_map_exact(r.meta.as_ref(), script);
        folds.push((r.fold(Source::Live), r.sb().current_era));
    }
    assert_eq!(folds[0], folds[1]);
    assert_eq!(folds[0].0, map(&[(1, 1), (2, 2), (11, 3)]));
}
