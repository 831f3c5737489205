//! The agent's errors.

use std::path::{Path, PathBuf};

use crate::release::{NameError, VersionError};

/// What can go wrong on the device.
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
    /// A state file does not parse.
    #[error("{} is damaged: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Serialization failed.
    #[error("cannot serialize: {0}")]
    Format(String),
    /// The state folder has no identity.
    #[error("no device identity in {}: run `tactician-device init` first", path.display())]
    NoIdentity {
        /// The identity folder.
        path: PathBuf,
    },
    /// `init` would replace an identity.
    #[error(
        "{} already holds a device identity; models are encrypted to it, so it is never \
         replaced (use another --state folder for a new device)",
        path.display()
    )]
    IdentityExists {
        /// The identity folder.
        path: PathBuf,
    },
    /// The agent's settings are not valid.
    #[error("the agent settings {} are not valid: {reason}", path.display())]
    Config {
        /// The settings file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A name is not valid.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A version is not valid.
    #[error(transparent)]
    Version(#[from] VersionError),
    /// The repository's metadata did not verify (or could not be fetched).
    #[error("the update repository did not verify: {reason}")]
    Repository {
        /// TUF's reason.
        reason: String,
    },
    /// A release was refused: it will not be installed.
    #[error("release refused: {reason}")]
    Rejected {
        /// Why.
        reason: String,
    },
    /// An installed model failed its checks.
    #[error("version {version} did not pass validation: {reason}")]
    Invalid {
        /// The version.
        version: String,
        /// Why.
        reason: String,
    },
    /// A version is not installed on the device.
    #[error("version {version} is not installed on this device (installed: {installed})")]
    NotInstalled {
        /// The version asked for.
        version: String,
        /// The installed versions.
        installed: String,
    },
    /// There is nothing to roll back to.
    #[error("no earlier validated version is installed to roll back to")]
    NoRollbackPoint,
    /// Another agent process holds the state folder.
    #[error("another agent (process {pid}) is working in {}", path.display())]
    Busy {
        /// The state folder.
        path: PathBuf,
        /// Its process id.
        pid: u32,
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

    /// Whether the error refuses a release for good (as opposed to a failure worth retrying,
    /// like a network or disk error).
    pub fn is_rejection(&self) -> bool {
        matches!(self, Error::Rejected { .. } | Error::Invalid { .. })
    }
}

/// The agent's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
