//! The model's own description inside a `.tflite` file: a metadata entry named `tactician`
//! holding [`TacticianMetadata`] as UTF-8 JSON. The official interpreter ignores it; our
//! runtime reads it to refuse a model built for another encoder.

use crate::error::ReadError;
use crate::model::Model;
use serde::{Deserialize, Serialize};

/// The name of the metadata entry.
pub const METADATA_NAME: &str = "tactician";

/// What the `tactician` metadata entry holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TacticianMetadata {
    /// The trained model's version string.
    pub model_version: String,
    /// The hash of the encoder the model was trained with.
    pub encoder_hash: String,
    /// Number of input features.
    pub features: usize,
    /// Action names, one per logit.
    pub action_names: Vec<String>,
    /// Whether a `value` output exists.
    #[serde(default)]
    pub value_head: bool,
}

/// Why the `tactician` metadata entry cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the \"tactician\" metadata entry is not valid: {0}")]
pub struct MetadataError(String);

impl TacticianMetadata {
    /// Parses the entry's bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MetadataError> {
        serde_json::from_slice(bytes).map_err(|e| MetadataError(e.to_string()))
    }

    /// The entry's bytes (compact JSON, fields in declaration order).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("metadata serializes")
    }

    /// The metadata of `model`, `None` when it has no `tactician` entry.
    pub fn from_model(model: &Model) -> Result<Option<Self>, ReadError> {
        model
            .metadata_bytes(METADATA_NAME)
            .map(|b| Self::from_bytes(b).map_err(|e| ReadError::Invalid(e.to_string())))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_bad_entries() {
        let m = TacticianMetadata {
            model_version: "v1".into(),
            encoder_hash: "e-1".into(),
            features: 3,
            action_names: vec!["a".into(), "b".into()],
            value_head: true,
        };
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            r#"{"model_version":"v1","encoder_hash":"e-1","features":3,"action_names":["a","b"],"value_head":true}"#
        );
        assert_eq!(TacticianMetadata::from_bytes(&m.to_bytes()).unwrap(), m);
        let old = br#"{"model_version":"v1","encoder_hash":"e-1","features":3,"action_names":[]}"#;
        assert!(!TacticianMetadata::from_bytes(old).unwrap().value_head);
        let e = TacticianMetadata::from_bytes(b"{").unwrap_err().to_string();
        assert!(
            e.contains("\"tactician\" metadata entry is not valid"),
            "{e}"
        );
    }
}
