//! `tactician eval`.

use crate::cli::EvalArgs;
use crate::config::{EvalSection, PipelineConfig};
use crate::progress;
use anyhow::Context;
use std::path::{Path, PathBuf};
use tactician_eval::{BattleSettings, EvalReport, EvalSettings, Gates, evaluate};
use tactician_formats::model::MODEL_JSON;
use tactician_game::{GameConfig, strategy};

/// Evaluates a model and prints the report.
pub fn run(args: EvalArgs, quiet: bool) -> anyhow::Result<()> {
    let battles = (args.battles > 0).then(|| BattleSettings {
        battles: args.battles,
        seed: args.seed,
        opponents: opponents(&args.opponents),
        config: GameConfig {
            max_rounds: args.max_rounds,
            ..GameConfig::default()
        },
        turning_battles: args.turning_points,
    });
    let settings = EvalSettings {
        data: args.data,
        battles,
        threads: args.threads,
        gates: Gates {
            min_teacher_agreement: args.min_agreement,
            min_win_rate: args.min_win_rate.into_iter().collect(),
        },
    };
    let report = eval(&args.model, &settings, quiet)?;
    if args.json {
        super::print_json(&report)?;
    } else {
        super::print(&report.to_text())?;
    }
    super::fail_below("below the evaluation gates", report.failures())
}

/// The opponents named, or every registered strategy.
pub fn opponents(names: &[String]) -> Vec<String> {
    if names.is_empty() {
        strategy::NAMES.iter().map(|s| s.to_string()).collect()
    } else {
        names.iter().map(|s| s.trim().to_string()).collect()
    }
}

/// Evaluates the model in `model` with a progress bar over the battles.
pub fn eval(model: &Path, settings: &EvalSettings, quiet: bool) -> anyhow::Result<EvalReport> {
    let total = settings
        .battles
        .as_ref()
        .map_or(0, |b| (b.battles * b.opponents.len()) as u64);
    let bar = progress::bar("eval", "battles", total, quiet);
    let result = evaluate(model, settings, &|done, _| bar.set_position(done));
    bar.finish_and_clear();
    result.with_context(|| format!("cannot evaluate the model in {}", model.display()))
}

/// The evaluation settings of the pipeline's `[eval]` section on prepared folder `prepared`.
pub fn settings(
    section: &EvalSection,
    prepared: Option<PathBuf>,
    threads: Option<usize>,
) -> EvalSettings {
    let battles = (section.battles > 0).then(|| BattleSettings {
        battles: section.battles,
        seed: section.seed,
        opponents: opponents(&section.opponents),
        config: GameConfig {
            max_rounds: section.max_rounds,
            ..GameConfig::default()
        },
        turning_battles: section.turning_points,
    });
    EvalSettings {
        data: prepared,
        battles,
        threads,
        gates: section.gates.clone(),
    }
}

/// The pipeline's eval step: evaluates the model in `model` (if the run has one) on
/// `prepared` and writes the report to `<run>/eval.json`. `None` when there is no model yet.
pub fn pipeline_step(
    config: &PipelineConfig,
    model: &Path,
    prepared: &Path,
    quiet: bool,
) -> anyhow::Result<Option<EvalReport>> {
    if !model.join(MODEL_JSON).exists() {
        return Ok(None);
    }
    let settings = settings(
        &config.eval,
        Some(prepared.to_path_buf()),
        config.collect.threads,
    );
    let report = eval(model, &settings, quiet)?;
    let path = config.run_dir.join("eval.json");
    let mut text = serde_json::to_string_pretty(&report)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(report))
}
