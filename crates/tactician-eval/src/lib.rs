//! Evaluation of a trained model: test-split accuracy and confusion matrix, scenario results,
//! validation battles against the built-in game's scripted strategies, turning points, and
//! gates on what was measured.
//!
//! The model folder and prepared folder are read through `tactician-formats`; the model runs
//! in plain float arithmetic ([`Mlp::forward`](tactician_formats::model::Mlp::forward)) and
//! chooses as the device does ([`masked_argmax`]).
//!
//! - [`ModelPlayer`]: the game's [`Strategy`](tactician_game::strategy::Strategy) backed by a
//!   model, refused unless the model was trained for the game's encoder.
//! - [`evaluate`]: everything at once, as an [`EvalReport`] (serde) that
//!   [`EvalReport::to_text`] prints as tables.
//!
//! ```no_run
//! use std::path::Path;
//! use tactician_eval::{EvalSettings, evaluate};
//!
//! let settings = EvalSettings { data: Some("run/prepared".into()), ..Default::default() };
//! let report = evaluate(Path::new("run/model"), &settings, &|_, _| {}).unwrap();
//! println!("{}", report.to_text());
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod battles;
mod metrics;
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
pub use metrics::{Confusion, ConfusionRow, TestMetrics, ValueError, compact, test_metrics};
pub use player::{Decision, ModelPlayer, masked_softmax, masked_top_k};
pub use scenarios::{Choice, ScenarioReport, ScenarioResult, run_scenarios};
pub use tactician_runtime::masked_argmax;
pub use wilson::{Interval, Z_95, wilson, wilson95};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tactician_battle::FeatureSpec;
use tactician_formats::FormatError;
use tactician_formats::model::{Activation, Mlp};
use tactician_formats::prepared::{PreparedManifest, SplitName, read_scenarios};
use tactician_game::{GameError, SkirmishEncoder};

/// Why an evaluation cannot be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The model folder or the prepared folder cannot be read.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A file's content does not fit the model (sizes, values).
    #[error("{path}: {message}")]
    Invalid {
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
    #[error("{player} broke the rules in battle seed {seed}")]
    Game {
        /// Who.
        player: String,
        /// The battle's seed.
        seed: u64,
        /// What the game said.
        #[source]
        source: GameError,
    },
    /// A gate is not a fraction in [0, 1].
    #[error("the gate {name} = {value} is not a fraction in [0, 1]")]
    Gate {
        /// The gate.
        name: String,
        /// Its value.
        value: f64,
    },
    /// A gate is set on something the evaluation does not measure.
    #[error("the gate {name} cannot be checked: {why}")]
    Unmeasured {
        /// The gate.
        name: String,
        /// What is missing.
        why: String,
    },
}

/// Minimum figures a model must reach; each unset gate is not checked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gates {
    /// Minimum top-1 agreement with the recorded (teacher's) actions on the test split.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_teacher_agreement: Option<f64>,
    /// Minimum win rate against each named opponent.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub min_win_rate: BTreeMap<String, f64>,
}

impl Gates {
    /// Refuses a gate that is not a fraction in [0, 1].
    pub fn validate(&self) -> Result<(), EvalError> {
        let all = self
            .min_teacher_agreement
            .map(|v| ("min_teacher_agreement".to_string(), v))
            .into_iter()
            .chain(
                self.min_win_rate
                    .iter()
                    .map(|(o, v)| (format!("min_win_rate.{o}"), *v)),
            );
        for (name, value) in all {
            if !(0.0..=1.0).contains(&value) {
                return Err(EvalError::Gate { name, value });
            }
        }
        Ok(())
    }
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
    /// The gates checked in the report.
    pub gates: Gates,
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
        let parameters = model.parameters();
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

/// One gate, checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What is measured.
    pub name: String,
    /// The measurement.
    pub value: f64,
    /// The gate.
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
    /// The gates that were set and measured.
    pub gates: Vec<Check>,
}

