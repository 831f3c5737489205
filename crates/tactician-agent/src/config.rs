//! The agent's settings: `<state>/agent.toml`, written by `tactician-device init` and edited by
//! the operator.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::battles::BattleConfig;
use crate::error::{Error, Result};
use crate::fs::{Fs, write_atomic};
use crate::release::check_name;
use crate::window::{Window, WindowConfig};

/// The settings file's name inside the state folder.
pub const CONFIG_FILE: &str = "agent.toml";

/// The agent's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Where the repository is: a folder, or an `http://`, `https://` or `file://` URL. Its
    /// metadata is under `metadata/` and its targets under `targets/`.
    pub repository: String,
    /// The device's group.
    pub group: String,
    /// The alias of the group the device follows.
    #[serde(default = "default_alias")]
    pub alias: String,
    /// The encoder the device's game feeds the model with; when unset, the active model's.
    #[serde(default)]
    pub encoder_hash: Option<String>,
    /// How often the agent looks for updates.
    #[serde(default)]
    pub poll: PollConfig,
    /// What a model must meet on this device before it is activated.
    #[serde(default)]
    pub budgets: Budgets,
    /// Validated versions kept as rollback points, besides the active one.
    #[serde(default = "default_keep")]
    pub keep_versions: usize,
    /// When activations may happen; always when absent.
    #[serde(default)]
    pub window: Option<WindowConfig>,
    /// The validation battles models of the built-in game play before activation.
    #[serde(default)]
    pub battles: BattleConfig,
}

fn default_alias() -> String {
    "production".into()
}

fn default_keep() -> usize {
    2
}

/// Polling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollConfig {
    /// Seconds between two looks at the repository.
    pub interval_seconds: u64,
    /// Up to this many seconds are added at random to each wait, so a fleet does not poll in
    /// step.
    pub jitter_seconds: u64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval_seconds: 300,
            jitter_seconds: 60,
        }
    }
}

/// What a model must meet on the device.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// Largest 99th-percentile decision latency, microseconds.
    pub max_latency_p99_us: f64,
    /// Largest memory for the model (file, packed weights, activations), MiB.
    pub max_memory_mib: f64,
    /// Lowest top-1 agreement with the validation set, on top of the release's own gate.
    pub min_top1: f64,
    /// Decisions timed for the latency check.
    pub timed_decisions: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_latency_p99_us: 5_000.0,
            max_memory_mib: 64.0,
            min_top1: 0.0,
            timed_decisions: 200,
        }
    }
}

impl AgentConfig {
    /// Settings for a repository and group, everything else at its default.
    pub fn new(repository: &str, group: &str) -> AgentConfig {
        AgentConfig {
            repository: repository.to_owned(),
            group: group.to_owned(),
            alias: default_alias(),
            encoder_hash: None,
            poll: PollConfig::default(),
            budgets: Budgets::default(),
            keep_versions: default_keep(),
            window: None,
            battles: BattleConfig::default(),
        }
    }

    /// The settings file of a state folder.
    pub fn path(state: &Path) -> PathBuf {
        state.join(CONFIG_FILE)
    }

    /// Reads and checks the settings of a state folder.
    pub fn load(fs: &dyn Fs, state: &Path) -> Result<AgentConfig> {
        let path = Self::path(state);
        let bytes = fs.read(&path).map_err(|e| Error::io("read", &path, e))?;
        let text = String::from_utf8(bytes).map_err(|_| Error::Config {
            path: path.clone(),
            reason: "not UTF-8".into(),
        })?;
        let config: AgentConfig = toml::from_str(&text).map_err(|e| Error::Config {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        config
            .check()
            .map_err(|reason| Error::Config { path, reason })?;
        Ok(config)
    }

    /// Writes the settings atomically.
    pub fn save(&self, fs: &dyn Fs, state: &Path) -> Result<()> {
        let path = Self::path(state);
        let mut text = String::from(
            "# Settings of tactician-device's agent (see `tactician-device agent --help`).\n",
        );
        text.push_str(&toml::to_string_pretty(self).map_err(|e| Error::Format(e.to_string()))?);
        write_atomic(fs, &path, text.as_bytes()).map_err(|e| Error::io("write", &path, e))
    }

    /// The maintenance window.
    pub fn window(&self) -> Result<Window, String> {
        match &self.window {
            None => Ok(Window::always()),
            Some(w) => Window::parse(w).map_err(|e| e.to_string()),
        }
    }

    /// Checks the settings: names, budgets, poll interval, window.
    pub fn check(&self) -> Result<(), String> {
        check_name("group", &self.group).map_err(|e| e.to_string())?;
        check_name("alias", &self.alias).map_err(|e| e.to_string())?;
        if self.repository.trim().is_empty() {
            return Err("repository is empty".into());
        }
        let b = &self.budgets;
        if !(b.max_latency_p99_us > 0.0 && b.max_memory_mib > 0.0) {
            return Err("budgets.max_latency_p99_us and budgets.max_memory_mib must be > 0".into());
        }
        if !(0.0..=1.0).contains(&b.min_top1) {
            return Err("budgets.min_top1 must lie in 0..=1".into());
        }
        if self.poll.interval_seconds == 0 {
            return Err("poll.interval_seconds must be at least 1".into());
        }
        self.window()?;
        self.battles.check()?;
        Ok(())
    }
}
