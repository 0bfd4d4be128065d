//! The restore as a [`Visitor`]: metadata is written as it arrives, in the layout and
//! with the bytes [`super::write_metadata`] documents, in memory that does not grow with
//! the origin: the open writeset's bitset (`nr_bits / 8` bytes), one batch of the era
//! array, the reference counts of the metadata blocks and the writesets' roots.
//!
//! Each call is checked as [`crate::ir_builder::IrBuilder`] checks it, with the same
//! errors. The checks that [`super::validate`] makes on a whole metadata (an era later
//! than the current era, writeset eras that are not one contiguous range) are made as
//! their input arrives; a failure stops the writing, the rest of the input is still
//! read and checked, and [`StreamWriter::finish`] reports it, as it would have been
//! reported once the whole input was read.
//!
//! The writes are held back ([`HeldIo`]) up to a limit: metadata that fits under it is
//! written only once the whole input is read and checked. Beyond it, writing starts
//! part-way, with the mark of an interrupted restore in block 0 first and the
//! superblock last, so that a restore that then fails leaves a device every tool
//! names as interrupted.

use super::era_array::EraArrayWriter;
use super::held::HeldIo;
use super::writesets::Placement;
use super::{Error, Result, WriteSummary};
use crate::interrupted::interrupted_marker;
use crate::io::BlockIo;
use crate::ir::{visit_runs, SuperblockIr, Visitor, WritesetIr};
use crate::ir_builder::{BuildError, Checker, Stage};
use crate::pdata::alloc::BlockAllocator;
use crate::pdata::bitset::{mask_tail, nr_words, or_words, set_range};
use crate::pdata::btree::BtreeBuilder;
use crate::pdata::space_map::{managed_blocks, write_space_map};
use crate::pdata::write_block;
use crate::superblock::{Superblock, WritesetRoot, SUPERBLOCK_LOCATION};
use crate::units::{DataBlock, MetaBlock, BLOCK_SIZE};
use crate::writeset::writeset_eras_fault;

/// Why a [`StreamWriter`] stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The input cannot be metadata.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Writing failed; [`StreamWriter::take_failure`] has the error.
    #[error("writing the metadata failed")]
    WriteFailed,
}

/// The writeset being read.
#[derive(Debug)]
struct Open {
    era: u32,
    nr_bits: u32,
    words: Vec<u64>,
}

/// Writes metadata to a device as visitor calls arrive; see the module doc.
pub struct StreamWriter<'a> {
    io: HeldIo<'a>,
    managed: u64,
    checks: Checker,
    alloc: BlockAllocator,
    open: Option<Open>,
    writesets: Placement,
    writeset_tree_root: MetaBlock,
    era_array: Option<EraArrayWriter>,
    /// The writeset eras are not one contiguous range (the message).
    eras_fault: Option<String>,
    /// The lowest block given an era later than the current era, and that era.
    later: Option<(DataBlock, u32)>,
    /// Why writing failed.
    failure: Option<Error>,
}

