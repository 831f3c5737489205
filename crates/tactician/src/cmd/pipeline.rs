//! `tactician pipeline`: every step that exists, in order, in one run folder.
//!
//! Steps now: collect (into `<run>/logs`), then statistics of what was collected, read back from
//! the logs. A step whose output is complete and was made with the same settings is reused.

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

    if args.json {
        return super::print_json(&Report {
            run_dir,
            config,
            collect: CollectReport {
                status,
                logs,
                summary,
            },
        });
    }
    let verb = if status == "ran" {
        "collected"
    } else {
        "up to date"
    };
    super::print(&format!(
        "## collect ({verb}): {}\n\n{}",
        logs.display(),
        summary.to_markdown()
    ))
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
