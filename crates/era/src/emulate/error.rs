//! Errors of the emulated target, each the kernel's answer to the operation.

/// A failure of an emulated target operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or changing the metadata failed.
    #[error("metadata: {0}")]
    Pdata(#[from] crate::pdata::Error),
    /// The metadata is not usable era metadata.
    #[error("metadata: {0}")]
    Era(#[from] crate::Error),
    /// The origin image could not be read or written.
    #[error("origin I/O error at byte {offset}: {source}")]
    Origin {
        /// Byte offset into the origin image of the failed request.
        offset: u64,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The table's arguments are invalid (EINVAL at table load).
    #[error("{0}")]
    BadTable(String),
    /// The table's length does not fit the origin: no sectors, or more than the origin
    /// has (EINVAL at table load).
    #[error("{0}")]
    BadLength(String),
    /// The metadata device is too small for the table; nothing was written.
    #[error("{}", too_small(*.device_blocks, .needed))]
    MetadataTooSmall {
        /// The metadata device's size in 4096-byte blocks.
        device_blocks: u64,
        /// What the table's origin blocks need.
        needed: crate::sizing::MetadataSize,
    },
    /// The resume was refused (EINVAL); the device stays suspended.
    #[error("{0}")]
    BadResume(String),
    /// A message was rejected (EINVAL).
    #[error("message rejected: {0}")]
    BadMessage(String),
    /// I/O, a message or an INFO status was sent to a suspended device.
    #[error("device is suspended")]
    Suspended,
    /// No device is open.
    #[error("no device is open")]
    NotOpen,
    /// An `open` while a device is open.
    #[error("a device is already open")]
    AlreadyOpen,
    /// I/O beyond the end of the device, or of zero sectors.
    #[error("I/O to sectors {start}..{end} beyond the end of the device ({length} sectors)")]
    BeyondEnd {
        /// The request's first sector.
        start: u64,
        /// The sector after its last (saturating).
        end: u64,
        /// The device's length in sectors.
        length: u64,
    },
    /// A write failed because its mark could not be committed (EIO).
    #[error("write failed (EIO): the mark could not be committed: {0}")]
    WriteMark(std::sync::Arc<Error>),
    /// An error of one device, named: the metadata's path for a metadata error, the
    /// origin's for an origin I/O error.
    #[error("{device}: {source}")]
    Device {
        /// The device's path or name.
        device: String,
        /// What went wrong there.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// The error with the device it concerns named: `meta` for an error reading or
    /// changing the metadata, `origin` for an origin I/O error or a table length that
    /// does not fit the origin; any other error as it is.
    pub fn naming(self, meta: &str, origin: &str) -> Error {
        let device = match &self {
            Error::Pdata(_) | Error::Era(_) => meta,
            Error::Origin { .. } | Error::BadLength(_) => origin,
            _ => return self,
        };
        Error::Device {
            device: device.to_string(),
            source: Box::new(self),
        }
    }
}

fn too_small(device_blocks: u64, needed: &crate::sizing::MetadataSize) -> String {
    use crate::sizing::human_bytes;
    let block = crate::units::BLOCK_SIZE as u64;
    if !needed.addressable() {
        return format!(
            "{} origin blocks need {} of metadata, more than the space map can address ({} blocks of 4096 bytes): use a larger block size; nothing was written",
            needed.nr_blocks,
            human_bytes(needed.bytes()),
            crate::pdata::space_map::MAX_METADATA_BLOCKS
        );
    }
    format!(
        "the metadata device is too small for {} origin blocks: it has {} bytes ({}), the target needs at least {} bytes ({}; era_metadata_size computes it); nothing was written",
        needed.nr_blocks,
        device_blocks * block,
        human_bytes(device_blocks * block),
        needed.bytes(),
        human_bytes(needed.bytes()),
    )
}

/// Result of the emulated target.
pub type Result<T> = std::result::Result<T, Error>;
