//! `tactician train`: trains the policy network on prepared data.

use crate::cli::{TrainArgs, TrainFlags};
use crate::config::PipelineConfig;
use anyhow::Context;
use indicatif::ProgressBar;
use std::path::Path;
use tactician_train::train::{EpochMetrics, Progress, TrainOptions, TrainSummary};
use tactician_train::{Activation, OptimizerKind, Prepared, ScheduleKind, TrainConfig};

/// The `[train]` settings of the config file, overridden by the flags.
pub fn settings(flags: &TrainFlags) -> anyhow::Result<(PipelineConfig, TrainConfig)> {
    let config = PipelineConfig::load(flags.config.as_deref())?;
    let mut c = config.train.clone();
    if let Some(h) = &flags.hidden {
        c.hidden = h.clone();
    }
    if let Some(a) = &flags.activation {
        c.activation = Activation::from_name(a)
            .with_context(|| format!("unknown activation `{a}` (relu, relu6 or tanh)"))?;
    }
    if let Some(o) = &flags.optimizer {
        c.optimizer = match o.as_str() {
            "adam" => OptimizerKind::Adam,
            "adamw" => OptimizerKind::Adamw,
            _ => anyhow::bail!("unknown optimizer `{o}` (adam or adamw)"),
        };
    }
    if let Some(s) = &flags.schedule {
        c.schedule = match s.as_str() {
            "constant" => ScheduleKind::Constant,
            "step" => ScheduleKind::Step,
            "cosine" => ScheduleKind::Cosine,
            _ => anyhow::bail!("unknown schedule `{s}` (constant, step or cosine)"),
        };
    }
    macro_rules! set {
        ($($f:ident),*) => { $( if let Some(v) = flags.$f { c.$f = v; } )* };
    }
    set!(
        lr,
        batch_size,
        epochs,
        weight_decay,
        patience,
        value_weight,
        seed
    );
    if flags.no_value_head {
        c.value_head = false;
    }
    if let Some(t) = flags.threads {
        c.threads = t;
    }
    c.validate()?;
    Ok((config, c))
}

/// A progress bar per epoch with the running loss.
pub struct Bar {
    quiet: bool,
    bar: Option<ProgressBar>,
    label: String,
}

impl Bar {
    /// Bars labelled `label`, hidden when `quiet`.
    pub fn new(label: &str, quiet: bool) -> Self {
        Self {
            quiet,
            bar: None,
            label: label.to_string(),
        }
    }
}

impl Progress for Bar {
    fn epoch_start(&mut self, epoch: usize, epochs: usize, batches: usize) {
        let bar = crate::progress::bar(
            &format!("{} {epoch}/{epochs}", self.label),
            "batches",
            batches as u64,
            self.quiet,
        );
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:>14} [{bar:30.cyan/blue}] {pos}/{len} batches ({per_sec}, eta {eta}) {msg}",
        )
        .expect("the template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("{} {epoch}/{epochs}", self.label));
        self.bar = Some(bar);
    }

    fn batch(&mut self, done: usize, loss: f64) {
        if let Some(b) = &self.bar {
            b.set_position(done as u64);
            if done % 8 == 0 {
                b.set_message(format!("loss {loss:.4}"));
            }
        }
    }

    fn epoch_end(&mut self, m: &EpochMetrics) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !self.quiet {
            eprintln!(
                "{:>10} {:>3}: train loss {:.4} acc {:.1}% | val loss {:.4} top-1 {:.1}% top-3 {:.1}% | lr {:.2e} | {:.0} samples/s",
                self.label,
                m.epoch,
                m.train_loss,
                100.0 * m.train_acc,
                m.val_loss,
                100.0 * m.val_top1,
                100.0 * m.val_top3,
                m.lr,
                m.samples_per_sec
            );
        }
    }
}

