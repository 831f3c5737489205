//! Prepared data (written by `tactician prepare`): `{train,val,test}.safetensors` and
//! `manifest.json`, checked on load so a bad file gives a clear error, never a panic.

use crate::error::TrainError;
use crate::tensors;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The `format` value of a prepared manifest.
pub const PREPARED_FORMAT: &str = "tactician-prepared/1";

/// The encoder a prepared set was made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderInfo {
    /// The encoder's layout hash.
    pub hash: String,
    /// Feature names, in order.
    pub features: Vec<String>,
    /// Action names, in order.
    pub actions: Vec<String>,
}

/// Per-feature normalization: `(x - mean) / std`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Means.
    pub mean: Vec<f32>,
    /// Standard deviations.
    pub std: Vec<f32>,
}

impl Normalization {
    /// The scale applied to feature `j`: 1/std, or 1 for a (near-)constant feature.
    pub fn scale(&self, j: usize) -> f32 {
        let s = self.std[j];
        if s.is_finite() && s > 1e-6 {
            1.0 / s
        } else {
            1.0
        }
    }
}

/// The manifest fields the trainer reads (others are kept as they are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Must be [`PREPARED_FORMAT`].
    pub format: String,
    /// The encoder.
    pub encoder: EncoderInfo,
    /// Normalization statistics (from the training split).
    pub normalization: Normalization,
    /// Everything else.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// One split: `n` examples of `f` features and `a` actions.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Examples.
    pub n: usize,
    /// Features per example.
    pub f: usize,
    /// Actions.
    pub a: usize,
    /// Raw features, `n × f` row-major.
    pub features: Vec<f32>,
    /// Legal-action masks, `n × a`, 0 or 1.
    pub legal: Vec<u8>,
    /// The action taken (the label), always legal.
    pub action: Vec<u32>,
    /// Sample weights (>= 0).
    pub weight: Vec<f32>,
    /// Outcome from the acting side's view: +1 win, 0 draw, -1 loss.
    pub value: Vec<f32>,
}

impl Split {
    /// Loads and checks the split at `path` against `f` features and `a` actions.
    pub fn load(path: &Path, f: usize, a: usize) -> Result<Self, TrainError> {
        let bytes = tensors::read_bytes(path)?;
        let st = tensors::parse(path, &bytes)?;
        let (features, fs) = tensors::f32s(path, &st, "features")?;
        let (legal, ls) = tensors::u8s(path, &st, "legal")?;
        let (action, as_) = tensors::i32s(path, &st, "action")?;
        let (weight, ws) = tensors::f32s(path, &st, "weight")?;
        let (value, vs) = tensors::f32s(path, &st, "value")?;
        let bad = |msg: String| Err(TrainError::format(path, msg));
        if fs.len() != 2 {
            return bad(format!("`features` has shape {fs:?}, expected [N, {f}]"));
        }
        let n = fs[0];
        if fs[1] != f {
            return Err(TrainError::Encoder(format!(
                "{} has {} features per example but the manifest's encoder has {f}",
                path.display(),
                fs[1]
            )));
        }
        if ls != [n, a] {
            return bad(format!("`legal` has shape {ls:?}, expected [{n}, {a}]"));
        }
        for (name, shape) in [("action", &as_), ("weight", &ws), ("value", &vs)] {
            if shape.as_slice() != [n] {
                return bad(format!("`{name}` has shape {shape:?}, expected [{n}]"));
            }
        }
        if let Some(i) = features.iter().position(|x| !x.is_finite()) {
            return bad(format!("example {} has a non-finite feature", i / f.max(1)));
        }
        if let Some(i) = legal.iter().position(|&x| x > 1) {
            return bad(format!(
                "example {}: `legal` holds {} (only 0 and 1 are allowed)",
                i / a.max(1),
                legal[i]
            ));
        }
        let mut labels = Vec::with_capacity(n);
        for (i, &act) in action.iter().enumerate() {
            let Ok(act) = usize::try_from(act) else {
                return bad(format!("example {i}: action {act} is negative"));
            };
            if act >= a {
                return bad(format!(
                    "example {i}: action {act} is out of range (actions: {a})"
                ));
            }
            if legal[i * a + act] == 0 {
                return bad(format!(
                    "example {i}: the taken action {act} is not marked legal"
                ));
            }
            labels.push(act as u32);
        }
        if let Some(i) = weight.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return bad(format!(
                "example {i}: weight {} is not a finite value >= 0",
                weight[i]
            ));
        }
        if let Some(i) = value
            .iter()
            .position(|v| !(v.is_finite() && (-1.0..=1.0).contains(v)))
        {
            return bad(format!(
                "example {i}: value {} is outside [-1, 1]",
                value[i]
            ));
        }
        Ok(Self {
            n,
            f,
            a,
            features,
            legal,
            action: labels,
            weight,
            value,
        })
    }
}

/// A prepared data folder.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Training split.
    pub train: Split,
    /// Validation split.
    pub val: Split,
}

impl Prepared {
    /// Reads the manifest of the prepared folder `dir`.
    pub fn read_manifest(dir: &Path) -> Result<Manifest, TrainError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::io(&path, e))?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| TrainError::format(&path, format!("not a prepared-data manifest: {e}")))?;
        if m.format != PREPARED_FORMAT {
            return Err(TrainError::format(
                &path,
                format!("format is `{}`, expected `{PREPARED_FORMAT}`", m.format),
            ));
        }
        let f = m.encoder.features.len();
        if f == 0 || m.encoder.actions.is_empty() {
            return Err(TrainError::format(
                &path,
                "the encoder has no features or no actions",
            ));
        }
        if m.normalization.mean.len() != f || m.normalization.std.len() != f {
            return Err(TrainError::format(
                &path,
                "normalization does not have one entry per feature",
            ));
        }
        if m.normalization
            .mean
            .iter()
            .chain(&m.normalization.std)
            .any(|x| !x.is_finite())
        {
            return Err(TrainError::format(
                &path,
                "normalization holds a non-finite value",
            ));
        }
        Ok(m)
    }

    /// Loads the training and validation splits of `dir`. With `expected_encoder`, data from
    /// any other encoder hash is refused.
    pub fn load(dir: &Path, expected_encoder: Option<&str>) -> Result<Self, TrainError> {
        let manifest = Self::read_manifest(dir)?;
        if let Some(want) = expected_encoder
            && manifest.encoder.hash != want
        {
            return Err(TrainError::Encoder(format!(
                "{} was prepared with encoder {} but this build's encoder is {want}; run \
                 `tactician prepare` again",
                dir.display(),
                manifest.encoder.hash
            )));
        }
        let (f, a) = (
            manifest.encoder.features.len(),
            manifest.encoder.actions.len(),
        );
        let train = Split::load(&dir.join("train.safetensors"), f, a)?;
        let val = Split::load(&dir.join("val.safetensors"), f, a)?;
        if train.n == 0 {
            return Err(TrainError::format(
                dir.join("train.safetensors"),
                "the training split is empty",
            ));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            train,
            val,
        })
    }
}
