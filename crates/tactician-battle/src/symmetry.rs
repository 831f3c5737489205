//! Symmetries of a game expressed on encoded features: a mapping of feature vectors and action
//! indices that turns the encoding of a state (and a legal action in it) into the encoding of
//! the symmetric state (and the symmetric action).
//!
//! A game declares its symmetries (for the built-in game: mirroring the board, permuting
//! interchangeable unit slots); dataset preparation applies them to augment training data
//! without re-running the game. Each output feature is an affine function of one input
//! feature, which covers permutations (`scale = 1, offset = 0`) and reflections of scaled
//! coordinates (`x' = 1 - x`: `scale = -1, offset = 1`).
//!
//! ```
//! use tactician_battle::symmetry::{FeatureMap, FeatureSymmetry};
//!
//! // Two features (x, hp), two actions (left, right): mirror x and swap the actions.
//! let mirror = FeatureSymmetry::new(
//!     "mirror",
//!     vec![FeatureMap::affine(0, -1.0, 1.0), FeatureMap::copy(1)],
//!     vec![1, 0],
//! )
//! .unwrap();
//! let mut out = [0.0; 2];
//! mirror.apply_features(&[0.25, 0.5], &mut out);
//! assert_eq!(out, [0.75, 0.5]);
//! assert_eq!(mirror.apply_action(0), 1);
//! assert_eq!(mirror.apply_mask_bits(&[true, false]), vec![false, true]);
//! ```

use serde::{Deserialize, Serialize};

/// How one output feature is computed: `out = scale * input[source] + offset`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureMap {
    /// Index of the input feature read.
    pub source: usize,
    /// Multiplier.
    pub scale: f32,
    /// Added after scaling.
    pub offset: f32,
}

impl FeatureMap {
    /// Copies input feature `source` unchanged.
    pub fn copy(source: usize) -> Self {
        Self {
            source,
            scale: 1.0,
            offset: 0.0,
        }
    }

    /// `scale * input[source] + offset`.
    pub fn affine(source: usize, scale: f32, offset: f32) -> Self {
        Self {
            source,
            scale,
            offset,
        }
    }

    /// This output feature computed from the input vector `input`.
    ///
    /// # Panics
    /// If `input` has no feature `source`.
    pub fn apply(&self, input: &[f32]) -> f32 {
        self.scale * input[self.source] + self.offset
    }
}

/// Why a symmetry is malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SymmetryError {
    /// A feature map reads past the end of the feature vector.
    #[error(
        "symmetry {name:?}: feature {index} reads input {input}, but there are only {len} features"
    )]
    FeatureOutOfRange {
        /// The symmetry.
        name: String,
        /// The output feature.
        index: usize,
        /// The input it reads.
        input: usize,
        /// The number of features.
        len: usize,
    },
    /// The action map is not a permutation of `0..n`.
    #[error("symmetry {name:?}: the action map is not a permutation of 0..{len}")]
    NotAPermutation {
        /// The symmetry.
        name: String,
        /// The number of actions.
        len: usize,
    },
    /// A scale or offset is not finite.
    #[error("symmetry {name:?}: feature {index} has a non-finite scale or offset")]
    NotFinite {
        /// The symmetry.
        name: String,
        /// The output feature.
        index: usize,
    },
}

/// One symmetry of a game on its encoded features and action indices.
///
/// As JSON: `{"name": ..., "features": [{"source": i, "scale": s, "offset": o}, ...],
/// "actions": [...]}`, checked like [`FeatureSymmetry::new`] when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawSymmetry")]
pub struct FeatureSymmetry {
    name: String,
    features: Vec<FeatureMap>,
    actions: Vec<usize>,
}

/// A symmetry as read, before its checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSymmetry {
    name: String,
    features: Vec<FeatureMap>,
    actions: Vec<usize>,
}

impl TryFrom<RawSymmetry> for FeatureSymmetry {
    type Error = SymmetryError;

    fn try_from(raw: RawSymmetry) -> Result<Self, SymmetryError> {
        FeatureSymmetry::new(raw.name, raw.features, raw.actions)
    }
}

