//! `era_metadata_size`: the metadata device size a target needs (era::sizing).

use crate::commands::error::{Error, Result};
use crate::era::sizing::{human_bytes, MetadataSize};
use crate::units::ORIGIN_BLOCKS_LIMIT;
use std::io::Write;

/// The unit a size is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeUnit {
    Bytes,
    Sectors,
    Blocks,
    Kib,
    Mib,
    Gib,
}

impl SizeUnit {
    fn bytes(self) -> u64 {
        match self {
            SizeUnit::Bytes => 1,
            SizeUnit::Sectors => 512,
            SizeUnit::Blocks => crate::units::BLOCK_SIZE as u64,
            SizeUnit::Kib => 1 << 10,
            SizeUnit::Mib => 1 << 20,
            SizeUnit::Gib => 1 << 30,
        }
    }

    fn name(self) -> &'static str {
        match self {
            SizeUnit::Bytes => "bytes",
            SizeUnit::Sectors => "sectors",
            SizeUnit::Blocks => "blocks of 4096 bytes",
            SizeUnit::Kib => "KiB",
            SizeUnit::Mib => "MiB",
            SizeUnit::Gib => "GiB",
        }
    }
}

/// What `era_metadata_size` was asked.
#[derive(Debug, Clone)]
pub struct MetadataSizeOptions {
    /// Origin blocks.
    pub nr_blocks: u64,
    pub unit: SizeUnit,
    pub numeric_only: bool,
}

/// Prints the size needed, or fails when no metadata device can hold it.
pub fn run(opts: &MetadataSizeOptions, out: &mut dyn Write) -> Result<()> {
    if opts.nr_blocks >= ORIGIN_BLOCKS_LIMIT {
        return Err(Error::Usage(format!(
            "{} origin blocks: the era target takes fewer than 2^31 ({ORIGIN_BLOCKS_LIMIT}); use a larger block size",
            opts.nr_blocks
        )));
    }
    let size = MetadataSize::for_blocks(opts.nr_blocks);
    if !size.addressable() {
        return Err(Error::Usage(format!(
            "{} origin blocks need {} of metadata, more than a metadata space map can address ({} blocks of 4096 bytes): use a larger block size",
            opts.nr_blocks,
            human_bytes(size.bytes()),
            crate::pdata::space_map::MAX_METADATA_BLOCKS
        )));
    }
    let n = size.bytes().div_ceil(opts.unit.bytes());
    let written = if opts.numeric_only {
        writeln!(out, "{n}")
    } else {
        writeln!(
            out,
            "{n} {} ({}) of metadata for {} origin blocks",
            opts.unit.name(),
            human_bytes(size.bytes()),
            opts.nr_blocks
        )
    };
    written.map_err(|e| Error::output("-", e))
}
