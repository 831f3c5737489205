//! `tactician verify`: behaviour consistency of exported `.tflite` files with the float model
//! on the test split: top-1 agreement (masked by legal actions, ties to the lowest index),
//! logit errors, sizes, operators. The exported files are executed by `tactician-runtime`,
//! the engine the devices run. Exits non-zero when a file falls below its gate.

use crate::cli::VerifyArgs;
use anyhow::{Context, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};
use tactician_tflite::{Model, Precision, TacticianMetadata, model_dir};

/// The default top-1 agreement gates.
pub const DEFAULT_GATE_F32: f64 = 1.0;
/// The int8 (and dynamic) gate.
pub const DEFAULT_GATE_QUANTIZED: f64 = 0.995;

/// Settings of one verification.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    /// The export folder.
    pub export: PathBuf,
    /// The trained model folder.
    pub model: PathBuf,
    /// The prepared data folder (its `test.safetensors` is used).
    pub data: PathBuf,
    /// Minimum top-1 agreement of the float32 file.
    pub gate_f32: f64,
    /// Minimum top-1 agreement of the dynamic and int8 files.
    pub gate_quantized: f64,
}

/// The consistency figures of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// `f32`, `dynamic` or `int8`.
    pub precision: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// Size relative to the float32 file (1.0 for it; 0.27 = 73% smaller).
    pub size_vs_f32: Option<f64>,
    /// Operators in order of first use.
    pub operators: Vec<String>,
    /// Rows compared (test rows with at least one legal action).
    pub rows: usize,
    /// Fraction of rows where the file's top legal action is the float model's.
    pub top1_agreement: f64,
    /// Mean absolute logit error against the float model.
    pub mean_abs_logit_error: f64,
    /// Largest absolute logit error.
    pub max_abs_logit_error: f64,
    /// Largest absolute value-head error, when there is a value head.
    pub max_abs_value_error: Option<f64>,
    /// The gate applied.
    pub gate: f64,
    /// Whether the gate is met.
    pub pass: bool,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The export folder.
    pub export: PathBuf,
    /// The model version.
    pub model_version: String,
    /// Size of `model.safetensors`.
    pub checkpoint_bytes: u64,
    /// One entry per file found.
    pub files: Vec<FileReport>,
    /// Whether every gate is met.
    pub pass: bool,
}

/// Runs `tactician verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let s = VerifySettings {
        export: args.export,
        model: args.model,
        data: args.data,
        gate_f32: args.min_f32_agreement,
        gate_quantized: args.min_int8_agreement,
    };
    let report = run_verify(&s)?;
    if args.json {
        super::print_json(&report)?;
    } else {
        super::print(&to_markdown(&report))?;
    }
    check_gates(&report)
}

