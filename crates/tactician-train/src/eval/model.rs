//! The saved model (`model.json` + `model.safetensors`, format `tactician-mlp/1`) and a plain
//! float forward pass.
//!
//! This is the evaluator's own reader: it checks every shape against `model.json` and refuses
//! non-finite weights, so a model that loads here plays legal, well-defined actions. The
//! forward pass is deliberately simple (one dot product per output, in index order): it is
//! exact enough to judge a model and gives the same answer on every thread count.

use super::EvalError;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use tactician_battle::FeatureSpec;
use tactician_game::SplitMix64;

/// The `format` field of a model this module reads.
pub const MODEL_FORMAT: &str = "tactician-mlp/1";
/// The model's description, inside a model folder.
pub const MODEL_JSON: &str = "model.json";
/// The model's weights, inside a model folder.
pub const MODEL_WEIGHTS: &str = "model.safetensors";

/// The hidden layers' activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `min(max(0, x), 6)`.
    Relu6,
    /// `tanh(x)`.
    Tanh,
}

impl Activation {
    /// Applies the activation to one value.
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Relu => x.max(0.0),
            Activation::Relu6 => x.clamp(0.0, 6.0),
            Activation::Tanh => x.tanh(),
        }
    }
}

/// `model.json`: the network's shape and what it was trained for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Always [`MODEL_FORMAT`].
    pub format: String,
    /// Number of input features.
    pub inputs: usize,
    /// Widths of the hidden layers, first to last.
    pub hidden: Vec<usize>,
    /// Activation of the hidden layers.
    pub activation: Activation,
    /// Number of actions (policy logits).
    pub actions: usize,
    /// Whether the model has a value head.
    pub value_head: bool,
    /// Hash of the feature encoder the model was trained for.
    pub encoder_hash: String,
    /// Feature names, in input order.
    pub feature_names: Vec<String>,
    /// Action names, in logit order.
    pub action_names: Vec<String>,
    /// The model's version string.
    pub model_version: String,
    /// The trainer's free-form summary.
    #[serde(default)]
    pub training: serde_json::Value,
}

impl ModelMeta {
    /// A description for `spec`'s features and actions with the given hidden layers.
    pub fn for_spec(
        spec: &FeatureSpec,
        hidden: Vec<usize>,
        activation: Activation,
        value_head: bool,
    ) -> Self {
        Self {
            format: MODEL_FORMAT.to_string(),
            inputs: spec.num_features(),
            hidden,
            activation,
            actions: spec.num_actions(),
            value_head,
            encoder_hash: spec.hash().to_string(),
            feature_names: spec.features().iter().map(|f| f.name.clone()).collect(),
            action_names: spec.actions().to_vec(),
            model_version: "unversioned".to_string(),
            training: serde_json::Value::Null,
        }
    }
}

/// One fully connected layer: `y = W x + b` with `W` stored row-major as `[outputs, inputs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Weights, `[outputs, inputs]` row-major.
    pub weight: Vec<f32>,
    /// Biases, `[outputs]`.
    pub bias: Vec<f32>,
}

impl Dense {
    /// A layer of zeros.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Self {
            inputs,
            outputs,
            weight: vec![0.0; inputs * outputs],
            bias: vec![0.0; outputs],
        }
    }

    /// Writes `W x + b` into `out` (length `outputs`).
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        for (o, (row, b)) in self
            .weight
            .chunks_exact(self.inputs)
            .zip(&self.bias)
            .enumerate()
        {
            out[o] = dot(row, x) + b;
        }
    }
}

/// A dot product over eight independent partial sums (so the compiler vectorizes it), added
/// in a fixed order: the same inputs give the same bits on every machine and thread count.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut acc = [0.0f32; 8];
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut sum = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// A loaded model: hidden layers, a policy head and an optional value head.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// The description from `model.json`.
    pub meta: ModelMeta,
    /// The hidden layers, first to last.
    pub hidden: Vec<Dense>,
    /// The policy head (logits).
    pub policy: Dense,
    /// The value head (`tanh` of its single output), if any.
    pub value: Option<Dense>,
}

/// What the model says about one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Raw logits, one per action.
    pub logits: Vec<f32>,
    /// The value estimate in `[-1, 1]` for the acting side, with a value head.
    pub value: Option<f32>,
}

