//! The era target's metadata: superblock, writesets, era array, the intermediate
//! representation shared by every tool, and the operations on it (format.md §3, §8).
//!
//! Generate metadata, write it to an in-memory image, check the image and read it back:
//!
//! ```rust
//! use dm_era::{check, generate, metadata, restore};
//! use dm_era::io::MemIo;
//!
//! // 1000 origin blocks of 64 KiB (128 sectors), three archived writesets.
//! let md = generate::generate(&generate::GenerateParams {
//!     nr_blocks: 1000,
//!     block_size: 128,
//!     current_era: 5,
//!     nr_writesets: 3,
//!     density: 0.1,
//!     seed: 7,
//! })?;
//! let io = MemIo::new(restore::blocks_needed(&md).ok_or("too large")?);
//! let summary = restore::write_metadata(&io, &md)?;
//! assert_eq!(summary.superblock.nr_blocks, 1000);
//!
//! let report = check::check(&io, &check::CheckOptions::default());
//! assert!(report.findings.is_empty());
//!
//! let view = metadata::open_view(&io, metadata::Source::Live)?;
//! assert_eq!(metadata::read_metadata(&io, &view)?, md);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]
#![warn(missing_docs)]

pub mod emulate;
pub mod nbd;
pub mod serve;
pub mod xml;

/// The persistent-data layer this crate is built on, under the names the era code uses.
pub use dm_persistent_data as pdata;
pub use dm_persistent_data::{io, units};

pub mod check;
mod error;
pub mod generate;
pub mod interrupted;
pub mod invalidate;
pub mod ir;
pub mod ir_builder;
pub mod metadata;
pub mod repair;
pub mod restore;
pub mod sizing;
pub mod stream;
pub mod superblock;
pub mod writeset;

pub use error::{Error, Result};
