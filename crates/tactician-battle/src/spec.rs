//! Feature specifications and the encoder trait.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Errors from building a [`FeatureSpec`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The spec has no name.
    #[error("feature spec has an empty name")]
    EmptyName,
    /// The spec declares no features.
    #[error("feature spec {0:?} declares no features")]
    NoFeatures(String),
    /// The spec declares no actions.
    #[error("feature spec {0:?} declares no actions")]
    NoActions(String),
    /// Two features or two actions share a name.
    #[error("feature spec declares {kind} {name:?} twice")]
    Duplicate {
        /// `"feature"` or `"action"`.
        kind: &'static str,
        /// The repeated name.
        name: String,
    },
    /// A feature's range is empty, inverted or not finite.
    #[error("feature {name:?} has an invalid range [{min}, {max}]")]
    BadRange {
        /// The feature.
        name: String,
        /// Its declared minimum.
        min: f32,
        /// Its declared maximum.
        max: f32,
    },
    /// A declared hash does not match the layout.
    #[error("feature spec declares hash {declared} but its layout hashes to {actual}")]
    HashMismatch {
        /// The hash written in the spec.
        declared: String,
        /// The hash of the layout.
        actual: String,
    },
}

/// One named feature of an encoder's output, with its documented range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDef {
    /// Unique, stable, snake_case name.
    pub name: String,
    /// What the feature measures and how it is scaled.
    #[serde(default)]
    pub description: String,
    /// Smallest value the encoder emits.
    pub min: f32,
    /// Largest value the encoder emits.
    pub max: f32,
}

impl FeatureDef {
    /// A feature with a name, a description and a range.
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        min: f32,
        max: f32,
    ) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            min,
            max,
        }
    }
}

/// The layout of an encoder's feature vector and of the action space it serves.
///
/// The [`hash`](FeatureSpec::hash) covers the spec name, the feature names, order and ranges,
/// and the action names and order (not the descriptions): any change to the layout gives a new
/// hash, so a model can refuse features it was not trained on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureSpec {
    name: String,
    hash: String,
    features: Vec<FeatureDef>,
    actions: Vec<String>,
}

#[derive(Deserialize)]
struct RawSpec {
    name: String,
    #[serde(default)]
    hash: Option<String>,
    features: Vec<FeatureDef>,
    actions: Vec<String>,
}

impl<'de> Deserialize<'de> for FeatureSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawSpec::deserialize(d)?;
        let spec = FeatureSpec::new(raw.name, raw.features, raw.actions)
            .map_err(serde::de::Error::custom)?;
        if let Some(declared) = raw.hash
            && declared != spec.hash
        {
            return Err(serde::de::Error::custom(SpecError::HashMismatch {
                declared,
                actual: spec.hash,
            }));
        }
        Ok(spec)
    }
}

impl FeatureSpec {
    /// Builds and validates a spec: a non-empty name, at least one feature and one action,
    /// unique names, finite ranges with `min < max`.
    pub fn new(
        name: impl Into<String>,
        features: Vec<FeatureDef>,
        actions: Vec<String>,
    ) -> Result<Self, SpecError> {
        let name = name.into();
        if name.is_empty() {
            return Err(SpecError::EmptyName);
        }
        if features.is_empty() {
            return Err(SpecError::NoFeatures(name));
        }
        if actions.is_empty() {
            return Err(SpecError::NoActions(name));
        }
        let mut seen = HashSet::new();
        for f in &features {
            if !seen.insert(f.name.as_str()) {
                return Err(SpecError::Duplicate {
                    kind: "feature",
                    name: f.name.clone(),
                });
            }
            if !(f.min.is_finite() && f.max.is_finite() && f.min < f.max) {
                return Err(SpecError::BadRange {
                    name: f.name.clone(),
                    min: f.min,
                    max: f.max,
                });
            }
        }
        let mut seen = HashSet::new();
        for a in &actions {
            if !seen.insert(a.as_str()) {
                return Err(SpecError::Duplicate {
                    kind: "action",
                    name: a.clone(),
                });
            }
        }
        let hash = layout_hash(&name, &features, &actions);
        Ok(Self {
            name,
            hash,
            features,
            actions,
        })
    }

    /// The encoder's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version hash: `<name>-<16 hex digits>`.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The features in vector order.
    pub fn features(&self) -> &[FeatureDef] {
        &self.features
    }

    /// Number of features (the length of every feature vector).
    pub fn num_features(&self) -> usize {
        self.features.len()
    }

    /// The action names in index order.
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// Number of actions.
    pub fn num_actions(&self) -> usize {
        self.actions.len()
    }

