//! `era_emulate serve`: the emulated target behind the NBD protocol, on a Unix socket
//! (and optionally TCP), with a control socket for messages and status. Threads: one
//! accept loop, per connection a reader (requests, fast-path reads and writes) and a
//! completer (writes whose marks the worker committed), per control connection one
//! (bounded in number), and the target's worker (group commit and background digest).

mod admission;
mod completer;
pub(crate) mod connection;
pub mod control;
mod error;
mod in_flight;
mod listen;
pub mod server;
pub(crate) mod stream;

pub use connection::{DiscardMode, Limits};
pub use error::{Error, Result};
