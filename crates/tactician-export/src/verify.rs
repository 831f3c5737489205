//! Verification of an export folder: each file, run by the device runtime on the test split,
//! against the float model, with agreement gates.

use crate::folder::ExportManifest;
use crate::{ExportError, Precision};
use serde::Serialize;
use std::path::PathBuf;
use tactician_formats::model::Mlp;
use tactician_formats::prepared::{Split, SplitName};
use tactician_runtime::{Latency, Reference};

/// The default top-1 agreement gate of the float32 file.
pub const DEFAULT_GATE_F32: f64 = 1.0;
/// The default gate of the dynamic and int8 files.
pub const DEFAULT_GATE_QUANTIZED: f64 = 0.995;
/// Single decisions timed per file.
const TIMED_DECISIONS: usize = 256;

/// Settings of one verification.
#[derive(Debug, Clone)]
pub struct VerifySettings {
    /// The export folder.
    pub export: PathBuf,
    /// The trained model folder it was exported from.
    pub model: PathBuf,
    /// The prepared data folder (its test split is used).
    pub data: PathBuf,
    /// Minimum top-1 agreement of the float32 file.
    pub gate_f32: f64,
    /// Minimum top-1 agreement of the dynamic and int8 files.
    pub gate_quantized: f64,
}

impl VerifySettings {
    /// Settings with the default gates.
    pub fn new(
        export: impl Into<PathBuf>,
        model: impl Into<PathBuf>,
        data: impl Into<PathBuf>,
    ) -> Self {
        Self {
            export: export.into(),
            model: model.into(),
            data: data.into(),
            gate_f32: DEFAULT_GATE_F32,
            gate_quantized: DEFAULT_GATE_QUANTIZED,
        }
    }
}

/// The consistency figures of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Its precision.
    pub precision: Precision,
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
    /// Single-decision latency through the runtime's policy API.
    pub latency: Option<Latency>,
    /// The gate applied.
    pub gate: f64,
    /// Whether the gate is met.
    pub pass: bool,
}

/// The whole verification.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The export folder.
    pub export: PathBuf,
    /// The model version.
    pub model_version: String,
    /// Size of the model folder's `model.safetensors`.
    pub checkpoint_bytes: u64,
    /// One entry per exported file.
    pub files: Vec<FileReport>,
    /// Whether every gate is met.
    pub pass: bool,
}

impl VerifyReport {
    /// A line per file below its gate (empty when every gate is met).
    pub fn failures(&self) -> Vec<String> {
        self.files
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
            .collect()
    }

    /// The report as a table.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "## verify: {} (model {}, checkpoint {} bytes)\n\n\
             | file | bytes | vs f32 | top-1 agreement | gate | mean abs logit err | max abs logit err | max abs value err | decision p50 | operators |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
            self.export.display(),
            self.model_version,
            self.checkpoint_bytes
        );
        for f in &self.files {
            s.push_str(&format!(
                "| {} | {} | {} | {:.2}% ({}/{}) {} | {:.1}% | {:.2e} | {:.2e} | {} | {} | {} |\n",
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
                f.latency
                    .map_or_else(|| "-".into(), |l| format!("{:.1} µs", l.p50_us)),
                f.operators.join(" ")
            ));
        }
        s.push_str(if self.pass {
            "\nAll gates met.\n"
        } else {
            "\nBELOW GATE: see FAIL rows.\n"
        });
        s
    }
}

/// Verifies the export folder `s.export` (every file its manifest lists, each checked against
/// its recorded size and hash) against the float model in `s.model` on the test split of
/// `s.data`. The gates are applied in the report ([`VerifyReport::pass`]), not as an error.
pub fn verify(s: &VerifySettings) -> Result<VerifyReport, ExportError> {
    for (name, g) in [("float32", s.gate_f32), ("quantized", s.gate_quantized)] {
        if !(0.0..=1.0).contains(&g) {
            return Err(ExportError::Settings(format!(
                "the {name} gate {g} is not a fraction in [0, 1]"
            )));
        }
    }
    let (manifest, contents) = ExportManifest::read_checked(&s.export)?;
    let mlp = Mlp::load(&s.model)?;
    if manifest.encoder_hash != mlp.meta.encoder_hash || manifest.features != mlp.inputs() {
        return Err(ExportError::Mismatch(format!(
            "{} was exported from another model (encoder {}, {} features) than {} \
             (encoder {}, {} features)",
            s.export.display(),
            manifest.encoder_hash,
            manifest.features,
            s.model.display(),
            mlp.meta.encoder_hash,
            mlp.inputs()
        )));
    }
    let test_path = s.data.join(SplitName::Test.file_name());
    let test = Split::read(&test_path, Some((mlp.inputs(), mlp.actions())))?;
    if test.rows == 0 {
        return Err(ExportError::Mismatch(format!(
            "{}: the test split is empty",
            test_path.display()
        )));
    }
    let float = mlp.forward_exact(&test.x, test.rows);
    let reference = Reference {
        actions: mlp.actions(),
        features: &test.x,
        legal: &test.legal,
        logits: &float.logits,
        values: float.value.as_deref(),
    };
    let mut files = Vec::new();
    let mut f32_bytes = None;
    // The runtime's check refuses a file without metadata or made for another encoder, and
    // one whose input is not the model's features cannot run the test rows.
    for (entry, bytes) in manifest.files.iter().zip(&contents) {
        let path = s.export.join(&entry.file);
        let checked = tactician_runtime::check(
            bytes,
            &reference,
            Some(&mlp.meta.encoder_hash),
            TIMED_DECISIONS,
        )
        .map_err(|source| ExportError::Run {
            path: path.clone(),
            source,
        })?;
        let gate = if entry.precision == Precision::Float32 {
            f32_bytes = Some(entry.bytes);
            s.gate_f32
        } else {
            s.gate_quantized
        };
        let a = checked.agreement;
        files.push(FileReport {
            precision: entry.precision,
            path,
            bytes: entry.bytes,
            size_vs_f32: f32_bytes.map(|f| entry.bytes as f64 / f as f64),
            operators: entry.operators.clone(),
            rows: a.rows,
            top1_agreement: a.top1,
            mean_abs_logit_error: a.mean_abs_logit_error,
            max_abs_logit_error: a.max_abs_logit_error,
            max_abs_value_error: a.max_abs_value_error,
            latency: checked.latency,
            gate,
            pass: a.top1 >= gate,
        });
    }
    let checkpoint_bytes = std::fs::metadata(s.model.join(tactician_formats::model::MODEL_WEIGHTS))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(VerifyReport {
        export: s.export.clone(),
        model_version: mlp.meta.model_version,
        pass: files.iter().all(|f| f.pass),
        checkpoint_bytes,
        files,
    })
}
