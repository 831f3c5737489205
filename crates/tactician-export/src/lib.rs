//! Export and verification: a trained model folder becomes `.tflite` files the official
//! interpreter and our runtime run with the same answers, and is checked before anything
//! ships.
//!
//! - [`export`] builds one file of a [`Mlp`](tactician_formats::model::Mlp): float32, dynamic
//!   range (int8 weights) or int8 (calibrated on a representative sample); the same network
//!   and sample always give the same bytes.
//! - [`export_folder`] writes every requested file of a model folder into an export folder
//!   with its manifest `export.json` (sizes, hashes, operators), all or nothing.
//! - [`verify`] runs each file of an export folder with the device runtime on the test split
//!   and compares it with the float model (top-1 agreement, logit errors, decision latency)
//!   against gates. It refuses an export whose files do not match its manifest.
//!
//! ```no_run
//! use std::path::PathBuf;
//! use tactician_export::{ExportSettings, Precision, VerifySettings, export_folder, verify};
//!
//! let report = export_folder(&ExportSettings {
//!     model: "run/model".into(),
//!     out: "run/export".into(),
//!     precisions: vec![Precision::Float32, Precision::Int8],
//!     calibration: Some("run/prepared".into()),
//!     ..ExportSettings::default()
//! })
//! .unwrap();
//! let checked = verify(&VerifySettings::new("run/export", "run/model", "run/prepared")).unwrap();
//! println!("{}{}", report.to_markdown(), checked.to_markdown());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod folder;
mod graph;
mod int8;
mod verify;

pub use error::ExportError;
pub use folder::{
    DEFAULT_CALIBRATION_SAMPLES, EXPORT_FORMAT, EXPORT_MANIFEST, ExportManifest, ExportReport,
    ExportSettings, ExportedFile, calibration_rows, export_folder, is_export_file,
};
pub use graph::{ExportOptions, Precision, build, export};
pub use int8::{Ranges, TANH_OUTPUT, calibrate};
pub use verify::{
    DEFAULT_GATE_F32, DEFAULT_GATE_QUANTIZED, FileReport, VerifyReport, VerifySettings, verify,
};
