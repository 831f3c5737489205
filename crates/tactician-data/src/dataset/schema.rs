//! The Arrow schemas of the dataset's two tables.
//!
//! `docs/dataset.md` documents every column; a change here is a format change and bumps
//! [`super::manifest::FORMAT`].

use arrow_schema::{DataType, Field, Schema};
use std::collections::HashMap;
use std::sync::Arc;
use tactician_battle::FeatureSpec;

/// Schema metadata key: the feature names, a JSON array, in vector order.
pub const META_FEATURES: &str = "tactician.features";
/// Schema metadata key: the action names, a JSON array, in index order.
pub const META_ACTIONS: &str = "tactician.actions";
/// Schema metadata key: the encoder's version hash.
pub const META_ENCODER: &str = "tactician.encoder";
/// Schema metadata key: how `features` is stored (`"<f4"`: little-endian 32-bit floats).
pub const META_FEATURE_DTYPE: &str = "tactician.features.dtype";

/// The transitions table: one row per decision.
///
/// `features` holds each row's feature vector as `4 × F` bytes of little-endian `f32` (numpy
/// dtype `<f4`): one value per row is what Parquet writes and reads fastest, and it is the
/// layout training tensors use; the schema metadata names the features. `legal` is the mask
/// as the log writes it, one `0`/`1` per action.
pub fn transitions(spec: &FeatureSpec) -> Arc<Schema> {
    let metadata = HashMap::from([
        (
            META_FEATURES.to_string(),
            serde_json::to_string(&spec.features().iter().map(|f| &f.name).collect::<Vec<_>>())
                .expect("names serialize"),
        ),
        (
            META_ACTIONS.to_string(),
            serde_json::to_string(spec.actions()).expect("names serialize"),
        ),
        (META_ENCODER.to_string(), spec.hash().to_string()),
        (META_FEATURE_DTYPE.to_string(), "<f4".to_string()),
    ]);
    let num_features = spec.num_features();
    Schema::new(vec![
        Field::new("battle_id", DataType::Utf8, false),
        Field::new("turn", DataType::UInt32, false),
        Field::new("round", DataType::UInt32, true),
        Field::new("side", DataType::UInt8, false),
        Field::new("actor", DataType::UInt32, false),
        Field::new("player", DataType::Utf8, false),
        Field::new("human", DataType::Boolean, false),
        Field::new(
            "features",
            DataType::FixedSizeBinary(4 * num_features as i32),
            false,
        ),
        Field::new("legal", DataType::Utf8, false),
        Field::new("legal_count", DataType::UInt16, false),
        Field::new("action", DataType::UInt32, false),
        Field::new("decision_us", DataType::Float64, true),
        Field::new("reward", DataType::Float32, false),
        Field::new("done", DataType::Boolean, false),
        Field::new("next_turn", DataType::UInt32, true),
        Field::new("outcome", DataType::Float32, false),
        Field::new("material_own", DataType::Float32, true),
        Field::new("material_enemy", DataType::Float32, true),
        Field::new("damage", DataType::Int32, true),
        Field::new("healing", DataType::Int32, true),
        Field::new("statuses_applied", DataType::UInt16, true),
        Field::new("statuses_resisted", DataType::UInt16, true),
        Field::new("knockouts", DataType::UInt16, true),
        Field::new("items_used", DataType::UInt16, true),
        Field::new("energy_spent", DataType::Int32, true),
    ])
    .with_metadata(metadata)
    .into()
}

/// The battles table: one row per battle.
pub fn battles() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("battle_id", DataType::Utf8, false),
        Field::new("seed", DataType::UInt64, true),
        Field::new("game", DataType::Utf8, false),
        Field::new("game_version", DataType::Utf8, false),
        Field::new("encoder", DataType::Utf8, false),
        Field::new("side0_human", DataType::Boolean, false),
        Field::new("side0_player", DataType::Utf8, false),
        Field::new("side1_human", DataType::Boolean, false),
        Field::new("side1_player", DataType::Utf8, false),
        Field::new("winner", DataType::UInt8, true),
        Field::new("victory", DataType::Utf8, false),
        Field::new("turns", DataType::UInt32, false),
        Field::new("rounds", DataType::UInt32, true),
        Field::new("wall_ms", DataType::Float64, true),
        Field::new("started_unix_ms", DataType::UInt64, true),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_line", DataType::UInt64, false),
        Field::new("ingest", DataType::UInt32, false),
    ]))
}
