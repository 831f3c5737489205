//! The prepared-data folder (format `tactician-prepared/1`), written by `tactician prepare`
//! and read by training, evaluation, export and verification:
//!
//! - `manifest.json` ([`PreparedManifest`]): the encoder, the input normalization, counts, the
//!   split rule and digests, the balancing and augmentation reports, the settings, and the
//!   size and BLAKE3 hash of every other file. It is written last: a folder without it is
//!   incomplete.
//! - `train.safetensors`, `val.safetensors`, `test.safetensors` ([`Split`]): `features` `F32
//!   [N, F]`, `legal` `U8 [N, A]`, `action` `I32 [N]`, `weight` `F32 [N]`, `value` `F32 [N]`, and
//!   the metadata key `format`.
//! - `scenarios.json`: the game's [`Scenario`]s, a JSON array.

mod manifest;
mod settings;
mod split;

pub use manifest::{
    AugmentReport, BalanceReport, Counts, Distribution, EncoderInfo, FileInfo, Normalization,
    PreparedManifest, ScenarioInfo, SplitInfo,
};
pub use settings::{BalanceMethod, PrepareConfig};
pub use split::{Split, SplitName};

use crate::FormatError;
use crate::error::{pretty_json, read_json};
use std::path::Path;
use tactician_battle::Scenario;

/// The `format` value of a prepared manifest (and of each split file's metadata).
pub const PREPARED_FORMAT: &str = "tactician-prepared/1";
/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The scenarios' file name.
pub const SCENARIOS: &str = "scenarios.json";

/// The files a prepared folder holds.
pub const PREPARED_FILES: [&str; 5] = [
    MANIFEST,
    "train.safetensors",
    "val.safetensors",
    "test.safetensors",
    SCENARIOS,
];

/// Whether `name` is a file of a prepared folder (an output folder's own-file test).
pub fn is_prepared_file(name: &str) -> bool {
    PREPARED_FILES.contains(&name)
}

/// Reads `scenarios.json` of the prepared folder `dir`.
pub fn read_scenarios(dir: &Path) -> Result<Vec<Scenario>, FormatError> {
    read_json(&dir.join(SCENARIOS), "scenarios file")
}

/// The bytes of `scenarios.json` for `scenarios` (pretty JSON, final newline).
pub fn scenarios_json(scenarios: &[Scenario]) -> Vec<u8> {
    pretty_json(&scenarios)
}

/// Size and BLAKE3 hash of the file at `path`.
pub fn file_info(path: &Path) -> Result<FileInfo, FormatError> {
    let file = std::fs::File::open(path).map_err(|e| FormatError::read(path, e))?;
    let mut hasher = blake3::Hasher::new();
    hasher
        .update_reader(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| FormatError::read(path, e))?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| FormatError::read(path, e))?
        .len();
    Ok(FileInfo {
        bytes,
        blake3: hasher.finalize().to_hex().to_string(),
    })
}

#[cfg(test)]
mod tests;
