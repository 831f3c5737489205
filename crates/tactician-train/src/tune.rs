//! Hyper-parameter search: random or grid search over a space of training settings, within a
//! trial budget; a leaderboard (JSON and CSV) and the best trial's model.

use crate::config::TrainConfig;
use crate::data::Prepared;
use crate::error::TrainError;
use crate::model;
use crate::rng::Rng;
use crate::train::{self, Progress, TrainOptions, TrainSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tactician_formats::model::is_model_file;

/// How trials are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMethod {
    /// Each trial draws every setting uniformly from its choices (seeded).
    Random,
    /// Every combination, in order, up to the trial budget.
    Grid,
}

/// The `[tune]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuneConfig {
    /// Random or grid search.
    pub method: SearchMethod,
    /// Trial budget.
    pub trials: usize,
    /// Seed of the random search.
    pub seed: u64,
    /// The space: a `[train]` setting name and the values to try, e.g.
    /// `lr = [0.001, 0.003]`, `hidden = [[64, 64], [128, 128]]`.
    pub space: BTreeMap<String, Vec<serde_json::Value>>,
}

impl Default for TuneConfig {
    fn default() -> Self {
        let mut space = BTreeMap::new();
        space.insert("lr".into(), vec![1e-3.into(), 3e-3.into(), 1e-2.into()]);
        space.insert(
            "hidden".into(),
            vec![
                serde_json::json!([64, 64]),
                serde_json::json!([128, 128]),
                serde_json::json!([256, 128]),
            ],
        );
        space.insert("batch_size".into(), vec![128.into(), 256.into()]);
        Self {
            method: SearchMethod::Random,
            trials: 6,
            seed: 0,
            space,
        }
    }
}

/// One row of the leaderboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trial {
    /// Trial number (0-based).
    pub trial: usize,
    /// The settings this trial changed.
    pub settings: BTreeMap<String, serde_json::Value>,
    /// `finished` or `failed`.
    pub status: String,
    /// The error of a failed trial.
    pub error: Option<String>,
    /// Best validation top-1 accuracy (the ranking key).
    pub val_top1: f64,
    /// Validation loss of the kept weights.
    pub val_loss: f64,
    /// Epoch of the kept weights.
    pub best_epoch: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// Training throughput.
    pub samples_per_sec: f64,
    /// Seconds of training.
    pub seconds: f64,
    /// The trial's model folder.
    pub model_dir: PathBuf,
}

/// The search's result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Leaderboard {
    /// Trials, best first (failed ones last).
    pub trials: Vec<Trial>,
    /// The best trial's model, copied to `<out>/best`.
    pub best_model: Option<PathBuf>,
}

/// `base` with the settings of `over` replaced (names checked against `[train]`).
pub fn apply(
    base: &TrainConfig,
    over: &BTreeMap<String, serde_json::Value>,
) -> Result<TrainConfig, TrainError> {
    let mut v = serde_json::to_value(base).map_err(|e| TrainError::Config(e.to_string()))?;
    let obj = v
        .as_object_mut()
        .ok_or_else(|| TrainError::Config("config is not a table".into()))?;
    for (k, val) in over {
        if !obj.contains_key(k) {
            return Err(TrainError::Config(format!(
                "the search space names `{k}`, which is not a [train] setting"
            )));
        }
        obj.insert(k.clone(), val.clone());
    }
    let c: TrainConfig =
        serde_json::from_value(v).map_err(|e| TrainError::Config(format!("search space: {e}")))?;
    c.validate()?;
    Ok(c)
}

/// The settings of every trial the search will run.
pub fn plan(t: &TuneConfig) -> Result<Vec<BTreeMap<String, serde_json::Value>>, TrainError> {
    if t.trials == 0 {
        return Err(TrainError::Config("tune: trials must be at least 1".into()));
    }
    if let Some((k, _)) = t.space.iter().find(|(_, v)| v.is_empty()) {
        return Err(TrainError::Config(format!(
            "tune: `{k}` has no values to try"
        )));
    }
    let keys: Vec<&String> = t.space.keys().collect();
    let mut out = Vec::new();
    match t.method {
        SearchMethod::Grid => {
            let total: usize = t.space.values().map(Vec::len).product();
            for i in 0..total.min(t.trials) {
                let mut rest = i;
                let mut m = BTreeMap::new();
                for k in keys.iter().rev() {
                    let vals = &t.space[*k];
                    m.insert((*k).clone(), vals[rest % vals.len()].clone());
                    rest /= vals.len();
                }
                out.push(m);
            }
        }
        SearchMethod::Random => {
            let mut rng = Rng::new(t.seed);
            for _ in 0..t.trials {
                let m = keys
                    .iter()
                    .map(|k| {
                        let vals = &t.space[*k];
                        (
                            (*k).clone(),
                            vals[rng.below(vals.len() as u64) as usize].clone(),
                        )
                    })
                    .collect();
                out.push(m);
            }
        }
    }
    Ok(out)
}

