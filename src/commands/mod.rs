//! One module per tool: options in, work done, outcome out. No argument parsing and no
//! process exit here; that is `cli`'s and the binaries' job.

pub mod check;
pub mod copy;
mod counted;
pub mod dump;
pub mod emulate;
pub mod error;
pub mod generate;
pub(crate) mod input;
pub mod invalidate;
pub mod metadata_size;
pub(crate) mod output;
pub mod progress;
pub mod repair;
pub mod restore;

pub use error::{Error, Result};
