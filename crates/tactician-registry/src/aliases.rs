//! Aliases: names such as `stable` pointing to a version of a group, with their history.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::check::check_name;
use crate::{Error, Registry};

/// One change of an alias, as kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasChange {
    /// The group.
    pub group: String,
    /// The alias.
    pub alias: String,
    /// The version it pointed to before, `None` when it was created by this change.
    pub previous: Option<String>,
    /// The version it points to after.
    pub version: String,
    /// When the change was made: RFC 3339 UTC, with milliseconds, from the workstation's
    /// clock.
    pub time: String,
}

impl Registry {
    /// Points `alias` of `group` at `version`, creating the alias if needed, and returns the
    /// version it pointed to before (`None` for a new alias).
    ///
    /// Each change is appended to the alias history ([`Registry::alias_history`]); setting an
    /// alias to the version it already points to changes nothing and is not recorded.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a bad group or alias, [`Error::UnknownVersion`] when the group
    /// has no such version, [`Error::Database`] when SQLite fails.
    pub fn set_alias(
        &self,
        group: &str,
        alias: &str,
        version: &str,
    ) -> Result<Option<String>, Error> {
        check_name("group", group)?;
        check_name("alias", alias)?;
        let op = "set an alias";
        let tx = self.write(op)?;
        let known = tx
            .query_row(
                "SELECT 1 FROM versions WHERE grp = ?1 AND version = ?2",
                [group, version],
                |_| Ok(()),
            )
            .optional()
            .map_err(self.db(op))?
            .is_some();
        if !known {
            return Err(Error::UnknownVersion {
                group: group.to_owned(),
                version: version.to_owned(),
            });
        }
        let previous: Option<String> = tx
            .query_row(
                "SELECT version FROM aliases WHERE grp = ?1 AND alias = ?2",
                [group, alias],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.db(op))?;
        if previous.as_deref() == Some(version) {
            return Ok(previous);
        }
        tx.execute(
            "INSERT INTO aliases (grp, alias, version) VALUES (?1, ?2, ?3)
             ON CONFLICT (grp, alias) DO UPDATE SET version = excluded.version",
            [group, alias, version],
        )
        .map_err(self.db(op))?;
        tx.execute(
            "INSERT INTO alias_history (grp, alias, previous, version, time)
             VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            params![group, alias, previous, version],
        )
        .map_err(self.db(op))?;
        tx.commit().map_err(self.db(op))?;
        Ok(previous)
    }

    /// The aliases of a group as `(alias, version)`, ordered by alias.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn aliases(&self, group: &str) -> Result<Vec<(String, String)>, Error> {
        let op = "list the aliases";
        let mut stmt = self
            .conn
            .prepare("SELECT alias, version FROM aliases WHERE grp = ?1 ORDER BY alias")
            .map_err(self.db(op))?;
        let rows = stmt
            .query_map([group], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(self.db(op))?;
        rows.collect::<Result<_, _>>().map_err(self.db(op))
    }

    /// The version an alias of a group points to, if the alias exists.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn alias(&self, group: &str, alias: &str) -> Result<Option<String>, Error> {
        self.conn
            .query_row(
                "SELECT version FROM aliases WHERE grp = ?1 AND alias = ?2",
                [group, alias],
                |row| row.get(0),
            )
            .optional()
            .map_err(self.db("read an alias"))
    }

    /// The changes of the aliases of a group (of one alias when `alias` is given), oldest
    /// first.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite fails.
    pub fn alias_history(
        &self,
        group: &str,
        alias: Option<&str>,
    ) -> Result<Vec<AliasChange>, Error> {
        let op = "read the alias history";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT grp, alias, previous, version, time FROM alias_history
                 WHERE grp = ?1 AND (?2 IS NULL OR alias = ?2) ORDER BY id",
            )
            .map_err(self.db(op))?;
        let rows = stmt
            .query_map(params![group, alias], |row| {
                Ok(AliasChange {
                    group: row.get(0)?,
                    alias: row.get(1)?,
                    previous: row.get(2)?,
                    version: row.get(3)?,
                    time: row.get(4)?,
                })
            })
            .map_err(self.db(op))?;
        rows.collect::<Result<_, _>>().map_err(self.db(op))
    }
}
