//! `tactician pipeline`: every step that exists, in order, in one run folder.
//!
//! Steps: collect (into `<run>/logs`), ingest (into the dataset `<run>/dataset`), statistics
//! (`<run>/stats.md`), prepare (training tensors in `<run>/prepared`), train (`<run>/model`,
//! its run folder `<run>/model.run`), eval (`<run>/eval.json`), export (`<run>/export`) and
//! verify. Collect, ingest, prepare and train reuse complete output made from the same input
//! with the same settings; the other steps run every time.

use crate::cli::PipelineArgs;
use crate::config::PipelineConfig;
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tactician_data::collect::{
    CollectConfig, MANIFEST_NAME, Settings, Summary, read_manifest, summarize,
};

/// What the pipeline did, as printed by `--json`.
#[derive(Debug, Serialize)]
struct Report {
    run_dir: PathBuf,
    config: PipelineConfig,
    collect: CollectReport,
    ingest: IngestStepReport,
    /// The dataset's statistics (also written in full to `<run>/stats.md`).
    stats: tactician_data::stats::Stats,
    prepare: PrepareStepReport,
    /// The train step.
    train: TrainStepReport,
    /// The evaluation of the run's model (`<run>/model`), when there is one; also written to
    /// `<run>/eval.json`.
    eval: Option<tactician_eval::EvalReport>,
    /// The export and verify steps (when a trained model exists).
    export: Option<super::verify::PipelineExport>,
    /// The deploy step (publish, the local device's update), when the gates pass.
    deploy: Option<super::deploy_step::DeployStep>,
    /// The serve step (one decision through the local device's API), after a deploy that left
    /// a model active.
    serve: Option<super::serve_step::ServeStep>,
}

/// The train step's part of the report.
#[derive(Debug, Serialize)]
struct TrainStepReport {
    /// `ran` or `reused`.
    status: &'static str,
    /// The training summary.
    summary: Option<tactician_train::TrainSummary>,
}

/// The prepare step's part of the report.
#[derive(Debug, Serialize)]
struct PrepareStepReport {
    /// `ran` or `reused`.
    status: &'static str,
    prepared: PathBuf,
    manifest: tactician_data::prepare::PreparedManifest,
}

/// The ingest step's part of the report.
#[derive(Debug, Serialize)]
struct IngestStepReport {
    /// `ran` or `reused`.
    status: &'static str,
    dataset: PathBuf,
    /// The ingest's report, when it ran.
    report: Option<tactician_data::ingest::IngestReport>,
    battles: u64,
    transitions: u64,
}

/// The collect step's part of the report.
#[derive(Debug, Serialize)]
struct CollectReport {
    /// `ran` or `reused`.
    status: &'static str,
    logs: PathBuf,
    summary: Summary,
}

