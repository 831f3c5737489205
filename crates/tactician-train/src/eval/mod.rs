//! Evaluation of a trained model: test-split accuracy and confusion matrix, scenario results,
//! validation battles against the scripted strategies, and turning points.
//!
//! - [`Mlp`]: loads a model folder (`model.json` + `model.safetensors`, `tactician-mlp/1`) and
//!   runs it in plain float arithmetic.
//! - [`ModelPlayer`]: the game's [`Strategy`](tactician_game::strategy::Strategy) backed by a
//!   model, refused unless the model was trained for the game's encoder.
//! - [`evaluate`]: everything at once, as an [`EvalReport`] (serde) that
//!   [`EvalReport::to_text`] prints as tables.
//!
//! ```no_run
//! use std::path::Path;
//! use tactician_train::eval::{EvalSettings, evaluate};
//!
//! let settings = EvalSettings { data: Some("run/prepared".into()), ..Default::default() };
//! let report = evaluate(Path::new("run/model"), &settings, &|_, _| {}).unwrap();
//! println!("{}", report.to_text());
//! ```

mod battles;
mod data;
mod metrics;
mod model;
mod player;
mod render;
mod scenarios;
#[cfg(test)]
mod tests;
mod wilson;

pub use battles::{
    BattleMoments, BattleReport, BattleSettings, MAX_BATTLES, OpponentResult, TurningPoint, Wdl,
    battle_seed, opponent_seed, play_battles,
};
pub use data::{
    MANIFEST, PreparedEncoder, PreparedManifest, SCENARIOS, Scenario, Split, TEST_SPLIT,
    read_manifest, read_scenarios, read_split, write_split,
};
pub use metrics::{Confusion, ConfusionRow, TestMetrics, ValueError, compact, test_metrics};
pub use model::{
    Activation, Dense, MODEL_FORMAT, MODEL_JSON, MODEL_WEIGHTS, Mlp, ModelMeta, Output,
};
pub use player::{Decision, ModelPlayer, masked_argmax, masked_softmax, masked_top_k};
pub use scenarios::{Choice, ScenarioReport, ScenarioResult, run_scenarios};
pub use wilson::{Interval, Z_95, wilson, wilson95};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tactician_game::{GameError, SkirmishEncoder};

/// The issue's quality bar: agreement with the teacher on test decisions.
pub const TARGET_AGREEMENT: f64 = 0.85;
/// The issue's quality bar: win rate against each non-search strategy.
pub const TARGET_WIN_RATE: f64 = 0.70;

/// Why an evaluation cannot be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// A file cannot be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file is malformed or lacks a field.
    #[error("{path} is not valid: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A safetensors file is corrupt.
    #[error("{path} is not a valid safetensors file: {message}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        message: String,
    },
    /// A file is readable but its content does not fit (types, shapes, values).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The model or data was made for another encoder.
    #[error(
        "the {what} was made for encoder {found}, but this is {expected}: retrain (or re-prepare) with the current encoder"
    )]
    EncoderMismatch {
        /// What does not fit.
        what: String,
        /// Its encoder.
        found: String,
        /// The encoder expected.
        expected: String,
    },
    /// An opponent is not a registered strategy.
    #[error(transparent)]
    UnknownStrategy(#[from] tactician_game::strategy::UnknownStrategy),
    /// Battles per opponent must be even and positive.
    #[error(
        "battles per opponent must be even (each seed is played from both sides), positive and at most {MAX_BATTLES}, got {0}"
    )]
    Battles(usize),
    /// No opponent named.
    #[error("no opponent to play against")]
    NoOpponents,
    /// The round limit is zero.
    #[error("the round limit must be positive, got {0}")]
    MaxRounds(u16),
    /// The worker pool cannot be built.
    #[error("cannot start the worker threads: {0}")]
    Threads(String),
    /// The model found no legal action (cannot happen with the built-in game).
    #[error("the model found no legal action in battle seed {seed}")]
    NoLegalAction {
        /// The battle's seed.
        seed: u64,
    },
    /// A player broke the rules.
    #[error("{player} broke the rules in battle seed {seed}: {source}")]
    Game {
        /// Who.
        player: String,
        /// The battle's seed.
        seed: u64,
        /// What the game said.
        source: GameError,
    },
}

/// What to evaluate besides the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalSettings {
    /// The prepared folder (test split, manifest, scenarios); skipped when `None`.
    pub data: Option<PathBuf>,
    /// The validation battles; skipped when `None`.
    pub battles: Option<BattleSettings>,
    /// Worker threads (default: rayon's global pool, one per core). Results do not depend on
    /// it.
    pub threads: Option<usize>,
}

/// The model's description in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    /// The model folder.
    pub path: PathBuf,
    /// `model_version` from `model.json`.
    pub version: String,
    /// The encoder hash.
    pub encoder_hash: String,
    /// Inputs.
    pub inputs: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Activation.
    pub activation: Activation,
    /// Actions.
    pub actions: usize,
    /// Whether it has a value head.
    pub value_head: bool,
    /// Number of weights and biases.
    pub parameters: usize,
}

