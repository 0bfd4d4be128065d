//! `era_emulate`: the whole dm-era target run offline against a metadata image and an
//! origin image (target.md). The metadata it leaves is what the kernel would leave.

pub mod devices;
pub(crate) mod digest;
pub(crate) mod era_map;
mod error;
pub mod metadata;
pub mod origin;
pub mod runner;
pub mod script;
pub mod target;
pub(crate) mod worker;

pub use error::{Error, Result};
