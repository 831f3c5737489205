//! The update flow: refresh and verify the repository (TUF) → the version the group's alias
//! names → download within the signed length, hash check, decrypt → stage → validate → commit
//! → wait for the maintenance window → activate atomically → health check, rolled back on
//! failure → keep the last versions as rollback points. Every decision goes into the device's
//! history. The clock is passed in (`now`), so tests never wait.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::Serialize;

use crate::battles::{self, BattleScore, is_builtin_game};
use crate::config::AgentConfig;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::identity::Identity;
use crate::release::{
    Channels, Release, channels_target, is_newer, model_target, parse_version, validation_target,
};
use crate::store::{History, Store, files};
use crate::tuf;
use crate::validate::{ValidationReport, validate};

/// What an agent run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The active version is the one the alias names.
    UpToDate {
        /// The active version.
        version: Option<String>,
    },
    /// The group's alias names no version yet.
    NoRelease {
        /// Why.
        reason: String,
    },
    /// The version the alias names was refused (now or earlier); the active model stays.
    Refused {
        /// The refused version.
        version: String,
        /// Why.
        reason: String,
    },
    /// A validated version waits for the maintenance window.
    Waiting {
        /// The version.
        version: String,
        /// When the window opens next (RFC 3339), if ever.
        opens_at: Option<String>,
    },
    /// A version became active.
    Activated {
        /// The new active version.
        version: String,
        /// The version it replaced.
        previous: Option<String>,
        /// Its validation on this device.
        report: Box<ValidationReport>,
    },
    /// The new version failed its health check after activation and was rolled back.
    RolledBack {
        /// The version that failed.
        version: String,
        /// The version active again (none when there was none before).
        to: Option<String>,
        /// Why.
        reason: String,
    },
}

/// The device's state, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// The device id.
    pub device: String,
    /// Its group.
    pub group: String,
    /// The alias it follows.
    pub alias: String,
    /// The active version.
    pub active: Option<String>,
    /// Installed, validated versions (rollback points included).
    pub installed: Vec<String>,
    /// A validated version waiting for the window.
    pub pending: Option<String>,
    /// The highest version ever activated.
    pub highest: Option<String>,
    /// Refused versions and why.
    pub rejected: std::collections::BTreeMap<String, String>,
    /// The TUF metadata versions accepted so far.
    pub metadata: tuf::TufFloor,
    /// The last events.
    pub recent: Vec<crate::store::Event>,
}

/// The device agent of one state folder.
#[derive(Debug)]
pub struct Agent<'a> {
    store: Store<'a>,
    config: AgentConfig,
    identity: Identity,
}

impl<'a> Agent<'a> {
    /// Opens the agent of `state`: its settings and identity.
    pub fn open(fs: &'a dyn Fs, state: &Path) -> Result<Agent<'a>> {
        let identity = Identity::load(fs, state)?;
        let config = AgentConfig::load(fs, state)?;
        Ok(Agent {
            store: Store::new(fs, state),
            config,
            identity,
        })
    }

    /// The settings.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Store<'a> {
        &self.store
    }

    /// The folder of the active model (`<state>/current`), as the server loads it.
    pub fn current_dir(&self) -> PathBuf {
        self.store.root().join("current")
    }

    /// The device's state.
    pub fn status(&self) -> Result<Status> {
        let history = self.store.history()?;
        let recent = history
            .events
            .iter()
            .rev()
            .take(10)
            .rev()
            .cloned()
            .collect();
        Ok(Status {
            device: self.identity.id().to_owned(),
            group: self.config.group.clone(),
            alias: self.config.alias.clone(),
            active: self.store.active()?,
            installed: self.store.installed()?,
            pending: history.pending,
            highest: history.highest,
            rejected: history.rejected,
            metadata: history.floor,
            recent,
        })
    }