/// An error naming every file below its gate.
pub fn check_gates(r: &VerifyReport) -> anyhow::Result<()> {
    let failed: Vec<String> = r
        .files
        .iter()
        .filter(|f| !f.pass)
        .map(|f| {
            format!(
                "{}: top-1 agreement {:.2}% < gate {:.2}%",
                f.path.display(),
                100.0 * f.top1_agreement,
                100.0 * f.gate
            )
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("verification failed: {}", failed.join("; "))
    }
}

/// The report as text.
pub fn to_markdown(r: &VerifyReport) -> String {
    let mut s = format!(
        "## verify: {} (model {}, checkpoint {} bytes)\n\n\
         | file | bytes | vs f32 | top-1 agreement | gate | mean abs logit err | max abs logit err | max abs value err | operators |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        r.export.display(),
        r.model_version,
        r.checkpoint_bytes
    );
    for f in &r.files {
        s.push_str(&format!(
            "| {} | {} | {} | {:.2}% ({}/{}) {} | {:.1}% | {:.2e} | {:.2e} | {} | {} |\n",
            f.path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            f.bytes,
            f.size_vs_f32
                .map_or_else(|| "-".into(), |x| format!("{:.1}%", 100.0 * x)),
            100.0 * f.top1_agreement,
            (f.top1_agreement * f.rows as f64).round() as u64,
            f.rows,
            if f.pass { "ok" } else { "FAIL" },
            100.0 * f.gate,
            f.mean_abs_logit_error,
            f.max_abs_logit_error,
            f.max_abs_value_error
                .map_or_else(|| "-".into(), |x| format!("{x:.2e}")),
            f.operators.join(" ")
        ));
    }
    s.push_str(if r.pass {
        "\nAll gates met.\n"
    } else {
        "\nBELOW GATE: see FAIL rows.\n"
    });
    s
}

/// Reads a safetensors file whole (parse it with `SafeTensors::deserialize`).
fn read_safetensors(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The bytes and shape of the 2-D tensor `name` of type `dtype` in the safetensors `bytes`
/// read from `path`: (data, rows, columns).
fn matrix<'a>(
    bytes: &'a [u8],
    path: &Path,
    name: &str,
    dtype: safetensors::Dtype,
) -> anyhow::Result<(&'a [u8], usize, usize)> {
    let st = safetensors::SafeTensors::deserialize(bytes)
        .with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let t = st
        .tensor(name)
        .with_context(|| format!("{}: no tensor {name:?}", path.display()))?;
    if t.dtype() != dtype || t.shape().len() != 2 {
        bail!(
            "{}: {name} is {:?} {:?}, expected a 2-D {dtype:?} tensor",
            path.display(),
            t.dtype(),
            t.shape()
        );
    }
    Ok((t.data(), t.shape()[0], t.shape()[1]))
}

fn f32s(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Reads a 2-D F32 tensor from a safetensors file: (values, rows, columns).
pub fn read_f32_matrix(path: &Path, name: &str) -> anyhow::Result<(Vec<f32>, usize, usize)> {
    let bytes = read_safetensors(path)?;
    let (data, rows, cols) = matrix(&bytes, path, name, safetensors::Dtype::F32)?;
    Ok((f32s(data), rows, cols))
}

/// The index of the largest logit among legal actions (ties to the lowest index).
pub fn masked_argmax(logits: &[f32], legal: &[u8]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (a, (&l, &ok)) in logits.iter().zip(legal).enumerate() {
        if ok != 0 && best.is_none_or(|b| l > logits[b]) {
            best = Some(a);
        }
    }
    best
}

/// Runs the verification (without applying the gates).
pub fn run_verify(s: &VerifySettings) -> anyhow::Result<VerifyReport> {
    let mlp = model_dir::load(&s.model)
        .with_context(|| format!("cannot load the model in {}", s.model.display()))?;
    let test = s.data.join("test.safetensors");
    // One read of the file for both tensors.
    let bytes = read_safetensors(&test)?;
    let (data, rows, width) = matrix(&bytes, &test, "features", safetensors::Dtype::F32)?;
    let features = f32s(data);
    let (legal, lrows, lwidth) = matrix(&bytes, &test, "legal", safetensors::Dtype::U8)?;
    if width != mlp.inputs || lwidth != mlp.actions() || lrows != rows {
        bail!(
            "{}: features {rows}x{width} / legal {lrows}x{lwidth} do not fit the model \
             ({} features, {} actions)",
            test.display(),
            mlp.inputs,
            mlp.actions()
        );
    }
    if rows == 0 {
        bail!("{}: the test split is empty", test.display());
    }
    let float = mlp.forward(&features, rows);
    let a = mlp.actions();
    let float_top: Vec<Option<usize>> = (0..rows)
        .map(|r| {
            masked_argmax(
                &float.logits[r * a..(r + 1) * a],
                &legal[r * a..(r + 1) * a],
            )
        })
        .collect();

    let mut files = Vec::new();
    let mut f32_bytes = None;
    for p in [Precision::Float32, Precision::Dynamic, Precision::Int8] {
        let path = s.export.join(p.file_name());
        if !path.exists() {
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let model = Model::parse(&bytes).with_context(|| format!("{}", path.display()))?;
        let meta = TacticianMetadata::from_model(&model)
            .with_context(|| format!("{}", path.display()))?
            .with_context(|| format!("{}: no tactician metadata", path.display()))?;
        if meta.encoder_hash != mlp.encoder_hash || meta.features != mlp.inputs {
            bail!(
                "{} was exported from another model (encoder {}, {} features) than {} \
                 (encoder {}, {} features)",
                path.display(),
                meta.encoder_hash,
                meta.features,
                s.model.display(),
                mlp.encoder_hash,
                mlp.inputs
            );
        }
        let (logits, value) = execute(&bytes, &features, rows, mlp.inputs)
            .with_context(|| format!("cannot run {}", path.display()))?;
        if logits.len() != rows * a {
            bail!("{}: the logits output has the wrong width", path.display());
        }
        let (mut agree, mut counted) = (0usize, 0usize);
        for (r, ft) in float_top.iter().enumerate() {
            if let Some(ft) = ft {
                counted += 1;
                let t = masked_argmax(&logits[r * a..(r + 1) * a], &legal[r * a..(r + 1) * a]);
                agree += usize::from(t == Some(*ft));
            }
        }
        let errs = logits
            .iter()
            .zip(&float.logits)
            .map(|(x, y)| f64::from((x - y).abs()));
        let (sum, max) = errs.fold((0f64, 0f64), |(s, m), e| (s + e, m.max(e)));
        let max_value = match (&value, &float.value) {
            (Some(v), Some(fv)) => Some(
                v.iter()
                    .zip(fv)
                    .map(|(x, y)| f64::from((x - y).abs()))
                    .fold(0f64, f64::max),
            ),
            _ => None,
        };
        let agreement = if counted == 0 {
            1.0
        } else {
            agree as f64 / counted as f64
        };
        let gate = if p == Precision::Float32 {
            s.gate_f32
        } else {
            s.gate_quantized
        };
        if p == Precision::Float32 {
            f32_bytes = Some(bytes.len() as u64);
        }
        files.push(FileReport {
            precision: p.name(),
            path,
            bytes: bytes.len() as u64,
            size_vs_f32: f32_bytes.map(|f| bytes.len() as f64 / f as f64),
            operators: model
                .operator_list()
                .iter()
                .map(|o| o.name().to_owned())
                .collect(),
            rows: counted,
            top1_agreement: agreement,
            mean_abs_logit_error: sum / logits.len().max(1) as f64,
            max_abs_logit_error: max,
            max_abs_value_error: max_value,
            gate,
            pass: agreement >= gate,
        });
    }
    if files.is_empty() {
        bail!(
            "{} holds no exported model (model-f32.tflite, model-dynamic.tflite, model-int8.tflite)",
            s.export.display()
        );
    }
    let checkpoint_bytes = std::fs::metadata(s.model.join("model.safetensors"))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(VerifyReport {
        export: s.export.clone(),
        model_version: mlp.model_version,
        pass: files.iter().all(|f| f.pass),
        checkpoint_bytes,
        files,
    })
}

/// Runs a `.tflite` file with the device runtime over all rows: (logits, value).
fn execute(
    bytes: &[u8],
    features: &[f32],
    rows: usize,
    width: usize,
) -> anyhow::Result<(Vec<f32>, Option<Vec<f32>>)> {
    const BATCH: usize = 256;
    let mut engine = tactician_runtime::load_engine(bytes, BATCH)?;
    let names: Vec<String> = engine.outputs().iter().map(|p| p.name.clone()).collect();
    let li = names
        .iter()
        .position(|n| n == "logits")
        .context("the model has no output named \"logits\"")?;
    let vi = names.iter().position(|n| n == "value");
    let mut logits = Vec::new();
    let mut value = vi.map(|_| Vec::new());
    for start in (0..rows).step_by(BATCH) {
        let n = BATCH.min(rows - start);
        engine
            .input_mut(0, n)?
            .copy_from_slice(&features[start * width..(start + n) * width]);
        engine.run(n)?;
        logits.extend_from_slice(engine.output(li, n)?);
        if let (Some(vi), Some(v)) = (vi, value.as_mut()) {
            v.extend_from_slice(engine.output(vi, n)?);
        }
    }
    Ok((logits, value))
}

/// The export and verify steps of `tactician pipeline`.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineExport {
    /// What the export wrote.
    pub export: super::export::ExportReport,
    /// The consistency report.
    pub verify: VerifyReport,
}

impl PipelineExport {
    /// Both reports as text.
    pub fn to_markdown(&self) -> String {
        format!(
            "{}\n{}",
            super::export::to_markdown(&self.export),
            to_markdown(&self.verify)
        )
    }
}

/// `tactician pipeline`'s export + verify steps: exports `model` (float32 and int8,
/// calibrated on `prepared`'s training split) into `export` and verifies it on the test
/// split. `None` when there is no trained model yet. The caller prints the report and then
/// applies [`check_gates`] to stop the pipeline on failure.
pub fn pipeline_step(
    model: &Path,
    prepared: &Path,
    export: &Path,
    gates: &crate::config::VerifySection,
) -> anyhow::Result<Option<PipelineExport>> {
    if !model.join("model.json").exists() {
        return Ok(None);
    }
    let settings = super::export::ExportSettings {
        model: model.to_path_buf(),
        out: export.to_path_buf(),
        precisions: vec![Precision::Float32, Precision::Int8],
        calibration: Some(prepared.to_path_buf()),
        calibration_samples: super::export::DEFAULT_CALIBRATION_SAMPLES,
        max_bytes: None,
    };
    let export_report = super::export::run_export(&settings)?;
    let verify = run_verify(&VerifySettings {
        export: export.to_path_buf(),
        model: model.to_path_buf(),
        data: prepared.to_path_buf(),
        gate_f32: gates.min_f32_agreement,
        gate_quantized: gates.min_int8_agreement,
    })?;
    Ok(Some(PipelineExport {
        export: export_report,
        verify,
    }))
}
