//! The device's model store and history, laid out in its state folder:
//!
//! ```text
//! <state>/staging/<version>/   a release being written and validated (discarded after a crash)
//! <state>/models/<version>/    validated releases: model.tflite, validation.bin, release.json,
//!                              validated.json
//! <state>/current -> models/<version>   the active model (a symlink swapped by rename)
//! <state>/history.json         installs, activations, rollbacks, refusals (atomic writes)
//! ```
//!
//! A folder enters `models/` only by the rename of a complete, synced and validated staging
//! folder; `current` changes only by the rename of a complete symlink; both folders are synced
//! after each rename. So at every instant `current` names a validated model (or nothing, before
//! the first install), whatever fails or is killed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fs::{Fs, exists, sync_parent, temp_path, write_atomic};
use crate::release::{Release, parse_version};
use crate::tuf::TufFloor;

/// The `format` of `history.json`.
pub const HISTORY_FORMAT: &str = "tactician-device-history/1";
/// The events kept in the history (the oldest are dropped).
pub const MAX_EVENTS: usize = 1000;

/// The files of an installed release.
pub mod files {
    /// The decrypted model.
    pub const MODEL: &str = "model.tflite";
    /// The decrypted validation set.
    pub const VALIDATION: &str = "validation.bin";
    /// The release's metadata ([`crate::Release`]).
    pub const RELEASE: &str = "release.json";
    /// The device's validation report, written last.
    pub const VALIDATED: &str = "validated.json";
}

/// One entry of the device's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Increasing number, unique on the device.
    pub seq: u64,
    /// When (RFC 3339, UTC).
    pub time: String,
    /// `install`, `activate`, `rollback`, `reject`, `health`, `recover`, `wait`.
    pub action: String,
    /// The version concerned.
    pub version: String,
    /// `ok` or `failed`.
    pub outcome: String,
    /// Why, when it failed or needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The device's history (`history.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// [`HISTORY_FORMAT`].
    pub format: String,
    /// The highest TUF metadata versions accepted (anti-rollback).
    #[serde(default)]
    pub floor: TufFloor,
    /// The highest release version ever activated: older ones are installed only by an
    /// explicit rollback.
    #[serde(default)]
    pub highest: Option<String>,
    /// Versions refused for good, with the reason.
    #[serde(default)]
    pub rejected: BTreeMap<String, String>,
    /// Versions in the order they were activated (the last is the active one).
    #[serde(default)]
    pub activations: Vec<String>,
    /// A validated version waiting for the maintenance window.
    #[serde(default)]
    pub pending: Option<String>,
    /// The next event's number.
    #[serde(default)]
    pub next_seq: u64,
    /// Events, oldest first.
    #[serde(default)]
    pub events: Vec<Event>,
}

impl Default for History {
    fn default() -> Self {
        History {
            format: HISTORY_FORMAT.into(),
            floor: TufFloor::default(),
            highest: None,
            rejected: BTreeMap::new(),
            activations: Vec::new(),
            pending: None,
            next_seq: 1,
            events: Vec::new(),
        }
    }
}

impl History {
    /// Appends an event.
    pub fn record(
        &mut self,
        time: &str,
        action: &str,
        version: &str,
        ok: bool,
        reason: Option<String>,
    ) {
        self.events.push(Event {
            seq: self.next_seq,
            time: time.to_owned(),
            action: action.to_owned(),
            version: version.to_owned(),
            outcome: if ok { "ok" } else { "failed" }.to_owned(),
            reason,
        });
        self.next_seq += 1;
        if self.events.len() > MAX_EVENTS {
            let drop = self.events.len() - MAX_EVENTS;
            self.events.drain(..drop);
        }
    }

    /// Notes an activation of `version`.
    pub fn activated(&mut self, version: &str) {
        self.activations.retain(|v| v != version);
        self.activations.push(version.to_owned());
        let higher = match &self.highest {
            None => true,
            Some(h) => crate::release::is_newer(version, h),
        };
        if higher {
            self.highest = Some(version.to_owned());
        }
        if self.pending.as_deref() == Some(version) {
            self.pending = None;
        }
    }
}

/// The model store of one state folder.
#[derive(Debug)]
pub struct Store<'a> {
    fs: &'a dyn Fs,
    root: PathBuf,
}