    /// One update: look at the repository and, if the alias names a newer version, install,
    /// validate and (inside the window) activate it.
    pub fn update(&self, now: Timestamp) -> Result<Outcome> {
        self.store.recover()?;
        let mut history = self.store.history()?;
        if let Some(outcome) = self.reconcile(&mut history, now)? {
            self.store.save_history(&history)?;
            return Ok(outcome);
        }
        let result = self.update_inner(&mut history, now);
        let outcome = match result {
            Ok(outcome) => outcome,
            // A refused release is remembered; a refusal of the repository's channels file
            // (no version yet) is an error of this run only.
            Err((version, e)) if e.is_rejection() && !version.is_empty() => {
                let reason = match &e {
                    Error::Invalid { reason, .. } | Error::Rejected { reason } => reason.clone(),
                    other => other.to_string(),
                };
                history.rejected.insert(version.clone(), reason.clone());
                history.record(
                    &now.to_string(),
                    "reject",
                    &version,
                    false,
                    Some(reason.clone()),
                );
                // Nothing of a refused release stays behind.
                self.store.recover()?;
                self.store.save_history(&history)?;
                return Ok(Outcome::Refused { version, reason });
            }
            Err((_, e)) => return Err(e),
        };
        self.store.save_history(&history)?;
        Ok(outcome)
    }

    /// Brings the history in line with `current` after an interrupted run: the link is the
    /// truth, so an activation whose history write was lost is recorded now, after the health
    /// check it may have missed (rolled back if it fails).
    fn reconcile(&self, history: &mut History, now: Timestamp) -> Result<Option<Outcome>> {
        let Some(active) = self.store.active()? else {
            return Ok(None);
        };
        if history.activations.last() == Some(&active) {
            return Ok(None);
        }
        let installed = self.store.installed()?;
        let previous = history
            .activations
            .iter()
            .rev()
            .find(|v| **v != active && installed.contains(v))
            .cloned();
        history.activated(&active);
        history.record(
            &now.to_string(),
            "recover",
            &active,
            true,
            Some("activation found after an interrupted run".into()),
        );
        match self.health() {
            Ok(()) => Ok(None),
            Err(reason) => self
                .roll_back_unhealthy(&active, previous, reason, history, now)
                .map(Some),
        }
    }

    fn update_inner(
        &self,
        history: &mut History,
        now: Timestamp,
    ) -> Result<Outcome, (String, Error)> {
        let unversioned = |e: Error| (String::new(), e);
        let (repo, seen) = tuf::refresh(
            self.store.fs(),
            self.store.root(),
            &self.config.repository,
            history.floor,
        )
        .map_err(unversioned)?;
        history.floor = history.floor.max(seen);

        let group = &self.config.group;
        let channels = match repo.fetch(&channels_target(group)).map_err(unversioned)? {
            None => {
                return Ok(Outcome::NoRelease {
                    reason: format!("the repository publishes nothing for group {group:?}"),
                });
            }
            Some(bytes) => Channels::parse(&bytes, group).map_err(unversioned)?,
        };
        let Some(wanted) = channels.aliases.get(&self.config.alias).cloned() else {
            return Ok(Outcome::NoRelease {
                reason: format!("group {group:?} has no alias {:?} yet", self.config.alias),
            });
        };
        let versioned = |e: Error| (wanted.clone(), e);
        parse_version(&wanted).map_err(|e| {
            versioned(Error::Rejected {
                reason: e.to_string(),
            })
        })?;
        let active = self.store.active().map_err(unversioned)?;
        if active.as_deref() == Some(wanted.as_str()) {
            // An activation interrupted after its link swap did not remove the old versions:
            // done now, or they would stay and fill the disk for the next install.
            self.collect(history).map_err(unversioned)?;
            return Ok(Outcome::UpToDate { version: active });
        }
        if let Some(reason) = history.rejected.get(&wanted) {
            return Ok(Outcome::Refused {
                version: wanted,
                reason: reason.clone(),
            });
        }
        if let Some(highest) = &history.highest
            && !is_newer(&wanted, highest)
        {
            return Err(versioned(Error::Rejected {
                reason: format!(
                    "version {wanted} is not newer than {highest}, the highest version this \
                     device has activated (rollback attack or demotion: roll back explicitly \
                     with `tactician-device rollback --to {wanted}`)"
                ),
            }));
        }

        let installed = self.store.installed().map_err(unversioned)?;
        let report = if installed.contains(&wanted) {
            self.report_of(&wanted).map_err(versioned)?
        } else {
            self.install(&repo, &wanted, active.as_deref(), now, history)
                .map_err(versioned)?
        };

        let window = self.config.window().map_err(|reason| {
            unversioned(Error::Config {
                path: AgentConfig::path(self.store.root()),
                reason,
            })
        })?;
        if !window.is_open(now) {
            let opens_at = window.next_open(now).map(|t| t.to_string());
            if history.pending.as_deref() != Some(wanted.as_str()) {
                history.pending = Some(wanted.clone());
                history.record(
                    &now.to_string(),
                    "wait",
                    &wanted,
                    true,
                    Some(format!(
                        "validated; activation waits for the maintenance window (opens {})",
                        opens_at.as_deref().unwrap_or("never")
                    )),
                );
            }
            return Ok(Outcome::Waiting {
                version: wanted,
                opens_at,
            });
        }
        self.switch_to(&wanted, active, report, history, now)
            .map_err(versioned)
    }