/// Runs the pipeline.
pub fn run(args: PipelineArgs, quiet: bool) -> anyhow::Result<()> {
    let mut config = PipelineConfig::load(args.config.as_deref())?;
    if let Some(dir) = args.run_dir {
        config.run_dir = dir;
    }
    if args.threads.is_some() {
        config.collect.threads = args.threads;
    }
    let run_dir = config.run_dir.clone();
    std::fs::create_dir_all(&run_dir)
        .with_context(|| format!("cannot create run folder {}", run_dir.display()))?;
    let config_path = run_dir.join("tactician.toml");
    std::fs::write(&config_path, config.to_toml())
        .with_context(|| format!("cannot write {}", config_path.display()))?;

    let logs = run_dir.join("logs");
    let settings = config.collect.settings();
    let status = collect_step(&config, &logs, &settings, args.force, quiet)?;
    let summary = summarize(&logs)
        .with_context(|| format!("cannot read the collection in {}", logs.display()))?;
    let dataset = run_dir.join("dataset");
    let ingest = ingest_step(&config, &logs, &dataset, status == "ran", quiet)?;
    let stats = stats_step(&run_dir, &dataset)?;
    let prepared = run_dir.join("prepared");
    let prepare = prepare_step(&config, &dataset, &prepared, quiet)?;
    // The train step (docs/train.md): `<run>/model`, checkpoints in `<run>/model.run`.
    let (train_status, train) = super::train::pipeline_step(
        &config,
        &prepared,
        &run_dir.join("model"),
        prepare.status != "reused",
        quiet,
    )?;
    // The eval step: after training, on the run's model.
    let eval = super::eval::pipeline_step(&config, &run_dir.join("model"), &prepared, quiet)?;
    // The export and verify steps: after training, on the run's model (stops below the gates).
    let export = super::verify::pipeline_step(
        &run_dir.join("model"),
        &prepared,
        &run_dir.join("export"),
        &config.verify,
    )?;

    let gates = check_gates(eval.as_ref(), export.as_ref());
    // The deploy step: publish and a local device's update, once the gates pass.
    let deploy = match (&gates, &export) {
        (Ok(()), Some(_)) => Some(super::deploy_step::pipeline_step(
            &run_dir,
            &run_dir.join("export"),
        )?),
        _ => None,
    };
    let serve = match &deploy {
        Some(d) if tactician_serve::model::current_version(&d.device).is_some() => Some(
            super::serve_step::pipeline_step(&d.device, config.collect.seed)?,
        ),
        _ => None,
    };
    if args.json {
        return super::print_json(&Report {
            run_dir,
            config,
            collect: CollectReport {
                status,
                logs,
                summary,
            },
            ingest,
            stats,
            prepare,
            train: TrainStepReport {
                status: train_status,
                summary: train.clone(),
            },
            eval,
            export,
            deploy,
            serve,
        })
        .and(gates);
    }
    let verb = if status == "ran" {
        "collected"
    } else {
        "up to date"
    };
    let mut text = format!(
        "## collect ({verb}): {}\n\n{}",
        logs.display(),
        summary.to_markdown()
    );
    match &ingest.report {
        Some(r) => text.push_str(&format!("\n{}", super::ingest::to_markdown(r))),
        None => text.push_str(&format!(
            "\n## ingest (up to date): {}: {} battles, {} decisions\n",
            ingest.dataset.display(),
            ingest.battles,
            ingest.transitions
        )),
    }
    text.push_str(&format!(
        "\n{}(all statistics: {}, or `tactician stats {}`)\n",
        super::stats::summary_markdown(&stats),
        run_dir.join("stats.md").display(),
        dataset.display()
    ));
    if prepare.status == "reused" {
        text.push_str(&format!(
            "\n## prepare (up to date): {}\n",
            prepare.prepared.display()
        ));
    } else {
        text.push_str(&format!(
            "\n{}",
            super::prepare::to_markdown(&prepare.prepared, &prepare.manifest)
        ));
    }
    match (&train, train_status) {
        (Some(t), "ran") => text.push_str(&format!("\n{}", super::train::to_markdown(t))),
        (Some(t), _) => text.push_str(&format!(
            "\n## train (up to date): {}: validation top-1 {:.2}% (epoch {})\n",
            t.model_dir.display(),
            100.0 * t.best_val_top1,
            t.best_epoch
        )),
        (None, _) => {}
    }
    if let Some(report) = &eval {
        text.push_str(&format!(
            "\n## eval: {}\n\n{}",
            run_dir.join("eval.json").display(),
            report.to_text()
        ));
    }
    if let Some(e) = &export {
        text.push_str(&format!("\n{}", e.to_markdown()));
    }
    if let Some(d) = &deploy {
        text.push_str(&d.to_markdown());
    }
    if let Some(s) = &serve {
        text.push_str(&s.to_markdown());
    }
    super::print(&text)?;
    gates
}

/// Fails when the model is below an evaluation gate or an exported file below its verify
/// gate (after every step ran and printed its report).
fn check_gates(
    eval: Option<&tactician_eval::EvalReport>,
    export: Option<&super::verify::PipelineExport>,
) -> anyhow::Result<()> {
    let mut failed = eval.map(|r| r.failures()).unwrap_or_default();
    if let Some(e) = export {
        failed.extend(e.verify.failures());
    }
    super::fail_below("the model is below its gates", failed)
}

/// Prepares the dataset, unless the prepared folder was made from the same dataset content
/// with the same settings and its files are intact.
fn prepare_step(
    config: &PipelineConfig,
    dataset: &Path,
    prepared: &Path,
    quiet: bool,
) -> anyhow::Result<PrepareStepReport> {
    use tactician_data::prepare::{PrepareOptions, PreparedManifest, dataset_hash};
    let source = tactician_data::dataset::Dataset::open(dataset).map(|ds| dataset_hash(&ds));
    let previous = std::fs::read(prepared.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<PreparedManifest>(&b).ok());
    if let (Ok(source), Some(m)) = (&source, previous)
        && m.source_dataset_hash == *source
        && m.config == config.prepare
        && m.encoder.hash == tactician_game::SkirmishEncoder::feature_spec().hash()
        && m.is_intact(prepared)
    {
        return Ok(PrepareStepReport {
            status: "reused",
            prepared: prepared.to_path_buf(),
            manifest: m,
        });
    }
    let opts = PrepareOptions {
        force: true,
        threads: config.collect.threads.unwrap_or(0),
        ..Default::default()
    };
    let game = super::game(None)?;
    let manifest =
        super::prepare::run_prepare(dataset, prepared, &config.prepare, &game, opts, quiet)?;
    Ok(PrepareStepReport {
        status: "ran",
        prepared: prepared.to_path_buf(),
        manifest,
    })
}

