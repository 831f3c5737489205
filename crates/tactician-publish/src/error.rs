//! The publisher's errors.

use std::path::{Path, PathBuf};

/// What can go wrong when publishing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        /// The operation.
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A durable write failed.
    #[error(transparent)]
    Os(#[from] tactician_os::Error),
    /// A key file is not usable.
    #[error("key {}: {reason}", path.display())]
    Key {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key set does not allow the operation.
    #[error("{reason}")]
    Keys {
        /// Why.
        reason: String,
    },
    /// `keys init` would replace keys.
    #[error(
        "{} already holds keys: a repository's keys are never replaced (rotate them instead, or \
         use another --deploy-dir)",
        path.display()
    )]
    KeysExist {
        /// The keys folder.
        path: PathBuf,
    },
    /// No repository yet.
    #[error("no TUF repository in {}: run `tactician keys init` first", path.display())]
    NoRepository {
        /// The repository folder.
        path: PathBuf,
    },
    /// Cryptography failed.
    #[error("cannot {what}")]
    Crypto {
        /// What.
        what: String,
    },
    /// TUF metadata could not be made or read.
    #[error("cannot {what}: {reason}")]
    Tuf {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
    /// The request is not valid.
    #[error("{reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
    /// A name is not valid.
    #[error(transparent)]
    Name(#[from] tactician_agent::release::NameError),
    /// A version is not valid.
    #[error(transparent)]
    Version(#[from] tactician_agent::release::VersionError),
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] tactician_registry::Error),
    /// A device transfer failed.
    #[error("{what} failed: {reason}")]
    Transfer {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(op: &'static str, path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The publisher's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
