//! `manifest.json` of a prepared folder: what the tensors hold and how they were made.

use super::augment::AugmentReport;
use super::balance::BalanceReport;
use super::config::PrepareConfig;
use super::normalize::Normalization;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The `format` tag of version 1 prepared folders.
pub const FORMAT: &str = "tactician-prepared/1";

/// The encoder the features were made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderInfo {
    /// Its name.
    pub name: String,
    /// Its version hash.
    pub hash: String,
    /// Feature names, in vector order.
    pub features: Vec<String>,
    /// Action names, in index order.
    pub actions: Vec<String>,
}

/// Row and battle counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Decisions read from the dataset.
    pub read: u64,
    /// Decisions the filters removed.
    pub removed: u64,
    /// Decisions kept (before balancing and augmentation).
    pub kept: u64,
    /// Rows per output file.
    pub rows: BTreeMap<String, u64>,
    /// Kept decisions per split before balancing and augmentation.
    pub decisions: BTreeMap<String, u64>,
    /// Battles with kept decisions, per split.
    pub battles: BTreeMap<String, u64>,
}

/// How battles were split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitInfo {
    /// The assignment rule.
    pub rule: String,
    /// The ratios.
    pub ratios: BTreeMap<String, f64>,
    /// Per split, BLAKE3 of its battle ids (those with kept decisions), sorted, one per line
    /// with a final newline.
    pub battle_ids_blake3: BTreeMap<String, String>,
}

/// One output file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of its bytes (hex).
    pub blake3: String,
}

/// The scenarios written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    /// Their names.
    pub names: Vec<String>,
    /// Why there are none, when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedManifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The encoder.
    pub encoder: EncoderInfo,
    /// Per-feature statistics of the train split, for the model's input normalization.
    pub normalization: Normalization,
    /// Counts.
    pub counts: Counts,
    /// The seed.
    pub seed: u64,
    /// Content hash of the source dataset (see `docs/prepare.md`).
    pub source_dataset_hash: String,
    /// The split rule, ratios and battle-id digests.
    pub split: SplitInfo,
    /// Decisions removed per filter rule (the first rule that removed each).
    pub filters: BTreeMap<String, u64>,
    /// The players, in the order of the `group` indices used in the reports.
    pub players: Vec<String>,
    /// The balancing report.
    pub balance: BalanceReport,
    /// The augmentation report.
    pub augmentation: AugmentReport,
    /// The scenarios.
    pub scenarios: ScenarioInfo,
    /// The settings used.
    pub config: PrepareConfig,
    /// The tensor files and `scenarios.json`, with sizes and hashes.
    pub files: BTreeMap<String, FileInfo>,
}
