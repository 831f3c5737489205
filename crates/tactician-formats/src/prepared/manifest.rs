//! `manifest.json` of a prepared folder: what the tensors hold and how they were made.

use super::settings::{BalanceMethod, PrepareConfig};
use super::{MANIFEST, PREPARED_FORMAT, file_info};
use crate::FormatError;
use crate::error::{pretty_json, read_json};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

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

/// Mean and standard deviation per feature of the training split (the model's input
/// normalization), and the features that barely vary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Mean per feature.
    pub mean: Vec<f32>,
    /// Standard deviation per feature (population), floored at `std_floor`; 1 for constant
    /// features.
    pub std: Vec<f32>,
    /// The floor applied.
    pub std_floor: f32,
    /// Features with a single value in the training split (their std is 1).
    pub constant_features: Vec<String>,
    /// Features that vary, but with a standard deviation below the near-constant threshold.
    pub near_constant_features: Vec<String>,
    /// Rows the statistics were computed from.
    pub rows: u64,
}

impl Normalization {
    /// Identity statistics for `features` features (mean 0, std 1).
    pub fn identity(features: usize) -> Self {
        Self {
            mean: vec![0.0; features],
            std: vec![1.0; features],
            std_floor: 1e-3,
            constant_features: Vec::new(),
            near_constant_features: Vec::new(),
            rows: 0,
        }
    }

    /// The scale applied to feature `j`: `1 / std`, or 1 for a (near-)constant feature.
    pub fn scale(&self, j: usize) -> f32 {
        let s = self.std[j];
        if s.is_finite() && s > 1e-6 {
            1.0 / s
        } else {
            1.0
        }
    }
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

impl FileInfo {
    /// The size and hash of a file's `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        FileInfo {
            bytes: bytes.len() as u64,
            blake3: blake3::hash(bytes).to_hex().to_string(),
        }
    }
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

/// A distribution of the training rows: total weight per player and per action.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Rows (or total weight) per player.
    pub by_player: BTreeMap<String, f64>,
    /// Rows (or total weight) per action.
    pub by_action: BTreeMap<String, f64>,
}

/// What balancing did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceReport {
    /// The method.
    pub method: BalanceMethod,
    /// Whether actions were balanced too.
    pub actions: bool,
    /// Training rows before.
    pub rows_before: u64,
    /// Training rows after (resampling changes it).
    pub rows_after: u64,
    /// Before balancing (row counts).
    pub before: Distribution,
    /// After balancing (sums of weights).
    pub after: Distribution,
    /// Smallest and largest weight.
    pub weight_range: [f32; 2],
}

/// What augmentation did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentReport {
    /// Whether copies were added.
    pub enabled: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Symmetries the game declares.
    pub available: usize,
    /// Names of the symmetries drawn from.
    pub symmetries: Vec<String>,
    /// Copies per training row.
    pub copies_per_row: usize,
    /// Training rows before.
    pub rows_before: u64,
    /// Training rows after.
    pub rows_after: u64,
    /// `rows_after / rows_before`.
    pub multiplier: f64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedManifest {
    /// Always [`PREPARED_FORMAT`].
    pub format: String,
    /// The encoder.
    pub encoder: EncoderInfo,
    /// Per-feature statistics of the train split, for the model's input normalization.
    pub normalization: Normalization,
    /// Counts.
    pub counts: Counts,
    /// The seed.
    pub seed: u64,
    /// Content hash of the source dataset.
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

impl PreparedManifest {
    /// A manifest for data made with `encoder` and normalized by `normalization`, with
    /// empty counts and reports and default settings: for tools that write prepared folders by
    /// other means than `tactician prepare` (synthetic data, tests). Fill in what is known.
    pub fn new(encoder: EncoderInfo, normalization: Normalization) -> Self {
        let empty = Distribution::default();
        Self {
            format: PREPARED_FORMAT.to_string(),
            encoder,
            normalization,
            counts: Counts {
                read: 0,
                removed: 0,
                kept: 0,
                rows: BTreeMap::new(),
                decisions: BTreeMap::new(),
                battles: BTreeMap::new(),
            },
            seed: 0,
            source_dataset_hash: String::new(),
            split: SplitInfo {
                rule: String::new(),
                ratios: BTreeMap::new(),
                battle_ids_blake3: BTreeMap::new(),
            },
            filters: BTreeMap::new(),
            players: Vec::new(),
            balance: BalanceReport {
                method: BalanceMethod::None,
                actions: false,
                rows_before: 0,
                rows_after: 0,
                before: empty.clone(),
                after: empty,
                weight_range: [1.0, 1.0],
            },
            augmentation: AugmentReport {
                enabled: false,
                reason: None,
                available: 0,
                symmetries: Vec::new(),
                copies_per_row: 0,
                rows_before: 0,
                rows_after: 0,
                multiplier: 1.0,
            },
            scenarios: ScenarioInfo {
                names: Vec::new(),
                reason: None,
            },
            config: PrepareConfig::default(),
            files: BTreeMap::new(),
        }
    }

    /// Reads and checks `manifest.json` of the prepared folder `dir`: the format, an encoder
    /// with features and actions, and one finite normalization entry per feature.
    pub fn read(dir: &Path) -> Result<Self, FormatError> {
        let path = dir.join(MANIFEST);
        let m: PreparedManifest = read_json(&path, "prepared-data manifest")?;
        m.check().map_err(|msg| FormatError::invalid(&path, msg))?;
        Ok(m)
    }

    /// The manifest's own consistency.
    fn check(&self) -> Result<(), String> {
        if self.format != PREPARED_FORMAT {
            return Err(format!(
                "format is {:?}, expected {PREPARED_FORMAT:?}",
                self.format
            ));
        }
        let f = self.encoder.features.len();
        if f == 0 || self.encoder.actions.is_empty() {
            return Err("the encoder has no features or no actions".into());
        }
        let n = &self.normalization;
        if n.mean.len() != f || n.std.len() != f {
            return Err("normalization does not have one entry per feature".into());
        }
        if n.mean.iter().chain(&n.std).any(|x| !x.is_finite()) {
            return Err("normalization holds a non-finite value".into());
        }
        Ok(())
    }

    /// The manifest's bytes as written (pretty JSON, final newline).
    pub fn to_json(&self) -> Vec<u8> {
        pretty_json(self)
    }

    /// Writes the manifest into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<(), FormatError> {
        tactician_os::write_atomic(&dir.join(MANIFEST), &self.to_json())?;
        Ok(())
    }

    /// Whether every file the manifest lists is in `dir` with its recorded size and hash.
    pub fn is_intact(&self, dir: &Path) -> bool {
        self.files.iter().all(|(name, f)| {
            file_info(&dir.join(name)).is_ok_and(|i| i.bytes == f.bytes && i.blake3 == f.blake3)
        })
    }
}
