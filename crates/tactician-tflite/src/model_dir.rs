//! Reading (and, for tests, writing) a trained model folder: `model.safetensors` +
//! `model.json` (format `tactician-mlp/1`).

use crate::mlp::{Dense, HiddenActivation, Mlp};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` value of `model.json`.
pub const MODEL_FORMAT: &str = "tactician-mlp/1";

/// Why a model folder could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum ModelDirError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `model.json` is not valid.
    #[error("{path}: {msg}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// `model.safetensors` does not hold the expected tensors.
    #[error("{path}: {msg}")]
    Tensors {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
}

/// `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelJson {
    /// Must be [`MODEL_FORMAT`].
    pub format: String,
    /// Feature count.
    pub inputs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// "relu", "relu6" or "tanh".
    pub activation: String,
    /// Action count.
    pub actions: usize,
    /// Whether the value head exists.
    pub value_head: bool,
    /// Encoder hash.
    pub encoder_hash: String,
    /// Feature names.
    #[serde(default)]
    pub feature_names: Vec<String>,
    /// Action names.
    #[serde(default)]
    pub action_names: Vec<String>,
    /// Model version.
    pub model_version: String,
    /// Free-form training summary.
    #[serde(default)]
    pub training: serde_json::Value,
}

/// Loads `dir/model.json` and `dir/model.safetensors`.
pub fn load(dir: &Path) -> Result<Mlp, ModelDirError> {
    let jpath = dir.join("model.json");
    let text = std::fs::read(&jpath).map_err(|source| ModelDirError::Io {
        path: jpath.clone(),
        source,
    })?;
    let json: ModelJson = serde_json::from_slice(&text).map_err(|e| ModelDirError::Json {
        path: jpath.clone(),
        msg: e.to_string(),
    })?;
    let jerr = |msg: String| ModelDirError::Json {
        path: jpath.clone(),
        msg,
    };
    if json.format != MODEL_FORMAT {
        return Err(jerr(format!(
            "unsupported model format {:?} (this exporter reads {MODEL_FORMAT:?})",
            json.format
        )));
    }
    let activation = HiddenActivation::from_name(&json.activation).ok_or_else(|| {
        jerr(format!(
            "unsupported activation {:?} (relu, relu6 or tanh)",
            json.activation
        ))
    })?;
    if !json.action_names.is_empty() && json.action_names.len() != json.actions {
        return Err(jerr(format!(
            "{} action names for {} actions",
            json.action_names.len(),
            json.actions
        )));
    }
    let spath = dir.join("model.safetensors");
    let bytes = std::fs::read(&spath).map_err(|source| ModelDirError::Io {
        path: spath.clone(),
        source,
    })?;
    let terr = |msg: String| ModelDirError::Tensors {
        path: spath.clone(),
        msg,
    };
    let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| terr(e.to_string()))?;
    let expected = json.hidden.len() * 2 + 2 + if json.value_head { 2 } else { 0 };
    if st.len() != expected {
        let mut names = st.names();
        names.sort();
        return Err(terr(format!(
            "holds {} tensors ({names:?}), the architecture in model.json needs {expected}",
            st.len()
        )));
    }
    let dense = |name: &str, inputs: usize, outputs: usize| -> Result<Dense, ModelDirError> {
        let get = |suffix: &str, shape: &[usize]| -> Result<Vec<f32>, ModelDirError> {
            let full = format!("{name}.{suffix}");
            let t = st
                .tensor(&full)
                .map_err(|e| terr(format!("tensor {full}: {e}")))?;
            if t.dtype() != safetensors::Dtype::F32 {
                return Err(terr(format!(
                    "tensor {full} is {:?}, expected F32",
                    t.dtype()
                )));
            }
            if t.shape() != shape {
                return Err(terr(format!(
                    "tensor {full} has shape {:?}, model.json implies {shape:?}",
                    t.shape()
                )));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect())
        };
        Ok(Dense {
            inputs,
            outputs,
            weight: get("weight", &[outputs, inputs])?,
            bias: get("bias", &[outputs])?,
        })
    };
    let mut width = json.inputs;
    let mut hidden = Vec::new();
    for (i, &h) in json.hidden.iter().enumerate() {
        hidden.push(dense(&format!("dense.{i}"), width, h)?);
        width = h;
    }
    let policy = dense("policy", width, json.actions)?;
    let value = if json.value_head {
        Some(dense("value", width, 1)?)
    } else {
        None
    };
    Ok(Mlp {
        inputs: json.inputs,
        hidden,
        activation,
        policy,
        value,
        model_version: json.model_version,
        encoder_hash: json.encoder_hash,
        action_names: json.action_names,
    })
}

/// Writes `mlp` as a model folder (used by tests and benchmarks to stand in for the trainer).
pub fn save(mlp: &Mlp, dir: &Path) -> Result<(), ModelDirError> {
    std::fs::create_dir_all(dir).map_err(|source| ModelDirError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    let mut add = |name: &str, d: &Dense| {
        let b = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        tensors.push((
            format!("{name}.weight"),
            vec![d.outputs, d.inputs],
            b(&d.weight),
        ));
        tensors.push((format!("{name}.bias"), vec![d.outputs], b(&d.bias)));
    };
    for (i, d) in mlp.hidden.iter().enumerate() {
        add(&format!("dense.{i}"), d);
    }
    add("policy", &mlp.policy);
    if let Some(v) = &mlp.value {
        add("value", v);
    }
    let spath = dir.join("model.safetensors");
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(n, s, d)| {
            let v = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), d)
                .map_err(|e| ModelDirError::Tensors {
                    path: spath.clone(),
                    msg: e.to_string(),
                })?;
            Ok((n.clone(), v))
        })
        .collect::<Result<_, ModelDirError>>()?;
    let bytes = safetensors::serialize(views, None).map_err(|e| ModelDirError::Tensors {
        path: spath.clone(),
        msg: e.to_string(),
    })?;
    std::fs::write(&spath, bytes).map_err(|source| ModelDirError::Io {
        path: spath.clone(),
        source,
    })?;
    let json = ModelJson {
        format: MODEL_FORMAT.into(),
        inputs: mlp.inputs,
        hidden: mlp.hidden.iter().map(|d| d.outputs).collect(),
        activation: mlp.activation.name().into(),
        actions: mlp.actions(),
        value_head: mlp.value.is_some(),
        encoder_hash: mlp.encoder_hash.clone(),
        feature_names: (0..mlp.inputs).map(|i| format!("f{i}")).collect(),
        action_names: mlp.action_names.clone(),
        model_version: mlp.model_version.clone(),
        training: serde_json::json!({"source": "tactician_tflite::model_dir::save"}),
    };
    let jpath = dir.join("model.json");
    let text = serde_json::to_vec_pretty(&json).map_err(|e| ModelDirError::Json {
        path: jpath.clone(),
        msg: e.to_string(),
    })?;
    std::fs::write(&jpath, text).map_err(|source| ModelDirError::Io {
        path: jpath,
        source,
    })
}
