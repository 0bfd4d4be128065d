//! Tolerant checking of persistent-data structures: instead of stopping at the first
//! damaged block like the readers, every check records a [`Finding`] naming the block
//! and carries on with whatever can still be trusted. A [`Checker`] holds the findings,
//! the reference counts computed from everything walked so far (format.md §7.5), and a
//! read budget so that no input, however shared or cyclic, can make a check run forever.

mod array;
mod btree;
mod findings;
mod refcount;
mod space_map;

pub use crate::block_set::MetaBlockSet;
pub use array::{check_array, ArrayBlockValues, ArraySpec};
pub use btree::{walk_btree, LeafEntry, TreeSpec};
pub use findings::{Finding, Severity};
pub use refcount::RefCounts;
pub use space_map::check_space_map;

use super::checksum::{self, BlockKind};
use super::space_map::MAX_METADATA_BLOCKS;
use super::Error;
use crate::io::BlockIo;
use crate::units::{zeroed_block, BlockBuf, MetaBlock};
use std::collections::HashSet;

/// Reads allowed per device block before a check gives up: a valid image needs at most
/// two reads of a block (a node shared by the live trees and a metadata snapshot).
const READS_PER_BLOCK: u64 = 4;
/// Extra reads allowed on top, for tiny devices.
const READS_SLACK: u64 = 1024;

/// The state of one check: findings so far, computed reference counts, and the guards.
pub struct Checker<'a> {
    io: &'a dyn BlockIo,
    findings: Vec<Finding>,
    /// Reference counts computed from the structures walked so far.
    pub refs: RefCounts,
    /// Blocks whose outgoing references have been counted (each block counts its
    /// references once, however many trees share it).
    expanded: MetaBlockSet,
    /// Array blocks checked so far (each is checked once, however many arrays share it).
    arrays_checked: MetaBlockSet,
    /// Set once a walk had to skip a subtree: blocks below it look unreferenced.
    damaged: bool,
    reads: u64,
    budget: u64,
    exhausted: bool,
}

impl<'a> Checker<'a> {
    /// A checker over `io`, counting references for the space map's first
    /// `space_map_blocks` blocks (clamped to the device and the format's limit).
    pub fn new(io: &'a dyn BlockIo, space_map_blocks: u64) -> Checker<'a> {
        let device = io.nr_blocks();
        let tracked = space_map_blocks.min(device).min(MAX_METADATA_BLOCKS);
        Checker {
            io,
            findings: Vec::new(),
            refs: RefCounts::new(tracked, device),
            expanded: MetaBlockSet::new(),
            arrays_checked: MetaBlockSet::new(),
            damaged: false,
            reads: 0,
            budget: device
                .min(2 * MAX_METADATA_BLOCKS)
                .saturating_mul(READS_PER_BLOCK)
                .saturating_add(READS_SLACK),
            exhausted: false,
        }
    }

    /// Sets the number of blocks the space map manages (clamped to the device and the
    /// format's limit). Call it before counting any reference: it clears the counts.
    pub fn set_space_map_blocks(&mut self, space_map_blocks: u64) {
        let device = self.io.nr_blocks();
        let tracked = space_map_blocks.min(device).min(MAX_METADATA_BLOCKS);
        self.refs = RefCounts::new(tracked, device);
    }

    /// The device being checked.
    pub fn io(&self) -> &'a dyn BlockIo {
        self.io
    }

    /// Number of blocks on the device.
    pub fn device_blocks(&self) -> u64 {
        self.io.nr_blocks()
    }

    /// Number of block reads so far.
    pub fn reads(&self) -> u64 {
        self.reads
    }

    /// Records a fatal finding.
    pub fn error(&mut self, block: impl Into<Option<MetaBlock>>, message: impl Into<String>) {
        self.findings.push(Finding::error(block, message));
    }

    /// Records a non-fatal finding.
    pub fn warning(&mut self, block: impl Into<Option<MetaBlock>>, message: impl Into<String>) {
        self.findings.push(Finding::warning(block, message));
    }

    /// Records a non-fatal finding about one block of what may be a run (leaked blocks):
    /// the same finding about the next block extends the last one instead of adding a line.
    pub fn warning_in_run(&mut self, block: MetaBlock, message: impl Into<String>) {
        let f = Finding::warning(block, message);
        if let Some(last) = self.findings.last_mut() {
            if last.absorb(&f) {
                return;
            }
        }
        self.findings.push(f);
    }

    /// The findings so far.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Takes the findings, each reported once, in the order they were found.
    pub fn into_findings(self) -> Vec<Finding> {
        let mut seen = HashSet::new();
        self.findings
            .into_iter()
            .filter(|f| seen.insert((f.severity, f.block, f.last, f.message.clone())))
            .collect()
    }

