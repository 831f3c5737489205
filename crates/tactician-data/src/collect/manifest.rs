//! `collect.json`: what a collection run was asked for and what it wrote.

use super::error::CollectError;
use super::matchup::Matchup;
use super::shard::FileEntry;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::Path;
use tactician_battle::record::{EncoderInfo, GameInfo};
use tactician_game::GameConfig;

/// The `format` tag of a version 1 manifest.
pub const MANIFEST_FORMAT: &str = "tactician.collect/1";

/// Everything that decides the content of a collection. Two runs with equal settings write the
/// same battles (byte for byte with `zero_wall_clock`, else apart from the `wall` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Battles to play, 1 to [`MAX_BATTLES`](super::MAX_BATTLES).
    pub battles: u64,
    /// Matchup spec (see [`parse_matchups`](super::parse_matchups)).
    pub matchups: String,
    /// Run seed: battle `i` is played from `SplitMix64::derive(seed, i)`.
    pub seed: u64,
    /// Round limit of each battle, 1 to [`MAX_ROUNDS`](super::MAX_ROUNDS).
    pub max_rounds: u16,
    /// Battles per file, 1 to [`MAX_SHARD_SIZE`](super::MAX_SHARD_SIZE).
    pub shard_size: u64,
    /// zstd-compress the files (`.jsonl.zst`), else plain `.jsonl`.
    pub compress: bool,
    /// Write zero in every wall-clock field, making the files reproducible byte for byte.
    pub zero_wall_clock: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            battles: 1000,
            matchups: "all".to_string(),
            seed: 0,
            max_rounds: GameConfig::default().max_rounds,
            shard_size: 500,
            compress: true,
            zero_wall_clock: false,
        }
    }
}

impl Settings {
    /// The rules each battle is played with.
    pub fn game_config(&self) -> GameConfig {
        GameConfig {
            max_rounds: self.max_rounds,
            ..GameConfig::default()
        }
    }
}

/// The manifest of a finished collection, written last: a folder holds a complete collection
/// exactly when it holds `collect.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// The program that wrote it, e.g. `tactician-data 0.1.0`.
    pub tool: String,
    /// The game played.
    pub game: GameInfo,
    /// The rules the battles were played with.
    pub rules: GameConfig,
    /// The encoder of the features.
    pub encoder: EncoderInfo,
    /// The settings of the run.
    pub settings: Settings,
    /// The matchups the spec expanded to, in schedule order.
    pub matchups: Vec<Matchup>,
    /// Battles written.
    pub battles: u64,
    /// Decisions written.
    pub decisions: u64,
    /// The files, in battle order.
    pub files: Vec<FileEntry>,
    /// Wall-clock facts of the run (not reproducible).
    pub wall: RunWall,
}

/// Wall-clock facts of a collection run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RunWall {
    /// Unix time the run started, in milliseconds.
    pub started_unix_ms: u64,
    /// Seconds the battles took to play and write.
    pub seconds: f64,
    /// Worker threads used.
    pub threads: usize,
}

/// Reads and checks the manifest of the collection in `dir`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, CollectError> {
    let path = dir.join(super::MANIFEST_NAME);
    let bytes = fs::read(&path).map_err(|source| CollectError::Read {
        path: path.clone(),
        source,
    })?;
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| CollectError::Corrupt {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if m.format != MANIFEST_FORMAT {
        return Err(CollectError::Corrupt {
            path,
            reason: format!("format {:?} is not {MANIFEST_FORMAT:?}", m.format),
        });
    }
    Ok(m)
}