    /// Downloads, decrypts, stages, validates and commits a release.
    fn install(
        &self,
        repo: &tuf::Repository,
        version: &str,
        active: Option<&str>,
        now: Timestamp,
        history: &mut History,
    ) -> Result<ValidationReport> {
        let group = &self.config.group;
        let name = model_target(group, version);
        let release = repo
            .custom(&name, "release")?
            .ok_or_else(|| Error::Rejected {
                reason: format!("the repository has no model target {name:?} with a release"),
            })?;
        let release: Release =
            serde_json::from_value(release.clone()).map_err(|e| Error::Rejected {
                reason: format!("the release metadata of {name:?} does not parse: {e}"),
            })?;
        release.check(group, version)?;
        let device_encoder = match &self.config.encoder_hash {
            Some(h) => Some(h.clone()),
            None => match active {
                Some(v) => Some(self.store.release(v)?.encoder_hash),
                None => None,
            },
        };
        // Cheap refusals before any download.
        if let Some(device) = &device_encoder
            && device != &release.encoder_hash
        {
            return Err(Error::Rejected {
                reason: format!(
                    "version {version} reads features with encoder {}, this device's game uses \
                     {device}",
                    release.encoder_hash
                ),
            });
        }
        let cipher_model = repo.fetch(&name)?.ok_or_else(|| Error::Rejected {
            reason: format!("the repository lists no target {name:?}"),
        })?;
        let vname = validation_target(group, version);
        let cipher_validation = repo.fetch(&vname)?.ok_or_else(|| Error::Rejected {
            reason: format!("the repository lists no target {vname:?}"),
        })?;
        let model = self.identity.decrypt("model", &cipher_model)?;
        let validation = self
            .identity
            .decrypt("validation set", &cipher_validation)?;
        let release_json =
            serde_json::to_vec_pretty(&release).map_err(|e| Error::Format(e.to_string()))?;
        self.store.stage(
            version,
            &[
                (files::MODEL, &model),
                (files::VALIDATION, &validation),
                (files::RELEASE, &release_json),
            ],
        )?;
        let invalid = |reason| Error::Invalid {
            version: version.to_owned(),
            reason,
        };
        let mut report = validate(
            &release,
            &model,
            &validation,
            &self.config.budgets,
            device_encoder.as_deref(),
        )
        .map_err(invalid)?;
        let battles = &self.config.battles;
        if battles.enabled && is_builtin_game(&release.encoder_hash) {
            let candidate = battles::play(&model, battles).map_err(invalid)?;
            let active_score = active.and_then(|v| Some((v.to_owned(), self.battle_score(v)?)));
            report.battles =
                Some(battles::gate(candidate, active_score, battles).map_err(invalid)?);
        }
        let report_json =
            serde_json::to_vec_pretty(&report).map_err(|e| Error::Format(e.to_string()))?;
        // validated.json is written last and synced: its presence marks a complete folder.
        let staged = self.store.root().join("staging").join(version);
        let path = staged.join(files::VALIDATED);
        let fs = self.store.fs();
        fs.write(&path, &report_json)
            .map_err(|e| Error::io("write", &path, e))?;
        fs.sync_file(&path)
            .map_err(|e| Error::io("sync", &path, e))?;
        fs.sync_dir(&staged)
            .map_err(|e| Error::io("sync", &staged, e))?;
        self.store.commit(version)?;
        history.record(
            &now.to_string(),
            "install",
            version,
            true,
            Some(format!(
                "validated: top-1 {:.2}% on {} rows, p99 {:.1} µs, {:.2} MiB{}",
                100.0 * report.top1,
                report.rows,
                report.latency_p99_us,
                report.memory_bytes as f64 / 1048576.0,
                report
                    .battles
                    .as_ref()
                    .map_or(String::new(), |b| format!(", {}", b.summary()))
            )),
        );
        Ok(report)
    }

