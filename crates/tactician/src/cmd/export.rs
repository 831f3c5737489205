//! `tactician export`: a trained model folder → `.tflite` files (float32, dynamic, int8) in an
//! export folder with its manifest (the `tactician-export` library).

use crate::cli::{ExportArgs, Quantize};
use tactician_export::{ExportError, ExportSettings, Precision, export_folder};

/// The precisions a `--quantize` choice writes: always float32, plus the choice.
pub fn precisions(q: Quantize) -> Vec<Precision> {
    match q {
        Quantize::None => vec![Precision::Float32],
        Quantize::Dynamic => vec![Precision::Float32, Precision::Dynamic],
        Quantize::Int8 => vec![Precision::Float32, Precision::Int8],
        Quantize::All => Precision::ALL.to_vec(),
    }
}

/// Runs `tactician export`.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let settings = ExportSettings {
        model: args.model,
        out: args.out,
        precisions: precisions(args.quantize),
        calibration: args.calibration,
        calibration_samples: args.calibration_samples as usize,
        max_bytes: args.max_bytes,
    };
    let report = export_folder(&settings).map_err(|e| {
        let hint = if matches!(e, ExportError::NoCalibration) {
            "pass --calibration PREPARED (the prepared data folder whose training split \
             calibrates int8), or --quantize none|dynamic"
                .to_string()
        } else {
            format!("cannot export {}", settings.model.display())
        };
        anyhow::Error::new(e).context(hint)
    })?;
    if args.json {
        return super::print_json(&report);
    }
    super::print(&report.to_markdown())
}
