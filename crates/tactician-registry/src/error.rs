//! The error type of this crate.

use std::path::PathBuf;

/// Why a registry operation failed.
///
/// Each variant carries the values it is about; the message says what to do where there is
/// something to do. Errors of SQLite itself are [`Error::Database`], with SQLite's reason as
/// the [`source`](std::error::Error::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The folder meant to hold the registry file does not exist.
    #[error("cannot open the registry {path}: the folder {folder} does not exist, create it first")]
    MissingFolder {
        /// The registry file asked for.
        path: PathBuf,
        /// Its parent folder, which is missing.
        folder: PathBuf,
    },
    /// The file is not an SQLite database (or is a folder).
    #[error("{path} is not a Tactician registry: it is not an SQLite database, check the path")]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file is an SQLite database of something other than a Tactician registry.
    #[error(
        "{path} is not a Tactician registry: it is an SQLite database of another application, check the path"
    )]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
    },
    /// The registry was written by a newer Tactician, with a schema this code does not know.
    #[error(
        "the registry {path} has schema version {found}, newer than version {known} known to this \
         Tactician: upgrade Tactician to use it"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The file's schema version (its `user_version`).
        found: i64,
        /// The newest schema version this code knows.
        known: i64,
    },
    /// SQLite failed.
    #[error("registry {path}: cannot {op}")]
    Database {
        /// The registry file.
        path: PathBuf,
        /// What was being done, such as `add a device`.
        op: &'static str,
        /// SQLite's reason.
        #[source]
        source: rusqlite::Error,
    },
    /// A JSON column of the registry could not be read back.
    #[error("the registry {path} holds an unreadable {what} of {key}: the file is damaged")]
    Corrupt {
        /// The registry file.
        path: PathBuf,
        /// Which column: `metrics`, `lineage` or `targets`.
        what: &'static str,
        /// The row, such as `group/version`.
        key: String,
        /// The JSON parser's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A name (device id, group, alias, version, action) breaks the naming rule.
    #[error("invalid {what} {value:?}: {rule}")]
    InvalidName {
        /// What the name names: `device id`, `group`, `alias`, `version`, `action`.
        what: &'static str,
        /// The name given.
        value: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A value other than a name is malformed: a time, a public key, an outcome.
    #[error("invalid {what} {value:?}: expected {expected}")]
    InvalidValue {
        /// What the value is, such as `published time` or `public key`.
        what: &'static str,
        /// The value given.
        value: String,
        /// What was expected instead.
        expected: &'static str,
    },
    /// A device of that id is registered with another key or group.
    #[error(
        "device {id} is already registered with a different key or group (group {group}): remove \
         it first to register it again"
    )]
    DeviceExists {
        /// The device id.
        id: String,
        /// The group it is registered in.
        group: String,
    },
    /// No device of that id is registered.
    #[error("no device {id} in the registry")]
    UnknownDevice {
        /// The device id.
        id: String,
    },
    /// The version was already recorded in that group.
    #[error("version {version} of group {group} is already recorded: publish under a new version")]
    VersionExists {
        /// The group.
        group: String,
        /// The version.
        version: String,
    },
    /// The group has no such version.
    #[error("group {group} has no version {version}: publish it first")]
    UnknownVersion {
        /// The group.
        group: String,
        /// The version.
        version: String,
    },
    /// A device sent, under a sequence number already recorded, a different deployment.
    #[error(
        "device {device} sent deployment {seq} again with different contents than the one \
         recorded: its history was reset or it is misreporting"
    )]
    DeploymentConflict {
        /// The device id.
        device: String,
        /// The sequence number.
        seq: u64,
    },
    /// A deployment sequence number is too large for the registry.
    #[error(
        "deployment sequence number {seq} of device {device} is too large (at most {})",
        i64::MAX
    )]
    SeqOutOfRange {
        /// The device id.
        device: String,
        /// The sequence number.
        seq: u64,
    },
}
