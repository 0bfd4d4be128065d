//! Userspace tools for the Linux device-mapper era target.
//!
//! Layers, each using only those before it: [`units`] → [`io`] → [`pdata`] → [`era`] →
//! [`xml`] → [`commands`] → [`cli`]. Only [`cli`] names clap. [`nbd`] (the NBD protocol)
//! stands alone; [`serve`] puts [`emulate`] behind it.

#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used)]

pub mod cli;
pub mod commands;
pub mod emulate;
pub mod era;
pub mod io;
pub mod nbd;
pub mod pdata;
pub mod serve;
pub mod units;
pub mod xml;
