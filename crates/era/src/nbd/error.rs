//! Errors of the NBD protocol layer: each ends the connection.

/// A failure that ends an NBD connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed or the peer went away.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The client broke the protocol (a bad magic, a bad length, unknown flags).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The client ended the negotiation (NBD_OPT_ABORT, or an unknown export name
    /// with NBD_OPT_EXPORT_NAME).
    #[error("the client ended the negotiation")]
    Aborted,
}

/// Result of the NBD protocol layer.
pub type Result<T> = std::result::Result<T, Error>;
