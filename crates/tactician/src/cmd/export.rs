//! `tactician export`: a trained model folder → `.tflite` files (float32, dynamic, int8).
//!
//! Every requested file is built in memory first; only when all succeed are they written, each
//! under a temporary name and renamed, so bad input never leaves a partial export behind.

use crate::cli::{ExportArgs, Quantize};
use anyhow::{Context, bail};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tactician_tflite::{ExportOptions, Mlp, Model, Precision, export, model_dir};

/// The default number of calibration rows.
pub const DEFAULT_CALIBRATION_SAMPLES: usize = 1000;

/// Settings of one export.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The trained model folder.
    pub model: PathBuf,
    /// The output folder.
    pub out: PathBuf,
    /// The precisions to write.
    pub precisions: Vec<Precision>,
    /// The prepared data folder whose `train.safetensors` features calibrate int8.
    pub calibration: Option<PathBuf>,
    /// How many rows to calibrate on (evenly spread over the training split).
    pub calibration_samples: usize,
    /// The largest file allowed (`None`: the FlatBuffer limit).
    pub max_bytes: Option<u64>,
}

/// One written file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    /// `f32`, `dynamic` or `int8`.
    pub precision: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its operators, in order of first use.
    pub operators: Vec<String>,
}

/// What `tactician export` did.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The model folder.
    pub model: PathBuf,
    /// The model version.
    pub model_version: String,
    /// Rows used to calibrate int8 (0 when no int8 file).
    pub calibration_rows: usize,
    /// Files written.
    pub files: Vec<ExportedFile>,
    /// Time spent building and serializing (not reading or writing), in seconds.
    pub seconds: f64,
}

/// The precisions a `--quantize` choice writes: always float32, plus the choice.
pub fn precisions(q: Quantize) -> Vec<Precision> {
    match q {
        Quantize::None => vec![Precision::Float32],
        Quantize::Dynamic => vec![Precision::Float32, Precision::Dynamic],
        Quantize::Int8 => vec![Precision::Float32, Precision::Int8],
        Quantize::All => vec![Precision::Float32, Precision::Dynamic, Precision::Int8],
    }
}

/// Runs `tactician export`.
pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let settings = ExportSettings {
        model: args.model,
        out: args.out,
        precisions: precisions(args.quantize),
        calibration: args.calibration,
        calibration_samples: args.calibration_samples,
        max_bytes: args.max_bytes,
    };
    let report = run_export(&settings)?;
    if args.json {
        return super::print_json(&report);
    }
    super::print(&to_markdown(&report))
}

/// The report as text.
pub fn to_markdown(r: &ExportReport) -> String {
    let mut s = format!(
        "## export: {} (version {})\n\n| file | precision | bytes | operators |\n|---|---|---:|---|\n",
        r.model.display(),
        r.model_version
    );
    for f in &r.files {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            f.path.display(),
            f.precision,
            f.bytes,
            f.operators.join(", ")
        ));
    }
    if r.calibration_rows > 0 {
        s.push_str(&format!(
            "\nint8 calibrated on {} training rows.\n",
            r.calibration_rows
        ));
    }
    s
}

/// Reads `n` rows of `features` spread evenly over `PREPARED/train.safetensors`.
pub fn calibration_rows(prepared: &Path, n: usize, inputs: usize) -> anyhow::Result<Vec<f32>> {
    if n == 0 {
        bail!("--calibration-samples must be at least 1");
    }
    let path = prepared.join("train.safetensors");
    let (features, rows, width) = super::verify::read_f32_matrix(&path, "features")?;
    if width != inputs {
        bail!(
            "{}: features have {width} columns but the model takes {inputs}",
            path.display()
        );
    }
    if rows == 0 {
        bail!(
            "{}: the training split is empty: nothing to calibrate int8 on",
            path.display()
        );
    }
    let take = n.min(rows);
    let mut out = Vec::with_capacity(take * width);
    for k in 0..take {
        let r = k * rows / take;
        out.extend_from_slice(&features[r * width..(r + 1) * width]);
    }
    Ok(out)
}

/// Builds every requested file, then writes them all (temp file + rename).
pub fn run_export(s: &ExportSettings) -> anyhow::Result<ExportReport> {
    let mlp: Mlp = model_dir::load(&s.model)
        .with_context(|| format!("cannot load the model in {}", s.model.display()))?;
    let needs_calibration = s.precisions.contains(&Precision::Int8);
    let calib = match (&s.calibration, needs_calibration) {
        (Some(dir), true) => Some(calibration_rows(dir, s.calibration_samples, mlp.inputs)?),
        (None, true) => bail!(
            "int8 export needs a representative sample: pass --calibration PREPARED \
             (the prepared data folder whose train.safetensors features are used)"
        ),
        (_, false) => None,
    };
    let start = Instant::now();
    let mut built = Vec::new();
    for &p in &s.precisions {
        let mut opts = ExportOptions::new(p);
        opts.calibration = calib.as_deref();
        if let Some(limit) = s.max_bytes {
            opts.max_bytes = limit;
        }
        let bytes = export(&mlp, &opts)
            .with_context(|| format!("cannot export {} ({})", s.model.display(), p.name()))?;
        let model = Model::parse(&bytes).context("the exported file does not read back")?;
        built.push((p, bytes, model.operator_list()));
    }
    let seconds = start.elapsed().as_secs_f64();
    std::fs::create_dir_all(&s.out)
        .with_context(|| format!("cannot create {}", s.out.display()))?;
    let mut files = Vec::new();
    for (p, bytes, ops) in built {
        let path = s.out.join(p.file_name());
        write_atomic(&path, &bytes)?;
        files.push(ExportedFile {
            precision: p.name(),
            path,
            bytes: bytes.len() as u64,
            operators: ops.iter().map(|o| o.name().to_owned()).collect(),
        });
    }
    Ok(ExportReport {
        model: s.model.clone(),
        model_version: mlp.model_version.clone(),
        calibration_rows: calib.map_or(0, |c| c.len() / mlp.inputs),
        files,
        seconds,
    })
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
