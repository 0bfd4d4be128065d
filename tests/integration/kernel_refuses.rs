//! The real kernel refuses what an interrupted `era_restore` leaves: the recorded run in
//! `testdata/kernel_refuses/interrupted_restore/` (oracle harness, Debian 6.1 kernel)
//! tried `dmsetup create` over a metadata device whose block 0 holds the mark, and our
//! writer still writes exactly that block first.

use crate::common;

use common::failing_io::FailingIo;
use common::kernel_image;
use era_tools::era::metadata::{open_view, read_metadata, Source};
use era_tools::era::restore::write_metadata;
use era_tools::io::MemIo;
use era_tools::units::BLOCK_SIZE;
use std::path::PathBuf;

fn case_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/kernel_refuses/interrupted_restore")
}

/// The log lines starting with `@@TAG `, without it.
fn lines<'a>(log: &'a str, tag: &str) -> Vec<&'a str> {
    let prefix = format!("@@{tag} ");
    log.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .collect()
}

/// Block 0 as our writer leaves it when stopped after its first write.
fn our_block0() -> Vec<u8> {
    let source = MemIo::from_bytes(kernel_image("checkpoints"));
    let md = read_metadata(&source, &open_view(&source, Source::Live).unwrap()).unwrap();
    let io = FailingIo::new(MemIo::from_bytes(kernel_image("metadata_snap")), 1);
    assert!(write_metadata(&io, &md).is_err());
    io.inner.to_bytes()[..BLOCK_SIZE].to_vec()
}

/// `hexdump -C` of `data`, as busybox prints it (repeated lines squeezed to `*`).
fn hexdump_c(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut previous: Option<&[u8]> = None;
    let mut squeezed = false;
    for (i, row) in data.chunks(16).enumerate() {
        if previous == Some(row) {
            if !squeezed {
                out.push("*".to_string());
                squeezed = true;
            }
            continue;
        }
        squeezed = false;
        previous = Some(row);
        let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = row
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        out.push(format!(
            "{:08x}  {}  {}  |{text}|",
            i * 16,
            hex[..8].join(" "),
            hex[8..].join(" ")
        ));
    }
    out.push(format!("{:08x}", data.len()));
    out
}

#[test]
fn the_kernel_refused_the_mark_of_an_interrupted_restore_and_left_it() {
    let log = std::fs::read_to_string(case_dir().join("workload.log")).unwrap();
    assert_eq!(lines(&log, "RC"), ["0"]);
    let outcome = lines(&log, "MARKER");
    assert_eq!(outcome, ["create_failed rc=1", "block0_unchanged"]);
    assert!(
        lines(&log, "DMESG")
            .iter()
            .any(|l| l.ends_with("era: Error reading metadata (-ENOTBLK)")),
        "{log}"
    );
    assert_eq!(lines(&log, "BLOCK0_BEFORE"), lines(&log, "BLOCK0_AFTER"));
}

#[test]
fn our_writer_leaves_the_block_the_kernel_refused() {
    let log = std::fs::read_to_string(case_dir().join("workload.log")).unwrap();
    let block0 = our_block0();
    assert!(block0.iter().any(|&b| b != 0), "block 0 is all zeros");
    assert_eq!(hexdump_c(&block0), lines(&log, "BLOCK0_BEFORE"));
}
