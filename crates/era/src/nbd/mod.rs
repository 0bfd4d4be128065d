//! The NBD protocol, server side (the fixed newstyle handshake and the transmission
//! phase with simple replies), independent of what is served: the caller supplies the
//! export's size and flags and acts on the decoded requests. Pure codec over
//! `Read`/`Write`; no threads, no clap, no emulator.

// The NBD protocol is big-endian (network order) throughout, unlike the era metadata.
#![allow(clippy::big_endian_bytes)]

pub mod consts;
mod error;
pub mod handshake;
pub mod request;

pub use error::{Error, Result};