impl EvalReport {
    /// The gates below their minimum, one line each (empty when all are met).
    pub fn failures(&self) -> Vec<String> {
        self.gates
            .iter()
            .filter(|c| !c.pass)
            .map(|c| {
                format!(
                    "{}: {:.1}% < gate {:.1}%",
                    c.name,
                    100.0 * c.value,
                    100.0 * c.target
                )
            })
            .collect()
    }
}

/// Loads the model in `model_dir`, refusing one made for another encoder than the game's.
pub fn load_model(model_dir: &Path) -> Result<Mlp, EvalError> {
    let model = Mlp::load(model_dir)?;
    check_encoder(&model, SkirmishEncoder::feature_spec())?;
    Ok(model)
}

/// Refuses `model` unless it was trained for `spec`: same encoder hash, feature count and
/// action names.
pub fn check_encoder(model: &Mlp, spec: &FeatureSpec) -> Result<(), EvalError> {
    let m = &model.meta;
    if m.encoder_hash != spec.hash() {
        return Err(EvalError::EncoderMismatch {
            what: "model".to_string(),
            found: m.encoder_hash.clone(),
            expected: spec.hash().to_string(),
        });
    }
    if m.inputs != spec.num_features() || m.action_names != spec.actions() {
        return Err(EvalError::EncoderMismatch {
            what: "model's features or actions".to_string(),
            found: format!(
                "{} features, actions [{}]",
                m.inputs,
                m.action_names.join(", ")
            ),
            expected: format!(
                "{} features, actions [{}]",
                spec.num_features(),
                spec.actions().join(", ")
            ),
        });
    }
    Ok(())
}

/// Checks that prepared folder `dir` was made with the model's encoder.
pub fn check_prepared(model: &Mlp, dir: &Path) -> Result<PreparedManifest, EvalError> {
    let manifest = PreparedManifest::read(dir)?;
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
    let path = dir.join(SplitName::Test.file_name());
    let split = tactician_formats::prepared::Split::read(&path, None)?;
    let test = test_metrics(model, &split, &path)?;
    let scenarios_path = dir.join(tactician_formats::prepared::SCENARIOS);
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
    settings.gates.validate()?;
    if settings.gates.min_teacher_agreement.is_some() && settings.data.is_none() {
        return Err(EvalError::Unmeasured {
            name: "min_teacher_agreement".into(),
            why: "it needs the prepared data's test split".into(),
        });
    }
    for opponent in settings.gates.min_win_rate.keys() {
        let played = settings
            .battles
            .as_ref()
            .is_some_and(|b| b.opponents.contains(opponent));
        if !played {
            return Err(EvalError::Unmeasured {
                name: format!("min_win_rate.{opponent}"),
                why: format!("{opponent:?} is not among the opponents played"),
            });
        }
    }
    // Battles are the built-in game's; without them a model of any game can be scored on its
    // prepared data (its encoder is checked against the data's).
    let model = Arc::new(match &settings.battles {
        Some(_) => load_model(model_dir)?,
        None => Mlp::load(model_dir)?,
    });
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
        &settings.gates,
    ))
}

impl EvalReport {
    /// A report from its parts, with the gates that were set checked against what was
    /// measured.
    pub fn new(
        model: ModelSummary,
        test: Option<TestMetrics>,
        scenarios: Option<ScenarioReport>,
        battles: Option<BattleReport>,
        gates: &Gates,
    ) -> Self {
        let mut checks = Vec::new();
        let mut check = |name: String, value: f64, target: f64| {
            checks.push(Check {
                name,
                value,
                target,
                pass: value >= target,
            });
        };
        if let (Some(t), Some(min)) = (&test, gates.min_teacher_agreement) {
            check("teacher agreement (test top-1)".into(), t.top1, min);
        }
        if let Some(b) = &battles {
            for o in &b.opponents {
                if let Some(&min) = gates.min_win_rate.get(&o.opponent) {
                    check(format!("win rate vs {}", o.opponent), o.win_rate, min);
                }
            }
        }
        Self {
            model,
            test,
            scenarios,
            battles,
            gates: checks,
        }
    }
}
