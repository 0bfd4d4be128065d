//! Userspace tools for the Linux device-mapper era target.
//!
//! Layers, each using only those before it: [`units`] → [`io`] → [`pdata`] → [`era`] →
//! [`xml`] → [`commands`] → [`cli`]. Only [`cli`] names clap.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]

pub mod cli;
pub mod commands;
pub mod emulate;
pub mod era;
mod error;
pub mod io;
pub mod pdata;
pub mod units;
pub mod xml;

pub use error::{Error, Result};
