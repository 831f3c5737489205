//! The server's errors.

use std::path::PathBuf;

/// What can go wrong starting or running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("cannot use {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The runtime refused a model.
    #[error("model {version}: {reason}")]
    Model {
        /// The version.
        version: String,
        /// Why.
        reason: String,
    },
    /// A listening address or socket could not be opened.
    #[error("cannot listen on {what}: {source}")]
    Listen {
        /// The address or socket path.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A lock was poisoned by a panic elsewhere.
    #[error("internal state poisoned by an earlier failure")]
    Poisoned,
}

/// The server's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