impl ModelSummary {
    /// The summary of `model` loaded from `path`.
    pub fn of(model: &Mlp, path: &Path) -> Self {
        let parameters = model
            .hidden
            .iter()
            .chain(std::iter::once(&model.policy))
            .chain(model.value.iter())
            .map(|d| d.weight.len() + d.bias.len())
            .sum();
        Self {
            path: path.to_path_buf(),
            version: model.meta.model_version.clone(),
            encoder_hash: model.meta.encoder_hash.clone(),
            inputs: model.meta.inputs,
            hidden: model.meta.hidden.clone(),
            activation: model.meta.activation,
            actions: model.meta.actions,
            value_head: model.meta.value_head,
            parameters,
        }
    }
}

/// One line of the quality bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What is measured.
    pub name: String,
    /// The measurement.
    pub value: f64,
    /// The bar.
    pub target: f64,
    /// `value >= target`.
    pub pass: bool,
}

/// Everything `tactician eval` measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The model.
    pub model: ModelSummary,
    /// Test-split metrics, with prepared data.
    pub test: Option<TestMetrics>,
    /// Scenario results, with prepared data that has scenarios.
    pub scenarios: Option<ScenarioReport>,
    /// Validation battles, unless skipped.
    pub battles: Option<BattleReport>,
    /// The issue's quality bar: teacher agreement and win rate against each non-search
    /// strategy, for what was measured.
    pub quality: Vec<Check>,
}

/// Loads the model in `model_dir`, refusing one made for another encoder than the game's.
pub fn load_model(model_dir: &Path) -> Result<Mlp, EvalError> {
    let model = Mlp::load(model_dir)?;
    model.check_encoder(SkirmishEncoder::feature_spec())?;
    Ok(model)
}

/// Checks that prepared folder `dir` was made with the model's encoder.
pub fn check_prepared(model: &Mlp, dir: &Path) -> Result<PreparedManifest, EvalError> {
    let manifest = read_manifest(dir)?;
    if manifest.encoder.hash != model.meta.encoder_hash {
        return Err(EvalError::EncoderMismatch {
            what: format!("prepared data in {}", dir.display()),
            found: manifest.encoder.hash,
            expected: model.meta.encoder_hash.clone(),
        });
    }
    Ok(manifest)
}

/// Test metrics and scenario results of `model` on prepared folder `dir`. The scenarios are
/// `None` when the folder has no `scenarios.json`.
pub fn evaluate_data(
    model: &Mlp,
    dir: &Path,
) -> Result<(TestMetrics, Option<ScenarioReport>), EvalError> {
    check_prepared(model, dir)?;
    let path = dir.join(TEST_SPLIT);
    let split = read_split(&path)?;
    let test = test_metrics(model, &split, &path)?;
    let scenarios_path = dir.join(SCENARIOS);
    let scenarios = if scenarios_path.exists() {
        let list = read_scenarios(dir)?;
        Some(run_scenarios(model, &list, &scenarios_path)?)
    } else {
        None
    };
    Ok((test, scenarios))
}

/// Evaluates the model in `model_dir` as `settings` say, calling `progress(done, total)` after
/// every battle.
pub fn evaluate(
    model_dir: &Path,
    settings: &EvalSettings,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<EvalReport, EvalError> {
    if let Some(threads) = settings.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| EvalError::Threads(e.to_string()))?;
        return pool.install(|| evaluate_here(model_dir, settings, progress));
    }
    evaluate_here(model_dir, settings, progress)
}

/// [`evaluate`] on the current rayon pool.
fn evaluate_here(
    model_dir: &Path,
    settings: &EvalSettings,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<EvalReport, EvalError> {
    let model = Arc::new(load_model(model_dir)?);
    if let Some(b) = &settings.battles {
        battles::validate(b)?;
    }
    let (test, scenarios) = match &settings.data {
        Some(dir) => {
            let (t, s) = evaluate_data(&model, dir)?;
            (Some(t), s)
        }
        None => (None, None),
    };
    let battles = match &settings.battles {
        Some(b) => Some(play_battles(&model, b, progress)?),
        None => None,
    };
    Ok(EvalReport::new(
        ModelSummary::of(&model, model_dir),
        test,
        scenarios,
        battles,
    ))
}

impl EvalReport {
    /// A report from its parts, with the quality bar filled in.
    pub fn new(
        model: ModelSummary,
        test: Option<TestMetrics>,
        scenarios: Option<ScenarioReport>,
        battles: Option<BattleReport>,
    ) -> Self {
        let mut quality = Vec::new();
        if let Some(t) = &test {
            quality.push(Check {
                name: "teacher agreement (test top-1)".into(),
                value: t.top1,
                target: TARGET_AGREEMENT,
                pass: t.top1 >= TARGET_AGREEMENT,
            });
        }
        if let Some(b) = &battles {
            for o in b.opponents.iter().filter(|o| o.opponent != "search") {
                quality.push(Check {
                    name: format!("win rate vs {}", o.opponent),
                    value: o.win_rate,
                    target: TARGET_WIN_RATE,
                    pass: o.win_rate >= TARGET_WIN_RATE,
                });
            }
        }
        Self {
            model,
            test,
            scenarios,
            battles,
            quality,
        }
    }
}
