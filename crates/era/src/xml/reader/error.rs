//! The one error of the XML reader: where in the input, and what was wrong there.

use std::fmt;

/// A failure to read era XML: the 1-based line and column (counted in bytes) of the
/// element, attribute or text at fault, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {col}: {msg}")]
pub struct ReadError {
    /// The line, from 1.
    pub line: u64,
    /// The column in bytes, from 1.
    pub col: u64,
    /// What sort of failure.
    pub kind: ReadErrorKind,
    /// What was wrong, for the message.
    pub msg: String,
}

/// What sort of failure a [`ReadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The input could not be read.
    Io,
    /// The input is not well-formed XML.
    Malformed,
    /// Well-formed XML, but not era metadata as `era_dump` writes it.
    Invalid,
    /// The visitor refused what it was given.
    Visitor,
}

impl ReadError {
    pub(super) fn new(pos: Pos, kind: ReadErrorKind, msg: impl fmt::Display) -> ReadError {
        ReadError {
            line: pos.line,
            col: pos.col,
            kind,
            msg: msg.to_string(),
        }
    }
}

/// A 1-based line and byte column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub line: u64,
    pub col: u64,
}