impl<'a> StreamWriter<'a> {
    /// A writer to `io` that holds back up to `hold` blocks of writes (see the module
    /// doc). Metadata that does not fit on `io` is refused from its declared sizes.
    pub fn new(io: &'a dyn BlockIo, hold: usize) -> StreamWriter<'a> {
        let device_blocks = io.nr_blocks();
        let managed = managed_blocks(device_blocks);
        StreamWriter {
            io: HeldIo::new(io, hold),
            managed,
            checks: Checker::new(Some(device_blocks)),
            alloc: BlockAllocator::new(SUPERBLOCK_LOCATION.offset(1), managed),
            open: None,
            writesets: Placement::default(),
            writeset_tree_root: MetaBlock::new(0),
            era_array: None,
            eras_fault: None,
            later: None,
            failure: None,
        }
    }

    /// The error that made a call fail with [`StreamError::WriteFailed`].
    pub fn take_failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    /// Whether the output is still written: nothing failed, no check failed.
    fn writing(&self) -> bool {
        self.failure.is_none() && self.eras_fault.is_none() && self.later.is_none()
    }

    /// A check's refusal: a device too small for the metadata is the output's fault,
    /// kept for [`StreamWriter::take_failure`] as a failed write is; anything else is
    /// the input's.
    fn refused(&mut self, e: BuildError) -> StreamError {
        if let BuildError::DeviceTooSmall {
            needed_bytes,
            device_bytes,
        } = e
        {
            self.failure = Some(Error::DeviceTooSmall {
                needed_bytes,
                needed_blocks: needed_bytes / BLOCK_SIZE as u64,
                device_bytes,
            });
            return StreamError::WriteFailed;
        }
        StreamError::Build(e)
    }

    /// Keeps the error of a write, if any, for [`StreamWriter::take_failure`].
    fn wrote<T>(&mut self, r: Result<T>) -> std::result::Result<T, StreamError> {
        r.map_err(|e| {
            self.failure = Some(e);
            StreamError::WriteFailed
        })
    }

    fn write_writeset_tree(&mut self) -> Result<()> {
        let mut tree = BtreeBuilder::<WritesetRoot>::new();
        for w in &self.writesets.placed {
            let value = WritesetRoot {
                nr_bits: w.nr_bits,
                root: w.root,
            };
            tree.push(&mut self.alloc, &self.io, u64::from(w.era), &value)?;
            self.alloc.inc(w.root);
        }
        let root = tree.finish(&mut self.alloc, &self.io)?;
        self.alloc.inc(root);
        self.writeset_tree_root = root;
        Ok(())
    }

    /// Once the whole input is read: reports a failed check, or writes the era array's
    /// index, the space map and then the superblock.
    pub fn finish(mut self) -> Result<WriteSummary> {
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        let sb = self.checks.superblock.clone();
        if self.checks.stage != Stage::Done {
            return Err(Error::InvalidInput {
                reason: BuildError::OutOfOrder("the end of the metadata").to_string(),
            });
        }
        if let Some((block, era)) = self.later {
            return Err(Error::InvalidInput {
                reason: format!(
                    "block {block} has era {era}, later than the current era {}",
                    sb.current_era
                ),
            });
        }
        if let Some(fault) = self.eras_fault.take() {
            return Err(Error::InvalidInput {
                reason: format!("{fault}, which era_check reports"),
            });
        }
        let Some(era_array) = self.era_array.take() else {
            return Err(Error::InvalidInput {
                reason: BuildError::OutOfOrder("the era array").to_string(),
            });
        };
        let io = &self.io;
        let alloc = &mut self.alloc;
        let era_array_root = era_array.finish(alloc, io)?;
        alloc.inc(era_array_root);
        let sm_root = write_space_map(alloc, io, self.managed)?;
        flush(io)?;
        let superblock = Superblock {
            sm_root,
            nr_blocks: sb.nr_blocks,
            current_era: sb.current_era,
            current_writeset: WritesetRoot {
                nr_bits: sb.nr_blocks,
                root: MetaBlock::new(0),
            },
            writeset_tree_root: self.writeset_tree_root,
            era_array_root,
            ..Superblock::new(sb.block_size)
        };
        write_block(io, SUPERBLOCK_LOCATION, &superblock.pack())?;
        flush(io)?;
        io.release().map_err(|source| {
            Error::Pdata(crate::pdata::Error::Io {
                block: SUPERBLOCK_LOCATION,
                source,
            })
        })?;
        Ok(WriteSummary {
            superblock,
            blocks_used: sm_root.nr_allocated,
            blocks_managed: sm_root.nr_blocks,
        })
    }
}

fn flush(io: &dyn BlockIo) -> Result<()> {
    io.flush().map_err(|source| {
        Error::Pdata(crate::pdata::Error::Io {
            block: SUPERBLOCK_LOCATION,
            source,
        })
    })
}

impl Visitor for StreamWriter<'_> {
    type Error = StreamError;

    fn superblock_begin(&mut self, sb: &SuperblockIr) -> std::result::Result<(), StreamError> {
        self.checks
            .superblock_begin(sb)
            .map_err(|e| self.refused(e))?;
        self.era_array = Some(EraArrayWriter::new(sb.nr_blocks));
        // Block 0 first: the mark of a restore under way.
        let r = write_block(&self.io, SUPERBLOCK_LOCATION, &interrupted_marker())
            .map_err(Error::from)
            .and_then(|()| flush(&self.io));
        self.wrote(r)?;
        self.alloc.inc(SUPERBLOCK_LOCATION);
        Ok(())
    }