/// Computes the dataset's statistics and writes them in full to `<run>/stats.md`.
fn stats_step(run_dir: &Path, dataset: &Path) -> anyhow::Result<tactician_data::stats::Stats> {
    let stats = tactician_data::stats::compute_at(dataset, 5)
        .with_context(|| format!("cannot compute the statistics of {}", dataset.display()))?;
    let path = run_dir.join("stats.md");
    std::fs::write(&path, stats.to_markdown())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(stats)
}

/// Ingests the logs into a fresh dataset, unless the dataset already holds exactly these logs.
fn ingest_step(
    config: &PipelineConfig,
    logs: &Path,
    dataset: &Path,
    logs_changed: bool,
    quiet: bool,
) -> anyhow::Result<IngestStepReport> {
    let files = super::ingest::expand_logs(&[logs.to_path_buf()])?;
    if !logs_changed && let Ok(ds) = tactician_data::dataset::Dataset::open(dataset) {
        let m = ds.manifest();
        let same = m.ingests.len() == 1
            && m.ingests[0].quarantined == 0
            && m.ingests[0].sources.len() == files.len()
            && m.ingests[0].sources.iter().zip(&files).all(|(s, f)| {
                Path::new(&s.path) == f.as_path()
                    && std::fs::metadata(f).is_ok_and(|meta| meta.len() == s.bytes)
            });
        // The dataset must also be what `[ingest]` asks for now: its features codec (a reject
        // rate needs no check, since a reused dataset quarantined nothing).
        let codec_now = || {
            ds.features_codecs()
                .is_ok_and(|c| c == [config.ingest.features_codec])
        };
        if same && codec_now() && ds.verify().is_ok() {
            return Ok(IngestStepReport {
                status: "reused",
                dataset: dataset.to_path_buf(),
                report: None,
                battles: m.battles,
                transitions: m.transitions,
            });
        }
    }
    if dataset.exists() {
        std::fs::remove_dir_all(dataset)
            .with_context(|| format!("cannot replace the old dataset {}", dataset.display()))?;
    }
    let opts = tactician_data::ingest::IngestOptions {
        threads: config.collect.threads.unwrap_or(0),
        max_reject_rate: Some(config.ingest.max_reject_rate),
        feature_codec: config.ingest.features_codec,
        ..Default::default()
    };
    let game = super::game(None)?;
    let report = super::ingest::run_ingest(dataset, &files, &game, &opts, quiet)?;
    Ok(IngestStepReport {
        status: "ran",
        dataset: dataset.to_path_buf(),
        battles: report.dataset_battles,
        transitions: report.dataset_transitions,
        report: Some(report),
    })
}

/// Runs the collection unless `logs` already holds one with the same settings.
fn collect_step(
    config: &PipelineConfig,
    logs: &Path,
    settings: &Settings,
    force: bool,
    quiet: bool,
) -> anyhow::Result<&'static str> {
    let mut replace = force;
    if logs.join(MANIFEST_NAME).exists() && !force {
        let previous = read_manifest(logs).with_context(|| {
            format!("cannot read the previous collection in {}", logs.display())
        })?;
        if previous.settings == *settings {
            return Ok("reused");
        }
        anyhow::bail!(
            "{} holds battles collected with other settings ({}); pass --force to replace them, \
             or choose another --run-dir",
            logs.display(),
            differences(&previous.settings, settings)
        );
    } else if logs.exists() {
        // Files without a manifest are the remains of an interrupted run of this pipeline.
        replace = true;
    }
    let collect = CollectConfig {
        settings: settings.clone(),
        out: logs.to_path_buf(),
        threads: config.collect.threads,
        force: replace,
    };
    super::collect::run_collect(&collect, quiet)?;
    Ok("ran")
}

/// The settings that differ, as `name: old -> new`.
fn differences(old: &Settings, new: &Settings) -> String {
    let old = serde_json::to_value(old).unwrap_or_default();
    let new = serde_json::to_value(new).unwrap_or_default();
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return String::new();
    };
    old.iter()
        .filter(|(k, v)| new.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v} -> {}", new.get(k).cloned().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ")
}
