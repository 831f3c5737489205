//! One split of prepared examples: `{train,val,test}.safetensors`.

use super::PREPARED_FORMAT;
use crate::FormatError;
use crate::tensors::{self, Dtype, Tensor};
use std::path::Path;

/// The three splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SplitName {
    /// Training.
    Train,
    /// Validation.
    Val,
    /// Test.
    Test,
}

impl SplitName {
    /// All three, in file order.
    pub const ALL: [SplitName; 3] = [SplitName::Train, SplitName::Val, SplitName::Test];

    /// `train`, `val` or `test`.
    pub fn name(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Val => "val",
            SplitName::Test => "test",
        }
    }

    /// The split's file name in a prepared folder.
    pub fn file_name(self) -> &'static str {
        match self {
            SplitName::Train => "train.safetensors",
            SplitName::Val => "val.safetensors",
            SplitName::Test => "test.safetensors",
        }
    }
}

/// A split's examples, row-major.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Split {
    /// Number of examples.
    pub rows: usize,
    /// Features per example.
    pub features: usize,
    /// Actions per example.
    pub actions: usize,
    /// Raw features, `[rows, features]`.
    pub x: Vec<f32>,
    /// Legal actions, 0 or 1, `[rows, actions]`.
    pub legal: Vec<u8>,
    /// The action taken (the label), always legal.
    pub action: Vec<u32>,
    /// Sample weights (finite, at least 0).
    pub weight: Vec<f32>,
    /// The outcome for the acting side: +1 won, 0 drawn, -1 lost.
    pub value: Vec<f32>,
}

impl Split {
    /// The features of row `r`.
    pub fn row(&self, r: usize) -> &[f32] {
        &self.x[r * self.features..(r + 1) * self.features]
    }

    /// The legal mask of row `r`.
    pub fn legal_row(&self, r: usize) -> &[u8] {
        &self.legal[r * self.actions..(r + 1) * self.actions]
    }

    /// Reads and checks the split at `path`: types and shapes, finite features, a 0/1 legal
    /// mask, a recorded action that is in range and legal, finite weights at least 0, values in
    /// [-1, 1]. With `expect = Some((features, actions))`, the widths must be those.
    pub fn read(path: &Path, expect: Option<(usize, usize)>) -> Result<Self, FormatError> {
        let bytes = tensors::read(path)?;
        let file = tensors::File::parse(path, &bytes)?;
        let bad = |msg: String| Err(FormatError::invalid(path, msg));
        let (x, fs) = file.f32s("features")?;
        let (legal, ls) = file.u8s("legal")?;
        let (action, as_) = file.i32s("action")?;
        let (weight, ws) = file.f32s("weight")?;
        let (value, vs) = file.f32s("value")?;
        let [n, f] = fs[..] else {
            return bad(format!(
                "tensor \"features\" has shape {fs:?}, expected [N, F]"
            ));
        };
        let [ln, a] = ls[..] else {
            return bad(format!(
                "tensor \"legal\" has shape {ls:?}, expected [N, A]"
            ));
        };
        if ln != n {
            return bad(format!(
                "tensor \"legal\" has {ln} rows, \"features\" has {n}"
            ));
        }
        if let Some((ef, ea)) = expect
            && (ef != f || ea != a)
        {
            return bad(format!(
                "{f} features and {a} actions per example, expected {ef} and {ea}"
            ));
        }
        for (name, shape) in [("action", &as_), ("weight", &ws), ("value", &vs)] {
            if shape.as_slice() != [n] {
                return bad(format!(
                    "tensor {name:?} has shape {shape:?}, expected [{n}]"
                ));
            }
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return bad(format!(
                "row {} holds a non-finite feature (column {})",
                i / f.max(1),
                i % f.max(1)
            ));
        }
        if let Some(i) = legal.iter().position(|&v| v > 1) {
            return bad(format!(
                "row {} has legal value {} (only 0 and 1 are allowed)",
                i / a.max(1),
                legal[i]
            ));
        }
        let mut labels = Vec::with_capacity(n);
        for (r, &v) in action.iter().enumerate() {
            match usize::try_from(v).ok().filter(|&i| i < a) {
                Some(i) if legal[r * a + i] == 1 => labels.push(i as u32),
                Some(_) => return bad(format!("row {r} records action {v}, which is not legal")),
                None => {
                    return bad(format!(
                        "row {r} records action {v}, which is out of range (actions: {a})"
                    ));
                }
            }
        }
        if let Some(r) = weight.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return bad(format!(
                "row {r}: weight {} is not a finite value >= 0",
                weight[r]
            ));
        }
        if let Some(r) = value
            .iter()
            .position(|v| !(v.is_finite() && (-1.0..=1.0).contains(v)))
        {
            return bad(format!("row {r}: value {} is outside [-1, 1]", value[r]));
        }
        Ok(Self {
            rows: n,
            features: f,
            actions: a,
            x,
            legal,
            action: labels,
            weight,
            value,
        })
    }

    /// The file's bytes: the five tensors and the metadata `format`, laid out by the
    /// safetensors crate (the reference every writer of the format must match byte for byte).
    pub fn to_bytes(&self) -> Result<Vec<u8>, FormatError> {
        let n = self.rows;
        let le = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let action: Vec<i32> = self.action.iter().map(|&a| a as i32).collect();
        let list = [
            Tensor::f32("features", vec![n, self.features], &self.x),
            Tensor {
                name: "legal".into(),
                dtype: Dtype::U8,
                shape: vec![n, self.actions],
                bytes: self.legal.clone(),
            },
            Tensor {
                name: "action".into(),
                dtype: Dtype::I32,
                shape: vec![n],
                bytes: le(&action),
            },
            Tensor::f32("weight", vec![n], &self.weight),
            Tensor::f32("value", vec![n], &self.value),
        ];
        tensors::serialize(Path::new("split"), &list, Some(("format", PREPARED_FORMAT)))
    }

    /// Writes the split to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<(), FormatError> {
        tactician_os::write_atomic(path, &self.to_bytes()?)?;
        Ok(())
    }
}
