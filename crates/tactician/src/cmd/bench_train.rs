//! `tactician bench train`: training speed against Keras in one run, with the GFLOP/s the
//! trainer achieves against the peak of a large matrix product on the same machine.

use crate::cli::BenchTrainArgs;
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tactician_train::train::{NoProgress, TrainOptions};
use tactician_train::{OptimizerKind, Prepared, ScheduleKind, TrainConfig};

/// One network's measurement.
#[derive(Debug, Serialize)]
struct Row {
    network: String,
    hidden: Vec<usize>,
    features: usize,
    actions: usize,
    batch_size: usize,
    train_examples: usize,
    ours_samples_per_sec: f64,
    ours_val_top1: f64,
    ours_gflops: f64,
    keras_samples_per_sec: Option<f64>,
    keras_val_top1: Option<f64>,
    ratio: Option<f64>,
    keras_error: Option<String>,
}

/// The whole report.
#[derive(Debug, Serialize)]
struct Report {
    threads: usize,
    epochs: usize,
    peak_gflops: f64,
    rows: Vec<Row>,
}

/// The Python with tensorflow-cpu for the peers: `--python`, else `$TACTICIAN_TF_PYTHON`,
/// else `python3` from `PATH`.
pub(super) fn tf_python(explicit: Option<&PathBuf>) -> PathBuf {
    explicit
        .cloned()
        .or_else(|| std::env::var_os("TACTICIAN_TF_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

fn keras(args: &BenchTrainArgs, prepared: &Path, c: &TrainConfig) -> anyhow::Result<(f64, f64)> {
    let hidden: Vec<String> = c.hidden.iter().map(ToString::to_string).collect();
    let mut cmd = std::process::Command::new(tf_python(args.python.as_ref()));
    cmd.arg(&args.script)
        .arg("--prepared")
        .arg(prepared)
        .args(["--hidden", &hidden.join(",")])
        .args(["--activation", c.activation.name()])
        .args(["--batch-size", &c.batch_size.to_string()])
        .args(["--epochs", &c.epochs.to_string()])
        .args(["--lr", &c.lr.to_string()])
        .args(["--value-head", if c.value_head { "1" } else { "0" }])
        .args(["--value-weight", &c.value_weight.to_string()])
        .args(["--threads", &args.threads.to_string()]);
    let v = peer_json(&mut cmd, "the Keras peer")?;
    Ok((
        v["samples_per_sec"].as_f64().unwrap_or(0.0),
        v["val_top1"].as_f64().unwrap_or(0.0),
    ))
}

/// Runs a Python peer script and parses the JSON object on the last line of its output; a
/// failure is reported with the last lines of its stderr.
pub(super) fn peer_json(
    cmd: &mut std::process::Command,
    what: &str,
) -> anyhow::Result<serde_json::Value> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {}", cmd.get_program().to_string_lossy()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(3).collect();
        anyhow::bail!(
            "{what} failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .with_context(|| format!("{what} printed no JSON"))
}

fn ours(prepared: &Path, c: &TrainConfig, work: &Path) -> anyhow::Result<(f64, f64, usize)> {
    let data = Prepared::load(prepared, None)?;
    let out = work.join(format!(
        "model-{}",
        c.hidden
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("x")
    ));
    let opts = TrainOptions {
        config: c.clone(),
        out,
        resume: false,
        force: true,
        pause_at: None,
    };
    let s = tactician_train::train(&data, &opts, &mut NoProgress)?;
    // Mean over the epochs after the first (a warm-up, as on the Keras side).
    let text = std::fs::read_to_string(opts.out.join("metrics.jsonl"))?;
    let sps: Vec<f64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["samples_per_sec"].as_f64())
        .collect();
    let timed = if sps.len() > 1 { &sps[1..] } else { &sps[..] };
    // Harmonic mean: samples over total time.
    let mean = timed.len() as f64 / timed.iter().map(|s| 1.0 / s).sum::<f64>();
    let last_top1 = text
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|v| v["val_top1"].as_f64())
        .unwrap_or(s.best_val_top1);
    Ok((mean, last_top1, data.train.rows))
}

/// Runs `tactician bench train`.
pub fn run(args: BenchTrainArgs, quiet: bool) -> anyhow::Result<()> {
    let work = tempdir()?;
    let synth_dir = work.join("synthetic-192x32");
    let mut rows = Vec::new();
    let peak = tactician_train::perf::peak_gflops(args.threads, 1024, 5);
    for name in &args.networks {
        let base = TrainConfig {
            optimizer: OptimizerKind::Adam,
            schedule: ScheduleKind::Constant,
            lr: 1e-3,
            weight_decay: 0.0,
            patience: 0,
            epochs: args.epochs.max(2),
            threads: args.threads,
            ..TrainConfig::default()
        };
        let (config, prepared) = match name.as_str() {
            "default" => (
                base,
                args.prepared.clone().unwrap_or_else(|| synth_dir.clone()),
            ),
            "large" => (
                TrainConfig {
                    hidden: vec![256, 256],
                    batch_size: 256,
                    value_head: false,
                    ..base
                },
                synth_dir.clone(),
            ),
            other => anyhow::bail!("unknown network `{other}` (default or large)"),
        };
        if prepared == synth_dir && !synth_dir.exists() {
            let spec = tactician_train::synth::SynthSpec::new(192, 32, 60_000, 6_000, 7);
            tactician_train::synth::write_prepared(&synth_dir, &spec)?;
        }
        if !quiet {
            eprintln!(
                "bench train: {name} network {:?} on {}",
                config.hidden,
                prepared.display()
            );
        }
        let (sps, top1, n) = ours(&prepared, &config, &work)?;
        let data_manifest = tactician_formats::prepared::PreparedManifest::read(&prepared)?;
        let f = data_manifest.encoder.features.len();
        let a = data_manifest.encoder.actions.len();
        let spec = tactician_train::train::net_spec(&config, f, a);
        let gflops = 6.0 * spec.macs_per_example() as f64 * sps / 1e9;
        let (k_sps, k_top1, k_err) = if args.no_peer {
            (None, None, None)
        } else {
            match keras(&args, &prepared, &config) {
                Ok((s, t)) => (Some(s), Some(t), None),
                Err(e) => (None, None, Some(format!("{e:#}"))),
            }
        };
        rows.push(Row {
            network: name.clone(),
            hidden: config.hidden.clone(),
            features: f,
            actions: a,
            batch_size: config.batch_size,
            train_examples: n,
            ours_samples_per_sec: sps,
            ours_val_top1: top1,
            ours_gflops: gflops,
            keras_samples_per_sec: k_sps,
            keras_val_top1: k_top1,
            ratio: k_sps.map(|k| sps / k),
            keras_error: k_err,
        });
    }
    let _ = std::fs::remove_dir_all(&work);
    let report = Report {
        threads: args.threads,
        epochs: args.epochs.max(2),
        peak_gflops: peak,
        rows,
    };
    if args.json {
        return super::print_json(&report);
    }
    let mut s = format!(
        "## bench train ({} threads, {} epochs, first epoch of each side untimed)\n\n\
         Peak of a 1024×1024×1024 matrix product: {:.1} GFLOP/s\n\n\
         | network | F-hidden-A | batch | ours samples/s | Keras samples/s | ratio | ours GFLOP/s (% of peak) | val top-1 ours / Keras |\n\
         |---|---|---:|---:|---:|---:|---:|---|\n",
        report.threads, report.epochs, peak
    );
    for r in &report.rows {
        s.push_str(&format!(
            "| {} | {}-{}-{} | {} | {:.0} | {} | {} | {:.1} ({:.0}%) | {:.1}% / {} |\n",
            r.network,
            r.features,
            r.hidden
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("-"),
            r.actions,
            r.batch_size,
            r.ours_samples_per_sec,
            r.keras_samples_per_sec
                .map_or("-".into(), |k| format!("{k:.0}")),
            r.ratio.map_or("-".into(), |x| format!("{x:.2}×")),
            r.ours_gflops,
            100.0 * r.ours_gflops / peak.max(1e-9),
            100.0 * r.ours_val_top1,
            r.keras_val_top1
                .map_or("-".into(), |k| format!("{:.1}%", 100.0 * k)),
        ));
    }
    for r in &report.rows {
        if let Some(e) = &r.keras_error {
            s.push_str(&format!("\n{}: Keras not measured: {e}\n", r.network));
        }
    }
    super::print(&s)
}

fn tempdir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tactician-bench-train-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
