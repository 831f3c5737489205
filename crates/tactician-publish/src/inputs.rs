//! What a release is made of, read from a run's folders: the exported `.tflite` of one
//! precision, a validation set (test rows with the float model's answers), the figures the
//! workstation measured, and the lineage (dataset, settings, model).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tactician_agent::ValidationSet;
use tactician_export::{ExportManifest, Precision};
use tactician_formats::model::Mlp;
use tactician_formats::prepared::{PreparedManifest, Split, SplitName};
use tactician_runtime::Reference;

use crate::error::{Error, Result};

/// Where a release's inputs are.
#[derive(Debug, Clone)]
pub struct InputPaths {
    /// The export folder (`export.json` and the `.tflite` files).
    pub export: PathBuf,
    /// The trained model folder.
    pub model: PathBuf,
    /// The prepared data (its test split makes the validation set).
    pub prepared: PathBuf,
    /// The evaluation report, if any.
    pub eval: Option<PathBuf>,
}

impl InputPaths {
    /// The pipeline's layout: `RUN/export`, `RUN/model`, `RUN/prepared`, `RUN/eval.json`.
    pub fn for_export(export: &Path) -> InputPaths {
        let run = export.parent().unwrap_or(Path::new("."));
        let eval = run.join("eval.json");
        InputPaths {
            export: export.to_path_buf(),
            model: run.join("model"),
            prepared: run.join("prepared"),
            eval: eval.exists().then_some(eval),
        }
    }
}

/// A release's contents, ready for [`crate::publish`].
#[derive(Debug, Clone)]
pub struct ReleaseInputs {
    /// The `.tflite` bytes.
    pub model: Vec<u8>,
    /// Its precision's short name.
    pub precision: String,
    /// The trained model's version string.
    pub model_version: String,
    /// The encoder.
    pub encoder_hash: String,
    /// The validation set.
    pub validation: ValidationSet,
    /// The top-1 agreement with it measured here.
    pub measured_top1: f64,
    /// The gate the device applies: the measured agreement less a margin for another CPU's
    /// float rounding.
    pub min_top1: f64,
    /// Verification (the whole test split) and evaluation figures.
    pub metrics: Value,
    /// Dataset, settings and model lineage.
    pub lineage: Value,
}

