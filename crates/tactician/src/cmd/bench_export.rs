//! `tactician bench export`: export speed against the official converter
//! (`TFLiteConverter.from_keras_model`) on the same network, in one run.

use crate::cli::BenchExportArgs;
use anyhow::Context;
use serde::Serialize;
use std::time::Instant;
use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation, Mlp, ModelJson};

/// One precision's measurement.
#[derive(Debug, Serialize)]
struct Row {
    precision: &'static str,
    ours_seconds: f64,
    ours_bytes: usize,
    converter_seconds: Option<f64>,
    converter_bytes: Option<u64>,
    ratio: Option<f64>,
    ratio_with_import: Option<f64>,
    converter_error: Option<String>,
}

/// The whole report.
#[derive(Debug, Serialize)]
struct Report {
    network: String,
    repeats: usize,
    tensorflow: Option<String>,
    tensorflow_import_seconds: Option<f64>,
    rows: Vec<Row>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the converter peer; returns its parsed JSON line.
fn converter(
    args: &BenchExportArgs,
    mlp: &Mlp,
    quantize: &str,
) -> anyhow::Result<serde_json::Value> {
    let hidden: Vec<String> = mlp.hidden.iter().map(|d| d.outputs.to_string()).collect();
    let mut cmd = std::process::Command::new(super::bench_train::tf_python(args.python.as_ref()));
    cmd.arg(&args.script)
        .args(["--repeats", &args.repeats.to_string()])
        .args(["--quantize", quantize]);
    match &args.model {
        Some(dir) => {
            cmd.arg("--model").arg(dir);
        }
        None => {
            cmd.args(["--inputs", &mlp.inputs().to_string()])
                .args(["--hidden", &hidden.join(",")])
                .args(["--actions", &mlp.actions().to_string()])
                .args(["--activation", mlp.activation().name()]);
            if mlp.value.is_some() {
                cmd.arg("--value-head");
            }
        }
    }
    super::bench_train::peer_json(&mut cmd, "the converter peer")
}

/// Runs `tactician bench export`.
pub fn run(args: BenchExportArgs) -> anyhow::Result<()> {
    let repeats = args.repeats.max(1);
    let mlp = match &args.model {
        Some(dir) => {
            Mlp::load(dir).with_context(|| format!("cannot load the model in {}", dir.display()))?
        }
        None => {
            let meta = ModelJson::new(192, vec![256, 256], Activation::Relu, 32, false, "random");
            Mlp::random(meta, 7)
        }
    };
    let network = format!(
        "{}-{}-{}{}",
        mlp.inputs(),
        mlp.hidden
            .iter()
            .map(|d| d.outputs.to_string())
            .collect::<Vec<_>>()
            .join("-"),
        mlp.actions(),
        if mlp.value.is_some() { " + value" } else { "" }
    );
    // The peer's representative sample: 200 rows uniform in [-2, 4).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let calibration: Vec<f32> = (0..200 * mlp.inputs())
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            -2.0 + 6.0 * ((state >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect();
    let mut report = Report {
        network,
        repeats,
        tensorflow: None,
        tensorflow_import_seconds: None,
        rows: Vec::new(),
    };
    for (precision, quantize) in [
        (Precision::Float32, "none"),
        (Precision::Dynamic, "dynamic"),
        (Precision::Int8, "int8"),
    ] {
        let opts = ExportOptions::new(precision).with_calibration(&calibration);
        let mut times = Vec::with_capacity(repeats);
        let mut bytes = 0;
        for _ in 0..repeats {
            let t = Instant::now();
            let b = export(&mlp, &opts).context("export failed")?;
            times.push(t.elapsed().as_secs_f64());
            bytes = b.len();
        }
        let ours = median(times);
        let mut row = Row {
            precision: precision.name(),
            ours_seconds: ours,
            ours_bytes: bytes,
            converter_seconds: None,
            converter_bytes: None,
            ratio: None,
            ratio_with_import: None,
            converter_error: None,
        };
        if !args.no_peer {
            match converter(&args, &mlp, quantize) {
                Ok(v) => {
                    let times: Vec<f64> = v["convert_seconds"]
                        .as_array()
                        .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                        .unwrap_or_default();
                    let theirs = median(times);
                    let import = v["import_seconds"].as_f64().unwrap_or(0.0);
                    report.tensorflow = v["tensorflow"].as_str().map(str::to_owned);
                    report.tensorflow_import_seconds = Some(import);
                    row.converter_seconds = Some(theirs);
                    row.converter_bytes = v["bytes"].as_u64();
                    row.ratio = Some(theirs / ours.max(1e-12));
                    row.ratio_with_import = Some((theirs + import) / ours.max(1e-12));
                }
                Err(e) => row.converter_error = Some(format!("{e:#}")),
            }
        }
        report.rows.push(row);
    }
    if args.json {
        return super::print_json(&report);
    }
    let mut s = format!(
        "## bench export ({}, median of {} conversions each)\n\n\
         | precision | ours | ours bytes | converter | converter bytes | ratio | ratio with TF import |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
        report.network, report.repeats
    );
    let ms = |x: f64| format!("{:.3} ms", x * 1e3);
    for r in &report.rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.precision,
            ms(r.ours_seconds),
            r.ours_bytes,
            r.converter_seconds.map_or("-".into(), ms),
            r.converter_bytes.map_or("-".into(), |b| b.to_string()),
            r.ratio.map_or("-".into(), |x| format!("{x:.0}×")),
            r.ratio_with_import
                .map_or("-".into(), |x| format!("{x:.0}×")),
        ));
    }
    if let (Some(tf), Some(imp)) = (&report.tensorflow, report.tensorflow_import_seconds) {
        s.push_str(&format!(
            "\nTensorFlow {tf}; importing it took {imp:.2} s.\n"
        ));
    }
    for r in &report.rows {
        if let Some(e) = &r.converter_error {
            s.push_str(&format!("\n{}: converter not measured: {e}\n", r.precision));
        }
    }
    super::print(&s)
}