/// Runs a training and returns its summary.
pub fn run_train(
    prepared: &Path,
    config: TrainConfig,
    out: &Path,
    resume: bool,
    force: bool,
    expect_encoder: Option<&str>,
    quiet: bool,
) -> anyhow::Result<TrainSummary> {
    let data = Prepared::load(prepared, expect_encoder)?;
    let pause_at = std::env::var("TACTICIAN_TEST_PAUSE_AT").ok().and_then(|s| {
        let (e, b) = s.split_once(':')?;
        Some((e.parse().ok()?, b.parse().ok()?))
    });
    let opts = TrainOptions {
        config,
        out: out.to_path_buf(),
        resume,
        force,
        pause_at,
    };
    let mut bar = Bar::new("epoch", quiet);
    Ok(tactician_train::train(&data, &opts, &mut bar)?)
}

/// The summary as Markdown.
pub fn to_markdown(s: &TrainSummary) -> String {
    format!(
        "## train: {}\n\n\
         | | |\n|---|---|\n\
         | stopped | {} |\n| epochs run | {} |\n| kept weights | epoch {} (best validation loss {:.4}) |\n\
         | validation top-1 (kept) | {:.2}% |\n| best validation top-1 | {:.2}% |\n\
         | convergence | 95% of the best top-1 at epoch {} |\n| throughput | {:.0} samples/s |\n\
         | time | {:.1} s |\n| peak RSS | {} |\n| model_version | {} |\n",
        s.model_dir.display(),
        s.stop_reason,
        s.epochs_run,
        s.best_epoch,
        s.best_val_loss,
        100.0 * s.best_val_top1,
        100.0 * s.max_val_top1,
        s.epochs_to_95pct,
        s.samples_per_sec,
        s.seconds,
        s.peak_rss_mib
            .map_or("unknown".into(), |m| format!("{m:.0} MiB")),
        s.model_version,
    )
}

/// Runs `tactician train`.
pub fn run(args: TrainArgs, quiet: bool) -> anyhow::Result<()> {
    let (_, config) = settings(&args.train)?;
    let summary = run_train(
        &args.prepared,
        config,
        &args.out,
        args.resume,
        args.force,
        args.expect_encoder.as_deref(),
        quiet,
    )?;
    if args.json {
        return super::print_json(&summary);
    }
    super::print(&to_markdown(&summary))
}

/// The pipeline's train step: trains `<run>/model` from `prepared` unless it already holds a
/// finished model of the same settings trained on unchanged data; an interrupted earlier run
/// with the same settings is resumed. Returns `("ran" | "reused", summary)`.
pub fn pipeline_step(
    config: &PipelineConfig,
    prepared: &Path,
    model: &Path,
    prepared_changed: bool,
    quiet: bool,
) -> anyhow::Result<(&'static str, Option<TrainSummary>)> {
    let mut train = config.train.clone();
    if train.threads == 0
        && let Some(t) = config.collect.threads
    {
        train.threads = t;
    }
    let status = tactician_train::train::read_status(model);
    let same_settings = |saved: Option<&serde_json::Value>| {
        saved
            .and_then(|v| serde_json::from_value::<TrainConfig>(v.clone()).ok())
            .is_some_and(|mut c| {
                c.threads = train.threads;
                c == train
            })
    };
    if !prepared_changed
        && status.as_ref().is_some_and(|s| s.state == "finished")
        && let Ok(m) = tactician_formats::model::Mlp::load(model)
        && same_settings(m.meta.training.get("config"))
    {
        let summary = serde_json::from_value(m.meta.training["summary"].clone()).ok();
        return Ok(("reused", summary));
    }
    // Resume an interrupted run of the same settings on the same data.
    let resume = !prepared_changed
        && status.as_ref().is_some_and(|s| s.state != "finished")
        && std::fs::read_to_string(tactician_train::train::run_dir(model).join("checkpoint.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .is_some_and(|v| same_settings(v.get("config")));
    let hash = tactician_game::SkirmishEncoder::feature_spec()
        .hash()
        .to_string();
    let summary = run_train(prepared, train, model, resume, !resume, Some(&hash), quiet)?;
    Ok(("ran", Some(summary)))
}
