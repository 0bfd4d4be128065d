//! era_invalidate --format ranges|json and --unit blocks|sectors|bytes against the
//! kernel corpus: the runs printed are exactly the maximal runs of blocks whose truth
//! era (expected_workload*.txt) is at least N, at the block size and table length the
//! harness gave the kernel (manifest.txt), never compared with our own XML.

use super::support::*;
use crate::common::manifest::{geometry, Geometry};
use crate::common::*;
use serde_json::Value;

const UNITS: [(&str, u64); 3] = [("blocks", 0), ("sectors", 1), ("bytes", 512)];

/// The thresholds the brief asks for: 0, 1, a middle era, the current era and one past.
fn thresholds(current_era: u32) -> Vec<u32> {
    let mut v = vec![0, 1, current_era / 2, current_era, current_era + 1];
    v.sort_unstable();
    v.dedup();
    v
}

/// Maximal runs `[begin, end)` of blocks whose truth era is at least `n`.
fn truth_runs(t: &Truth, n: u32) -> Vec<(u64, u64)> {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for b in (0..t.nr_blocks).filter(|&b| t.era(b) >= n) {
        let b = u64::from(b);
        match runs.last_mut() {
            Some(last) if last.1 == b => last.1 = b + 1,
            _ => runs.push((b, b + 1)),
        }
    }
    runs
}

/// The truth runs in a unit (`per_sector` 0 for blocks), ends clamped to `end_sectors`.
fn in_unit(
    runs: &[(u64, u64)],
    g: &Geometry,
    per_sector: u64,
    end_sectors: u64,
) -> Vec<(u64, u64)> {
    if per_sector == 0 {
        return runs.to_vec();
    }
    let at = |b: u64| (b * u64::from(g.block_size)).min(end_sectors) * per_sector;
    runs.iter().map(|&(b, e)| (at(b), at(e))).collect()
}

fn parse_ranges(out: &str) -> Vec<(u64, u64)> {
    out.lines()
        .map(|l| {
            let mut it = l.split(' ');
            let (b, e) = (it.next().unwrap(), it.next().unwrap());
            assert!(it.next().is_none(), "{l:?}");
            (b.parse().unwrap(), e.parse().unwrap())
        })
        .collect()
}

