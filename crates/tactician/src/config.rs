//! The pipeline's settings file (TOML): built-in defaults, overridden by the file's values.
//!
//! ```toml
//! run_dir = "runs/default"
//!
//! [collect]
//! battles = 2100
//! matchups = "all"
//! seed = 0
//! max_rounds = 30
//! shard_size = 500
//! compress = true
//! zero_wall_clock = false
//! # threads = 2          # default: one per core
//!
//! [ingest]
//! max_reject_rate = 0.0   # the built-in game's logs must be perfect
//! features_codec = "lz4"  # lz4 | none (4x larger, faster to prepare) | zstd
//!
//! [prepare]               # see docs/prepare.md
//! players = ["search"]    # behaviour cloning of the search strategy; [] keeps everyone
//! train = 0.8
//! val = 0.1
//! test = 0.1
//! seed = 0
//! balance = "weights"     # none | weights | resample
//! augment = true
//!
//! [train]                 # see docs/train.md
//! hidden = [128, 128]
//! activation = "relu"     # relu | relu6 | tanh
//! optimizer = "adamw"     # adam | adamw
//! lr = 0.003
//! schedule = "cosine"     # constant | step | cosine (with warmup_epochs)
//! batch_size = 256
//! epochs = 30
//! patience = 6            # epochs without a better validation loss (0: never stop early)
//! seed = 0
//!
//! [tune]                  # `tactician tune`: random or grid search over [tune.space]
//! method = "random"
//! trials = 6
//! space = { lr = [0.001, 0.003, 0.01], hidden = [[64, 64], [128, 128], [256, 128]], batch_size = [128, 256] }
//!
//! [eval]                  # see docs/eval.md
//! battles = 100           # per opponent, half on each side (even; 0 skips the battles)
//! seed = 0
//! opponents = []          # [] plays every registered strategy
//! max_rounds = 30
//! turning_points = 3
//!
//! [eval.gates]            # none by default; the pipeline stops below a gate
//! # min_teacher_agreement = 0.85
//! # min_win_rate = { random = 0.7, aggressive = 0.7 }
//!
//! [verify]                # the verify step's gates
//! min_f32_agreement = 1.0
//! min_int8_agreement = 0.995
//! ```
//!
//! Unknown keys are refused, so a typo cannot silently fall back to a default.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tactician_data::collect::Settings;

/// The settings of `tactician pipeline`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    /// Folder for everything the pipeline writes.
    pub run_dir: PathBuf,
    /// The collection step.
    pub collect: CollectSection,
    /// The ingest step.
    pub ingest: IngestSection,
    /// The prepare step (defaults: behaviour cloning of the `search` strategy; see
    /// docs/prepare.md).
    pub prepare: tactician_data::prepare::PrepareConfig,
    /// The evaluation step (see docs/eval.md).
    pub eval: EvalSection,
    /// The verify step's gates.
    pub verify: VerifySection,
    /// The training step (see docs/train.md).
    pub train: tactician_train::TrainConfig,
    /// The search space of `tactician tune` (see docs/train.md).
    pub tune: tactician_train::tune::TuneConfig,
}

/// The `[ingest]` section: see `tactician ingest --help`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSection {
    /// Fail when more than this fraction of records is quarantined (the built-in game's logs
    /// should have none, so the default is 0).
    pub max_reject_rate: f64,
    /// Compression of the dataset's feature vectors: `none`, `lz4` or `zstd`.
    pub features_codec: tactician_data::dataset::table::FeatureCodec,
}

impl Default for IngestSection {
    fn default() -> Self {
        Self {
            max_reject_rate: 0.0,
            features_codec: Default::default(),
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            run_dir: PathBuf::from("runs/default"),
            collect: CollectSection::default(),
            ingest: IngestSection::default(),
            prepare: tactician_data::prepare::PrepareConfig::default(),
            eval: EvalSection::default(),
            verify: VerifySection::default(),
            train: tactician_train::TrainConfig::default(),
            tune: tactician_train::tune::TuneConfig::default(),
        }
    }
}