impl<'a> Store<'a> {
    /// The store of the state folder `root`.
    pub fn new(fs: &'a dyn Fs, root: &Path) -> Store<'a> {
        Store {
            fs,
            root: root.to_path_buf(),
        }
    }

    /// The state folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file system the store writes through.
    pub fn fs(&self) -> &'a dyn Fs {
        self.fs
    }

    fn staging(&self) -> PathBuf {
        self.root.join("staging")
    }

    fn models(&self) -> PathBuf {
        self.root.join("models")
    }

    fn current(&self) -> PathBuf {
        self.root.join("current")
    }

    fn history_path(&self) -> PathBuf {
        self.root.join("history.json")
    }

    /// The folder of an installed version.
    pub fn model_dir(&self, version: &str) -> PathBuf {
        self.models().join(version)
    }

    /// The active version: the one `current` names, `None` before the first activation.
    pub fn active(&self) -> Result<Option<String>> {
        let link = self.current();
        if !exists(&link) {
            return Ok(None);
        }
        let target = self
            .fs
            .read_link(&link)
            .map_err(|e| Error::io("read the link", &link, e))?;
        let version = target
            .strip_prefix("models")
            .ok()
            .and_then(|v| v.to_str())
            .filter(|v| !v.is_empty() && !v.contains('/'))
            .ok_or_else(|| Error::Corrupt {
                path: link.clone(),
                reason: format!("points to {}, not into models/", target.display()),
            })?;
        Ok(Some(version.to_owned()))
    }

    /// The installed (validated) versions, oldest version first.
    pub fn installed(&self) -> Result<Vec<String>> {
        let dir = self.models();
        if !exists(&dir) {
            return Ok(Vec::new());
        }
        let mut versions: Vec<(semver::Version, String)> = self
            .fs
            .read_dir(&dir)
            .map_err(|e| Error::io("list", &dir, e))?
            .into_iter()
            .filter(|name| exists(&dir.join(name).join(files::VALIDATED)))
            .filter_map(|name| parse_version(&name).ok().map(|v| (v, name)))
            .collect();
        versions.sort();
        Ok(versions.into_iter().map(|(_, n)| n).collect())
    }

