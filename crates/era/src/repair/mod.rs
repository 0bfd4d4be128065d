//! Salvaging damaged era metadata (`era_repair`, `era_dump --repair`): read everything
//! readable and give up nothing a backup needs. The promise: for every era N, the blocks
//! that `era_invalidate --written-since N` lists on the repaired metadata include every
//! block it would list on the undamaged metadata. What cannot be read is covered
//! conservatively ([`floor`]): unreadable era-array entries get the current era,
//! unreadable writeset bits count as written in their writeset's era, and lost
//! writeset-tree subtrees count every block as written in the latest era they may hold.
//!
//! A superblock with a valid checksum is still not trusted where the rest contradicts
//! it: its sizes and current era are taken as the largest value the structures evidence
//! (`evidence`), and a recorded era is never lowered. A damaged superblock whose fields
//! still agree exactly with the rest of the metadata is used as it is (`hint`);
//! otherwise the superblock is rebuilt from a scan of the device (`rebuild`).

mod bits;
mod evidence;
pub mod floor;
pub(crate) mod hint;
pub mod loss;
pub mod orphan;
pub mod plan;
pub(crate) mod rebuild;
mod scan;
mod versions;
pub(crate) mod view;

use super::check::{check, CheckOptions};
use super::ir::{EraMetadata, Visitor};
use super::metadata::read_superblock;
use super::restore::{fits, structure_blocks_for, too_small, StreamWriter, WriteSummary};
use super::stream::{Shape, StreamError};
use super::superblock::Superblock;
use super::{Error, Result};
use crate::io::BlockIo;
use crate::pdata::check::Severity;
use crate::units::BLOCK_SECTORS;
pub use loss::{Loss, Lost, NoBitset, Whose};
pub use plan::{Feed, Plan};
use view::{assemble, salvage_roots, Roots};

/// What a repair may assume about the damaged device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairOptions {
    /// The origin block size in sectors, for when the superblock is unreadable and no
    /// metadata snapshot copy records it.
    pub data_block_size: Option<u32>,
    /// The number of origin blocks, for when the superblock is unreadable and no
    /// structure found tells it; a structure describing more blocks still wins.
    pub nr_blocks: Option<u32>,
}

/// The outcome of a salvage: what was lost and noted, and the repaired metadata as a
/// [`Plan`] to read from the damaged device ([`Repaired::stream`]).
#[derive(Debug, Clone)]
pub struct Repaired {
    /// Valid metadata covering everything the damaged metadata recorded.
    pub plan: Plan,
    /// What could not be read, each with how it was covered.
    pub losses: Vec<Loss>,
    /// Other things the user should know (a dropped snapshot, a rebuilt superblock).
    pub notes: Vec<String>,
    /// Whether the superblock had to be rebuilt from a scan of the device.
    pub rebuilt_superblock: bool,
    /// Whether nothing was lost and `era_check` finds no error in the input: only then
    /// may a repair say that nothing was lost.
    pub lossless: bool,
}

impl Repaired {
    /// Passes the repaired metadata, read from `io` (the device it was salvaged from),
    /// to `v` in document order; see [`Plan::stream`]. Fails with
    /// [`StreamError::Read`] where `io` no longer reads as the salvage read it, with
    /// [`StreamError::Visit`] where `v` fails.
    pub fn stream<V: Visitor>(
        &self,
        io: &dyn BlockIo,
        v: &mut V,
        shape: Shape,
        feed: Feed,
    ) -> std::result::Result<(), StreamError<V::Error>> {
        self.plan.stream(io, v, shape, feed)
    }

    /// Writes the repaired metadata, read from `input` (the device it was salvaged
    /// from), to `out` as `era_restore` writes: refused from its sizes before anything
    /// is written if `out` cannot hold it, then streamed (one writeset's bitset held).
    /// Fails with [`StreamError::Read`] where `input` no longer reads as the salvage
    /// read it, with [`StreamError::Visit`] where writing `out` fails (or the metadata
    /// cannot be written: [`Error::InvalidInput`]).
    pub fn write(
        &self,
        input: &dyn BlockIo,
        out: &dyn BlockIo,
    ) -> std::result::Result<WriteSummary, StreamError<Error>> {
        let sb = &self.plan.superblock;
        let structure =
            structure_blocks_for(sb.nr_blocks, self.plan.writesets.iter().map(|w| w.nr_bits));
        if !fits(structure, out.nr_blocks()) {
            return Err(StreamError::Visit(too_small(structure, out.nr_blocks())));
        }
        // Nothing to hold back: the salvage has read and checked everything already.
        let mut w = StreamWriter::new(out, 0);
        match self.stream(input, &mut w, Shape::Full, Feed::Runs) {
            Ok(()) => w.finish().map_err(StreamError::Visit),
            Err(StreamError::Read(e)) => Err(StreamError::Read(e)),
            Err(StreamError::Visit(e)) => Err(StreamError::Visit(w.take_failure().unwrap_or(
                Error::InvalidInput {
                    reason: e.to_string(),
                },
            ))),
        }
    }

