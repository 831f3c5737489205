//! Reading what `tactician prepare` wrote: a split (`test.safetensors`), the manifest and the
//! scenarios.

use super::EvalError;
use super::model::f32_from_le;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The manifest's file name in a prepared folder.
pub const MANIFEST: &str = "manifest.json";
/// The scenarios' file name in a prepared folder.
pub const SCENARIOS: &str = "scenarios.json";
/// The test split's file name in a prepared folder.
pub const TEST_SPLIT: &str = "test.safetensors";

/// The encoder a prepared folder was made with (part of its manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedEncoder {
    /// The encoder's hash.
    pub hash: String,
    /// Feature names.
    #[serde(default)]
    pub features: Vec<String>,
    /// Action names.
    #[serde(default)]
    pub actions: Vec<String>,
}

/// The part of a prepared folder's `manifest.json` the evaluator reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedManifest {
    /// The manifest format.
    #[serde(default)]
    pub format: String,
    /// The encoder the examples were made with.
    pub encoder: PreparedEncoder,
}

/// One split of prepared examples, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Number of examples.
    pub rows: usize,
    /// Features per example.
    pub features: usize,
    /// Actions per example.
    pub actions: usize,
    /// Raw features, `[rows, features]`.
    pub x: Vec<f32>,
    /// Legal actions (0/1), `[rows, actions]`.
    pub legal: Vec<u8>,
    /// The recorded (teacher's) action of each example.
    pub action: Vec<usize>,
    /// Sample weights.
    pub weight: Vec<f32>,
    /// The outcome for the acting side: +1 won, 0 drawn, -1 lost.
    pub value: Vec<f32>,
}

/// One hand-made position with the actions a good player may choose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Short name.
    pub name: String,
    /// What the position is about.
    #[serde(default)]
    pub description: String,
    /// Raw features.
    pub features: Vec<f32>,
    /// Legal actions, 0/1 per action.
    pub legal: Vec<u8>,
    /// Names of the acceptable actions.
    pub acceptable: Vec<String>,
}

/// Reads `manifest.json` in prepared folder `dir`.
pub fn read_manifest(dir: &Path) -> Result<PreparedManifest, EvalError> {
    read_json(&dir.join(MANIFEST))
}

/// Reads `scenarios.json` in prepared folder `dir`.
pub fn read_scenarios(dir: &Path) -> Result<Vec<Scenario>, EvalError> {
    read_json(&dir.join(SCENARIOS))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EvalError> {
    let text = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| EvalError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a split file, checking types, shapes, that every recorded action is in range and
/// legal, and that features are finite.
pub fn read_split(path: &Path) -> Result<Split, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |message: String| EvalError::Format {
        path: path.to_path_buf(),
        message,
    };
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| EvalError::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let get = |name: &str, dtype: Dtype, rank: usize| {
        let view = tensors
            .tensor(name)
            .map_err(|_| bad(format!("tensor {name:?} is missing")))?;
        if view.dtype() != dtype || view.shape().len() != rank {
            return Err(bad(format!(
                "tensor {name:?} is {:?} {:?}, expected {dtype:?} of rank {rank}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view)
    };
    let features = get("features", Dtype::F32, 2)?;
    let legal = get("legal", Dtype::U8, 2)?;
    let action = get("action", Dtype::I32, 1)?;
    let weight = get("weight", Dtype::F32, 1)?;
    let value = get("value", Dtype::F32, 1)?;
    let (rows, f) = (features.shape()[0], features.shape()[1]);
    let a = legal.shape()[1];
    for (name, shape) in [
        ("legal", legal.shape()),
        ("action", action.shape()),
        ("weight", weight.shape()),
        ("value", value.shape()),
    ] {
        if shape[0] != rows {
            return Err(bad(format!(
                "tensor {name:?} has {} rows, \"features\" has {rows}",
                shape[0]
            )));
        }
    }
    let x = f32_from_le(features.data());
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "row {} holds a non-finite feature (column {})",
            i / f.max(1),
            i % f.max(1)
        )));
    }
    let legal = legal.data().to_vec();
    if let Some(i) = legal.iter().position(|&v| v > 1) {
        return Err(bad(format!(
            "row {} has legal value {} (expected 0 or 1)",
            i / a.max(1),
            legal[i]
        )));
    }
    let mut actions = Vec::with_capacity(rows);
    for (row, c) in action.data().chunks_exact(4).enumerate() {
        let v = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let ok = usize::try_from(v)
            .ok()
            .filter(|&i| i < a && legal[row * a + i] == 1);
        match ok {
            Some(i) => actions.push(i),
            None => {
                return Err(bad(format!(
                    "row {row} records action {v}, which is out of range or not legal"
                )));
            }
        }
    }
    Ok(Split {
        rows,
        features: f,
        actions: a,
        x,
        legal,
        action: actions,
        weight: f32_from_le(weight.data()),
        value: f32_from_le(value.data()),
    })
}

/// Writes `split` to `path` in the prepared format (what `tactician prepare` writes; used by
/// tests and tools that make small prepared folders).
pub fn write_split(path: &Path, split: &Split) -> Result<(), EvalError> {
    let le = |v: &[f32]| -> Vec<u8> { v.iter().flat_map(|x| x.to_le_bytes()).collect() };
    let action: Vec<u8> = split
        .action
        .iter()
        .flat_map(|&a| (a as i32).to_le_bytes())
        .collect();
    let buffers = [
        (
            "features",
            Dtype::F32,
            vec![split.rows, split.features],
            le(&split.x),
        ),
        (
            "legal",
            Dtype::U8,
            vec![split.rows, split.actions],
            split.legal.clone(),
        ),
        ("action", Dtype::I32, vec![split.rows], action),
        ("weight", Dtype::F32, vec![split.rows], le(&split.weight)),
        ("value", Dtype::F32, vec![split.rows], le(&split.value)),
    ];
    let bad = |e: safetensors::SafeTensorError| EvalError::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut views = BTreeMap::new();
    for (name, dtype, shape, data) in &buffers {
        views.insert(
            *name,
            TensorView::new(*dtype, shape.clone(), data).map_err(bad)?,
        );
    }
    let bytes = safetensors::serialize(&views, None).map_err(bad)?;
    std::fs::write(path, bytes).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}
