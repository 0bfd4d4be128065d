//! The real kernel accepts metadata that our tools wrote: every case of
//! `testdata/kernel_accepts/` is an image made by `era_restore`, `era_emulate`,
//! `era_generate` or `era_repair` (the `repair_*` cases: one damaged kernel image of each
//! damage kind of the repair matrix, repaired)
//! (`meta_in.img.gz`) that the Linux dm-era target (6.1, in qemu) opened, wrote to,
//! checkpointed, snapshotted, resized and closed (or crashed) without an error. Here our
//! readers take the kernel's output (`meta.img.gz`): it must check clean with an exact
//! space map, fold to the truth (the input's logical content overlaid with the kernel's
//! writes), and the kernel's status lines must show the era continuing from ours.

use crate::common;

use common::recount::assert_space_map_exact;
use common::*;
use era_tools::era::check::{check, CheckOptions};
use era_tools::era::ir::EraMetadata;
use era_tools::era::metadata::Source;
use era_tools::era::superblock::Superblock;
use era_tools::io::MemIo;
use era_tools::units::Era;
use era_tools::units::MetaBlock;
use std::path::{Path, PathBuf};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kernel_accepts")
}

/// Every case of the corpus, sorted.
fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("meta.img.gz").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    assert!(v.len() >= 5, "kernel_accepts corpus incomplete: {v:?}");
    v
}

fn image(case: &str, name: &str) -> MemIo {
    MemIo::from_bytes(gunzip(&corpus_dir().join(case).join(name)))
}

fn read(io: &MemIo, case: &str) -> EraMetadata {
    read_era_metadata(io, Source::Live, case)
}

fn superblock(io: &MemIo) -> Superblock {
    era_tools::era::metadata::read_superblock(io).unwrap()
}

fn case_truth(case: &str) -> Truth {
    let dir = corpus_dir().join(case);
    truth_file(&dir.join("expected_workload.txt"))
        .or_else(|| truth_file(&dir.join("expected_workload.txt.gz")))
        .unwrap_or_else(|| panic!("{case}: no expected_workload.txt[.gz]"))
}

/// One line of `status.txt`: `label 0 LEN era METADATA_BS used/total ERA SNAP` (the
/// metadata block size in sectors, not the data block size).
#[derive(Debug)]
struct Status {
    label: String,
    len: u64,
    metadata_block_size: u64,
    total_blocks: u64,
    era: u32,
    snap: Option<MetaBlock>,
}

fn statuses(case: &str) -> Vec<Status> {
    let text = std::fs::read_to_string(corpus_dir().join(case).join("status.txt")).unwrap();
    let v: Vec<Status> = text
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert!(
                f.len() == 8 && f[3] == "era",
                "{case}: status line {line:?}"
            );
            let (_, total) = f[5].split_once('/').unwrap();
            Status {
                label: f[0].to_string(),
                len: f[2].parse().unwrap(),
                metadata_block_size: f[4].parse().unwrap(),
                total_blocks: total.parse().unwrap(),
                era: f[6].parse().unwrap(),
                snap: (f[7] != "-").then(|| MetaBlock::new(f[7].parse().unwrap())),
            }
        })
        .collect();
    assert!(v.len() >= 2, "{case}: too few status lines");
    v
}

#[test]
fn the_inputs_are_ours_and_check_clean() {
    for case in cases() {
        let io = image(&case, "meta_in.img.gz");
        assert_space_map_exact(&io, &format!("{case} input"));
        let recipe = std::fs::read_to_string(corpus_dir().join(&case).join("make_input.sh"))
            .unwrap_or_else(|_| panic!("{case}: no make_input.sh"));
        assert!(
            ["era_restore", "era_emulate", "era_generate", "era_repair"]
                .iter()
                .any(|tool| recipe.contains(tool)),
            "{case}: the input is not made by our writer"
        );
    }
}

#[test]
fn the_kernel_output_checks_clean_with_an_exact_space_map() {
    for case in cases() {
        assert_space_map_exact(&image(&case, "meta.img.gz"), &format!("{case} output"));
    }
}

#[test]
fn the_kernel_output_folds_to_the_truth() {
    for case in cases() {
        let md = read(&image(&case, "meta.img.gz"), &case);
        case_truth(&case).assert_folds(&case, &md);
    }
}

