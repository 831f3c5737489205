//! `tactician ingest`.

use crate::cli::IngestArgs;
use crate::progress;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use tactician_battle::GameSpec;
use tactician_data::ingest::{IngestError, IngestOptions, IngestReport, ingest};

/// Ingests logs with a progress bar and prints the report.
pub fn run(args: IngestArgs, quiet: bool) -> anyhow::Result<()> {
    let logs = expand_logs(&args.logs)?;
    let game = super::game(args.spec.as_deref())?;
    if let Some(rate) = args.max_reject_rate
        && !(0.0..=1.0).contains(&rate)
    {
        bail!("--max-reject-rate must be a fraction between 0 and 1, got {rate}");
    }
    let opts = IngestOptions {
        threads: args.threads.unwrap_or(0),
        max_line: usize::from(args.max_record_mib) << 20,
        max_reject_rate: args.max_reject_rate,
        feature_codec: args.features_codec,
        ..IngestOptions::default()
    };
    let report = run_ingest(&args.out, &logs, &game, &opts, quiet);
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            if let Some(IngestError::TooDirty { report, .. }) = e.downcast_ref::<IngestError>() {
                if args.json {
                    super::print_json(report)?;
                } else {
                    super::print(&to_markdown(report))?;
                }
            }
            return Err(e);
        }
    };
    if args.json {
        super::print_json(&report)?;
    } else {
        super::print(&to_markdown(&report))?;
    }
    let unreadable: Vec<String> = report
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| format!("{}: {e}", f.path)))
        .collect();
    if !unreadable.is_empty() {
        bail!(
            "{} log file(s) could not be read (the others were ingested): {}",
            unreadable.len(),
            unreadable.join("; ")
        );
    }
    Ok(())
}

/// Ingests with a byte-progress bar; shared with the pipeline.
pub fn run_ingest(
    dataset: &Path,
    logs: &[PathBuf],
    game: &GameSpec,
    opts: &IngestOptions,
    quiet: bool,
) -> anyhow::Result<IngestReport> {
    let total: u64 = logs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress::bytes_bar("ingest", total, quiet);
    let result = ingest(dataset, logs, game, opts, &|p| {
        bar.set_position(p.bytes);
        bar.set_message(format!(
            "{} records, {} decisions",
            p.records, p.transitions
        ));
    });
    bar.finish_and_clear();
    result
        .map_err(anyhow::Error::from)
        .with_context(|| format!("ingest into {} failed", dataset.display()))
}

/// Files as given; folders stand for their `part-*.jsonl` and `part-*.jsonl.zst` files.
pub fn expand_logs(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut parts: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot read folder {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    name.starts_with("part-")
                        && (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst"))
                })
                .collect();
            if parts.is_empty() {
                bail!(
                    "folder {} holds no part-*.jsonl[.zst] log files",
                    p.display()
                );
            }
            parts.sort();
            out.extend(parts);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The report as a few terminal tables.
pub fn to_markdown(r: &IngestReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "## ingest {}: {} records read = {} accepted + {} quarantined\n\n",
        r.id, r.records, r.accepted, r.quarantined
    ));
    s.push_str("| file | bytes | records | accepted | quarantined | note |\n|---|---:|---:|---:|---:|---|\n");
    for f in &r.files {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            f.path,
            f.bytes,
            f.records,
            f.accepted,
            f.quarantined,
            f.error
                .as_deref()
                .map_or(String::new(), |e| format!("unreadable: {e}"))
        ));
    }
    if !r.by_reason.is_empty() {
        s.push_str("\n| reason | records |\n|---|---:|\n");
        for (reason, n) in &r.by_reason {
            s.push_str(&format!("| {reason} | {n} |\n"));
        }
    }
    if let Some(q) = &r.quarantine {
        s.push_str(&format!(
            "\nquarantined records: {q} (in the dataset folder)\n"
        ));
    }
    s.push_str(&format!(
        "\n{} decisions in {:.2} s ({:.0} decisions/s); the dataset now holds {} battles, {} decisions\n",
        r.transitions,
        r.seconds,
        r.transitions as f64 / r.seconds.max(1e-9),
        r.dataset_battles,
        r.dataset_transitions
    ));
    s
}