    /// Index of the feature called `name`.
    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.features.iter().position(|f| f.name == name)
    }

    /// Index of the action called `name`.
    pub fn action_index(&self, name: &str) -> Option<usize> {
        self.actions.iter().position(|a| a == name)
    }
}

fn layout_hash(name: &str, features: &[FeatureDef], actions: &[String]) -> String {
    let mut h = blake3::Hasher::new();
    let mut put = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    put(b"tactician.feature-spec.v1");
    put(name.as_bytes());
    put(&(features.len() as u64).to_le_bytes());
    for f in features {
        put(f.name.as_bytes());
        put(&f.min.to_le_bytes());
        put(&f.max.to_le_bytes());
    }
    put(&(actions.len() as u64).to_le_bytes());
    for a in actions {
        put(a.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{name}-{hex}")
}

/// Turns a game state into the feature vector its [`FeatureSpec`] describes.
///
/// The same encoder runs on the workstation (to build datasets) and on the device (to feed the
/// model), so a model trained on its output sees the same numbers in play.
pub trait Encoder {
    /// The game state this encoder reads.
    type State;

    /// The layout of the vectors this encoder writes.
    fn spec(&self) -> &FeatureSpec;

    /// Writes the features of `state` into `out`, which has exactly
    /// `self.spec().num_features()` elements.
    fn encode_into(&self, state: &Self::State, out: &mut [f32]);

    /// The features of `state` as a new vector.
    fn encode(&self, state: &Self::State) -> Vec<f32> {
        let mut out = vec![0.0; self.spec().num_features()];
        self.encode_into(state, &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(features: &[(&str, f32, f32)], actions: &[&str]) -> Result<FeatureSpec, SpecError> {
        FeatureSpec::new(
            "t",
            features
                .iter()
                .map(|&(n, a, b)| FeatureDef::new(n, "", a, b))
                .collect(),
            actions.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn hash_changes_with_layout_not_description() {
        let base = spec(&[("a", 0.0, 1.0), ("b", -1.0, 1.0)], &["x", "y"]).unwrap();
        let reordered = spec(&[("b", -1.0, 1.0), ("a", 0.0, 1.0)], &["x", "y"]).unwrap();
        let rescaled = spec(&[("a", 0.0, 2.0), ("b", -1.0, 1.0)], &["x", "y"]).unwrap();
        let more_actions = spec(&[("a", 0.0, 1.0), ("b", -1.0, 1.0)], &["x", "y", "z"]).unwrap();
        let hashes = [
            base.hash(),
            reordered.hash(),
            rescaled.hash(),
            more_actions.hash(),
        ];
        for i in 0..hashes.len() {
            for j in i + 1..hashes.len() {
                assert_ne!(hashes[i], hashes[j]);
            }
        }
        let mut described = base.features().to_vec();
        described[0].description = "now documented".into();
        let same = FeatureSpec::new("t", described, base.actions().to_vec()).unwrap();
        assert_eq!(same.hash(), base.hash());
    }

    #[test]
    fn validates() {
        assert!(matches!(spec(&[], &["x"]), Err(SpecError::NoFeatures(_))));
        assert!(matches!(
            spec(&[("a", 0.0, 1.0)], &[]),
            Err(SpecError::NoActions(_))
        ));
        assert!(matches!(
            spec(&[("a", 0.0, 1.0), ("a", 0.0, 1.0)], &["x"]),
            Err(SpecError::Duplicate {
                kind: "feature",
                ..
            })
        ));
        assert!(matches!(
            spec(&[("a", 0.0, 1.0)], &["x", "x"]),
            Err(SpecError::Duplicate { kind: "action", .. })
        ));
        assert!(matches!(
            spec(&[("a", 1.0, 1.0)], &["x"]),
            Err(SpecError::BadRange { .. })
        ));
        assert!(matches!(
            spec(&[("a", 0.0, f32::NAN)], &["x"]),
            Err(SpecError::BadRange { .. })
        ));
    }

    #[test]
    fn json_round_trip_checks_hash() {
        let s = spec(&[("a", 0.0, 1.0)], &["x", "y"]).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: FeatureSpec = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let tampered = json.replace(s.hash(), "t-0000000000000000");
        let err = serde_json::from_str::<FeatureSpec>(&tampered).unwrap_err();
        assert!(err.to_string().contains("hashes to"), "{err}");
        let no_hash =
            r#"{"name":"t","features":[{"name":"a","min":0,"max":1}],"actions":["x","y"]}"#;
        assert_eq!(
            serde_json::from_str::<FeatureSpec>(no_hash).unwrap().hash(),
            s.hash()
        );
    }
}