#[test]
fn a_snapshot_of_ours_the_kernel_kept_folds_to_its_truth() {
    let mut seen = 0;
    for case in cases() {
        let path = corpus_dir().join(&case).join("expected_workload_snap.txt");
        let Some(t) = truth_file(&path) else {
            continue;
        };
        let input = superblock(&image(&case, "meta_in.img.gz"));
        let io = image(&case, "meta.img.gz");
        assert!(
            !input.metadata_snap.is_zero(),
            "{case}: the input holds no snapshot"
        );
        assert_eq!(superblock(&io).metadata_snap, input.metadata_snap, "{case}");
        t.assert_folds(
            &format!("{case}: snapshot"),
            &read_era_metadata(&io, Source::Snapshot, &case),
        );
        seen += 1;
    }
    assert!(seen >= 2, "only {seen} cases keep our snapshot");
}

#[test]
fn invalidate_lists_the_truth_on_the_kernel_output() {
    for case in cases() {
        let md = read(&image(&case, "meta.img.gz"), &case);
        let t = case_truth(&case);
        let rmq = RangeMinMax::new(&t.dense());
        for n in 0..=t.current_era + 1 {
            let runs = era_tools::era::invalidate::written_since(md.clone(), n);
            assert_runs_are_truth(&runs, &rmq, t.nr_blocks, n, &format!("{case} N={n}"));
        }
    }
}

#[test]
fn the_kernel_continues_our_eras() {
    for case in cases() {
        let input = superblock(&image(&case, "meta_in.img.gz"));
        let output = superblock(&image(&case, "meta.img.gz"));
        let st = statuses(&case);
        let first = &st[0];
        assert_eq!(first.label, "after_create", "{case}");
        // Opening our metadata: the era continues at ours + 1, our held snapshot is seen,
        // and the kernel's space map has our size.
        assert_eq!(
            first.era,
            input.current_era.next().get(),
            "{case}: era after open"
        );
        let held = (!input.metadata_snap.is_zero()).then_some(input.metadata_snap);
        assert_eq!(first.snap, held, "{case}: snapshot after open");
        assert_eq!(
            first.total_blocks, input.sm_root.nr_blocks,
            "{case}: metadata blocks"
        );
        assert_eq!(
            first.metadata_block_size,
            u64::from(input.metadata_block_size),
            "{case}: metadata block size"
        );
        for w in st.windows(2) {
            let (prev, s) = (&w[0], &w[1]);
            let (era, snap) = match s.label.as_str() {
                "after_checkpoint" | "after_reload" | "after_resume" => (prev.era + 1, prev.snap),
                "after_take_snap" => {
                    assert!(s.snap.is_some(), "{case}: no snapshot after take: {s:?}");
                    (prev.era + 1, s.snap)
                }
                "after_drop_snap" => (prev.era, None),
                _ => (prev.era, prev.snap),
            };
            assert_eq!((s.era, s.snap), (era, snap), "{case}: {s:?} after {prev:?}");
        }
        // The final state is what the kernel left on disk.
        let last = st.last().unwrap();
        let t = case_truth(&case);
        assert_eq!(last.era, t.current_era, "{case}: final era");
        assert_eq!(output.current_era, Era::new(last.era), "{case}: stored era");
        assert_eq!(
            output.metadata_snap,
            last.snap.unwrap_or_default(),
            "{case}: snap"
        );
        assert_eq!(
            last.len.div_ceil(u64::from(output.data_block_size)),
            u64::from(output.nr_blocks),
            "{case}: nr_blocks"
        );
        // A removed device leaves no live writeset; a crashed one keeps it.
        let crashed = last.label == "before_crash";
        assert_eq!(
            !output.current_writeset.root.is_zero(),
            crashed,
            "{case}: current writeset after {}",
            last.label
        );
    }
}