/// The `[collect]` section: see `tactician collect --help` for each setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectSection {
    /// Battles to play.
    pub battles: u64,
    /// Matchup spec.
    pub matchups: String,
    /// Run seed.
    pub seed: u64,
    /// Round limit per battle.
    pub max_rounds: u16,
    /// Battles per log file.
    pub shard_size: u64,
    /// zstd-compress the logs.
    pub compress: bool,
    /// Write 0 in every wall-clock field.
    pub zero_wall_clock: bool,
    /// Worker threads (default: one per core). Does not change what is collected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<usize>,
}

impl Default for CollectSection {
    fn default() -> Self {
        let s = Settings::default();
        Self {
            // 100 battles for each of the 21 matchups of the six built-in strategies.
            battles: 2100,
            matchups: s.matchups,
            seed: s.seed,
            max_rounds: s.max_rounds,
            shard_size: s.shard_size,
            compress: s.compress,
            zero_wall_clock: s.zero_wall_clock,
            threads: None,
        }
    }
}

impl CollectSection {
    /// The collection settings this section describes.
    pub fn settings(&self) -> Settings {
        Settings {
            battles: self.battles,
            matchups: self.matchups.clone(),
            seed: self.seed,
            max_rounds: self.max_rounds,
            shard_size: self.shard_size,
            compress: self.compress,
            zero_wall_clock: self.zero_wall_clock,
        }
    }
}

impl PipelineConfig {
    /// The defaults, or the defaults overridden by the TOML file at `path`.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config file {}", path.display()))
    }

    /// Parses TOML text over the defaults.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        // toml's message spans several lines (it quotes the offending line); keep it on one.
        toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(span) => {
                    let line = text[..span.start].matches('\n').count() + 1;
                    anyhow::anyhow!("line {line}: {msg}")
                }
                None => anyhow::anyhow!(msg),
            }
        })
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("the config serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            PipelineConfig::parse("").unwrap(),
            PipelineConfig::default()
        );
        let c =
            PipelineConfig::parse("run_dir = \"x\"\n[collect]\nbattles = 5\nseed = 3\n").unwrap();
        assert_eq!(c.run_dir, PathBuf::from("x"));
        assert_eq!((c.collect.battles, c.collect.seed), (5, 3));
        assert_eq!(c.collect.matchups, "all");
        let back = PipelineConfig::parse(&c.to_toml()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn typos_are_refused_with_the_line() {
        let e = PipelineConfig::parse("[collect]\nbattels = 5\n").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("line 2") && msg.contains("battels"), "{msg}");
        let e = PipelineConfig::parse("[collect]\nbattles = \"many\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("line 2"), "{e:#}");
    }
}

/// The `[eval]` section: see `tactician eval --help`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvalSection {
    /// Validation battles per opponent (even; 0 skips them).
    pub battles: usize,
    /// Run seed of the battles.
    pub seed: u64,
    /// Opponents (empty: every registered strategy).
    pub opponents: Vec<String>,
    /// Round limit per battle.
    pub max_rounds: u16,
    /// Battles whose turning points are listed.
    pub turning_points: usize,
    /// Gates on what is measured (`[eval.gates]`: `min_teacher_agreement`, and
    /// `min_win_rate` per opponent); none by default. The pipeline stops when the model is
    /// below one.
    pub gates: tactician_eval::Gates,
}

impl Default for EvalSection {
    fn default() -> Self {
        Self {
            battles: 100,
            seed: 0,
            opponents: Vec::new(),
            max_rounds: tactician_game::rules::DEFAULT_MAX_ROUNDS,
            turning_points: 3,
            gates: tactician_eval::Gates::default(),
        }
    }
}

/// The `[verify]` section: the agreement gates of `tactician verify` (see its `--help`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifySection {
    /// Minimum top-1 agreement of the float32 file with the float model.
    pub min_f32_agreement: f64,
    /// Minimum top-1 agreement of the int8 and dynamic files with the float model.
    pub min_int8_agreement: f64,
}

impl Default for VerifySection {
    fn default() -> Self {
        Self {
            min_f32_agreement: tactician_export::DEFAULT_GATE_F32,
            min_int8_agreement: tactician_export::DEFAULT_GATE_QUANTIZED,
        }
    }
}
