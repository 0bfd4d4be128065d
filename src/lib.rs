//! Userspace tools for the Linux device-mapper era target: the tools' commands and
//! command line, over the two library crates of the workspace, re-exported here under
//! their module names: `dm-persistent-data` ([`units`], [`io`], [`pdata`]) and `dm-era`
//! ([`era`], [`xml`], [`emulate`], [`nbd`], [`serve`]).
//!
//! Layers, each using only those before it: [`units`] → [`io`] → [`pdata`] → [`era`] →
//! [`xml`] → [`commands`] → [`cli`]. Only [`cli`] names clap. [`nbd`] (the NBD protocol)
//! stands alone; [`serve`] puts [`emulate`] behind it.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]

pub mod cli;
pub mod commands;

/// The era layer (metadata, check, dump, restore, repair, invalidate) and the layers
/// built beside it: the XML forms, the emulator, NBD and its server.
pub use dm_era as era;
pub use dm_era::{emulate, nbd, serve, xml};
/// The persistent-data layer: blocks, checksums, btrees, arrays, bitsets, space maps.
pub use dm_persistent_data as pdata;
pub use dm_persistent_data::{io, units};
