//! Devices: each Raspberry Pi by id, with its public key and group.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::check::{check_key, check_name, check_time};
use crate::{Error, Registry};

/// A device known to the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The device's id, by the rule of [`check_name`](crate::check_name).
    pub id: String,
    /// The public key that the device's updates are encrypted to, as text on one line.
    pub public_key: String,
    /// The group the device belongs to, by the rule of [`check_name`](crate::check_name).
    pub group: String,
    /// When the device was added: an RFC 3339 UTC time given by the caller.
    pub added: String,
}

impl Device {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Device> {
        Ok(Device {
            id: row.get(0)?,
            public_key: row.get(1)?,
            group: row.get(2)?,
            added: row.get(3)?,
        })
    }
}

impl Registry {
    /// Registers a device.
    ///
    /// Adding a device again with the same key and group succeeds and changes nothing (its
    /// first `added` time stays).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad id or group, [`Error::InvalidValue`] for an empty or
    /// multi-line key or a malformed time, [`Error::DeviceExists`] when the id is registered
    /// with another key or group, [`Error::Database`] when SQLite fails.
    pub fn add_device(&self, device: &Device) -> Result<(), Error> {
        check_name("device id", &device.id)?;
        check_name("group", &device.group)?;
        check_key(&device.public_key)?;
        check_time("device added time", &device.added)?;
        let op = "add a device";
        let tx = self.write(op)?;
        let existing: Option<(String, String)> = tx
            .query_row(
                "SELECT public_key, grp FROM devices WHERE id = ?1",
                [&device.id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(self.db(op))?;
        match existing {
            Some((key, group)) if key == device.public_key && group == device.group => Ok(()),
            Some((_, group)) => Err(Error::DeviceExists {
                id: device.id.clone(),
                group,
            }),
            None => {
                tx.execute(
                    "INSERT INTO devices (id, public_key, grp, added) VALUES (?1, ?2, ?3, ?4)",
                    params![device.id, device.public_key, device.group, device.added],
                )
                .map_err(self.db(op))?;
                tx.commit().map_err(self.db(op))
            }
        }
    }

    /// Removes a device. Its recorded deployments stay.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownDevice`] when no device has that id, [`Error::Database`] when SQLite
    /// fails.
    pub fn remove_device(&self, id: &str) -> Result<(), Error> {
        let removed = self
            .conn
            .execute("DELETE FROM devices WHERE id = ?1", [id])
            .map_err(self.db("remove a device"))?;
        if removed == 0 {
            return Err(Error::UnknownDevice { id: id.to_owned() });
        }
        Ok(())
    }

    /// The devices, of one group or of all, ordered by group then id.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn devices(&self, group: Option<&str>) -> Result<Vec<Device>, Error> {
        let op = "list the devices";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, public_key, grp, added FROM devices
                 WHERE ?1 IS NULL OR grp = ?1 ORDER BY grp, id",
            )
            .map_err(self.db(op))?;
        let rows = stmt
            .query_map([group], Device::from_row)
            .map_err(self.db(op))?;
        rows.collect::<Result<_, _>>().map_err(self.db(op))
    }

    /// One device by id, if registered.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn device(&self, id: &str) -> Result<Option<Device>, Error> {
        self.conn
            .query_row(
                "SELECT id, public_key, grp, added FROM devices WHERE id = ?1",
                [id],
                Device::from_row,
            )
            .optional()
            .map_err(self.db("read a device"))
    }
}
