//! A seeded generator of synthetic prepared data in the exact format of `tactician prepare`,
//! for tests and benchmarks: a learnable task (the label is the best legal action of a hidden
//! linear teacher), raw features with non-trivial means and scales.

use crate::error::TrainError;
use crate::rng::Rng;
use std::path::Path;
use tactician_battle::{Scenario, ScenarioState};
use tactician_formats::prepared::{
    EncoderInfo, Normalization, PreparedManifest, Split, SplitName, file_info, scenarios_json,
};

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

fn split(spec: &SynthSpec, t: &Teacher, n: usize, rng: &mut Rng) -> Split {
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
        action.push(best.1 as u32);
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
    Split {
        rows: n,
        features: f,
        actions: a,
        x: features,
        legal,
        action,
        weight,
        value,
    }
}

/// Writes a prepared folder at `dir` (created if missing): the three splits, `manifest.json`
/// (normalization from the training split) and a small `scenarios.json`.
pub fn write_prepared(dir: &Path, spec: &SynthSpec) -> Result<PreparedManifest, TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io("create", dir, e))?;
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
    let mut norm = Normalization::identity(f);
    let mut files = std::collections::BTreeMap::new();
    for (name, n) in [
        (SplitName::Train, spec.train),
        (SplitName::Val, spec.val),
        (SplitName::Test, spec.test),
    ] {
        let data = split(spec, &teacher, n, &mut rng);
        if name == SplitName::Train {
            let (mean, std) = (&mut norm.mean, &mut norm.std);
            norm.rows = n as u64;
            for j in 0..f {
                let col = data.x.iter().skip(j).step_by(f).map(|&x| f64::from(x));
                let (s, s2) = col.fold((0.0, 0.0), |(s, s2), x| (s + x, s2 + x * x));
                let m = s / n.max(1) as f64;
                mean[j] = m as f32;
                std[j] = (s2 / n.max(1) as f64 - m * m).max(0.0).sqrt() as f32;
            }
        }
        let path = dir.join(name.file_name());
        data.write(&path)?;
        files.insert(name.file_name().to_string(), file_info(&path)?);
    }
    let encoder = EncoderInfo {
        name: "synthetic".into(),
        hash: spec.encoder_hash.clone(),
        features: (0..f).map(|j| format!("f{j}")).collect(),
        actions: (0..a).map(|k| format!("a{k}")).collect(),
    };
    let scenario = Scenario {
        name: "synthetic-0".into(),
        description: "a synthetic position where every action is legal".into(),
        features: teacher.offset,
        legal: vec![1; a],
        acceptable: vec!["a0".into()],
        encoder: spec.encoder_hash.clone(),
        state: ScenarioState::empty(),
    };
    let path = dir.join(tactician_formats::prepared::SCENARIOS);
    tactician_os::write_atomic(&path, &scenarios_json(&[scenario]))?;
    files.insert(
        tactician_formats::prepared::SCENARIOS.to_string(),
        file_info(&path)?,
    );
    let mut manifest = PreparedManifest::new(encoder, norm);
    manifest.seed = spec.seed;
    manifest.counts.rows = [
        ("train".to_string(), spec.train as u64),
        ("val".to_string(), spec.val as u64),
        ("test".to_string(), spec.test as u64),
    ]
    .into_iter()
    .collect();
    manifest.files = files;
    manifest.write(dir)?;
    Ok(manifest)
}
