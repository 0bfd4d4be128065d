//! Errors of the server.

/// A failure of the server or of a control request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A socket could not be created, bound or used.
    #[error("{what}: {source}")]
    Socket {
        /// Which socket and what was being done with it.
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A live server answers on the socket path (or on its control socket).
    #[error("{}: a server is already listening there (stop it first, or choose another --socket)", .0.display())]
    InUse(std::path::PathBuf),
    /// The target refused (a message rejected, the close failed).
    #[error("{0}")]
    Target(#[from] crate::emulate::Error),
    /// The server answered a control request with an error.
    #[error("{0}")]
    Refused(String),
}

/// Result of the server.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn socket(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Socket { what, source }
    }
}
