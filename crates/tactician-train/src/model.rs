//! The trained-model folder (`model.safetensors` + `model.json`, docs/train.md): written with
//! the input normalization folded into the first layer, so the model takes raw features.

use crate::config::Activation;
use crate::data::Normalization;
use crate::error::TrainError;
use crate::kernel::Threads;
use crate::net::{self, NetSpec, Workspace};
use crate::tensors;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` value of model.json.
pub const MODEL_FORMAT: &str = "tactician-mlp/1";

/// model.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelJson {
    /// [`MODEL_FORMAT`].
    pub format: String,
    /// Input features.
    pub inputs: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Hidden activation name.
    pub activation: String,
    /// Actions.
    pub actions: usize,
    /// Whether there is a value head.
    pub value_head: bool,
    /// The encoder's hash.
    pub encoder_hash: String,
    /// Feature names.
    pub feature_names: Vec<String>,
    /// Action names.
    pub action_names: Vec<String>,
    /// A version string derived from the weights.
    pub model_version: String,
    /// Free-form training summary.
    pub training: serde_json::Value,
}

/// A loaded model: raw features in, logits (and value) out.
#[derive(Debug, Clone)]
pub struct TrainedModel {
    /// The network's shape.
    pub spec: NetSpec,
    /// Parameters in the trainer's buffer layout (normalization folded in).
    pub params: Vec<f32>,
    /// model.json.
    pub meta: ModelJson,
}

/// Folds `(x - mean) * scale` into the first layer of `params` (in place).
pub fn fold_normalization(spec: &NetSpec, params: &mut [f32], norm: &Normalization) {
    let l = spec.layers()[0];
    for o in 0..l.out {
        let row = &mut params[l.w + o * l.inp..l.w + (o + 1) * l.inp];
        let mut shift = 0f64;
        for (j, w) in row.iter_mut().enumerate() {
            let s = norm.scale(j);
            let folded = f64::from(*w) * f64::from(s);
            shift += folded * f64::from(norm.mean[j]);
            *w = folded as f32;
        }
        params[l.b + o] = (f64::from(params[l.b + o]) - shift) as f32;
    }
}

/// FNV-1a 64 of `bytes`, as 16 hex digits.
pub fn fnv64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Serializes the parameters as model.safetensors bytes.
pub fn weights_bytes(spec: &NetSpec, params: &[f32], path: &Path) -> Result<Vec<u8>, TrainError> {
    let raw: Vec<tensors::RawOut> = spec
        .tensors()
        .into_iter()
        .map(|t| tensors::RawOut {
            bytes: tensors::f32_bytes(&params[t.offset..t.offset + t.len()]),
            name: t.name,
            dtype: safetensors::Dtype::F32,
            shape: t.shape,
        })
        .collect();
    tensors::serialize_raw(path, &raw, None)
}

/// Writes a model folder at `out` atomically: everything goes to a sibling temporary folder
/// that is renamed into place once complete (an old folder at `out` is replaced). `extra` files
/// (name, bytes) are added beside the model.
pub fn write_model_dir(
    out: &Path,
    spec: &NetSpec,
    folded_params: &[f32],
    mut meta: ModelJson,
    extra: &[(&str, Vec<u8>)],
) -> Result<ModelJson, TrainError> {
    let tmp = sibling(out, ".tmp-new");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    let wpath = tmp.join("model.safetensors");
    let bytes = weights_bytes(spec, folded_params, &wpath)?;
    meta.model_version = format!(
        "{}-{}",
        &meta.encoder_hash.chars().take(8).collect::<String>(),
        fnv64(&bytes)
    );
    tensors::write_atomic(&wpath, &bytes)?;
    let json = serde_json::to_string_pretty(&meta)
        .map_err(|e| TrainError::format(&wpath, e.to_string()))?;
    tensors::write_atomic(&tmp.join("model.json"), json.as_bytes())?;
    for (name, bytes) in extra {
        tensors::write_atomic(&tmp.join(name), bytes)?;
    }
    if out.exists() {
        let old = sibling(out, ".tmp-old");
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
        }
        std::fs::rename(out, &old).map_err(|e| TrainError::io(out, e))?;
        std::fs::rename(&tmp, out).map_err(|e| TrainError::io(out, e))?;
        std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
    } else {
        std::fs::rename(&tmp, out).map_err(|e| TrainError::io(out, e))?;
    }
    Ok(meta)
}

/// `path` with `suffix` appended to its last component.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl TrainedModel {
    /// Loads the model folder `dir`, checking every tensor's shape against model.json.
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let jpath = dir.join("model.json");
        let text = std::fs::read_to_string(&jpath).map_err(|e| TrainError::io(&jpath, e))?;
        let meta: ModelJson = serde_json::from_str(&text)
            .map_err(|e| TrainError::format(&jpath, format!("not a model.json: {e}")))?;
        if meta.format != MODEL_FORMAT {
            return Err(TrainError::format(
                &jpath,
                format!("format is `{}`, expected `{MODEL_FORMAT}`", meta.format),
            ));
        }
        let activation = Activation::from_name(&meta.activation).ok_or_else(|| {
            TrainError::format(&jpath, format!("unknown activation `{}`", meta.activation))
        })?;
        if meta.hidden.is_empty()
            || meta.hidden.contains(&0)
            || meta.inputs == 0
            || meta.actions == 0
        {
            return Err(TrainError::format(
                &jpath,
                "a layer has width 0 or there is no hidden layer",
            ));
        }
        let spec = NetSpec {
            inputs: meta.inputs,
            hidden: meta.hidden.clone(),
            activation,
            actions: meta.actions,
            value_head: meta.value_head,
        };
        let wpath = dir.join("model.safetensors");
        let bytes = tensors::read_bytes(&wpath)?;
        let st = tensors::parse(&wpath, &bytes)?;
        let mut params = vec![0f32; spec.param_count()];
        for t in spec.tensors() {
            let (data, shape) = tensors::f32s(&wpath, &st, &t.name)?;
            if shape != t.shape {
                return Err(TrainError::format(
                    &wpath,
                    format!("`{}` has shape {shape:?}, expected {:?}", t.name, t.shape),
                ));
            }
            if data.iter().any(|x| !x.is_finite()) {
                return Err(TrainError::format(
                    &wpath,
                    format!("`{}` holds a non-finite value", t.name),
                ));
            }
            params[t.offset..t.offset + t.len()].copy_from_slice(&data);
        }
        Ok(Self { spec, params, meta })
    }

    /// Logits (`n × actions`) and values (`n`, empty without a value head) of `n` raw feature
    /// rows, computed in batches of up to `batch`.
    pub fn predict(&self, features: &[f32], batch: usize) -> (Vec<f32>, Vec<f32>) {
        let f = self.spec.inputs;
        let a = self.spec.actions;
        let o = self.spec.head_out();
        let n = features.len() / f;
        let batch = batch.max(1);
        let mut ws = Workspace::new(&self.spec, batch.min(n.max(1)));
        let mut logits = Vec::with_capacity(n * a);
        let mut values = Vec::with_capacity(if self.spec.value_head { n } else { 0 });
        for start in (0..n).step_by(ws.capacity()) {
            let b = (n - start).min(ws.capacity());
            ws.x[..b * f].copy_from_slice(&features[start * f..(start + b) * f]);
            net::forward(&self.spec, &self.params, &mut ws, b, Threads::One);
            let out = &ws.acts[ws.acts.len() - 1];
            for row in out[..b * o].chunks_exact(o) {
                logits.extend_from_slice(&row[..a]);
                if self.spec.value_head {
                    values.push(row[a].tanh());
                }
            }
        }
        (logits, values)
    }
}
