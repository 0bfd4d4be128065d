//! Opening the two devices of a table: the metadata and the origin, each held
//! exclusively (`O_EXCL` for a block device, an exclusive `flock` for an image file),
//! and never the same file twice.

use super::origin::FileOrigin;
use super::{Error, Result};
use crate::io::alias::ImageId;
use crate::io::{open_held, BlockIo, FileIo, OpenMode};
use crate::pdata::read_block;
use crate::sizing::MetadataSize;
use crate::units::MetaBlock;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The opened devices of a table.
#[derive(Debug)]
pub struct Devices {
    /// The metadata device, in 4096-byte blocks.
    pub meta: FileIo,
    /// The origin (data) device.
    pub origin: FileOrigin,
}

/// Opens `meta` and `origin` read-write and exclusively. `sync` makes the origin's
/// flushes call fdatasync.
pub fn open_devices(meta: &Path, origin: &Path, sync: bool) -> Result<Devices> {
    let stat = |p: &Path, what: &str| {
        std::fs::metadata(p).map_err(|e| Error::BadTable(format!("{what} {}: {e}", p.display())))
    };
    let (m, o) = (stat(meta, "metadata device")?, stat(origin, "data device")?);
    if m.is_file() && m.len() == 0 {
        return Err(Error::BadTable(format!(
            "metadata device {}: the file is empty (0 bytes): give it a size first, such as truncate -s 4M {} (era_metadata_size computes the size a table needs)",
            meta.display(),
            meta.display()
        )));
    }
    if o.is_file() && o.len() == 0 {
        return Err(Error::BadTable(format!(
            "data device {}: the file is empty (0 bytes), so the table has no sectors: give it the size of the origin, such as truncate -s 1G {}",
            origin.display(),
            origin.display()
        )));
    }
    if ImageId::of(&m).same(&ImageId::of(&o)) {
        return Err(Error::BadTable(format!(
            "the metadata device {} and the data device {} are the same {}: the first write would destroy the metadata",
            meta.display(),
            origin.display(),
            match (m.file_type().is_block_device(), o.file_type().is_block_device()) {
                (true, true) => "device",
                (false, false) => "file",
                _ => "image (a loop device and its backing file)",
            },
        )));
    }
    let meta_io = FileIo::open(meta, OpenMode::WriteExclusive)
        .map_err(|e| open_error("metadata device", meta, e))?;
    let origin_io = open_held(origin, &o, OpenMode::WriteExclusive, false)
        .and_then(|file| FileOrigin::new(file, sync))
        .map_err(|e| open_error("data device", origin, e))?;
    Ok(Devices {
        meta: meta_io,
        origin: origin_io,
    })
}

/// The error of opening `path`, the `what` of the table. A device or image in use is
/// explained for the emulator, which writes it (the readers' `--metadata-snapshot`
/// does not apply).
fn open_error(what: &str, path: &Path, e: io::Error) -> Error {
    let why = if e.kind() == io::ErrorKind::ResourceBusy {
        "in use by another process (the emulator holds the metadata and the data device \
         exclusively: stop the program that holds it, such as another era_emulate, a live \
         era target or an era tool writing it)"
            .to_string()
    } else {
        e.to_string()
    };
    Error::BadTable(format!("Error opening {what} {}: {why}", path.display()))
}

/// Refuses to format a metadata device too small for a table of `length` sectors in
/// blocks of `block_size` sectors (the space map is sized at format and never grows, so
/// a device that fills up later cannot be mended by growing it). Metadata already
/// formatted (block 0 not all zeros) is left to the target. Reads block 0 only.
pub fn check_metadata_room(meta: &dyn BlockIo, length: u64, block_size: u32) -> Result<()> {
    if meta.nr_blocks() == 0 {
        return Ok(()); // the constructor names the device too small to read
    }
    let b0 = read_block(meta, MetaBlock::new(0))?;
    if b0.iter().any(|&b| b != 0) {
        return Ok(());
    }
    let needed = MetadataSize::for_origin(length.saturating_mul(512), block_size);
    let device_blocks = meta.nr_blocks();
    if !needed.addressable() || device_blocks < needed.blocks {
        return Err(Error::MetadataTooSmall {
            device_blocks,
            needed,
        });
    }
    Ok(())
}
