//! The export folder: every requested `.tflite` file of one model and the manifest
//! `export.json` that lists them, written all or nothing.

use crate::ExportError;
use crate::graph::{ExportOptions, Precision, build, serialize};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tactician_formats::model::Mlp;
use tactician_formats::prepared::{Split, SplitName};

/// The `format` value of `export.json`.
pub const EXPORT_FORMAT: &str = "tactician-export/1";
/// The export folder's manifest.
pub const EXPORT_MANIFEST: &str = "export.json";
/// The default number of calibration rows.
pub const DEFAULT_CALIBRATION_SAMPLES: usize = 1000;

/// Whether `name` is a file an export folder holds (its own files, for replacing).
pub fn is_export_file(name: &str) -> bool {
    name == EXPORT_MANIFEST || Precision::ALL.iter().any(|p| p.file_name() == name)
}

/// One file of an export, as its manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// The precision.
    pub precision: Precision,
    /// The file name inside the export folder.
    pub file: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// BLAKE3 of its bytes (hex).
    pub blake3: String,
    /// Its operators, in order of first use.
    pub operators: Vec<String>,
}

/// `export.json`: what an export folder holds. Written last, so a folder without it is not a
/// complete export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// Always [`EXPORT_FORMAT`].
    pub format: String,
    /// The exported model's version.
    pub model_version: String,
    /// The hash of the encoder it was trained for.
    pub encoder_hash: String,
    /// Input features.
    pub features: usize,
    /// Actions (logits).
    pub actions: usize,
    /// Rows the int8 file was calibrated on (0 without an int8 file).
    pub calibration_rows: usize,
    /// The files, in precision order.
    pub files: Vec<ManifestFile>,
}

impl ExportManifest {
    /// Reads `export.json` of the export folder `dir` and checks that every file it lists is
    /// there with its recorded size and hash; returns it with the files' bytes, in its order.
    pub fn read_checked(dir: &Path) -> Result<(Self, Vec<Vec<u8>>), ExportError> {
        let path = dir.join(EXPORT_MANIFEST);
        let incomplete = |message: String| ExportError::Incomplete {
            path: dir.to_path_buf(),
            message,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(incomplete(format!(
                    "no {EXPORT_MANIFEST}: not a complete export (export the model again)"
                )));
            }
            Err(e) => return Err(tactician_os::Error::io("read", &path, e).into()),
        };
        let m: ExportManifest = serde_json::from_slice(&bytes)
            .map_err(|e| incomplete(format!("{EXPORT_MANIFEST} is not valid: {e}")))?;
        if m.format != EXPORT_FORMAT {
            return Err(incomplete(format!(
                "{EXPORT_MANIFEST} has format {:?}, expected {EXPORT_FORMAT:?}",
                m.format
            )));
        }
        if m.files.is_empty() {
            return Err(incomplete(format!("{EXPORT_MANIFEST} lists no file")));
        }
        let mut files = Vec::with_capacity(m.files.len());
        for f in &m.files {
            let p = dir.join(&f.file);
            let data = match std::fs::read(&p) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(incomplete(format!(
                        "{} is listed in {EXPORT_MANIFEST} but missing",
                        f.file
                    )));
                }
                Err(e) => return Err(tactician_os::Error::io("read", &p, e).into()),
            };
            if data.len() as u64 != f.bytes || blake3::hash(&data).to_hex().as_str() != f.blake3 {
                return Err(incomplete(format!(
                    "{} is not the file {EXPORT_MANIFEST} lists ({} bytes, expected {}, or another hash)",
                    f.file,
                    data.len(),
                    f.bytes
                )));
            }
            files.push(data);
        }
        Ok((m, files))
    }
}

/// Settings of one export.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    /// The trained model folder.
    pub model: PathBuf,
    /// The export folder (created; its own files are replaced, others left alone).
    pub out: PathBuf,
    /// The precisions to write.
    pub precisions: Vec<Precision>,
    /// The prepared data folder whose training split calibrates int8.
    pub calibration: Option<PathBuf>,
    /// How many rows to calibrate on (evenly spread over the training split).
    pub calibration_samples: usize,
    /// The largest file allowed (`None`: the FlatBuffer limit).
    pub max_bytes: Option<u64>,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            out: PathBuf::new(),
            precisions: vec![Precision::Float32],
            calibration: None,
            calibration_samples: DEFAULT_CALIBRATION_SAMPLES,
            max_bytes: None,
        }
    }
}

/// One written file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedFile {
    /// Its precision.
    pub precision: Precision,
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its operators, in order of first use.
    pub operators: Vec<String>,
}

/// What an export did.
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