    /// The release metadata of an installed version.
    pub fn release(&self, version: &str) -> Result<Release> {
        let path = self.model_dir(version).join(files::RELEASE);
        let bytes = self
            .fs
            .read(&path)
            .map_err(|e| Error::io("read", &path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// Reads the history (a fresh one when there is none yet).
    pub fn history(&self) -> Result<History> {
        let path = self.history_path();
        if !exists(&path) {
            return Ok(History::default());
        }
        let bytes = self
            .fs
            .read(&path)
            .map_err(|e| Error::io("read", &path, e))?;
        let history: History = serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if history.format != HISTORY_FORMAT {
            return Err(Error::Corrupt {
                path,
                reason: format!("format {:?}, expected {HISTORY_FORMAT:?}", history.format),
            });
        }
        Ok(history)
    }

    /// Writes the history atomically.
    pub fn save_history(&self, history: &History) -> Result<()> {
        let path = self.history_path();
        let bytes = serde_json::to_vec_pretty(history).map_err(|e| Error::Format(e.to_string()))?;
        write_atomic(self.fs, &path, &bytes).map_err(|e| Error::io("write", &path, e))
    }

    /// Removes what an interrupted run left behind: staging folders, half-made links and
    /// files, tough's scratch folder. Returns what it removed.
    pub fn recover(&self) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        let staging = self.staging();
        if exists(&staging) {
            for name in self
                .fs
                .read_dir(&staging)
                .map_err(|e| Error::io("list", &staging, e))?
            {
                let path = staging.join(name);
                remove_any(self.fs, &path)?;
                removed.push(path);
            }
        }
        for path in [
            temp_path(&self.current()),
            temp_path(&self.history_path()),
            crate::tuf::trusted_dir(&self.root).join("scratch"),
        ] {
            if exists(&path) {
                remove_any(self.fs, &path)?;
                removed.push(path);
            }
        }
        let models = self.models();
        let active = self.active().ok().flatten();
        if exists(&models) {
            for name in self
                .fs
                .read_dir(&models)
                .map_err(|e| Error::io("list", &models, e))?
            {
                let path = models.join(&name);
                // Only complete, validated folders are renamed into models/; anything else
                // (a half-removed old version) goes.
                if active.as_deref() != Some(name.as_str()) && !exists(&path.join(files::VALIDATED))
                {
                    remove_any(self.fs, &path)?;
                    removed.push(path);
                }
            }
        }
        Ok(removed)
    }

    /// Writes a release's files into `staging/<version>/`, each synced, and the folder synced.
    pub fn stage(&self, version: &str, entries: &[(&str, &[u8])]) -> Result<PathBuf> {
        let dir = self.staging().join(version);
        if exists(&dir) {
            remove_any(self.fs, &dir)?;
        }
        self.fs
            .create_dir_all(&dir)
            .map_err(|e| Error::io("create", &dir, e))?;
        for (name, bytes) in entries {
            let path = dir.join(name);
            self.fs
                .write(&path, bytes)
                .map_err(|e| Error::io("write", &path, e))?;
            self.fs
                .sync_file(&path)
                .map_err(|e| Error::io("sync", &path, e))?;
        }
        self.fs
            .sync_dir(&dir)
            .map_err(|e| Error::io("sync", &dir, e))?;
        Ok(dir)
    }

    /// Moves a validated staging folder into `models/` (one rename), syncing both folders.
    pub fn commit(&self, version: &str) -> Result<PathBuf> {
        let from = self.staging().join(version);
        let models = self.models();
        self.fs
            .create_dir_all(&models)
            .map_err(|e| Error::io("create", &models, e))?;
        let to = self.model_dir(version);
        if exists(&to) {
            remove_any(self.fs, &to)?;
        }
        self.fs
            .rename(&from, &to)
            .map_err(|e| Error::io("move into models/", &from, e))?;
        self.fs
            .sync_dir(&models)
            .map_err(|e| Error::io("sync", &models, e))?;
        self.fs
            .sync_dir(&self.staging())
            .map_err(|e| Error::io("sync", &self.staging(), e))?;
        Ok(to)
    }

    /// Points `current` at an installed version: a new symlink, renamed over the old one, the
    /// state folder synced.
    pub fn activate(&self, version: &str) -> Result<()> {
        if !exists(&self.model_dir(version).join(files::VALIDATED)) {
            return Err(Error::NotInstalled {
                version: version.to_owned(),
                installed: self.installed()?.join(", "),
            });
        }
        let link = self.current();
        let tmp = temp_path(&link);
        if exists(&tmp) {
            self.fs
                .remove_file(&tmp)
                .map_err(|e| Error::io("remove", &tmp, e))?;
        }
        let target = Path::new("models").join(version);
        self.fs
            .symlink(&target, &tmp)
            .map_err(|e| Error::io("create the link", &tmp, e))?;
        self.fs
            .rename(&tmp, &link)
            .map_err(|e| Error::io("swap the link", &link, e))?;
        sync_parent(self.fs, &link).map_err(|e| Error::io("sync", &self.root, e))
    }

    /// Removes an installed version that is not active: renamed out of `models/` first, so
    /// that a half-removed folder is never taken for a validated one.
    pub fn remove(&self, version: &str) -> Result<()> {
        if self.active()?.as_deref() == Some(version) {
            return Ok(());
        }
        let dir = self.model_dir(version);
        if !exists(&dir) {
            return Ok(());
        }
        let staging = self.staging();
        self.fs
            .create_dir_all(&staging)
            .map_err(|e| Error::io("create", &staging, e))?;
        let trash = staging.join(format!("{version}.removed"));
        if exists(&trash) {
            remove_any(self.fs, &trash)?;
        }
        self.fs
            .rename(&dir, &trash)
            .map_err(|e| Error::io("move out of models/", &dir, e))?;
        self.fs
            .sync_dir(&self.models())
            .map_err(|e| Error::io("sync", &self.models(), e))?;
        remove_any(self.fs, &trash)
    }
}

fn remove_any(fs: &dyn Fs, path: &Path) -> Result<()> {
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let r = if is_dir {
        fs.remove_dir_all(path)
    } else {
        fs.remove_file(path)
    };
    r.map_err(|e| Error::io("remove", path, e))
}