/// Receives a progress sink per trial and the trial's outcome.
pub trait TuneProgress {
    /// Trial `i` of `n` starts with `settings`; returns the progress sink of its training.
    fn trial_start(
        &mut self,
        i: usize,
        n: usize,
        settings: &BTreeMap<String, serde_json::Value>,
    ) -> Box<dyn Progress + '_>;
    /// Trial `i` ended.
    fn trial_end(&mut self, _trial: &Trial) {}
}

/// A [`TuneProgress`] that reports nothing.
pub struct NoTuneProgress;

impl TuneProgress for NoTuneProgress {
    fn trial_start(
        &mut self,
        _: usize,
        _: usize,
        _: &BTreeMap<String, serde_json::Value>,
    ) -> Box<dyn Progress + '_> {
        Box::new(crate::train::NoProgress)
    }
}

/// Runs the search into `out` (`trials/trial-NNN/`, `leaderboard.{json,csv}`, `best/`).
/// Trials already finished by an earlier run with the same settings are reused.
pub fn tune(
    data: &Prepared,
    base: &TrainConfig,
    t: &TuneConfig,
    out: &Path,
    progress: &mut dyn TuneProgress,
) -> Result<Leaderboard, TrainError> {
    let plans = plan(t)?;
    let configs = plans
        .iter()
        .map(|p| apply(base, p))
        .collect::<Result<Vec<_>, _>>()?;
    tactician_os::check_disjoint(out, &[&data.dir])?;
    std::fs::create_dir_all(out.join("trials"))
        .map_err(|e| TrainError::io("create", out.join("trials"), e))?;
    let mut trials = Vec::new();
    for (i, (settings, config)) in plans.iter().zip(configs).enumerate() {
        let dir = out.join("trials").join(format!("trial-{i:03}"));
        let reused = reuse(&dir, &config);
        let result = match reused {
            Some(s) => Ok(s),
            None => {
                let mut p = progress.trial_start(i, plans.len(), settings);
                let opts = TrainOptions {
                    config,
                    out: dir.clone(),
                    resume: false,
                    force: true,
                    pause_at: None,
                };
                train::train(data, &opts, p.as_mut())
            }
        };
        let trial = match result {
            Ok(s) => Trial {
                trial: i,
                settings: settings.clone(),
                status: "finished".into(),
                error: None,
                val_top1: s.best_val_top1,
                val_loss: s.best_val_loss,
                best_epoch: s.best_epoch,
                epochs_run: s.epochs_run,
                samples_per_sec: s.samples_per_sec,
                seconds: s.seconds,
                model_dir: dir,
            },
            Err(e) => Trial {
                trial: i,
                settings: settings.clone(),
                status: "failed".into(),
                error: Some(e.to_string()),
                val_top1: 0.0,
                val_loss: f64::NAN,
                best_epoch: 0,
                epochs_run: 0,
                samples_per_sec: 0.0,
                seconds: 0.0,
                model_dir: dir,
            },
        };
        progress.trial_end(&trial);
        trials.push(trial);
    }
    trials.sort_by(|a, b| {
        (b.status == "finished")
            .cmp(&(a.status == "finished"))
            .then(b.val_top1.total_cmp(&a.val_top1))
            .then(a.val_loss.total_cmp(&b.val_loss))
            .then(a.trial.cmp(&b.trial))
    });
    let best_model = match trials.first() {
        Some(best) if best.status == "finished" => {
            let dest = out.join("best");
            copy_model(&best.model_dir, &dest)?;
            Some(dest)
        }
        _ => None,
    };
    let board = Leaderboard { trials, best_model };
    let json =
        serde_json::to_string_pretty(&board).map_err(|e| TrainError::Config(e.to_string()))?;
    tactician_os::write_atomic(&out.join("leaderboard.json"), json.as_bytes())?;
    tactician_os::write_atomic(&out.join("leaderboard.csv"), to_csv(&board).as_bytes())?;
    Ok(board)
}