    fn writeset_begin(&mut self, ws: &WritesetIr) -> std::result::Result<(), StreamError> {
        self.checks
            .writeset_begin(ws)
            .map_err(|e| self.refused(e))?;
        self.open = Some(Open {
            era: ws.era.get(),
            nr_bits: ws.nr_bits,
            // Zeroed, so that pages no bit is set in cost nothing.
            words: vec![0; nr_words(u64::from(ws.nr_bits)) as usize],
        });
        Ok(())
    }

    fn writeset_run(&mut self, begin: DataBlock, len: u32) -> std::result::Result<(), StreamError> {
        let end = self
            .checks
            .writeset_run(begin, len)
            .map_err(|e| self.refused(e))?;
        let begin = begin.get();
        if let Some(open) = &mut self.open {
            set_range(&mut open.words, u64::from(begin), u64::from(end));
        }
        Ok(())
    }

    fn writeset_words(
        &mut self,
        words: &[u64],
        nr_bits: u32,
    ) -> std::result::Result<(), StreamError> {
        let whole = self.checks.stage == Stage::Writeset
            && self.open.as_ref().is_some_and(|o| {
                o.nr_bits == nr_bits && o.words.len() as u64 == nr_words(u64::from(nr_bits))
            })
            && words.len() as u64 == nr_words(u64::from(nr_bits));
        if !whole {
            // Any other shape goes run by run, checked as such.
            return visit_runs(words, nr_bits, |b, len| self.writeset_run(b, len));
        }
        if let Some(open) = &mut self.open {
            or_words(&mut open.words, words);
            mask_tail(&mut open.words, u64::from(nr_bits));
        }
        Ok(())
    }

    fn writeset_end(&mut self) -> std::result::Result<(), StreamError> {
        self.checks.writeset_end().map_err(|e| self.refused(e))?;
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        if self.writing() {
            let r = self.writesets.place(
                &mut self.alloc,
                &self.io,
                open.era,
                open.nr_bits,
                &open.words,
            );
            self.wrote(r.map_err(Error::from))?;
        }
        Ok(())
    }

    fn era_array_begin(&mut self) -> std::result::Result<(), StreamError> {
        self.checks.era_array_begin().map_err(|e| self.refused(e))?;
        let mut eras: Vec<u64> = self
            .checks
            .writeset_eras
            .iter()
            .map(|&e| u64::from(e))
            .collect();
        eras.sort_unstable();
        self.eras_fault = writeset_eras_fault(&eras);
        if self.writing() {
            let r = self.write_writeset_tree();
            self.wrote(r)?;
        }
        Ok(())
    }

    fn eras(&mut self, first: DataBlock, eras: &[u32]) -> std::result::Result<(), StreamError> {
        self.checks.eras(first, eras).map_err(|e| self.refused(e))?;
        let first = first.get();
        let current = self.checks.superblock.current_era;
        if let Some(i) = eras.iter().position(|&e| e > current.get()) {
            let block = DataBlock::new(first + i as u32);
            if self.later.is_none_or(|(b, _)| block < b) {
                self.later = Some((block, eras[i]));
            }
        }
        if self.writing() {
            if let Some(mut w) = self.era_array.take() {
                let r = w.set(&mut self.alloc, &self.io, u64::from(first), eras);
                self.era_array = Some(w);
                self.wrote(r.map_err(Error::from))?;
            }
        }
        Ok(())
    }

    fn era_array_end(&mut self) -> std::result::Result<(), StreamError> {
        self.checks.era_array_end().map_err(|e| self.refused(e))
    }

