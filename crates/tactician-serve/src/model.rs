//! The model being served: the one the agent's `current` link names, loaded into a small pool
//! of runtime policies (one per concurrent decision), and swapped for another between requests.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use tactician_runtime::{Policy, PolicyOptions};

use crate::error::{Error, Result};

/// Most rows one batch request may hold.
pub const MAX_BATCH: usize = 256;

/// A loaded model.
#[derive(Debug)]
pub struct ActiveModel {
    /// Its version (the folder `current` points to).
    pub version: String,
    /// The encoder its features come from.
    pub encoder_hash: String,
    /// One name per action.
    pub action_names: Vec<String>,
    /// Input features.
    pub features: usize,
    /// Actions.
    pub actions: usize,
    /// Decision latency measured when it was validated on this device (median, microseconds).
    pub baseline_p50_us: Option<f64>,
    bytes: Arc<[u8]>,
    options: PolicyOptions,
    pool: Mutex<Vec<Policy>>,
}

impl ActiveModel {
    /// Loads `bytes` as version `version`.
    pub fn from_bytes(
        version: &str,
        bytes: Vec<u8>,
        cache_capacity: usize,
        baseline_p50_us: Option<f64>,
    ) -> Result<ActiveModel> {
        let options = PolicyOptions {
            max_batch: MAX_BATCH,
            cache_capacity,
            ..PolicyOptions::default()
        };
        let policy = Policy::load(&bytes, &options).map_err(|e| Error::Model {
            version: version.to_string(),
            reason: e.to_string(),
        })?;
        let meta = policy.metadata().cloned();
        let actions = policy.actions();
        let action_names = meta
            .as_ref()
            .map(|m| m.action_names.clone())
            .filter(|n| n.len() == actions)
            .unwrap_or_else(|| (0..actions).map(|a| format!("action{a}")).collect());
        Ok(ActiveModel {
            version: version.to_string(),
            encoder_hash: meta.map(|m| m.encoder_hash).unwrap_or_default(),
            action_names,
            features: policy.features(),
            actions,
            baseline_p50_us,
            bytes: bytes.into(),
            options,
            pool: Mutex::new(vec![policy]),
        })
    }

    /// Loads the model the state folder's `current` link names: `None` when there is none.
    pub fn from_state(state: &Path, cache_capacity: usize) -> Result<Option<ActiveModel>> {
        let Some(version) = current_version(state) else {
            return Ok(None);
        };
        let dir = state.join("current");
        let path = dir.join("model.tflite");
        let bytes = std::fs::read(&path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
        // The agent's validation report: the latency measured at activation.
        let baseline = std::fs::read(dir.join("validated.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["latency_p50_us"].as_f64());
        ActiveModel::from_bytes(&version, bytes, cache_capacity, baseline).map(Some)
    }

    /// Runs `f` with a policy of this model (from the pool, or a new one when every pooled one
    /// is busy), and returns the policy to the pool.
    pub fn with_policy<R>(&self, f: impl FnOnce(&mut Policy) -> R) -> Result<R> {
        let taken = self.pool.lock().map_err(|_| Error::Poisoned)?.pop();
        let mut policy = match taken {
            Some(p) => p,
            None => Policy::load(&self.bytes, &self.options).map_err(|e| Error::Model {
                version: self.version.clone(),
                reason: e.to_string(),
            })?,
        };
        let out = f(&mut policy);
        self.pool.lock().map_err(|_| Error::Poisoned)?.push(policy);
        Ok(out)
    }
}

/// The version the state folder's `current` link names.
pub fn current_version(state: &Path) -> Option<String> {
    let link: PathBuf = std::fs::read_link(state.join("current")).ok()?;
    Some(link.file_name()?.to_string_lossy().into_owned())
}

/// The model in service; replaced whole, so a request keeps the model it started with.
#[derive(Debug, Default)]
pub struct Current {
    inner: RwLock<Option<Arc<ActiveModel>>>,
}

impl Current {
    /// The model in service, if any.
    pub fn get(&self) -> Option<Arc<ActiveModel>> {
        self.inner.read().ok().and_then(|g| g.clone())
    }

    /// Puts `model` in service; returns the one it replaces.
    pub fn set(&self, model: Option<Arc<ActiveModel>>) -> Option<Arc<ActiveModel>> {
        match self.inner.write() {
            Ok(mut g) => std::mem::replace(&mut *g, model),
            Err(_) => None,
        }
    }
}
