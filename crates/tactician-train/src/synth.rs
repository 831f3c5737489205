//! A seeded generator of synthetic prepared data in the exact format of `tactician prepare`,
//! for tests and benchmarks: a learnable task (the label is the best legal action of a hidden
//! linear teacher), raw features with non-trivial means and scales.

use crate::data::{EncoderInfo, Manifest, Normalization, PREPARED_FORMAT};
use crate::error::TrainError;
use crate::rng::Rng;
use crate::tensors::{self, RawOut};
use safetensors::Dtype;
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthSpec {
    /// Features.
    pub features: usize,
    /// Actions.
    pub actions: usize,
    /// Training examples.
    pub train: usize,
    /// Validation examples.
    pub val: usize,
    /// Test examples.
    pub test: usize,
    /// Seed.
    pub seed: u64,
    /// Encoder hash written to the manifest.
    pub encoder_hash: String,
}

impl SynthSpec {
    /// A spec of `features × actions` with the given split sizes and seed.
    pub fn new(features: usize, actions: usize, train: usize, val: usize, seed: u64) -> Self {
        Self {
            features,
            actions,
            train,
            val,
            test: val,
            seed,
            encoder_hash: "synthetic-encoder-1".into(),
        }
    }
}

struct Teacher {
    offset: Vec<f32>,
    scale: Vec<f32>,
    policy: Vec<f32>,
    value: Vec<f32>,
}

fn split(spec: &SynthSpec, t: &Teacher, n: usize, rng: &mut Rng) -> Vec<RawOut> {
    let (f, a) = (spec.features, spec.actions);
    let mut features = Vec::with_capacity(n * f);
    let mut legal = vec![0u8; n * a];
    let mut action = Vec::with_capacity(n);
    let mut weight = Vec::with_capacity(n);
    let mut value = Vec::with_capacity(n);
    let mut z = vec![0f32; f];
    for i in 0..n {
        for (j, zj) in z.iter_mut().enumerate() {
            *zj = rng.normal() as f32;
            features.push(t.offset[j] + t.scale[j] * *zj);
        }
        let mask = &mut legal[i * a..(i + 1) * a];
        for m in mask.iter_mut() {
            *m = u8::from(rng.unit() < 0.7);
        }
        let forced = rng.below(a as u64) as usize;
        mask[forced] = 1;
        let mut best = (f32::NEG_INFINITY, 0usize);
        for (k, &m) in mask.iter().enumerate() {
            if m == 0 {
                continue;
            }
            let s: f32 = (0..f).map(|j| t.policy[k * f + j] * z[j]).sum();
            if s > best.0 {
                best = (s, k);
            }
        }
        action.push(best.1 as i32);
        weight.push([0.5f32, 1.0, 2.0][rng.below(3) as usize]);
        let v: f32 = (0..f).map(|j| t.value[j] * z[j]).sum();
        value.push(if v > 0.3 {
            1.0
        } else if v < -0.3 {
            -1.0
        } else {
            0.0
        });
    }
    vec![
        RawOut {
            name: "features".into(),
            dtype: Dtype::F32,
            shape: vec![n, f],
            bytes: tensors::f32_bytes(&features),
        },
        RawOut {
            name: "legal".into(),
            dtype: Dtype::U8,
            shape: vec![n, a],
            bytes: legal,
        },
        RawOut {
            name: "action".into(),
            dtype: Dtype::I32,
            shape: vec![n],
            bytes: action.iter().flat_map(|x| x.to_le_bytes()).collect(),
        },
        RawOut {
            name: "weight".into(),
            dtype: Dtype::F32,
            shape: vec![n],
            bytes: tensors::f32_bytes(&weight),
        },
        RawOut {
            name: "value".into(),
            dtype: Dtype::F32,
            shape: vec![n],
            bytes: tensors::f32_bytes(&value),
        },
    ]
}

/// Writes a prepared folder at `dir` (created if missing): the three splits, `manifest.json`
/// (normalization from the training split) and a small `scenarios.json`.
pub fn write_prepared(dir: &Path, spec: &SynthSpec) -> Result<Manifest, TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    let (f, a) = (spec.features, spec.actions);
    let mut rng = Rng::new(spec.seed);
    let teacher = Teacher {
        offset: (0..f).map(|_| rng.uniform(-3.0, 3.0)).collect(),
        scale: (0..f)
            .map(|j| {
                if j % 7 == 6 {
                    0.0
                } else {
                    rng.uniform(0.2, 4.0)
                }
            })
            .collect(),
        policy: (0..a * f).map(|_| rng.normal() as f32).collect(),
        value: (0..f)
            .map(|_| rng.normal() as f32 / (f as f32).sqrt())
            .collect(),
    };
    let mut mean = vec![0f32; f];
    let mut std = vec![0f32; f];
    for (name, n) in [
        ("train", spec.train),
        ("val", spec.val),
        ("test", spec.test),
    ] {
        let tensors = split(spec, &teacher, n, &mut rng);
        if name == "train" {
            let feats: Vec<f32> = tensors[0]
                .bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            for j in 0..f {
                let col = feats.iter().skip(j).step_by(f).map(|&x| f64::from(x));
                let (s, s2) = col.fold((0.0, 0.0), |(s, s2), x| (s + x, s2 + x * x));
                let m = s / n.max(1) as f64;
                mean[j] = m as f32;
                std[j] = (s2 / n.max(1) as f64 - m * m).max(0.0).sqrt() as f32;
            }
        }
        let path = dir.join(format!("{name}.safetensors"));
        let bytes = tensors::serialize_raw(&path, &tensors, None)?;
        tensors::write_atomic(&path, &bytes)?;
    }
    let manifest = Manifest {
        format: PREPARED_FORMAT.into(),
        encoder: EncoderInfo {
            hash: spec.encoder_hash.clone(),
            features: (0..f).map(|j| format!("f{j}")).collect(),
            actions: (0..a).map(|k| format!("a{k}")).collect(),
        },
        normalization: Normalization { mean, std },
        rest: serde_json::json!({
            "counts": {"train": spec.train, "val": spec.val, "test": spec.test},
            "seed": spec.seed,
            "synthetic": true,
        })
        .as_object()
        .cloned()
        .unwrap_or_default(),
    };
    let path = dir.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| TrainError::format(&path, e.to_string()))?;
    tensors::write_atomic(&path, text.as_bytes())?;
    let scenarios = serde_json::json!([{
        "name": "synthetic-0",
        "description": "a synthetic position where every action is legal",
        "features": teacher.offset,
        "legal": vec![1; a],
        "acceptable": [format!("a0")],
    }]);
    let path = dir.join("scenarios.json");
    tensors::write_atomic(&path, scenarios.to_string().as_bytes())?;
    Ok(manifest)
}