    fn superblock_end(&mut self) -> std::result::Result<(), StreamError> {
        self.checks.superblock_end().map_err(|e| self.refused(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate, GenerateParams};
    use crate::io::MemIo;
    use crate::ir::EraMetadata;
    use crate::pdata::array::array_max_entries;
    use crate::pdata::array::builder::BATCH_BLOCKS;
    use crate::pdata::bitset::for_each_run;
    use crate::restore::{blocks_needed, write_metadata};
    use crate::units::{DataBlock, Era};

    fn xorshift(s: &mut u64) -> u64 {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        *s
    }

    /// Three writesets shorter than the era array, and an era array of three batches and a
    /// bit, every block given.
    fn metadata() -> EraMetadata {
        let batch = BATCH_BLOCKS as u32 * array_max_entries(4);
        let nr_blocks = 3 * batch + 777;
        let mut md = generate(&GenerateParams {
            nr_blocks,
            block_size: 128,
            current_era: 7,
            nr_writesets: 3,
            density: 0.25,
            seed: 7,
        })
        .unwrap();
        // The live era has no archived writeset.
        md.superblock.current_era = Era::new(8);
        for ws in &mut md.writesets {
            ws.nr_bits = nr_blocks - ws.era.get() * 1000;
            ws.bits.truncate(nr_words(u64::from(ws.nr_bits)) as usize);
            mask_tail(&mut ws.bits, u64::from(ws.nr_bits));
        }
        md
    }

    fn device(md: &EraMetadata) -> MemIo {
        MemIo::new(blocks_needed(md).unwrap() + 50)
    }

    #[test]
    fn input_in_any_order_gives_the_bytes_of_input_in_order() {
        let md = metadata();
        let want = device(&md);
        write_metadata(&want, &md).unwrap();
        for hold in [0, 64, 1 << 20] {
            let got = device(&md);
            let mut w = StreamWriter::new(&got, hold);
            w.superblock_begin(&md.superblock).unwrap();
            // Writesets 7, 5, 6: each one below one already written moves those up.
            for &i in &[2usize, 0, 1] {
                let ws = &md.writesets[i];
                w.writeset_begin(&WritesetIr {
                    era: ws.era,
                    nr_bits: ws.nr_bits,
                })
                .unwrap();
                let mut runs = Vec::new();
                for_each_run(&ws.bits, u64::from(ws.nr_bits), |b, e| runs.push((b, e)));
                runs.reverse();
                for (b, e) in runs {
                    w.writeset_run(DataBlock::new(b as u32), (e - b) as u32)
                        .unwrap();
                }
                w.writeset_end().unwrap();
            }
            w.era_array_begin().unwrap();
            // Pieces of odd sizes, backwards, and the block-0 era (0) never given.
            let eras = &md.era_array;
            let mut end = eras.len();
            let mut s = 3u64;
            while end > 1 {
                let len = (1 + xorshift(&mut s) % 3000) as usize;
                let begin = end.saturating_sub(len).max(1);
                w.eras(DataBlock::new(begin as u32), &eras[begin..end])
                    .unwrap();
                end = begin;
            }
            w.era_array_end().unwrap();
            w.superblock_end().unwrap();
            let mut md0 = md.clone();
            md0.era_array[0] = 0;
            let want0 = device(&md);
            write_metadata(&want0, &md0).unwrap();
            w.finish().unwrap();
            assert!(got.to_bytes() == want0.to_bytes(), "hold {hold}");
        }
    }

    #[test]
    fn late_checks_fail_at_the_end_with_nothing_written_when_held() {
        let md = EraMetadata {
            superblock: SuperblockIr {
                uuid: String::new(),
                block_size: 8,
                nr_blocks: 4,
                current_era: Era::new(3),
            },
            writesets: Vec::new(),
            era_array: Vec::new(),
        };
        let run = |eras: &[u32], ws: &[u32]| {
            let io = MemIo::from_bytes(vec![0x44; 64 * 4096]);
            let mut w = StreamWriter::new(&io, 1000);
            w.superblock_begin(&md.superblock).unwrap();
            for &era in ws {
                w.writeset_begin(&WritesetIr {
                    era: Era::new(era),
                    nr_bits: 4,
                })
                .unwrap();
                w.writeset_end().unwrap();
            }
            w.era_array_begin().unwrap();
            w.eras(DataBlock::new(2), &eras[2..]).unwrap();
            w.eras(DataBlock::new(0), &eras[..2]).unwrap();
            w.era_array_end().unwrap();
            w.superblock_end().unwrap();
            let err = w.finish().unwrap_err().to_string();
            assert!(io.to_bytes().iter().all(|&b| b == 0x44), "{err}");
            err
        };
        // The lowest block is named, whatever the order of the entries.
        assert_eq!(
            run(&[1, 5, 2, 7], &[1, 3]),
            "invalid metadata: block 1 has era 5, later than the current era 3"
        );
        assert_eq!(
            run(&[1, 1, 2, 3], &[1, 3]),
            "invalid metadata: the writeset eras (1, 3) are not one contiguous range, which era_check reports"
        );
    }
}