    /// The whole repaired metadata in memory, read from `io` (the device it was
    /// salvaged from): 4.5 bytes per origin block, for tests and small metadata.
    pub fn metadata(&self, io: &dyn BlockIo) -> Result<EraMetadata> {
        self.plan.metadata(io)
    }
}

/// Salvages the metadata on `io`: reads its indexes and every block once to find what
/// is lost, keeping no values. Fails only when not even the geometry can be recovered;
/// the error then says exactly why.
pub fn salvage(io: &dyn BlockIo, opts: &RepairOptions) -> Result<Repaired> {
    let mut notes = Vec::new();
    let mut rebuilt_superblock = false;
    let sb = match read_superblock(io) {
        Ok(sb) => sb,
        Err(e) => match hint::verified_fields(io) {
            Some(sb) => {
                notes.push(format!(
                    "the superblock is damaged ({e}), but its fields agree exactly with the rest of the metadata (it checks clean with them, space map included): they are used; its data block size {} cannot be verified that way: check it against the era target's table line",
                    sb.data_block_size
                ));
                rebuilt_superblock = true;
                sb
            }
            None => return rebuild::rebuild(io, opts, &e),
        },
    };
    let roots = roots_of(&sb, opts)?;
    if !sb.metadata_snap.is_zero() {
        notes.push(format!(
            "the metadata snapshot held at block {} is not carried over: the repaired metadata holds none",
            sb.metadata_snap
        ));
    }
    let mut losses = Vec::new();
    let mut s = salvage_roots(io, &roots, &mut losses);
    // What the salvage reads without complaint may still be wrong (a root pointing at
    // a stale copy, blocks swapped, a space map that disagrees): where era_check finds
    // an error, every version of the structures on the device is taken into account
    // too, and the error is named, never hidden behind "nothing was lost".
    let report = check(io, &CheckOptions::default());
    if report.has_errors() {
        rebuild::raise_to_versions(io, &mut s, &mut notes);
        if losses.is_empty() {
            for f in report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
            {
                let at = f.block.map(|b| format!("block {b}: ")).unwrap_or_default();
                notes.push(format!(
                    "era_check finds an error the salvage read past: {at}{}; the repaired metadata is written afresh without it",
                    f.message
                ));
            }
        }
    }
    let lossless = losses.is_empty() && !rebuilt_superblock && !report.has_errors();
    let plan = assemble(io, roots.data_block_size, s, &mut notes)?;
    Ok(Repaired {
        plan,
        losses,
        notes,
        rebuilt_superblock,
        lossless,
    })
}

/// The roots of a valid superblock, after the checks its fields need to be usable.
fn roots_of(sb: &Superblock, opts: &RepairOptions) -> Result<Roots> {
    let data_block_size = match opts.data_block_size {
        Some(bs) => bs,
        None => sb.data_block_size,
    };
    check_block_size(data_block_size)?;
    let cw = sb.current_writeset;
    Ok(Roots {
        data_block_size,
        nr_blocks: sb.nr_blocks,
        current_era: sb.current_era.get(),
        writeset_tree_root: sb.writeset_tree_root,
        era_array_root: sb.era_array_root,
        current_writeset: (!cw.root.is_zero()).then_some(cw),
    })
}

/// A block size the kernel accepts.
fn check_block_size(bs: u32) -> Result<()> {
    if bs == 0 || !bs.is_multiple_of(BLOCK_SECTORS) {
        return Err(Error::Unrepairable {
            reason: format!(
                "the data block size {bs} is not a positive multiple of {BLOCK_SECTORS} sectors: give the era target's block size (its third table argument, in sectors) with --data-block-size"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
