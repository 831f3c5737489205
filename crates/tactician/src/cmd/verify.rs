//! `tactician verify`: the exported files against the float model on the test split (the
//! `tactician-export` library); exits non-zero when a file falls below its gate.

use crate::cli::VerifyArgs;
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use tactician_export::{
    DEFAULT_CALIBRATION_SAMPLES, ExportReport, ExportSettings, Precision, VerifyReport,
    VerifySettings, export_folder, verify,
};

/// Runs `tactician verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<()> {
    let settings = VerifySettings {
        export: args.export,
        model: args.model,
        data: args.data,
        gate_f32: args.min_f32_agreement,
        gate_quantized: args.min_int8_agreement,
    };
    let report = verify(&settings)
        .with_context(|| format!("cannot verify {}", settings.export.display()))?;
    if args.json {
        super::print_json(&report)?;
    } else {
        super::print(&report.to_markdown())?;
    }
    super::fail_below("verification failed", report.failures())
}

/// The export and verify steps of `tactician pipeline`.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineExport {
    /// What the export wrote.
    pub export: ExportReport,
    /// The consistency report.
    pub verify: VerifyReport,
}

impl PipelineExport {
    /// Both reports as text.
    pub fn to_markdown(&self) -> String {
        format!(
            "{}\n{}",
            self.export.to_markdown(),
            self.verify.to_markdown()
        )
    }
}

/// `tactician pipeline`'s export + verify steps: exports `model` (float32 and int8,
/// calibrated on `prepared`'s training split) into `export` and verifies it on the test
/// split. `None` when there is no trained model yet. The caller prints the report and then
/// stops the pipeline when a file is below its gate.
pub fn pipeline_step(
    model: &Path,
    prepared: &Path,
    export: &Path,
    gates: &crate::config::VerifySection,
) -> anyhow::Result<Option<PipelineExport>> {
    if !model.join(tactician_formats::model::MODEL_JSON).exists() {
        return Ok(None);
    }
    let settings = ExportSettings {
        model: model.to_path_buf(),
        out: export.to_path_buf(),
        precisions: vec![Precision::Float32, Precision::Int8],
        calibration: Some(prepared.to_path_buf()),
        calibration_samples: DEFAULT_CALIBRATION_SAMPLES,
        max_bytes: None,
    };
    let export_report =
        export_folder(&settings).with_context(|| format!("cannot export {}", model.display()))?;
    let verify = verify(&VerifySettings {
        export: export.to_path_buf(),
        model: model.to_path_buf(),
        data: prepared.to_path_buf(),
        gate_f32: gates.min_f32_agreement,
        gate_quantized: gates.min_int8_agreement,
    })
    .with_context(|| format!("cannot verify {}", export.display()))?;
    Ok(Some(PipelineExport {
        export: export_report,
        verify,
    }))
}
