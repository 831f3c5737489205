//! The workstation's registry of what Tactician has published and where it went, in one
//! SQLite file:
//!
//! - **devices** ([`Device`]): each Raspberry Pi by id, with the public key that updates are
//!   encrypted to and the group it belongs to. A group is a set of devices that run the same
//!   model line, and the unit that versions are published for.
//! - **versions** ([`VersionRecord`]): each model version published to a group, with what
//!   makes it runnable (encoder hash, minimum runtime, precision, model digest, TUF target
//!   names), its evaluation metrics and lineage, in publication order. A version is recorded
//!   once and never changed.
//! - **aliases**: names such as `stable` or `canary` pointing to a version of a group, with
//!   every change kept in a history ([`AliasChange`]).
//! - **deployments** ([`Deployment`]): what the devices report having done (installed,
//!   activated, rolled back, rejected a version), recorded once per device and sequence
//!   number, so devices can send their whole history again.
//!
//! [`diff`] compares two version records field by field, metrics and lineage flattened to
//! dotted paths. [`check_name`] is the naming rule of device ids, groups, aliases and versions,
//! for other crates to apply before they reach the registry.
//!
//! The file carries its schema version (`PRAGMA user_version`): [`Registry::open`] migrates an
//! older file and refuses a newer one, and refuses files that are not a registry. The journal
//! is WAL, foreign keys are enforced, and every change of more than one statement is one
//! transaction, so several commands may use the registry at once.
//!
//! ```
//! use tactician_registry::{Device, Registry};
//!
//! let tmp = tempfile::tempdir().unwrap();
//! let registry = Registry::open(&tmp.path().join("registry.sqlite")).unwrap();
//! let device = Device {
//!     id: "pi-01".into(),
//!     public_key: "age1examplekey".into(),
//!     group: "arena".into(),
//!     added: "2025-01-31T12:00:00Z".into(),
//! };
//! registry.add_device(&device).unwrap();
//! assert_eq!(registry.devices(Some("arena")).unwrap(), vec![device]);
//! assert_eq!(registry.groups().unwrap(), vec!["arena".to_string()]);
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod aliases;
mod check;
mod deployments;
mod devices;
mod diff;
mod error;
mod schema;
mod versions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use aliases::AliasChange;
pub use check::{NAME_MAX, NAME_RULE, check_name};
pub use deployments::Deployment;
pub use devices::Device;
pub use diff::{Change, diff};
pub use error::Error;
pub use schema::SCHEMA_VERSION;
pub use versions::VersionRecord;

/// How long a command waits for another one holding the registry's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// An open registry file. See the [crate documentation](crate).
#[derive(Debug)]
pub struct Registry {
    conn: Connection,
    path: PathBuf,
}

impl Registry {
    /// Opens the registry file at `path`, creating it if it does not exist (its folder must),
    /// and brings its schema up to date.
    ///
    /// # Errors
    ///
    /// [`Error::MissingFolder`] when the folder of `path` does not exist,
    /// [`Error::NotADatabase`] when the file is not SQLite, [`Error::ForeignDatabase`] when it
    /// is another application's database, [`Error::TooNew`] when a newer Tactician wrote it,
    /// [`Error::Database`] when SQLite fails.
    pub fn open(path: &Path) -> Result<Registry, Error> {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !folder.is_dir() {
            return Err(Error::MissingFolder {
                path: path.to_owned(),
                folder: folder.to_owned(),
            });
        }
        if path.is_dir() {
            return Err(Error::NotADatabase {
                path: path.to_owned(),
            });
        }
        // No SQLITE_OPEN_URI: a path is a path, even one starting with "file:".
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(schema::classify(path, "open the file"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(schema::classify(path, "set the busy timeout"))?;
        schema::prepare(&conn, path)?;
        Ok(Registry {
            conn,
            path: path.to_owned(),
        })
    }

    /// The registry file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Maps an SQLite error of operation `op` to [`Error::Database`].
    fn db(&self, op: &'static str) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Database {
            path: self.path.clone(),
            op,
            source,
        }
    }

    /// Starts a write transaction, taking the write lock at once so that its reads see what
    /// it writes over (no lock upgrade, no busy failure half-way).
    fn write(&self, op: &'static str) -> Result<Transaction<'_>, Error> {
        Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate).map_err(self.db(op))
    }

    /// Every group named by a device or a version, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn groups(&self) -> Result<Vec<String>, Error> {
        let op = "list the groups";
        let mut stmt = self
            .conn
            .prepare("SELECT grp FROM devices UNION SELECT grp FROM versions ORDER BY 1")
            .map_err(self.db(op))?;
        let rows = stmt.query_map([], |row| row.get(0)).map_err(self.db(op))?;
        rows.collect::<Result<_, _>>().map_err(self.db(op))
    }
}