fn reuse(dir: &Path, config: &TrainConfig) -> Option<TrainSummary> {
    let status = train::read_status(dir)?;
    if status.state != "finished" {
        return None;
    }
    let m = model::TrainedModel::load(dir).ok()?;
    let saved: TrainConfig = serde_json::from_value(m.meta.training.get("config")?.clone()).ok()?;
    if saved != *config {
        return None;
    }
    serde_json::from_value(m.meta.training.get("summary")?.clone()).ok()
}

/// Copies the model folder `from` to `to`, replacing a previous model's files there.
fn copy_model(from: &Path, to: &Path) -> Result<(), TrainError> {
    let staged = tactician_os::OutputDir::create(to, is_model_file, true)?;
    for name in tactician_formats::model::MODEL_FILES {
        let src = from.join(name);
        if src.exists() {
            let bytes = std::fs::read(&src).map_err(|e| TrainError::io("read", &src, e))?;
            staged.write(name, &bytes)?;
        }
    }
    staged.commit(Some(tactician_formats::model::MODEL_JSON))?;
    Ok(())
}

/// The leaderboard as CSV.
pub fn to_csv(b: &Leaderboard) -> String {
    let mut s = String::from(
        "rank,trial,status,val_top1,val_loss,best_epoch,epochs_run,samples_per_sec,seconds,settings\n",
    );
    for (rank, t) in b.trials.iter().enumerate() {
        let settings = serde_json::to_string(&t.settings)
            .unwrap_or_default()
            .replace('"', "\"\"");
        s.push_str(&format!(
            "{},{},{},{:.6},{:.6},{},{},{:.0},{:.2},\"{}\"\n",
            rank + 1,
            t.trial,
            t.status,
            t.val_top1,
            t.val_loss,
            t.best_epoch,
            t.epochs_run,
            t.samples_per_sec,
            t.seconds,
            settings
        ));
    }
    s
}

/// The leaderboard as a Markdown table.
pub fn to_markdown(b: &Leaderboard) -> String {
    let mut s = String::from(
        "| rank | trial | val top-1 | val loss | best epoch | samples/s | settings |\n|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for (rank, t) in b.trials.iter().enumerate() {
        let settings = t
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        if t.status == "finished" {
            s.push_str(&format!(
                "| {} | {} | {:.2}% | {:.4} | {} | {:.0} | {} |\n",
                rank + 1,
                t.trial,
                100.0 * t.val_top1,
                t.val_loss,
                t.best_epoch,
                t.samples_per_sec,
                settings
            ));
        } else {
            s.push_str(&format!(
                "| {} | {} | failed | | | | {} ({}) |\n",
                rank + 1,
                t.trial,
                settings,
                t.error.as_deref().unwrap_or("")
            ));
        }
    }
    if let Some(best) = &b.best_model {
        s.push_str(&format!("\nBest model: {}\n", best.display()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_and_random_plans() {
        let mut t = TuneConfig {
            method: SearchMethod::Grid,
            trials: 100,
            ..Default::default()
        };
        let p = plan(&t).unwrap();
        assert_eq!(p.len(), 3 * 3 * 2);
        let distinct: std::collections::BTreeSet<String> = p
            .iter()
            .map(|m| serde_json::to_string(m).unwrap())
            .collect();
        assert_eq!(distinct.len(), p.len());
        t.method = SearchMethod::Random;
        t.trials = 5;
        assert_eq!(plan(&t).unwrap(), plan(&t).unwrap());
        assert_eq!(plan(&t).unwrap().len(), 5);
        let bad = BTreeMap::from([("lrr".to_string(), serde_json::json!(0.1))]);
        assert!(
            apply(&TrainConfig::default(), &bad)
                .unwrap_err()
                .to_string()
                .contains("lrr")
        );
        let bad = BTreeMap::from([("lr".to_string(), serde_json::json!(-0.1))]);
        assert!(apply(&TrainConfig::default(), &bad).is_err());
    }
}
