//! The trained-model folder (format `tactician-mlp/1`), written by the trainer and read by
//! evaluation and export:
//!
//! - `model.json` ([`ModelJson`]): the network's shape, the encoder it was trained for (hash,
//!   feature and action names), its version and the trainer's summary;
//! - `model.safetensors`: `dense.{i}.weight` `[out, in]` and `dense.{i}.bias` `[out]` for each
//!   hidden layer, `policy.*` (the logits) and, with a value head, `value.*` (one output,
//!   then `tanh`), all `F32`. The input normalization is folded into the first layer, so the
//!   network takes raw features.
//!
//! [`Mlp`] holds a loaded folder and runs the network in plain float arithmetic.

mod folder;
mod mlp;

pub use folder::{MODEL_FILES, is_model_file, version_for};
pub use mlp::{Dense, Mlp, Output, Outputs};

use serde::{Deserialize, Serialize};
use tactician_battle::FeatureSpec;

/// The `format` value of `model.json`.
pub const MODEL_FORMAT: &str = "tactician-mlp/1";
/// The description file of a model folder.
pub const MODEL_JSON: &str = "model.json";
/// The weights file of a model folder.
pub const MODEL_WEIGHTS: &str = "model.safetensors";

/// The hidden layers' activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// Every activation.
    pub const ALL: [Activation; 3] = [Activation::Relu, Activation::Relu6, Activation::Tanh];

    /// Parses the name used in settings and `model.json`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The name used in settings and `model.json`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
            Activation::Tanh => "tanh",
        }
    }

    /// Applies the activation to one value.
    #[inline]
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
pub struct ModelJson {
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
    /// The model's version: the encoder hash's first 8 characters and a hash of the weights
    /// ([`version_for`]).
    pub model_version: String,
    /// The trainer's free-form summary (settings, results, the prepared folder).
    #[serde(default)]
    pub training: serde_json::Value,
}

impl ModelJson {
    /// A description with generated feature names (`f0`, `f1`, ...) and action names
    /// (`action0`, ...), for tests and tools that have no feature spec.
    pub fn new(
        inputs: usize,
        hidden: Vec<usize>,
        activation: Activation,
        actions: usize,
        value_head: bool,
        encoder_hash: &str,
    ) -> Self {
        Self {
            format: MODEL_FORMAT.to_string(),
            inputs,
            hidden,
            activation,
            actions,
            value_head,
            encoder_hash: encoder_hash.to_string(),
            feature_names: (0..inputs).map(|i| format!("f{i}")).collect(),
            action_names: (0..actions).map(|a| format!("action{a}")).collect(),
            model_version: "unversioned".to_string(),
            training: serde_json::Value::Null,
        }
    }

    /// A description for `spec`'s features and actions with the given hidden layers.
    pub fn for_spec(
        spec: &FeatureSpec,
        hidden: Vec<usize>,
        activation: Activation,
        value_head: bool,
    ) -> Self {
        Self {
            feature_names: spec.features().iter().map(|f| f.name.clone()).collect(),
            action_names: spec.actions().to_vec(),
            ..Self::new(
                spec.num_features(),
                hidden,
                activation,
                spec.num_actions(),
                value_head,
                spec.hash(),
            )
        }
    }

    /// Checks the description's own consistency: the format, non-zero widths (no hidden layer
    /// is allowed: a linear policy), one name per feature and per action.
    pub fn check(&self) -> Result<(), String> {
        if self.format != MODEL_FORMAT {
            return Err(format!(
                "format is {:?}, expected {MODEL_FORMAT:?}",
                self.format
            ));
        }
        if self.inputs == 0 || self.actions == 0 {
            return Err("a model needs at least one input and one action".into());
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0) {
            return Err(format!("hidden layer {i} has width 0"));
        }
        if self.feature_names.len() != self.inputs {
            return Err(format!(
                "{} feature names for {} inputs",
                self.feature_names.len(),
                self.inputs
            ));
        }
        if self.action_names.len() != self.actions {
            return Err(format!(
                "{} action names for {} actions",
                self.action_names.len(),
                self.actions
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
