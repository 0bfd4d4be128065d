//! A kernel workload of `testdata/kernel` or `testdata/kernel_random` (its `workload.log`)
//! as `era_emulate` commands, each status with the line the kernel printed.
//!
//! A `@@W` line is one single-block write, except after a `@@REQ SECTOR COUNT` line (the
//! random corpus logs each multi-sector request so): then the request is one write command
//! and its `@@W` lines are skipped. A log that does not end in a removal ends in a crash.

use super::case_dir;
use super::null_origin::NullOrigin;
use era_tools::emulate::runner::{RunConfig, Runner};
use era_tools::emulate::script::Command;
use era_tools::io::MemIo;
use std::sync::Arc;

/// A kernel workload as emulator commands, each status with the line the kernel printed.
pub struct Replay {
    pub meta_bytes: u64,
    pub origin_bytes: u64,
    pub block_size: u32,
    pub steps: Vec<(Command, Option<String>)>,
}

impl Replay {
    /// A runner on a zeroed in-memory metadata device of the workload's size and an
    /// origin that reads as zeros; the device is returned beside it.
    pub fn runner(&self) -> (Arc<MemIo>, Runner) {
        let meta = Arc::new(MemIo::new(self.meta_bytes / 4096));
        let runner = Runner::new(RunConfig {
            meta: meta.clone(),
            origin: Arc::new(NullOrigin(self.origin_bytes)),
            block_size: self.block_size,
            length: None,
            sync: true,
            meta_name: "meta".into(),
            origin_name: "origin".into(),
        });
        (meta, runner)
    }
}

/// Translates the `workload.log` of `case`; a run not ending in a removal ends in a crash.
pub fn translate(case: &str) -> Replay {
    translate_dir(&case_dir(case))
}

/// Translates the `workload.log` in `dir` (a case of any kernel corpus).
pub fn translate_dir(dir: &std::path::Path) -> Replay {
    let case = dir.display();
    let log = std::fs::read_to_string(dir.join("workload.log")).unwrap();
    let events: Vec<Vec<&str>> = log
        .lines()
        .filter(|l| l.starts_with("@@"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| {
            !matches!(
                w[0],
                "@@ERA"
                    | "@@KERNEL"
                    | "@@DMSETUP"
                    | "@@TARGETS"
                    | "@@TIME"
                    | "@@DMESG"
                    | "@@RC"
                    | "@@NOTE"
                    | "@@TABLE"
            )
        })
        .collect();
    let mut r = Replay {
        meta_bytes: 0,
        origin_bytes: 0,
        block_size: 0,
        steps: Vec::new(),
    };
    let mut consumed = vec![false; events.len()];
    let mut removed = false;
    for (i, w) in events.iter().enumerate() {
        if consumed[i] {
            continue;
        }
        let next = events.get(i + 1).map(|n| n[0]);
        let num = |k: usize| -> u64 { w[k].parse().unwrap() };
        removed = false;
        match w[0] {
            "@@DISKS" => {
                for kv in &w[1..] {
                    let (k, v) = kv.split_once('=').unwrap();
                    let bytes = v.parse::<u64>().unwrap() * 512;
                    match k {
                        "meta" => r.meta_bytes = bytes,
                        "origin" => r.origin_bytes = bytes,
                        _ => panic!("{case}: {kv}"),
                    }
                }
            }
            "@@CREATE" => {
                r.block_size = num(2) as u32;
                r.steps.push((Command::Open(Some(num(3))), None));
            }
            "@@REQ" => {
                // One write request (testdata/kernel_random's `req`): one command for the
                // whole request, i.e. era_emulate's schedule (one request, one worker pass;
                // the kernel's depends on timing when the request spans blocks, see
                // testdata/kernel_random/README.md); the @@W lines that follow belong to it.
                let (sector, count) = (num(1), num(2));
                let bs = r.block_size as u64;
                let blocks = (sector + count - 1) / bs - sector / bs + 1;
                for k in 1..=blocks as usize {
                    assert_eq!(events[i + k][0], "@@W", "{case}: @@REQ without its @@W");
                    consumed[i + k] = true;
                }
                r.steps.push((
                    Command::Write {
                        sector,
                        count,
                        byte: 0x5a,
                    },
                    None,
                ));
            }
            "@@W" => r.steps.push((
                Command::Write {
                    sector: num(2) * r.block_size as u64,
                    count: 8,
                    byte: 0x5a,
                },
                None,
            )),
            "@@R" => r.steps.push((
                Command::Read {
                    sector: num(1) * r.block_size as u64,
                    count: 8,
                },
                None,
            )),
            "@@SUSPEND" => {
                if next != Some("@@RELOAD") {
                    r.steps.push((Command::Suspend, None));
                    r.steps.push((Command::Resume, None));
                }
            }
            "@@RELOAD" => r.steps.push((Command::Reload(num(3)), None)),
            "@@STATUS" => {
                // The harness logs an operation after the status it takes right after it.
                let op = match next {
                    Some("@@CHECKPOINT") => Some("checkpoint"),
                    Some("@@SNAP_TAKE") => Some("take_metadata_snap"),
                    Some("@@SNAP_DROP") => Some("drop_metadata_snap"),
                    _ => None,
                };
                if let Some(op) = op {
                    r.steps.push((Command::Message(vec![op.into()]), None));
                    consumed[i + 1] = true;
                }
                r.steps.push((Command::Status, Some(w[2..].join(" "))));
            }
            "@@CHECKPOINT" => r
                .steps
                .push((Command::Message(vec!["checkpoint".into()]), None)),
            "@@SNAP_TAKE" => r
                .steps
                .push((Command::Message(vec!["take_metadata_snap".into()]), None)),
            "@@SNAP_DROP" => r
                .steps
                .push((Command::Message(vec!["drop_metadata_snap".into()]), None)),
            "@@RESUME" => {}
            "@@REMOVE" => {
                r.steps.push((Command::Close, None));
                removed = true;
            }
            other => panic!("{case}: unknown event {other}"),
        }
    }
    if !removed {
        r.steps.push((Command::Crash, None));
    }
    r
}
