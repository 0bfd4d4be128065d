//! Sizes from disk bound before allocation (R8 of testdata/repro, for the strict readers): a
//! 4 MiB image whose superblock claims 2^28 or 2^31 − 1 origin blocks, while its era
//! array's index lists 17 array blocks. Under a 500 MB address-space limit every reader
//! must refuse it with an error naming the mismatch (exit 1), never abort on an
//! allocation sized by the claim.

use crate::common::gunzip;
use std::path::Path;
use std::process::Command;

#[test]
fn readers_refuse_a_claimed_size_the_index_does_not_hold_within_500_mb() {
    let dir = tempfile::tempdir().unwrap();
    for (name, nr_blocks, needs) in [
        ("nb_2p28", 268_435_456u64, 263_690u64),
        ("nb_2p31m1", 2_147_483_647, 2_109_513),
    ] {
        let img = dir.path().join(format!("{name}.img"));
        let gz = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/repro/limits")
            .join(format!("{name}.img.gz"));
        std::fs::write(&img, gunzip(&gz)).unwrap();
        let want =
            format!("array of {nr_blocks} values needs {needs} array blocks, the index has 17");
        for (tool, args) in [
            ("era_dump", ""),
            ("era_dump", "--logical"),
            ("era_invalidate", "--written-since 1"),
            ("era_check", ""),
        ] {
            let bin = assert_cmd::cargo::cargo_bin(tool);
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "ulimit -v 500000 && exec \"$0\" {args} \"$1\" > /dev/null"
                ))
                .arg(&bin)
                .arg(&img)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{tool} {args} {name}: {err}");
            assert!(err.contains(&want), "{tool} {args} {name}: {err}");
        }
    }
}
