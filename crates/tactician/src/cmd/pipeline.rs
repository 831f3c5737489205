//! `tactician pipeline`: every step that exists, in order, in one run folder.
//!
//! Steps now: collect (into `<run>/logs`), ingest (into the dataset `<run>/dataset`), then
//! statistics. A step whose output is complete and was made from the same inputs is reused.

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
        });
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
    super::print(&text)
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
        if same && ds.verify().is_ok() {
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
        ..Default::default()
    };
    let spec = tactician_game::SkirmishEncoder::feature_spec();
    let report = super::ingest::run_ingest(dataset, &files, spec, &opts, quiet)?;
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