fn json_runs(doc: &Value) -> Vec<(u64, u64)> {
    doc["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["begin"].as_u64().unwrap(), r["end"].as_u64().unwrap()))
        .collect()
}

/// The views of a case: live, and the held snapshot where there is one.
fn views(case: &str) -> Vec<(bool, Truth)> {
    let mut v = vec![(false, truth(case, false).unwrap())];
    if let Some(t) = truth(case, true) {
        v.push((true, t));
    }
    v
}

#[test]
fn every_format_and_unit_is_the_truth() {
    let mut snapshots = 0;
    for case in kernel_cases() {
        let img = kernel_image_file(&case);
        let g = geometry(&case);
        for (snap, t) in views(&case) {
            snapshots += usize::from(snap);
            // A snapshot taken before a resize keeps the length of its time
            // (testdata/kernel_random's race_02 and others).
            if !snap {
                assert_eq!(
                    g.nr_blocks, t.nr_blocks,
                    "{case}: manifest and truth disagree"
                );
            }
            let rounded = u64::from(t.nr_blocks) * u64::from(g.block_size);
            for n in thresholds(t.current_era) {
                let want = truth_runs(&t, n);
                for (unit, per_sector) in UNITS {
                    let what = format!("{case} snap={snap} N={n} --unit {unit}");
                    let expected = in_unit(&want, &g, per_sector, rounded);
                    let mut args = vec!["--written-since".to_string(), n.to_string()];
                    args.extend(["--unit".into(), unit.into()]);
                    if snap {
                        args.push("--metadata-snapshot".into());
                    }
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();

                    let ranges = [&args[..], &["--format", "ranges"]].concat();
                    let (code, out, err) = run("era_invalidate", &ranges, img.path());
                    assert_eq!(code, 0, "{what}: {err}");
                    assert_eq!(parse_ranges(&out), expected, "{what}: ranges");

                    let json = [&args[..], &["--format", "json"]].concat();
                    let (code, out, err) = run("era_invalidate", &json, img.path());
                    assert_eq!(code, 0, "{what}: {err}");
                    let doc: Value = serde_json::from_str(&out).unwrap();
                    assert_eq!(json_runs(&doc), expected, "{what}: json runs");
                    let view = if snap { "snapshot" } else { "live" };
                    assert_eq!(doc["view"], view, "{what}");
                    assert_eq!(doc["block_size"], g.block_size, "{what}");
                    assert_eq!(doc["nr_blocks"], t.nr_blocks, "{what}");
                    assert_eq!(doc["current_era"], t.current_era, "{what}");
                    assert_eq!(doc["written_since"], n, "{what}");
                    assert_eq!(doc["unit"], unit, "{what}");
                    let (length, rounded_up) = match per_sector {
                        0 => (u64::from(t.nr_blocks), false),
                        k => (rounded * k, true),
                    };
                    assert_eq!(doc["length"], length, "{what}");
                    assert_eq!(doc["length_rounded_up"], rounded_up, "{what}");
                }
            }
        }
    }
    assert!(snapshots >= 1, "no case holds a snapshot");
}

#[test]
fn length_clamps_the_last_run_to_the_table() {
    for case in ["crash", "resize_shrink", "metadata_snap"] {
        let img = kernel_image_file(case);
        let g = geometry(case);
        let t = truth(case, false).unwrap();
        // The kernel's table length, then one ending 3 sectors into the last block.
        for length in [
            g.sectors,
            u64::from(t.nr_blocks - 1) * u64::from(g.block_size) + 5,
        ] {
            for (unit, per_sector) in &UNITS[1..] {
                let what = format!("{case} --length {length} --unit {unit}");
                let len = length.to_string();
                let args = ["--written-since", "0", "--length", &len, "--unit", unit];
                let (code, out, err) = run(
                    "era_invalidate",
                    &[&args[..], &["--format", "json"]].concat(),
                    img.path(),
                );
                assert_eq!(code, 0, "{what}: {err}");
                let doc: Value = serde_json::from_str(&out).unwrap();
                // N = 0: every block, one run to the table's end.
                assert_eq!(json_runs(&doc), vec![(0, length * per_sector)], "{what}");
                assert_eq!(doc["length"], length * per_sector, "{what}");
                assert_eq!(doc["length_rounded_up"], false, "{what}");

                let n = t.current_era.to_string();
                let args = ["--written-since", &n, "--length", &len, "--unit", unit];
                let (code, out, _) = run(
                    "era_invalidate",
                    &[&args[..], &["--format", "ranges"]].concat(),
                    img.path(),
                );
                assert_eq!(code, 0, "{what}");
                let want = in_unit(&truth_runs(&t, t.current_era), &g, *per_sector, length);
                assert_eq!(parse_ranges(&out), want, "{what} N={n}");
            }
        }
    }
}

#[test]
fn a_length_of_another_block_count_is_refused() {
    let img = kernel_image_file("crash");
    let g = geometry("crash");
    let whole = u64::from(g.nr_blocks) * u64::from(g.block_size);
    let one_block_less = whole - u64::from(g.block_size);
    // (--length 0 is a usage error: cli::messages.)
    for bad in [whole + 1, one_block_less] {
        let len = bad.to_string();
        let args = [
            "--written-since",
            "1",
            "--format",
            "ranges",
            "--unit",
            "sectors",
        ];
        let (code, out, err) = run(
            "era_invalidate",
            &[&args[..], &["--length", &len]].concat(),
            img.path(),
        );
        assert_eq!(code, 1, "--length {bad}");
        assert!(out.is_empty(), "--length {bad}: {out}");
        assert!(
            err.contains(&format!("--length {bad} sectors"))
                && err.contains(&format!("tracks {} blocks", g.nr_blocks)),
            "{err}"
        );
    }
}

#[test]
fn beyond_the_current_era_warns_and_lists_nothing() {
    for (case, snap) in [
        ("crash", false),
        ("metadata_snap", true),
        ("metadata_snap", false),
    ] {
        let img = kernel_image_file(case);
        let t = truth(case, snap).unwrap();
        let snap_arg: &[&str] = if snap { &["--metadata-snapshot"] } else { &[] };
        for n in [t.current_era + 1, t.current_era + 7, u32::MAX] {
            let n_arg = n.to_string();
            for (format, empty) in [("xml", "<blocks>\n</blocks>"), ("ranges", ""), ("json", "")] {
                let what = format!("{case} snap={snap} N={n} --format {format}");
                let args = [snap_arg, &["--written-since", &n_arg, "--format", format]].concat();
                let (code, out, err) = run("era_invalidate", &args, img.path());
                assert_eq!(code, 0, "{what}");
                if format == "json" {
                    let doc: Value = serde_json::from_str(&out).unwrap();
                    assert_eq!(doc["runs"], Value::Array(vec![]), "{what}");
                    assert_eq!(doc["current_era"], t.current_era, "{what}");
                } else {
                    assert_eq!(out, empty, "{what}");
                }
                let want = format!(
                    "era_invalidate: warning: --written-since {n} is beyond the current era {}",
                    t.current_era
                );
                assert!(err.starts_with(&want), "{what}: {err:?}");
                assert_eq!(err.lines().count(), 1, "{what}: {err:?}");
            }
        }
        // At the current era itself there is nothing to warn about.
        let n = t.current_era.to_string();
        let args = [snap_arg, &["--written-since", &n, "--format", "ranges"]].concat();
        let (code, _, err) = run("era_invalidate", &args, img.path());
        assert_eq!((code, err.as_str()), (0, ""), "{case} snap={snap} N={n}");
    }
}

#[test]
fn xml_stays_the_default_and_is_always_in_blocks() {
    let img = kernel_image_file("crash");
    let (_, default, _) = run("era_invalidate", &["--written-since", "3"], img.path());
    for args in [
        &["--format", "xml"][..],
        &["--format", "xml", "--unit", "blocks"],
        &["--unit", "blocks"],
    ] {
        let all = [&["--written-since", "3"][..], args].concat();
        let (code, out, err) = run("era_invalidate", &all, img.path());
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, default.as_str(), ""),
            "{args:?}"
        );
    }
    for args in [
        &["--unit", "sectors"][..],
        &["--format", "xml", "--unit", "bytes"],
        &["--format", "ranges", "--length", "131072"],
        &["--format", "json", "--unit", "blocks", "--length", "131072"],
        &["--format", "yaml"],
        &["--format", "ranges", "--unit", "kib"],
        &["--format", "ranges", "--unit", "sectors", "--length", "-1"],
    ] {
        let all = [&["--written-since", "3"][..], args].concat();
        let (code, out, err) = run("era_invalidate", &all, img.path());
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty() && err.contains("error"), "{args:?}: {err}");
    }
}

#[test]
fn json_goes_to_an_output_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let img = kernel_image_file("crash");
    let t = truth("crash", false).unwrap();
    let dest = dir.path().join("runs.json");
    let args = ["--written-since", "3", "--format", "json"];
    let (code, out, err) = run_to_file("era_invalidate", &args, &dest, img.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&dest).unwrap()).unwrap();
    assert_eq!(json_runs(&doc), truth_runs(&t, 3));
}
