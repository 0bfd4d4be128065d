//! The era target's metadata: superblock, writesets, era array, the intermediate
//! representation shared by every tool, and the operations on it (format.md §3, §8).

pub mod check;
mod error;
pub mod generate;
pub(crate) mod interrupted;
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
