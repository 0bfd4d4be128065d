//! Userspace tools for the Linux device-mapper era target.
//!
//! Layers, each using only those before it: [`units`] → [`io`] → [`pdata`] → [`era`] →
//! [`xml`] → [`commands`]. Command-line parsing lives in the binaries' `cli` module.

#![forbid(unsafe_code)]

pub mod emulate;
pub mod era;
pub mod io;
pub mod pdata;
pub mod units;
pub mod xml;