impl FeatureSymmetry {
    /// Builds a symmetry: `features[i]` computes output feature `i`; `actions[a]` is the action
    /// that action `a` becomes (a permutation of `0..actions.len()`).
    pub fn new(
        name: impl Into<String>,
        features: Vec<FeatureMap>,
        actions: Vec<usize>,
    ) -> Result<Self, SymmetryError> {
        let name = name.into();
        let len = features.len();
        for (index, m) in features.iter().enumerate() {
            if m.source >= len {
                return Err(SymmetryError::FeatureOutOfRange {
                    name,
                    index,
                    input: m.source,
                    len,
                });
            }
            if !m.scale.is_finite() || !m.offset.is_finite() {
                return Err(SymmetryError::NotFinite { name, index });
            }
        }
        let mut seen = vec![false; actions.len()];
        for &a in &actions {
            if a >= seen.len() || std::mem::replace(&mut seen[a], true) {
                return Err(SymmetryError::NotAPermutation {
                    name,
                    len: actions.len(),
                });
            }
        }
        Ok(Self {
            name,
            features,
            actions,
        })
    }

    /// The symmetry's name (e.g. `"mirror"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of features it maps.
    pub fn num_features(&self) -> usize {
        self.features.len()
    }

    /// Number of actions it maps.
    pub fn num_actions(&self) -> usize {
        self.actions.len()
    }

    /// The per-feature maps.
    pub fn feature_maps(&self) -> &[FeatureMap] {
        &self.features
    }

    /// The action permutation: `action_map()[a]` is the image of action `a`.
    pub fn action_map(&self) -> &[usize] {
        &self.actions
    }

    /// Writes the image of `input` into `out`. Both must have [`Self::num_features`] elements.
    ///
    /// # Panics
    /// If a slice has the wrong length (a programming error: check lengths against the spec).
    pub fn apply_features(&self, input: &[f32], out: &mut [f32]) {
        assert_eq!(input.len(), self.features.len(), "input length");
        assert_eq!(out.len(), self.features.len(), "output length");
        for (o, m) in out.iter_mut().zip(&self.features) {
            *o = m.apply(input);
        }
    }

    /// The image of action `action`, or `action` itself when out of range.
    pub fn apply_action(&self, action: usize) -> usize {
        self.actions.get(action).copied().unwrap_or(action)
    }

    /// The image of a legal mask given as one flag per action.
    pub fn apply_mask_bits(&self, legal: &[bool]) -> Vec<bool> {
        let mut out = vec![false; legal.len()];
        for (a, &l) in legal.iter().enumerate() {
            out[self.apply_action(a).min(legal.len() - 1)] = l;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_maps() {
        assert!(matches!(
            FeatureSymmetry::new("s", vec![FeatureMap::copy(1)], vec![0]),
            Err(SymmetryError::FeatureOutOfRange { .. })
        ));
        assert!(matches!(
            FeatureSymmetry::new("s", vec![FeatureMap::copy(0)], vec![0, 0]),
            Err(SymmetryError::NotAPermutation { .. })
        ));
        assert!(matches!(
            FeatureSymmetry::new("s", vec![FeatureMap::copy(0)], vec![2, 0]),
            Err(SymmetryError::NotAPermutation { .. })
        ));
        assert!(matches!(
            FeatureSymmetry::new("s", vec![FeatureMap::affine(0, f32::NAN, 0.0)], vec![0]),
            Err(SymmetryError::NotFinite { .. })
        ));
    }

    #[test]
    fn json_is_checked_when_read() {
        let ok =
            r#"{"name":"m","features":[{"source":0,"scale":-1.0,"offset":1.0}],"actions":[0]}"#;
        let s: FeatureSymmetry = serde_json::from_str(ok).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), ok);
        let bad =
            r#"{"name":"m","features":[{"source":3,"scale":1.0,"offset":0.0}],"actions":[0]}"#;
        let e = serde_json::from_str::<FeatureSymmetry>(bad).unwrap_err();
        assert!(e.to_string().contains("reads input 3"), "{e}");
    }

    #[test]
    fn swap_twice_is_identity() {
        let s = FeatureSymmetry::new(
            "swap",
            vec![
                FeatureMap::copy(1),
                FeatureMap::copy(0),
                FeatureMap::affine(2, -1.0, 1.0),
            ],
            vec![1, 0, 2],
        )
        .unwrap();
        let x = [0.1, 0.2, 0.3];
        let mut y = [0.0; 3];
        let mut z = [0.0; 3];
        s.apply_features(&x, &mut y);
        s.apply_features(&y, &mut z);
        assert_eq!(y, [0.2, 0.1, 0.7]);
        for (a, b) in z.iter().zip(x) {
            assert!((a - b).abs() < 1e-6);
        }
        assert_eq!(
            s.apply_mask_bits(&[true, false, true]),
            vec![false, true, true]
        );
    }
}