impl Mlp {
    /// A model for `meta` with weights drawn uniformly from `±sqrt(6 / (in + out))` from
    /// `seed` and zero biases. Same meta and seed, same weights. For tests and demonstrations.
    pub fn seeded_random(meta: ModelMeta, seed: u64) -> Result<Self, EvalError> {
        check_meta(&meta, Path::new("<generated>"))?;
        let mut rng = SplitMix64::derive(seed, 0x4d4c_5052_414e_444f);
        let mut layer = |inputs: usize, outputs: usize| {
            let limit = (6.0 / (inputs + outputs) as f64).sqrt();
            let weight = (0..inputs * outputs)
                .map(|_| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    ((2.0 * u - 1.0) * limit) as f32
                })
                .collect();
            Dense {
                inputs,
                outputs,
                weight,
                bias: vec![0.0; outputs],
            }
        };
        let mut hidden = Vec::with_capacity(meta.hidden.len());
        let mut width = meta.inputs;
        for &h in &meta.hidden {
            hidden.push(layer(width, h));
            width = h;
        }
        let policy = layer(width, meta.actions);
        let value = meta.value_head.then(|| layer(width, 1));
        Ok(Self {
            meta,
            hidden,
            policy,
            value,
        })
    }

    /// Width of the last hidden layer (the inputs when there is none).
    pub fn last_width(&self) -> usize {
        self.meta.hidden.last().copied().unwrap_or(self.meta.inputs)
    }

    /// Loads the model in folder `dir`.
    pub fn load(dir: &Path) -> Result<Self, EvalError> {
        let json_path = dir.join(MODEL_JSON);
        let text = std::fs::read_to_string(&json_path).map_err(|source| EvalError::Io {
            path: json_path.clone(),
            source,
        })?;
        let meta: ModelMeta = serde_json::from_str(&text).map_err(|source| EvalError::Json {
            path: json_path.clone(),
            source,
        })?;
        check_meta(&meta, &json_path)?;
        let path = dir.join(MODEL_WEIGHTS);
        let bytes = std::fs::read(&path).map_err(|source| EvalError::Io {
            path: path.clone(),
            source,
        })?;
        let tensors = SafeTensors::deserialize(&bytes).map_err(|e| EvalError::Safetensors {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let dense = |name: &str, inputs: usize, outputs: usize| -> Result<Dense, EvalError> {
            let weight = read_f32(
                &tensors,
                &format!("{name}.weight"),
                &[outputs, inputs],
                &path,
            )?;
            let bias = read_f32(&tensors, &format!("{name}.bias"), &[outputs], &path)?;
            Ok(Dense {
                inputs,
                outputs,
                weight,
                bias,
            })
        };
        let mut hidden = Vec::with_capacity(meta.hidden.len());
        let mut width = meta.inputs;
        for (i, &h) in meta.hidden.iter().enumerate() {
            hidden.push(dense(&format!("dense.{i}"), width, h)?);
            width = h;
        }
        let policy = dense("policy", width, meta.actions)?;
        let value = if meta.value_head {
            Some(dense("value", width, 1)?)
        } else {
            None
        };
        Ok(Self {
            meta,
            hidden,
            policy,
            value,
        })
    }

    /// Writes the model into folder `dir` (created if missing): `model.safetensors`, then
    /// `model.json`.
    pub fn save(&self, dir: &Path) -> Result<(), EvalError> {
        std::fs::create_dir_all(dir).map_err(|source| EvalError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut named: Vec<(String, &Dense)> = self
            .hidden
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("dense.{i}"), d))
            .collect();
        named.push(("policy".to_string(), &self.policy));
        if let Some(v) = &self.value {
            named.push(("value".to_string(), v));
        }
        let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
        for (name, d) in named {
            buffers.push((
                format!("{name}.weight"),
                vec![d.outputs, d.inputs],
                le_bytes(&d.weight),
            ));
            buffers.push((format!("{name}.bias"), vec![d.outputs], le_bytes(&d.bias)));
        }
        let path = dir.join(MODEL_WEIGHTS);
        let mut views = BTreeMap::new();
        for (name, shape, data) in &buffers {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).map_err(|e| {
                EvalError::Safetensors {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })?;
            views.insert(name.clone(), view);
        }
        let bytes = safetensors::serialize(&views, None).map_err(|e| EvalError::Safetensors {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write(&path, &bytes)?;
        let mut json =
            serde_json::to_string_pretty(&self.meta).map_err(|source| EvalError::Json {
                path: dir.join(MODEL_JSON),
                source,
            })?;
        json.push('\n');
        write(&dir.join(MODEL_JSON), json.as_bytes())
    }

    /// Refuses the model unless it was trained for `spec`: same encoder hash, feature count
    /// and action names.
    pub fn check_encoder(&self, spec: &FeatureSpec) -> Result<(), EvalError> {
        if self.meta.encoder_hash != spec.hash() {
            return Err(EvalError::EncoderMismatch {
                what: "model".to_string(),
                found: self.meta.encoder_hash.clone(),
                expected: spec.hash().to_string(),
            });
        }
        if self.meta.inputs != spec.num_features() || self.meta.action_names != spec.actions() {
            return Err(EvalError::EncoderMismatch {
                what: "model's features or actions".to_string(),
                found: format!(
                    "{} features, actions [{}]",
                    self.meta.inputs,
                    self.meta.action_names.join(", ")
                ),
                expected: format!(
                    "{} features, actions [{}]",
                    spec.num_features(),
                    spec.actions().join(", ")
                ),
            });
        }
        Ok(())
    }

    /// Runs the model on raw features `x` (length `meta.inputs`).
    pub fn forward(&self, x: &[f32]) -> Output {
        let mut act = x.to_vec();
        let mut next = Vec::new();
        for layer in &self.hidden {
            next.clear();
            next.resize(layer.outputs, 0.0);
            layer.apply(&act, &mut next);
            for v in &mut next {
                *v = self.meta.activation.apply(*v);
            }
            std::mem::swap(&mut act, &mut next);
        }
        let mut logits = vec![0.0; self.policy.outputs];
        self.policy.apply(&act, &mut logits);
        let value = self.value.as_ref().map(|head| {
            let mut v = [0.0];
            head.apply(&act, &mut v);
            v[0].tanh()
        });
        Output { logits, value }
    }
}

/// Checks `model.json`'s own consistency.
fn check_meta(meta: &ModelMeta, path: &Path) -> Result<(), EvalError> {
    let bad = |message: String| EvalError::Format {
        path: path.to_path_buf(),
        message,
    };
    if meta.format != MODEL_FORMAT {
        return Err(bad(format!(
            "format is {:?}, expected {MODEL_FORMAT:?}",
            meta.format
        )));
    }
    if meta.inputs == 0 || meta.actions == 0 {
        return Err(bad("a model needs at least one input and one action".into()));
    }
    if let Some(i) = meta.hidden.iter().position(|&h| h == 0) {
        return Err(bad(format!("hidden layer {i} has width 0")));
    }
    if meta.feature_names.len() != meta.inputs {
        return Err(bad(format!(
            "{} feature names for {} inputs",
            meta.feature_names.len(),
            meta.inputs
        )));
    }
    if meta.action_names.len() != meta.actions {
        return Err(bad(format!(
            "{} action names for {} actions",
            meta.action_names.len(),
            meta.actions
        )));
    }
    Ok(())
}

/// Reads F32 tensor `name` of shape `shape`, refusing other types, shapes and non-finite values.
fn read_f32(
    tensors: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
    path: &Path,
) -> Result<Vec<f32>, EvalError> {
    let bad = |message: String| EvalError::Format {
        path: path.to_path_buf(),
        message,
    };
    let view = tensors
        .tensor(name)
        .map_err(|_| bad(format!("tensor {name:?} is missing")))?;
    if view.dtype() != Dtype::F32 {
        return Err(bad(format!(
            "tensor {name:?} is {:?}, expected F32",
            view.dtype()
        )));
    }
    if view.shape() != shape {
        return Err(bad(format!(
            "tensor {name:?} has shape {:?}, expected {shape:?}",
            view.shape()
        )));
    }
    let values = f32_from_le(view.data());
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "tensor {name:?} holds a non-finite value at index {i}"
        )));
    }
    Ok(values)
}

/// Little-endian `f32`s from bytes (a multiple of 4 long).
pub(crate) fn f32_from_le(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), EvalError> {
    std::fs::write(path, bytes).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}
