//! The trained model as the trainer holds it (one flat parameter buffer) and its conversion to
//! and from the model folder of `tactician-formats`, with the input normalization folded into
//! the first layer so the written model takes raw features.

use crate::error::TrainError;
use crate::kernel::Threads;
use crate::net::{self, NetSpec, Workspace};
use std::path::Path;
use tactician_formats::model::{Dense, MODEL_JSON, Mlp, ModelJson, is_model_file};
use tactician_formats::prepared::Normalization;

/// A loaded model: raw features in, logits (and value) out, in the trainer's layout.
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

/// The network `params` of shape `spec` as a model folder's [`Mlp`] described by `meta`.
pub fn to_mlp(spec: &NetSpec, params: &[f32], meta: ModelJson) -> Result<Mlp, TrainError> {
    let tensor = |name: &str| -> Vec<f32> {
        spec.tensors()
            .into_iter()
            .find(|t| t.name == name)
            .map(|t| params[t.offset..t.offset + t.len()].to_vec())
            .unwrap_or_default()
    };
    let dense = |name: &str, inputs: usize, outputs: usize| Dense {
        inputs,
        outputs,
        weight: tensor(&format!("{name}.weight")),
        bias: tensor(&format!("{name}.bias")),
    };
    let mut width = spec.inputs;
    let mut hidden = Vec::with_capacity(spec.hidden.len());
    for (i, &h) in spec.hidden.iter().enumerate() {
        hidden.push(dense(&format!("dense.{i}"), width, h));
        width = h;
    }
    let policy = dense("policy", width, spec.actions);
    let value = spec.value_head.then(|| dense("value", width, 1));
    Mlp::new(meta, hidden, policy, value).map_err(|m| TrainError::invalid("model.safetensors", m))
}

/// Writes the model folder `out` from `params` (the normalization already folded in),
/// stamping its version from the weights: the files are staged beside `out` and put in place
/// together, replacing only a previous model's files (`model.json` last). `extra` files are
/// added beside the model. With `force`, a previous model is replaced. Returns the written
/// description.
pub fn write_model_dir(
    out: &Path,
    spec: &NetSpec,
    folded_params: &[f32],
    meta: ModelJson,
    extra: &[(&str, &[u8])],
    force: bool,
) -> Result<ModelJson, TrainError> {
    let mut mlp = to_mlp(spec, folded_params, meta)?;
    let weights = mlp.stamp_version()?;
    let staged = tactician_os::OutputDir::create(out, is_model_file, force)?;
    mlp.write_with_weights(staged.path(), &weights, extra)?;
    staged.commit(Some(MODEL_JSON))?;
    Ok(mlp.meta)
}

/// `path` with `suffix` appended to its last component.
pub fn sibling(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    std::path::PathBuf::from(s)
}

impl TrainedModel {
    /// Loads the model folder `dir` (see `tactician-formats`).
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let mlp = Mlp::load(dir)?;
        let spec = NetSpec {
            inputs: mlp.inputs(),
            hidden: mlp.meta.hidden.clone(),
            activation: mlp.activation(),
            actions: mlp.actions(),
            value_head: mlp.value.is_some(),
        };
        let mut params = vec![0f32; spec.param_count()];
        let layers = mlp.layers();
        for t in spec.tensors() {
            let (layer, part) = t.name.rsplit_once('.').unwrap_or((&t.name, ""));
            let Some((_, d)) = layers.iter().find(|(n, _)| n == layer) else {
                continue;
            };
            let src = if part == "weight" { &d.weight } else { &d.bias };
            params[t.offset..t.offset + t.len()].copy_from_slice(src);
        }
        Ok(Self {
            spec,
            params,
            meta: mlp.meta,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use tactician_formats::model::{Activation, MODEL_WEIGHTS};

    fn spec(value_head: bool) -> NetSpec {
        NetSpec {
            inputs: 7,
            hidden: vec![5, 4],
            activation: Activation::Tanh,
            actions: 3,
            value_head,
        }
    }

    #[test]
    fn the_folder_round_trips_the_buffer_and_both_forwards_agree() {
        for value_head in [true, false] {
            let spec = spec(value_head);
            let params = spec.init(&mut Rng::new(3));
            let mut meta = ModelJson::new(7, vec![5, 4], Activation::Tanh, 3, value_head, "e-1");
            meta.training = serde_json::json!({"note": "test"});
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("model");
            let written =
                write_model_dir(&out, &spec, &params, meta, &[("metrics.jsonl", b"")], false)
                    .unwrap();
            let bytes = std::fs::read(out.join(MODEL_WEIGHTS)).unwrap();
            assert_eq!(
                written.model_version,
                tactician_formats::model::version_for("e-1", &bytes)
            );
            let back = TrainedModel::load(&out).unwrap();
            assert_eq!(back.params, params);
            assert_eq!(back.spec, spec);
            // The trainer's forward and the format's agree.
            let mlp = Mlp::load(&out).unwrap();
            let x: Vec<f32> = (0..4 * 7)
                .map(|i| ((i * 13) % 29) as f32 / 29.0 - 0.3)
                .collect();
            let (logits, values) = back.predict(&x, 3);
            for r in 0..4 {
                let o = mlp.forward(&x[r * 7..(r + 1) * 7]);
                for (a, b) in o.logits.iter().zip(&logits[r * 3..(r + 1) * 3]) {
                    assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
                }
                if value_head {
                    assert!((o.value.unwrap() - values[r]).abs() <= 1e-5);
                }
            }
            // A second write needs force, and keeps files it does not own.
            std::fs::write(out.join("notes.txt"), "mine").unwrap();
            let meta = back.meta.clone();
            assert!(write_model_dir(&out, &spec, &params, meta.clone(), &[], false).is_err());
            write_model_dir(&out, &spec, &params, meta, &[], true).unwrap();
            assert_eq!(
                std::fs::read_to_string(out.join("notes.txt")).unwrap(),
                "mine"
            );
            assert!(!out.join("metrics.jsonl").exists());
        }
    }
}
