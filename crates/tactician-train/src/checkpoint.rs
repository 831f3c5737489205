//! A training run's folder (`MODEL.run/` beside the model folder): `status.json`, the
//! checkpoint (`checkpoint.safetensors` with the whole JSON state in its metadata, so one
//! atomic rename saves a consistent checkpoint, and a readable `checkpoint.json`) and
//! `metrics.jsonl`.

use crate::config::TrainConfig;
use crate::error::TrainError;
use crate::model;
use crate::net::NetSpec;
use crate::optim::Adam;
use crate::rng::Rng;
use crate::train::EpochMetrics;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tactician_formats::tensors::{self, Tensor};

/// The checkpoint's weights file in a run folder.
pub const CKPT: &str = "checkpoint.safetensors";

/// The files a run folder holds (what starting over replaces; anything else is left alone).
pub const RUN_FILES: [&str; 5] = [
    "status.json",
    CKPT,
    "checkpoint.json",
    "metrics.jsonl",
    "paused",
];

/// The state saved with every checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Completed epochs.
    pub epoch: usize,
    /// The settings.
    pub config: TrainConfig,
    /// Encoder hash of the data.
    pub encoder_hash: String,
    /// The generator's state after `epoch`.
    pub rng: Rng,
    /// Optimizer steps taken.
    pub adam_t: u64,
    /// Best validation loss and its epoch.
    pub best: Option<(f64, usize)>,
    /// Epochs since the best.
    pub since_best: usize,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
}

/// status.json of a run folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `running`, `failed` or `finished`. A `running` status whose process is gone means the
    /// run was interrupted ([`Status::state_now`]).
    pub state: String,
    /// Process id of the run.
    pub pid: u32,
    /// Completed (checkpointed) epochs.
    pub epoch: usize,
    /// Why it failed, or how it finished.
    pub message: String,
}

impl Status {
    /// The state as it is now: `interrupted` for a `running` run whose process is gone,
    /// else the recorded state.
    pub fn state_now(&self) -> &str {
        if self.state == "running" && !tactician_os::process::is_running(self.pid) {
            "interrupted"
        } else {
            &self.state
        }
    }
}

/// Everything that changes during training.
pub(crate) struct State {
    pub(crate) params: Vec<f32>,
    pub(crate) best_params: Vec<f32>,
    pub(crate) adam: Adam,
    pub(crate) ck: CheckpointState,
}

/// The run folder of model folder `out`.
pub fn run_dir(out: &Path) -> PathBuf {
    model::sibling(out, ".run")
}

/// Reads the status of the run for model folder `out`, if there is one.
pub fn read_status(out: &Path) -> Option<Status> {
    let text = std::fs::read_to_string(run_dir(out).join("status.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes `status.json` of run folder `dir`. A final state (`failed`, `finished`) that cannot
/// be written atomically (a full disk has no room for a new file) overwrites the old status in
/// place, which reuses its space, so a run that stopped never looks alive.
pub(crate) fn write_status(
    dir: &Path,
    state: &str,
    epoch: usize,
    message: &str,
) -> Result<(), TrainError> {
    let s = Status {
        state: state.into(),
        pid: std::process::id(),
        epoch,
        message: message.into(),
    };
    let text = serde_json::to_string_pretty(&s).unwrap_or_default();
    let path = dir.join("status.json");
    match tactician_os::write_atomic(&path, text.as_bytes()) {
        Ok(()) => Ok(()),
        Err(e) if state != "running" => {
            let in_place = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&path)
                .and_then(|mut f| {
                    std::io::Write::write_all(&mut f, text.as_bytes())?;
                    f.sync_all()
                });
            in_place.map_err(|_| TrainError::from(e))
        }
        Err(e) => Err(e.into()),
    }
}

/// Saves the checkpoint of `st` in run folder `dir`.
pub(crate) fn save_checkpoint(dir: &Path, spec: &NetSpec, st: &State) -> Result<(), TrainError> {
    let path = dir.join(CKPT);
    let json =
        serde_json::to_string(&st.ck).map_err(|e| TrainError::invalid(&path, e.to_string()))?;
    let mut out = Vec::new();
    for t in spec.tensors() {
        let r = t.offset..t.offset + t.len();
        for (prefix, buf) in [
            ("", &st.params),
            ("adam.m.", &st.adam.m),
            ("adam.v.", &st.adam.v),
            ("best.", &st.best_params),
        ] {
            out.push(Tensor::f32(
                format!("{prefix}{}", t.name),
                t.shape.clone(),
                &buf[r.clone()],
            ));
        }
    }
    let bytes = tensors::serialize(&path, &out, Some(("state", &json)))?;
    tactician_os::write_atomic(&path, &bytes)?;
    let pretty = serde_json::to_string_pretty(&st.ck).unwrap_or(json);
    tactician_os::write_atomic(&dir.join("checkpoint.json"), pretty.as_bytes())?;
    Ok(())
}

/// Loads the checkpoint in run folder `dir` for a network of shape `spec`.
pub(crate) fn load_checkpoint(dir: &Path, spec: &NetSpec) -> Result<State, TrainError> {
    let path = dir.join(CKPT);
    let bytes = tensors::read(&path)?;
    let meta = tensors::metadata(&path, &bytes)?;
    let json = meta
        .get("state")
        .ok_or_else(|| TrainError::invalid(&path, "no training state in the checkpoint"))?;
    let ck: CheckpointState = serde_json::from_str(json)
        .map_err(|e| TrainError::invalid(&path, format!("bad training state: {e}")))?;
    let file = tensors::File::parse(&path, &bytes)?;
    let n = spec.param_count();
    let (mut params, mut m, mut v, mut best) =
        (vec![0f32; n], vec![0f32; n], vec![0f32; n], vec![0f32; n]);
    for t in spec.tensors() {
        for (prefix, buf) in [
            ("", &mut params),
            ("adam.m.", &mut m),
            ("adam.v.", &mut v),
            ("best.", &mut best),
        ] {
            let name = format!("{prefix}{}", t.name);
            let (data, shape) = file.f32s(&name)?;
            if shape != t.shape {
                return Err(TrainError::invalid(
                    &path,
                    format!(
                        "`{name}` has shape {shape:?} but the config needs {:?}",
                        t.shape
                    ),
                ));
            }
            buf[t.offset..t.offset + t.len()].copy_from_slice(&data);
        }
    }
    Ok(State {
        params,
        best_params: best,
        adam: Adam { m, v, t: ck.adam_t },
        ck,
    })
}

/// Removes the run folder's own files (starting over), leaving anything else in it.
pub(crate) fn clear_run_dir(dir: &Path) -> Result<(), TrainError> {
    for name in RUN_FILES {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(TrainError::io("remove", &path, e)),
        }
    }
    Ok(())
}
