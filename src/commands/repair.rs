//! `era_repair`: damaged metadata → salvaged metadata on another device. The input is
//! only read; the salvage reads it whole once (finding everything lost) before the
//! output is touched, and then the repaired metadata is read again from the input as it
//! is written, as `era_restore` writes, in memory that does not grow with the origin.

use super::input::open_metadata;
use super::output::refuse_output_is_input;
use super::progress::Progress;
use super::restore::open_output;
use crate::commands::error::{Error, Result};
use crate::era::repair::{salvage, RepairOptions, Repaired};
use crate::era::restore::WriteSummary;
use crate::era::stream::StreamError;
use crate::io::{BlockIo, FileIo, OpenMode};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `era_repair` was asked to do.
#[derive(Debug, Clone)]
pub struct RepairCmdOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// What the repair may assume (the origin block size and size, for an unreadable
    /// superblock).
    pub repair: RepairOptions,
    /// Print no report (errors are still printed).
    pub quiet: bool,
}

/// Salvages the metadata at `path` (opened for reading only, exclusively); the repaired
/// metadata is read from the device returned with it.
pub fn salvage_at(path: &Path, opts: &RepairOptions) -> Result<(FileIo, Repaired)> {
    let io = open_metadata(path, OpenMode::ReadExclusive)?;
    let repaired = salvage(&io, opts).map_err(|e| Error::era_input(path, e))?;
    Ok((io, repaired))
}

/// Prints what the salvage could not read and what it assumed on `report`, one line
/// each. A report that cannot be written is no reason to fail the repair.
pub fn report_salvage(report: &mut dyn Write, r: &Repaired) {
    for n in &r.notes {
        let _ = writeln!(report, "note: {n}");
    }
    for l in &r.losses {
        let _ = writeln!(report, "could not read: {l}");
    }
    if r.lossless {
        let _ = writeln!(report, "everything was read: nothing was lost");
    }
}

/// Writes `repaired`, read again from `input` (the metadata at `input_path`; pass 1 read
/// all of it once), to `out` (at `output_path`). A block that no longer reads as the
/// salvage read it is the input's failure, named with the input and the block; anything
/// else is the output's, but for metadata no output could hold (the input's).
fn write_repaired(
    input_path: &Path,
    input: &dyn BlockIo,
    repaired: &Repaired,
    output_path: &Path,
    out: &dyn BlockIo,
) -> Result<WriteSummary> {
    repaired.write(input, out).map_err(|e| match e {
        StreamError::Read(e) => Error::era_input(input_path, e),
        StreamError::Visit(e) => Error::era_output(input_path, output_path, e),
    })
}

/// Runs the repair, printing what was salvaged and written on `report`.
pub fn run(opts: &RepairCmdOptions, progress: &Progress, report: &mut dyn Write) -> Result<()> {
    refuse_output_is_input(&opts.input, Some(&opts.output))?;
    progress.stage("salvaging metadata");
    let (input, repaired) = salvage_at(&opts.input, &opts.repair)?;
    let out = open_output(&opts.output)?;
    progress.stage("writing metadata");
    let summary = write_repaired(&opts.input, &input, &repaired, &opts.output, &out)?;
    drop(out);
    if opts.quiet {
        return Ok(());
    }
    report_salvage(report, &repaired);
    let _ = writeln!(
        report,
        "wrote {} metadata blocks; current era {}, {} origin blocks",
        summary.blocks_used, summary.superblock.current_era, summary.superblock.nr_blocks
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::era::ir::{EraMetadata, SuperblockIr, Writeset};
    use crate::era::restore::write_metadata;
    use crate::io::MemIo;
    use crate::units::{BlockBuf, Era, MetaBlock};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Metadata of 3000 blocks, a writeset and an era array, on a device of its own.
    pub(crate) fn sample() -> MemIo {
        let nr_blocks = 3000u32;
        let md = EraMetadata {
            superblock: SuperblockIr {
                uuid: String::new(),
                block_size: 128,
                nr_blocks,
                current_era: Era::new(4),
            },
            writesets: vec![Writeset {
                era: Era::new(3),
                nr_bits: nr_blocks,
                bits: (0..47).map(|i| if i % 3 == 0 { 0x11 } else { 0 }).collect(),
            }],
            era_array: (0..nr_blocks).map(|b| b % 3).collect(),
        };
        let io = MemIo::new(256);
        write_metadata(&io, &md).unwrap();
        io
    }

    /// Reads as `inner` does, but fails every read of one block once `fail` names it:
    /// an input that fails between the salvage and the write.
    pub(crate) struct FailLater {
        pub inner: MemIo,
        block: AtomicU64,
    }

    impl FailLater {
        pub fn new(inner: MemIo) -> FailLater {
            FailLater {
                inner,
                block: AtomicU64::new(u64::MAX),
            }
        }

        /// Fails the reads of an era-array block (an array block of 4-byte values) from
        /// now on.
        pub fn fail_an_era_array_block(&self) -> MetaBlock {
            use crate::pdata::array::block::ArrayHeader;
            use crate::pdata::checksum::{identify, BlockKind};
            let block = (0..self.inner.nr_blocks())
                .map(MetaBlock::new)
                .find(|&b| {
                    let d = crate::pdata::read_block(&self.inner, b).unwrap();
                    identify(&d) == Some(BlockKind::ArrayBlock)
                        && ArrayHeader::decode(&d).value_size == 4
                })
                .unwrap();
            self.block.store(block.get(), Ordering::Relaxed);
            block
        }
    }

    impl BlockIo for FailLater {
        fn nr_blocks(&self) -> u64 {
            self.inner.nr_blocks()
        }
        fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> std::io::Result<()> {
            if block.get() == self.block.load(Ordering::Relaxed) {
                return Err(std::io::Error::from_raw_os_error(5));
            }
            self.inner.read_block(block, buf)
        }
        fn write_block(&self, block: MetaBlock, buf: &BlockBuf) -> std::io::Result<()> {
            self.inner.write_block(block, buf)
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A device that takes no write.
    struct Full(MemIo);

    impl BlockIo for Full {
        fn nr_blocks(&self) -> u64 {
            self.0.nr_blocks()
        }
        fn read_block(&self, block: MetaBlock, buf: &mut BlockBuf) -> std::io::Result<()> {
            self.0.read_block(block, buf)
        }
        fn write_block(&self, _: MetaBlock, _: &BlockBuf) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_input_that_fails_after_the_salvage_is_named_as_the_input() {
        let io = FailLater::new(sample());
        let r = salvage(&io, &RepairOptions::default()).unwrap();
        let block = io.fail_an_era_array_block();
        let e = write_repaired(
            Path::new("damaged.img"),
            &io,
            &r,
            Path::new("repaired.img"),
            &MemIo::new(256),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with(&format!("damaged.img: block {block}: reading failed")),
            "{e}"
        );
        assert!(!e.contains("repaired.img"), "{e}");
    }

    #[test]
    fn an_output_that_fails_is_named_as_the_output() {
        let io = sample();
        let r = salvage(&io, &RepairOptions::default()).unwrap();
        let out = Full(MemIo::new(256));
        let e = write_repaired(
            Path::new("damaged.img"),
            &io,
            &r,
            Path::new("repaired.img"),
            &out,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("writing repaired.img: "), "{e}");
        assert!(!e.contains("damaged.img"), "{e}");
    }
}
