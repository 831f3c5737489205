//! Versions: each model version published to a group, recorded once, in publication order.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{check_name, check_time};
use crate::{Error, Registry};

/// What the registry keeps of a published model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// The group it was published to.
    pub group: String,
    /// The version, unique in its group, by the rule of [`check_name`](crate::check_name).
    pub version: String,
    /// When it was published: an RFC 3339 time.
    pub published: String,
    /// Hash of the observation encoder the model expects.
    pub encoder_hash: String,
    /// The oldest device runtime that can run it.
    pub min_runtime: String,
    /// SHA-256 of the model file, in hex.
    pub model_sha256: String,
    /// The model's precision, such as `int8` or `f32`.
    pub precision: String,
    /// The TUF target names of its files.
    pub targets: Vec<String>,
    /// Evaluation metrics, any JSON (usually an object).
    pub metrics: Value,
    /// Where it came from: dataset, training run, parent model; any JSON.
    pub lineage: Value,
    /// Free text.
    pub notes: String,
}

/// A version row as stored, its JSON columns still text.
struct Stored {
    record: VersionRecord,
    targets: String,
    metrics: String,
    lineage: String,
}

const COLUMNS: &str = "grp, version, published, encoder_hash, min_runtime, model_sha256, \
                       precision, targets, metrics, lineage, notes";

impl Stored {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            record: VersionRecord {
                group: row.get(0)?,
                version: row.get(1)?,
                published: row.get(2)?,
                encoder_hash: row.get(3)?,
                min_runtime: row.get(4)?,
                model_sha256: row.get(5)?,
                precision: row.get(6)?,
                targets: Vec::new(),
                metrics: Value::Null,
                lineage: Value::Null,
                notes: row.get(10)?,
            },
            targets: row.get(7)?,
            metrics: row.get(8)?,
            lineage: row.get(9)?,
        })
    }
}

impl Registry {
    /// Parses the JSON columns of a stored version.
    fn parse(&self, stored: Stored) -> Result<VersionRecord, Error> {
        let mut record = stored.record;
        let corrupt = |what: &'static str, record: &VersionRecord| {
            let key = format!("{}/{}", record.group, record.version);
            move |source| Error::Corrupt {
                path: self.path.clone(),
                what,
                key,
                source,
            }
        };
        record.targets =
            serde_json::from_str(&stored.targets).map_err(corrupt("targets", &record))?;
        record.metrics =
            serde_json::from_str(&stored.metrics).map_err(corrupt("metrics", &record))?;
        record.lineage =
            serde_json::from_str(&stored.lineage).map_err(corrupt("lineage", &record))?;
        Ok(record)
    }

    /// Records a published version.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad group or version, [`Error::InvalidValue`] for a
    /// malformed time, [`Error::VersionExists`] when the group already has that version,
    /// [`Error::Database`] when SQLite fails.
    pub fn record_version(&self, record: &VersionRecord) -> Result<(), Error> {
        check_name("group", &record.group)?;
        check_name("version", &record.version)?;
        check_time("published time", &record.published)?;
        let targets = Value::from(record.targets.clone()).to_string();
        let op = "record a version";
        let tx = self.write(op)?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM versions WHERE grp = ?1 AND version = ?2",
                [&record.group, &record.version],
                |_| Ok(()),
            )
            .optional()
            .map_err(self.db(op))?
            .is_some();
        if exists {
            return Err(Error::VersionExists {
                group: record.group.clone(),
                version: record.version.clone(),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO versions ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                record.group,
                record.version,
                record.published,
                record.encoder_hash,
                record.min_runtime,
                record.model_sha256,
                record.precision,
                targets,
                record.metrics.to_string(),
                record.lineage.to_string(),
                record.notes,
            ],
        )
        .map_err(self.db(op))?;
        tx.commit().map_err(self.db(op))
    }

    /// One version of a group, if recorded.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] when its JSON columns cannot be read, [`Error::Database`] when
    /// SQLite fails.
    pub fn version(&self, group: &str, version: &str) -> Result<Option<VersionRecord>, Error> {
        let stored = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM versions WHERE grp = ?1 AND version = ?2"),
                [group, version],
                Stored::from_row,
            )
            .optional()
            .map_err(self.db("read a version"))?;
        stored.map(|stored| self.parse(stored)).transpose()
    }

    /// The versions, of one group or of all, in the order they were recorded.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] when JSON columns cannot be read, [`Error::Database`] when SQLite
    /// fails.
    pub fn versions(&self, group: Option<&str>) -> Result<Vec<VersionRecord>, Error> {
        let op = "list the versions";
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM versions WHERE ?1 IS NULL OR grp = ?1 ORDER BY id"
            ))
            .map_err(self.db(op))?;
        let rows = stmt
            .query_map([group], Stored::from_row)
            .map_err(self.db(op))?;
        let mut records = Vec::new();
        for stored in rows {
            records.push(self.parse(stored.map_err(self.db(op))?)?);
        }
        Ok(records)
    }
}