/// Reads a release's inputs: the file of `precision` in the export folder, `rows` test rows
/// as the validation set.
pub fn release_inputs(
    paths: &InputPaths,
    precision: Precision,
    rows: usize,
    margin: f64,
) -> Result<ReleaseInputs> {
    let export_err = |e: tactician_export::ExportError| Error::Invalid {
        reason: tactician_os::report(&e),
    };
    let format_err = |e: tactician_formats::FormatError| Error::Invalid {
        reason: tactician_os::report(&e),
    };
    let (manifest, contents) = ExportManifest::read_checked(&paths.export).map_err(export_err)?;
    let (entry, bytes) = manifest
        .files
        .iter()
        .zip(contents)
        .find(|(f, _)| f.precision == precision)
        .ok_or_else(|| Error::Invalid {
            reason: format!(
                "{} has no {} file (it has: {})",
                paths.export.display(),
                precision.name(),
                manifest
                    .files
                    .iter()
                    .map(|f| f.precision.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    let mlp = Mlp::load(&paths.model).map_err(format_err)?;
    if mlp.meta.encoder_hash != manifest.encoder_hash
        || mlp.meta.model_version != manifest.model_version
    {
        return Err(Error::Invalid {
            reason: format!(
                "{} was exported from model {} (encoder {}), not from {} ({}, encoder {})",
                paths.export.display(),
                manifest.model_version,
                manifest.encoder_hash,
                paths.model.display(),
                mlp.meta.model_version,
                mlp.meta.encoder_hash
            ),
        });
    }
    let test_path = paths.prepared.join(SplitName::Test.file_name());
    let test = Split::read(&test_path, Some((mlp.inputs(), mlp.actions()))).map_err(format_err)?;
    if test.rows == 0 {
        return Err(Error::Invalid {
            reason: format!("{}: the test split is empty", test_path.display()),
        });
    }
    let (f, a) = (mlp.inputs(), mlp.actions());
    let float = mlp.forward_exact(&test.x, test.rows);
    let check = |n: usize, timed: usize| {
        tactician_runtime::check(
            &bytes,
            &Reference {
                actions: a,
                features: &test.x[..n * f],
                legal: &test.legal[..n * a],
                logits: &float.logits[..n * a],
                values: float.value.as_deref().map(|v| &v[..n]),
            },
            Some(&mlp.meta.encoder_hash),
            timed,
        )
        .map_err(|e| Error::Invalid {
            reason: format!("the runtime refuses {}: {e}", entry.file),
        })
    };
    let full = check(test.rows, 200)?;
    let n = rows.clamp(1, test.rows);
    let on_set = check(n, 0)?;
    let validation = ValidationSet {
        encoder_hash: mlp.meta.encoder_hash.clone(),
        features: f,
        actions: a,
        x: test.x[..n * f].to_vec(),
        legal: test.legal[..n * a].to_vec(),
        logits: float.logits[..n * a].to_vec(),
        values: float.value.as_ref().map(|v| v[..n].to_vec()),
    };
    let measured_top1 = on_set.agreement.top1;
    let prepared = PreparedManifest::read(&paths.prepared).ok();
    let model_json: Value = std::fs::read(paths.model.join("model.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let eval = match &paths.eval {
        Some(p) => eval_summary(p)?,
        None => Value::Null,
    };
    let latency = full
        .latency
        .map(|l| json!({"p50_us": l.p50_us, "p99_us": l.p99_us}));
    Ok(ReleaseInputs {
        model: bytes,
        precision: precision.name().into(),
        model_version: mlp.meta.model_version.clone(),
        encoder_hash: mlp.meta.encoder_hash.clone(),
        validation,
        measured_top1,
        min_top1: (measured_top1 - margin).max(0.0),
        metrics: json!({
            "verify": {
                "precision": precision.name(),
                "rows": full.agreement.rows,
                "top1_agreement": full.agreement.top1,
                "mean_abs_logit_error": full.agreement.mean_abs_logit_error,
                "max_abs_logit_error": full.agreement.max_abs_logit_error,
                "latency": latency,
                "bytes": entry.bytes,
            },
            "eval": eval,
        }),
        lineage: json!({
            "model_version": mlp.meta.model_version,
            "encoder_hash": mlp.meta.encoder_hash,
            "training": model_json.get("training").and_then(|t| t.get("config")).cloned(),
            "dataset_hash": prepared.as_ref().map(|m| m.source_dataset_hash.clone()),
            "prepare_seed": prepared.as_ref().map(|m| m.seed),
            "export": {
                "file": entry.file,
                "calibration_rows": manifest.calibration_rows,
                "operators": entry.operators,
            },
        }),
    })
}

/// The headline figures of an evaluation report: test agreement, scenarios, win rates.
fn eval_summary(path: &Path) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let e: Value = serde_json::from_slice(&bytes).map_err(|e| Error::Invalid {
        reason: format!("{} is not an evaluation report: {e}", path.display()),
    })?;
    let mut win_rates = serde_json::Map::new();
    if let Some(list) = e.pointer("/battles/opponents").and_then(Value::as_array) {
        for o in list {
            if let (Some(name), Some(rate)) = (
                o.get("opponent").and_then(Value::as_str),
                o.get("win_rate").cloned(),
            ) {
                win_rates.insert(name.to_owned(), rate);
            }
        }
    }
    Ok(json!({
        "test_top1": e.pointer("/test/top1"),
        "scenarios_passed": e.pointer("/scenarios/passed"),
        "scenarios_total": e.pointer("/scenarios/total"),
        "win_rates": win_rates,
    }))
}
