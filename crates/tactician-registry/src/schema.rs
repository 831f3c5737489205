//! The registry's tables, and the migrations that bring a file up to them.
//!
//! The schema version is SQLite's `user_version`: migration `n` (1-based) of [`MIGRATIONS`]
//! takes a file from version `n - 1` to `n`, in one transaction. A file of a version newer
//! than [`SCHEMA_VERSION`] is refused, never downgraded. The file is marked as a Tactician
//! registry by its `application_id`, so that another application's database is refused too.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior, ffi::ErrorCode};

use crate::Error;

/// `application_id` of a Tactician registry: "TCTR" in ASCII.
pub(crate) const APPLICATION_ID: i64 = 0x5443_5452;

/// The migrations, in order; see the module documentation.
const MIGRATIONS: &[&str] = &[
    // 1: devices, versions, aliases and their history, deployments.
    "
    CREATE TABLE devices (
        id TEXT PRIMARY KEY NOT NULL,
        public_key TEXT NOT NULL,
        grp TEXT NOT NULL,
        added TEXT NOT NULL
    ) STRICT;
    CREATE INDEX devices_by_group ON devices (grp, id);

    CREATE TABLE versions (
        id INTEGER PRIMARY KEY,
        grp TEXT NOT NULL,
        version TEXT NOT NULL,
        published TEXT NOT NULL,
        encoder_hash TEXT NOT NULL,
        min_runtime TEXT NOT NULL,
        model_sha256 TEXT NOT NULL,
        precision TEXT NOT NULL,
        targets TEXT NOT NULL,
        metrics TEXT NOT NULL,
        lineage TEXT NOT NULL,
        notes TEXT NOT NULL,
        UNIQUE (grp, version)
    ) STRICT;

    CREATE TABLE aliases (
        grp TEXT NOT NULL,
        alias TEXT NOT NULL,
        version TEXT NOT NULL,
        PRIMARY KEY (grp, alias),
        FOREIGN KEY (grp, version) REFERENCES versions (grp, version)
    ) STRICT;

    CREATE TABLE alias_history (
        id INTEGER PRIMARY KEY,
        grp TEXT NOT NULL,
        alias TEXT NOT NULL,
        previous TEXT,
        version TEXT NOT NULL,
        time TEXT NOT NULL,
        FOREIGN KEY (grp, version) REFERENCES versions (grp, version)
    ) STRICT;
    CREATE INDEX alias_history_by_alias ON alias_history (grp, alias, id);

    CREATE TABLE deployments (
        device TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 0),
        grp TEXT NOT NULL,
        version TEXT NOT NULL,
        time TEXT NOT NULL,
        action TEXT NOT NULL,
        outcome TEXT NOT NULL,
        reason TEXT,
        PRIMARY KEY (device, seq)
    ) STRICT;
    CREATE INDEX deployments_by_version ON deployments (version);
    ",
];

/// The schema version (`PRAGMA user_version`) this code writes and reads; a file of a newer
/// one is refused with [`Error::TooNew`].
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Maps an SQLite error: "file is not a database" becomes [`Error::NotADatabase`].
pub(crate) fn classify<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl Fn(rusqlite::Error) -> Error + 'a {
    move |source| {
        if source.sqlite_error_code() == Some(ErrorCode::NotADatabase) {
            Error::NotADatabase {
                path: path.to_owned(),
            }
        } else {
            Error::Database {
                path: path.to_owned(),
                op,
                source,
            }
        }
    }
}

/// Checks that the open file is a registry this code can use, sets the connection up (WAL
/// journal, foreign keys) and applies the migrations it lacks.
pub(crate) fn prepare(conn: &Connection, path: &Path) -> Result<(), Error> {
    // The first read of the header: a file that is not SQLite fails here.
    let version = user_version(conn, path)?;
    check_identity(conn, path, version)?;
    if version > SCHEMA_VERSION {
        return Err(too_new(path, version));
    }
    // WAL cannot be set inside a transaction; a file system without WAL support keeps the
    // journal mode it has, which is still correct, only slower.
    let _mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(classify(path, "set the journal mode"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(classify(path, "turn foreign keys on"))?;
    if version < SCHEMA_VERSION {
        migrate(conn, path)?;
    }
    Ok(())
}

fn user_version(conn: &Connection, path: &Path) -> Result<i64, Error> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(classify(path, "read the schema version"))
}

fn too_new(path: &Path, found: i64) -> Error {
    Error::TooNew {
        path: path.to_owned(),
        found,
        known: SCHEMA_VERSION,
    }
}

/// Refuses a database that is not a registry: another `application_id`, or tables or a
/// schema version without the registry's `application_id`.
fn check_identity(conn: &Connection, path: &Path, version: i64) -> Result<(), Error> {
    let id: i64 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(classify(path, "read the application id"))?;
    if id == APPLICATION_ID && version >= 0 {
        return Ok(());
    }
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(classify(path, "read the schema"))?;
    if id != 0 || version != 0 || tables != 0 {
        return Err(Error::ForeignDatabase {
            path: path.to_owned(),
        });
    }
    Ok(())
}

/// Applies the missing migrations, each in its own transaction. The version is read again
/// inside each transaction: another process may have migrated the file meanwhile.
fn migrate(conn: &Connection, path: &Path) -> Result<(), Error> {
    loop {
        let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
            .map_err(classify(path, "start a migration"))?;
        let version = user_version(&tx, path)?;
        check_identity(&tx, path, version)?;
        if version > SCHEMA_VERSION {
            return Err(too_new(path, version));
        }
        let Some(sql) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        tx.execute_batch(sql)
            .map_err(classify(path, "apply a schema migration"))?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(classify(path, "set the application id"))?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(classify(path, "set the schema version"))?;
        tx.commit()
            .map_err(classify(path, "commit a schema migration"))?;
    }
}
