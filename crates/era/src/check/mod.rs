//! `era_check`'s engine: verifies everything the kernel relies on in era metadata and
//! reports every problem found, each naming the metadata block at fault.
//!
//! Order of the check: the live superblock (format.md §3, §10.4); then, unless only the
//! superblock is asked for, the live structures (writeset tree, writesets, current
//! writeset, era array), the held metadata snapshot's structures, and finally the space
//! map against the reference counts computed from all of them (§7.5). Damaged subtrees
//! are reported and skipped; the rest is still checked.

mod structures;
mod superblock;

pub use crate::pdata::check::{Finding, Severity};

use crate::io::BlockIo;
use crate::pdata::check::{check_space_map, Checker};
use crate::superblock::SUPERBLOCK_LOCATION;
use crate::units::MetaBlock;
use structures::{Structures, ViewSpec};
use superblock::{check_live_fields, check_snapshot_fields, read_superblock};

/// What to check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// Check only the superblock's own fields; read no other block.
    pub super_block_only: bool,
    /// Check the held metadata snapshot's structures only, as they can be checked while a
    /// live target keeps changing the rest: the live superblock, the snapshot copy, its
    /// writeset tree, writesets and era array; not the space map.
    pub metadata_snapshot: bool,
}

/// The outcome of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Every problem found, in the order found, each once.
    pub findings: Vec<Finding>,
    /// Metadata blocks read.
    pub blocks_read: u64,
    /// Distinct blocks the structures refer to (the superblock included).
    pub blocks_referenced: u64,
}

impl CheckReport {
    /// True if any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// True if any finding is a warning.
    pub fn has_warnings(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Warning)
    }

    /// Number of errors.
    pub fn nr_errors(&self) -> usize {
        self.findings.iter().filter(|f| f.is_error()).count()
    }

    /// Number of warnings.
    pub fn nr_warnings(&self) -> usize {
        self.findings.len() - self.nr_errors()
    }
}

/// Checks the era metadata on `io`. Never panics and always terminates, whatever the
/// device holds.
pub fn check(io: &dyn BlockIo, opts: &CheckOptions) -> CheckReport {
    let mut ck = Checker::new(io, 0);
    if let Some(sb) = read_superblock(&mut ck, SUPERBLOCK_LOCATION, "superblock") {
        check_live_fields(&mut ck, &sb);
        if !opts.super_block_only {
            // A space map of 0 blocks is reported above; counting against the device
            // instead keeps every pointer from being reported as beyond it.
            let sm_blocks = match sb.sm_root.nr_blocks {
                0 => io.nr_blocks(),
                n => n,
            };
            ck.set_space_map_blocks(sm_blocks);
            let snap_at = sb.metadata_snap;
            if opts.metadata_snapshot {
                if snap_at.is_zero() {
                    ck.error(
                        SUPERBLOCK_LOCATION,
                        "superblock: no metadata snapshot is held (metadata_snap is 0)",
                    );
                } else {
                    check_snapshot(&mut ck, &mut Structures::default(), snap_at, sm_blocks);
                }
            } else {
                ck.count_root(SUPERBLOCK_LOCATION);
                let mut structures = Structures::default();
                let cw = sb.current_writeset;
                structures.check_view(
                    &mut ck,
                    &ViewSpec {
                        label: "",
                        sb_block: SUPERBLOCK_LOCATION,
                        writeset_tree_root: sb.writeset_tree_root,
                        era_array_root: sb.era_array_root,
                        nr_blocks: sb.nr_blocks,
                        current_era: sb.current_era,
                        current_writeset: (!cw.root.is_zero()).then_some(cw),
                    },
                );
                if !snap_at.is_zero() && ck.count_root(snap_at) {
                    check_snapshot(&mut ck, &mut structures, snap_at, sm_blocks);
                }
                check_space_map(&mut ck, &sb.sm_root, SUPERBLOCK_LOCATION);
            }
        }
    }
    let blocks_read = ck.reads();
    let blocks_referenced = ck.refs.nr_referenced();
    CheckReport {
        findings: ck.into_findings(),
        blocks_read,
        blocks_referenced,
    }
}

/// Checks the metadata snapshot held at `snap_at`: its superblock copy and the
/// structures it references.
fn check_snapshot(
    ck: &mut Checker,
    structures: &mut Structures,
    snap_at: MetaBlock,
    sm_blocks: u64,
) {
    let Some(snap) = read_superblock(ck, snap_at, "metadata snapshot") else {
        ck.note_damage();
        return;
    };
    check_snapshot_fields(ck, &snap, snap_at, sm_blocks);
    structures.check_view(
        ck,
        &ViewSpec {
            label: "snapshot ",
            sb_block: snap_at,
            writeset_tree_root: snap.writeset_tree_root,
            era_array_root: snap.era_array_root,
            nr_blocks: snap.nr_blocks,
            current_era: snap.current_era,
            current_writeset: None,
        },
    );
}

#[cfg(test)]
mod tests;
