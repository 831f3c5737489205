//! Deployments: what the devices report having done with the versions they were sent.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::check::{check_name, check_outcome, check_time};
use crate::{Error, Registry};

/// One step a device reports: it installed, activated, rolled back or rejected a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    /// The device's id.
    pub device: String,
    /// The device's sequence number of this step: (device, seq) identifies it.
    pub seq: u64,
    /// The group of the version.
    pub group: String,
    /// The version.
    pub version: String,
    /// When the device did it: an RFC 3339 time.
    pub time: String,
    /// What it did, such as `install`, `activate`, `rollback` or `reject`; a name by the rule
    /// of [`check_name`](crate::check_name).
    pub action: String,
    /// `ok` or `failed`.
    pub outcome: String,
    /// Why, when the device says.
    pub reason: Option<String>,
}

const COLUMNS: &str = "device, seq, grp, version, time, action, outcome, reason";

impl Deployment {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Deployment> {
        let seq: i64 = row.get(1)?;
        Ok(Deployment {
            device: row.get(0)?,
            seq: u64::try_from(seq)
                .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(1, seq))?,
            group: row.get(2)?,
            version: row.get(3)?,
            time: row.get(4)?,
            action: row.get(5)?,
            outcome: row.get(6)?,
            reason: row.get(7)?,
        })
    }
}

impl Registry {
    /// Records a step a device reports, once: returns `true` when it was new and `false` when
    /// the same step was already recorded (devices send their whole history again).
    ///
    /// The device need not be registered any more: the history outlives it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad device id, group, version or action,
    /// [`Error::InvalidValue`] for a malformed time or an outcome other than `ok` and
    /// `failed`, [`Error::SeqOutOfRange`] for a sequence number above `i64::MAX`,
    /// [`Error::DeploymentConflict`] when the device's step of that sequence number was
    /// recorded with other contents, [`Error::Database`] when SQLite fails.
    pub fn record_deployment(&self, d: &Deployment) -> Result<bool, Error> {
        check_name("device id", &d.device)?;
        check_name("group", &d.group)?;
        check_name("version", &d.version)?;
        check_name("action", &d.action)?;
        check_time("deployment time", &d.time)?;
        check_outcome(&d.outcome)?;
        let seq = i64::try_from(d.seq).map_err(|_| Error::SeqOutOfRange {
            device: d.device.clone(),
            seq: d.seq,
        })?;
        let op = "record a deployment";
        let tx = self.write(op)?;
        let existing = tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM deployments WHERE device = ?1 AND seq = ?2"),
                params![d.device, seq],
                Deployment::from_row,
            )
            .optional()
            .map_err(self.db(op))?;
        match existing {
            Some(existing) if existing == *d => Ok(false),
            Some(_) => Err(Error::DeploymentConflict {
                device: d.device.clone(),
                seq: d.seq,
            }),
            None => {
                tx.execute(
                    &format!(
                        "INSERT INTO deployments ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                    ),
                    params![
                        d.device, seq, d.group, d.version, d.time, d.action, d.outcome, d.reason
                    ],
                )
                .map_err(self.db(op))?;
                tx.commit().map_err(self.db(op))?;
                Ok(true)
            }
        }
    }

    /// The recorded deployments, of one device and/or one version (of any group) or all,
    /// ordered by time (as instants, whatever the offsets), then device, then sequence number.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn deployments(
        &self,
        device: Option<&str>,
        version: Option<&str>,
    ) -> Result<Vec<Deployment>, Error> {
        let op = "list the deployments";
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM deployments
                 WHERE (?1 IS NULL OR device = ?1) AND (?2 IS NULL OR version = ?2)
                 ORDER BY julianday(time), time, device, seq"
            ))
            .map_err(self.db(op))?;
        let rows = stmt
            .query_map([device, version], Deployment::from_row)
            .map_err(self.db(op))?;
        rows.collect::<Result<_, _>>().map_err(self.db(op))
    }
}