    /// The active model's results in the configured battles: from its validation report when
    /// it played the same battles, else played now. `None` when it cannot play them (a release
    /// is then compared with nothing rather than held back by a broken active model).
    fn battle_score(&self, version: &str) -> Option<BattleScore> {
        let config = &self.config.battles;
        if let Ok(report) = self.report_of(version)
            && let Some(gate) = report.battles
            && gate.candidate.matches(config)
        {
            return Some(gate.candidate);
        }
        let path = self.store.model_dir(version).join(files::MODEL);
        let model = self.store.fs().read(&path).ok()?;
        battles::play(&model, config).ok()
    }

    fn report_of(&self, version: &str) -> Result<ValidationReport> {
        let path = self.store.model_dir(version).join(files::VALIDATED);
        let bytes = self
            .store
            .fs()
            .read(&path)
            .map_err(|e| Error::io("read", &path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// Activates an installed version, checks its health through `current`, and rolls back to
    /// `previous` when the check fails.
    fn switch_to(
        &self,
        version: &str,
        previous: Option<String>,
        report: ValidationReport,
        history: &mut History,
        now: Timestamp,
    ) -> Result<Outcome> {
        self.store.activate(version)?;
        history.activated(version);
        history.record(&now.to_string(), "activate", version, true, None);
        if let Err(reason) = self.health() {
            return self.roll_back_unhealthy(version, previous, reason, history, now);
        }
        self.collect(history)?;
        Ok(Outcome::Activated {
            version: version.to_owned(),
            previous,
            report: Box::new(report),
        })
    }

    /// Takes an active version that failed its health check out of service: back to
    /// `previous` (or no model when there is none), the version refused for good.
    fn roll_back_unhealthy(
        &self,
        version: &str,
        previous: Option<String>,
        reason: String,
        history: &mut History,
        now: Timestamp,
    ) -> Result<Outcome> {
        let reason = format!("health check after activation failed: {reason}");
        history.rejected.insert(version.to_owned(), reason.clone());
        history.activations.retain(|v| v != version);
        history.record(
            &now.to_string(),
            "health",
            version,
            false,
            Some(reason.clone()),
        );
        let to = match &previous {
            Some(p) => {
                self.store.activate(p)?;
                history.activated(p);
                Some(p.clone())
            }
            None => {
                let link = self.current_dir();
                self.store
                    .fs()
                    .remove_file(&link)
                    .map_err(|e| Error::io("remove", &link, e))?;
                crate::fs::sync_parent(self.store.fs(), &link)
                    .map_err(|e| Error::io("sync", &link, e))?;
                None
            }
        };
        history.record(
            &now.to_string(),
            "rollback",
            to.as_deref().unwrap_or("-"),
            true,
            Some(format!("automatic, {version} failed its health check")),
        );
        Ok(Outcome::RolledBack {
            version: version.to_owned(),
            to,
            reason,
        })
    }

    /// The active model, read back through `current` as the server reads it: its files match
    /// the release and it still passes validation.
    fn health(&self) -> Result<(), String> {
        let dir = self.current_dir();
        let fs = self.store.fs();
        let read = |name: &str| fs.read(&dir.join(name)).map_err(|e| e.to_string());
        let release: Release =
            serde_json::from_slice(&read(files::RELEASE)?).map_err(|e| e.to_string())?;
        let model = read(files::MODEL)?;
        let validation = read(files::VALIDATION)?;
        validate(
            &release,
            &model,
            &validation,
            &crate::config::Budgets {
                timed_decisions: 16,
                ..self.config.budgets
            },
            None,
        )
        .map(drop)
    }

    /// Removes installed versions beyond the rollback points to keep.
    fn collect(&self, history: &History) -> Result<()> {
        let active = self.store.active()?;
        let mut keep: Vec<&String> = history
            .activations
            .iter()
            .rev()
            .filter(|v| Some(*v) != active.as_ref())
            .take(self.config.keep_versions)
            .collect();
        if let Some(p) = &history.pending {
            keep.push(p);
        }
        for version in self.store.installed()? {
            if Some(&version) != active.as_ref() && !keep.contains(&&version) {
                self.store.remove(&version)?;
            }
        }
        Ok(())
    }

    /// Activates an installed version now, outside the window and older or not: the
    /// operator's explicit choice. The version it replaces is not refused.
    pub fn activate(&self, version: &str, now: Timestamp) -> Result<Outcome> {
        self.store.recover()?;
        let mut history = self.store.history()?;
        self.reconcile(&mut history, now)?;
        let previous = self.store.active()?;
        if previous.as_deref() == Some(version) {
            return Ok(Outcome::UpToDate { version: previous });
        }
        let report = self.report_of(version).map_err(|_| Error::NotInstalled {
            version: version.to_owned(),
            installed: self.store.installed().unwrap_or_default().join(", "),
        })?;
        history.rejected.remove(version);
        let outcome = self.switch_to(version, previous, report, &mut history, now)?;
        self.store.save_history(&history)?;
        Ok(outcome)
    }

    /// Rolls back to `to` (or the version active before the current one): the current
    /// version is refused from then on, so the agent does not install it again.
    pub fn rollback(&self, to: Option<&str>, now: Timestamp) -> Result<Outcome> {
        self.store.recover()?;
        let mut history = self.store.history()?;
        self.reconcile(&mut history, now)?;
        let active = self.store.active()?;
        let installed = self.store.installed()?;
        let target = match to {
            Some(v) => {
                if !installed.iter().any(|i| i == v) {
                    return Err(Error::NotInstalled {
                        version: v.to_owned(),
                        installed: installed.join(", "),
                    });
                }
                v.to_owned()
            }
            None => history
                .activations
                .iter()
                .rev()
                .find(|v| Some(*v) != active.as_ref() && installed.contains(v))
                .cloned()
                .ok_or(Error::NoRollbackPoint)?,
        };
        if active.as_deref() == Some(target.as_str()) {
            return Ok(Outcome::UpToDate { version: active });
        }
        let report = self.report_of(&target)?;
        self.store.activate(&target)?;
        if let Some(a) = &active {
            history.rejected.insert(
                a.clone(),
                format!("rolled back to {target} by the operator"),
            );
        }
        history.rejected.remove(&target);
        history.activated(&target);
        history.record(
            &now.to_string(),
            "rollback",
            &target,
            true,
            Some(format!(
                "by the operator, from {}",
                active.as_deref().unwrap_or("none")
            )),
        );
        self.store.save_history(&history)?;
        Ok(Outcome::Activated {
            version: target,
            previous: active,
            report: Box::new(report),
        })
    }
}