#[test]
fn the_corpus_covers_what_it_claims() {
    let all = cases();
    let has = |c: &str| all.iter().any(|x| x == c);
    for c in [
        "restore_reference",
        "restore_generated",
        "restore_grow",
        "emulate_snap_held",
        "emulate_crash",
        "emulate_snap_kept",
        "emulate_resized",
        "restore_undigested",
        "generate_direct",
        "emulate_odd_size",
        "restore_deep_writesets",
        "emulate_crash_snap",
        "serve_clean",
        "serve_killed",
        "repair_zeroed_era_array",
        "repair_sb_field_nr_blocks",
        "repair_swapped",
        "repair_dup_ref",
        "repair_sb_lost_plus_zeroed",
    ] {
        assert!(has(c), "missing case {c}");
    }
    // The emulator's input holds a snapshot; the crash input a live writeset; the
    // generated one two space-map bitmaps and a multi-level era array.
    let snap = superblock(&image("emulate_snap_held", "meta_in.img.gz"));
    assert!(!snap.metadata_snap.is_zero());
    let crash = superblock(&image("emulate_crash", "meta_in.img.gz"));
    assert!(!crash.current_writeset.root.is_zero());
    let gen_io = image("restore_generated", "meta_in.img.gz");
    let gen = superblock(&gen_io);
    assert!(gen.sm_root.nr_bitmaps() >= 2);
    let root = era_tools::pdata::read_block(&gen_io, gen.era_array_root).unwrap();
    let node = era_tools::pdata::btree::NodeView::parse(gen.era_array_root, &root).unwrap();
    assert!(!node.is_leaf(), "the generated era array is one leaf");
    // The deep input's writeset tree has more than one leaf.
    let deep_io = image("restore_deep_writesets", "meta_in.img.gz");
    let deep = superblock(&deep_io);
    let root = era_tools::pdata::read_block(&deep_io, deep.writeset_tree_root).unwrap();
    let node = era_tools::pdata::btree::NodeView::parse(deep.writeset_tree_root, &root).unwrap();
    assert!(!node.is_leaf(), "the deep writeset tree is one leaf");
    // The crashed snapshot input holds both.
    let both = superblock(&image("emulate_crash_snap", "meta_in.img.gz"));
    assert!(
        both.metadata_snap != MetaBlock::new(0) && both.current_writeset.root != MetaBlock::new(0)
    );
    // The server's input after SIGTERM is closed (no live writeset); after kill -9 its
    // live writeset stays in the superblock.
    let clean = superblock(&image("serve_clean", "meta_in.img.gz"));
    assert_eq!(clean.current_writeset.root, MetaBlock::new(0));
    let killed = superblock(&image("serve_killed", "meta_in.img.gz"));
    assert!(!killed.current_writeset.root.is_zero());
    // The undigested input holds a writeset longer than the device, bits beyond the end.
    let und = read(
        &image("restore_undigested", "meta_in.img.gz"),
        "restore_undigested",
    );
    let n = und.superblock.nr_blocks;
    assert!(
        und.writesets.iter().any(|w| w.nr_bits > n && {
            let words = &w.bits[n as usize / 64..];
            words.iter().any(|&x| x != 0)
        }),
        "restore_undigested: no writeset with marked bits beyond nr_blocks"
    );
}

/// The damaged image a `repair_*` case's `make_input.sh` hands to `era_repair`:
/// `damaged.img.gz`, or for repair_zeroed_era_array the undamaged kernel image with its
/// era-array block 21 zeroed, as the recipe does.
fn damaged_input(case: &str) -> MemIo {
    let dir = corpus_dir().join(case);
    if dir.join("damaged.img.gz").exists() {
        return image(case, "damaged.img.gz");
    }
    let undamaged = image(case, "undamaged.img.gz");
    let report = check(&undamaged, &CheckOptions::default());
    assert!(report.findings.is_empty(), "{case}: {:?}", report.findings);
    let mut bytes = gunzip(&dir.join("undamaged.img.gz"));
    let recipe = std::fs::read_to_string(dir.join("make_input.sh")).unwrap();
    assert!(
        recipe.contains("seek=21 count=1"),
        "{case}: the recipe zeroes another block"
    );
    bytes[21 * 4096..22 * 4096].fill(0);
    MemIo::from_bytes(bytes)
}

#[test]
fn the_repaired_inputs_come_from_damage_era_check_finds() {
    let repaired: Vec<String> = cases()
        .into_iter()
        .filter(|c| c.starts_with("repair_"))
        .collect();
    assert_eq!(repaired.len(), 5, "one case per damage kind: {repaired:?}");
    for case in &repaired {
        let recipe =
            std::fs::read_to_string(corpus_dir().join(case).join("make_input.sh")).unwrap();
        assert!(recipe.contains("era_repair"), "{case}: not repaired");
        let damaged = check(&damaged_input(case), &CheckOptions::default());
        assert!(damaged.has_errors(), "{case}: the damage is not found");
        let input = check(&image(case, "meta_in.img.gz"), &CheckOptions::default());
        assert!(input.findings.is_empty(), "{case}: {:?}", input.findings);
    }
    // Each kind's signature in its damaged input.
    let read_sb = |case: &str| era_tools::era::metadata::read_superblock(&damaged_input(case));
    for case in ["repair_swapped", "repair_sb_lost_plus_zeroed"] {
        assert!(read_sb(case).is_err(), "{case}: the superblock is readable");
    }
    let lying = read_sb("repair_sb_field_nr_blocks").unwrap();
    assert_eq!(lying.nr_blocks, 1024);
    // The repair trusts the era array (5459 values) over the lying superblock.
    let sb = superblock(&image("repair_sb_field_nr_blocks", "meta_in.img.gz"));
    assert!(sb.nr_blocks >= 5459, "{}", sb.nr_blocks);
    assert_eq!(
        read_sb("repair_dup_ref").unwrap().current_era,
        Era::new(301)
    );
    assert_eq!(read_sb("repair_zeroed_era_array").unwrap().nr_blocks, 16384);
}