    /// Records that a walk skipped a damaged subtree.
    pub fn note_damage(&mut self) {
        self.damaged = true;
    }

    /// True if some walk skipped a damaged subtree, so that unreferenced blocks may be
    /// the damaged structures' own.
    pub fn damaged(&self) -> bool {
        self.damaged
    }

    /// True once the read budget is spent; every later read fails.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// Whether `block` can be read at all.
    pub fn in_device(&self, block: MetaBlock) -> bool {
        block.is_below(self.io.nr_blocks())
    }

    /// True the first time it is asked about `block`: the caller then counts the
    /// references the block holds.
    pub fn first_expansion(&mut self, block: MetaBlock) -> bool {
        self.expanded.insert(block)
    }

    /// True the first time an array block is to be checked.
    fn first_array_check(&mut self, block: MetaBlock) -> bool {
        self.arrays_checked.insert(block)
    }

    /// Counts a reference held by a root field (the superblock's, or the space-map
    /// root's), whose range the caller has already reported on. Returns whether the
    /// block lies on the device.
    pub fn count_root(&mut self, to: MetaBlock) -> bool {
        self.refs.add(to);
        let readable = self.in_device(to);
        if !readable {
            self.damaged = true;
        }
        readable
    }

    /// Counts a reference from block `from` to block `to` (`what` names the target in
    /// findings) and reports a pointer beyond the space map or the device. Returns
    /// whether `to` can be read.
    pub fn reference(&mut self, from: MetaBlock, to: MetaBlock, what: &str) -> bool {
        self.refs.add(to);
        let device = self.device_blocks();
        if !to.is_below(device) {
            self.error(
                from,
                format!(
                    "{what}: points to block {to}, beyond the end of the device ({device} blocks)"
                ),
            );
            self.damaged = true;
            return false;
        }
        let managed = self.refs.space_map_blocks();
        if !to.is_below(managed) {
            self.error(
                from,
                format!("{what}: points to block {to}, beyond the space map's {managed} blocks"),
            );
        }
        if to.is_zero() {
            self.error(
                from,
                format!("{what}: points to block 0, which is the superblock"),
            );
            self.damaged = true;
            return false;
        }
        true
    }

    /// Reads `block` without verifying it. `None` (with a finding) if the device cannot
    /// deliver it or the read budget is spent.
    pub fn read_raw(&mut self, block: MetaBlock, what: &str) -> Option<Box<BlockBuf>> {
        if self.exhausted {
            return None;
        }
        self.reads += 1;
        if self.reads > self.budget {
            self.exhausted = true;
            self.error(
                None,
                format!(
                    "gave up after {} block reads: the metadata refers to its blocks more often than any valid image can (shared or cyclic references)",
                    self.budget
                ),
            );
            return None;
        }
        if !self.in_device(block) {
            let device = self.device_blocks();
            self.error(
                block,
                format!("{what}: lies beyond the end of the device ({device} blocks)"),
            );
            return None;
        }
        let mut buf = zeroed_block();
        match self.io.read_block(block, &mut buf) {
            Ok(()) => Some(buf),
            Err(e) => {
                self.error(block, format!("{what}: cannot be read: {e}"));
                None
            }
        }
    }

    /// Reads `block` and verifies its checksum and self-reference as a block of `kind`.
    /// `None` (with a finding) if either is wrong: nothing in it can be trusted.
    pub fn read_verified(
        &mut self,
        block: MetaBlock,
        kind: BlockKind,
        what: &str,
    ) -> Option<Box<BlockBuf>> {
        let data = self.read_raw(block, what)?;
        match checksum::verify(&data, kind, block) {
            Ok(()) => Some(data),
            Err(e) => {
                self.report_pdata_error(&e, what, &data);
                None
            }
        }
    }

    /// Records a reader error as a finding, phrased for `what`.
    fn report_pdata_error(&mut self, e: &Error, what: &str, data: &BlockBuf) {
        let message = match e {
            Error::BadChecksum {
                kind,
                stored,
                computed,
                ..
            } => {
                let looks_like = match checksum::identify(data) {
                    Some(k) if k != *kind => format!("; it has the checksum of another type ({k})"),
                    _ if data.iter().all(|&b| b == 0) => "; the block is all zeros".to_string(),
                    _ => String::new(),
                };
                format!(
                    "{what}: bad checksum (stored {stored:#010x}, computed {computed:#010x}){looks_like}"
                )
            }
            Error::WrongBlocknr { found, .. } => {
                format!("{what}: blocknr field says {found}")
            }
            other => format!("{what}: {other}"),
        };
        self.error(e.block(), message);
    }
}

#[cfg(test)]
mod tests;