impl ExportReport {
    /// The report as a table.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "## export: {} (version {})\n\n| file | precision | bytes | operators |\n|---|---|---:|---|\n",
            self.model.display(),
            self.model_version
        );
        for f in &self.files {
            s.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                f.path.display(),
                f.precision.name(),
                f.bytes,
                f.operators.join(", ")
            ));
        }
        if self.calibration_rows > 0 {
            s.push_str(&format!(
                "\nint8 calibrated on {} training rows.\n",
                self.calibration_rows
            ));
        }
        s
    }
}

/// `n` rows of features spread evenly over the training split of the prepared folder
/// `prepared` (row `k * rows / n` for `k` in `0..n`), for a model of `inputs` features.
pub fn calibration_rows(prepared: &Path, n: usize, inputs: usize) -> Result<Vec<f32>, ExportError> {
    if n == 0 {
        return Err(ExportError::Settings(
            "the calibration sample needs at least 1 row".into(),
        ));
    }
    let path = prepared.join(SplitName::Train.file_name());
    let split = Split::read(&path, None)?;
    if split.features != inputs {
        return Err(ExportError::Mismatch(format!(
            "{}: features have {} columns but the model takes {inputs}",
            path.display(),
            split.features
        )));
    }
    if split.rows == 0 {
        return Err(ExportError::Calibration(format!(
            "{}: the training split is empty: nothing to calibrate int8 on",
            path.display()
        )));
    }
    let take = n.min(split.rows);
    let mut out = Vec::with_capacity(take * inputs);
    for k in 0..take {
        out.extend_from_slice(split.row(k * split.rows / take));
    }
    Ok(out)
}

/// Exports the model folder `s.model` into the export folder `s.out`: every requested file is
/// built in memory first, then all are written with `export.json` into a staging folder beside
/// `s.out` and put in place together. The output may not be, contain or lie inside the model
/// or calibration folder.
pub fn export_folder(s: &ExportSettings) -> Result<ExportReport, ExportError> {
    let mut inputs: Vec<&Path> = vec![&s.model];
    inputs.extend(s.calibration.as_deref());
    tactician_os::check_disjoint(&s.out, &inputs)?;
    if s.precisions.is_empty() {
        return Err(ExportError::Settings("no precision to export".into()));
    }
    let mlp = Mlp::load(&s.model)?;
    let calib = if s.precisions.contains(&Precision::Int8) {
        let dir = s.calibration.as_deref().ok_or(ExportError::NoCalibration)?;
        Some(calibration_rows(dir, s.calibration_samples, mlp.inputs())?)
    } else {
        None
    };
    let start = Instant::now();
    let mut precisions = s.precisions.clone();
    precisions.sort();
    precisions.dedup();
    let mut built = Vec::new();
    for &p in &precisions {
        let mut opts = ExportOptions::new(p);
        opts.calibration = calib.as_deref();
        if let Some(limit) = s.max_bytes {
            opts.max_bytes = limit;
        }
        let model = build(&mlp, &opts)?;
        let ops: Vec<String> = model
            .operator_list()
            .iter()
            .map(|o| o.name().to_owned())
            .collect();
        built.push((p, serialize(&model, opts.max_bytes)?, ops));
    }
    let seconds = start.elapsed().as_secs_f64();
    let staged = tactician_os::OutputDir::create(&s.out, is_export_file, true)?;
    let mut files = Vec::new();
    let mut listed = Vec::new();
    for (p, bytes, operators) in built {
        staged.write(p.file_name(), &bytes)?;
        listed.push(ManifestFile {
            precision: p,
            file: p.file_name().to_string(),
            bytes: bytes.len() as u64,
            blake3: blake3::hash(&bytes).to_hex().to_string(),
            operators: operators.clone(),
        });
        files.push(ExportedFile {
            precision: p,
            path: s.out.join(p.file_name()),
            bytes: bytes.len() as u64,
            operators,
        });
    }
    let calibration_rows = calib.map_or(0, |c| c.len() / mlp.inputs());
    let manifest = ExportManifest {
        format: EXPORT_FORMAT.to_string(),
        model_version: mlp.meta.model_version.clone(),
        encoder_hash: mlp.meta.encoder_hash.clone(),
        features: mlp.inputs(),
        actions: mlp.actions(),
        calibration_rows,
        files: listed,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    json.push(b'\n');
    staged.write(EXPORT_MANIFEST, &json)?;
    staged.commit(Some(EXPORT_MANIFEST))?;
    Ok(ExportReport {
        model: s.model.clone(),
        model_version: mlp.meta.model_version,
        calibration_rows,
        files,
        seconds,
    })
}
