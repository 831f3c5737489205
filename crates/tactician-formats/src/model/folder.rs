//! Reading and writing a model folder.

use super::{Dense, MODEL_JSON, MODEL_WEIGHTS, Mlp, ModelJson};
use crate::FormatError;
use crate::error::{pretty_json, read_json};
use crate::tensors::{self, Tensor};
use std::path::Path;

/// The files a model folder holds: the description, the weights and the training metrics.
pub const MODEL_FILES: [&str; 3] = [MODEL_JSON, MODEL_WEIGHTS, "metrics.jsonl"];

/// Whether `name` is a file of a model folder (an output folder's own-file test).
pub fn is_model_file(name: &str) -> bool {
    MODEL_FILES.contains(&name)
}

/// FNV-1a 64 of `bytes`, as 16 hex digits.
fn fnv64(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The model version of weights `model.safetensors` bytes trained for `encoder_hash`: the
/// hash's first 8 characters, a dash, and the FNV-1a 64 of the bytes in hex.
pub fn version_for(encoder_hash: &str, weights: &[u8]) -> String {
    format!(
        "{}-{}",
        encoder_hash.chars().take(8).collect::<String>(),
        fnv64(weights)
    )
}

impl Mlp {
    /// The `model.safetensors` bytes of the network (deterministic).
    pub fn weights_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let mut list = Vec::new();
        for (name, d) in self.layers() {
            list.push(Tensor::f32(
                format!("{name}.weight"),
                vec![d.outputs, d.inputs],
                &d.weight,
            ));
            list.push(Tensor::f32(
                format!("{name}.bias"),
                vec![d.outputs],
                &d.bias,
            ));
        }
        tensors::serialize(Path::new(MODEL_WEIGHTS), &list, None)
    }

    /// Sets `meta.model_version` from the weights ([`version_for`]); returns the weights' bytes.
    pub fn stamp_version(&mut self) -> Result<Vec<u8>, FormatError> {
        let bytes = self.weights_bytes()?;
        self.meta.model_version = version_for(&self.meta.encoder_hash, &bytes);
        Ok(bytes)
    }

    /// Writes the model into the existing folder `dir`: `model.safetensors`, the `extra`
    /// files (name, bytes), then `model.json`, each atomically. The folder is complete once
    /// `model.json` is there.
    pub fn write(&self, dir: &Path, extra: &[(&str, &[u8])]) -> Result<(), FormatError> {
        self.write_with_weights(dir, &self.weights_bytes()?, extra)
    }

    /// As [`Mlp::write`], with `weights` the model's
    /// [`weights_bytes`](Mlp::weights_bytes) already serialized (as
    /// [`Mlp::stamp_version`] returns them).
    pub fn write_with_weights(
        &self,
        dir: &Path,
        weights: &[u8],
        extra: &[(&str, &[u8])],
    ) -> Result<(), FormatError> {
        tactician_os::write_atomic(&dir.join(MODEL_WEIGHTS), weights)?;
        for (name, content) in extra {
            tactician_os::write_atomic(&dir.join(name), content)?;
        }
        tactician_os::write_atomic(&dir.join(MODEL_JSON), &pretty_json(&self.meta))?;
        Ok(())
    }

    /// Loads the model folder `dir`, checking `model.json` and every tensor's type and shape
    /// against it, and refusing non-finite weights.
    pub fn load(dir: &Path) -> Result<Self, FormatError> {
        let json_path = dir.join(MODEL_JSON);
        let meta: ModelJson = read_json(&json_path, "model.json")?;
        meta.check()
            .map_err(|m| FormatError::invalid(&json_path, m))?;
        let path = dir.join(MODEL_WEIGHTS);
        let bytes = tensors::read(&path)?;
        let file = tensors::File::parse(&path, &bytes)?;
        let expected = 2 * (meta.hidden.len() + 1 + usize::from(meta.value_head));
        if file.len() != expected {
            return Err(FormatError::invalid(
                &path,
                format!(
                    "holds {} tensors ({:?}), the architecture in model.json needs {expected}",
                    file.len(),
                    file.names()
                ),
            ));
        }
        let dense = |name: &str, inputs: usize, outputs: usize| -> Result<Dense, FormatError> {
            let get = |suffix: &str, shape: &[usize]| -> Result<Vec<f32>, FormatError> {
                let full = format!("{name}.{suffix}");
                let (values, got) = file.f32s(&full)?;
                if got != shape {
                    return Err(FormatError::invalid(
                        &path,
                        format!("tensor {full:?} has shape {got:?}, model.json implies {shape:?}"),
                    ));
                }
                Ok(values)
            };
            Ok(Dense {
                inputs,
                outputs,
                weight: get("weight", &[outputs, inputs])?,
                bias: get("bias", &[outputs])?,
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
        Mlp::new(meta, hidden, policy, value).map_err(|m| FormatError::invalid(&path, m))
    }
}
