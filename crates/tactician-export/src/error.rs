//! The error type of export and verification.

use std::path::PathBuf;

/// Why a model could not be exported or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The network is not one the exporter supports.
    #[error("unsupported network: {0}")]
    Unsupported(String),
    /// The calibration sample cannot calibrate int8 activations.
    #[error("calibration: {0}")]
    Calibration(String),
    /// An int8 export was asked for without the prepared data folder that calibrates it.
    #[error(
        "calibration: int8 export needs a representative sample: the prepared data folder \
         whose training split calibrates it"
    )]
    NoCalibration,
    /// The file would exceed the size limit (before it is built: its parameters alone).
    #[error("the exported model would be {size} bytes, above the limit of {limit} bytes")]
    TooLarge {
        /// The size the file would have.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The TFLite writer refused the model (a size limit included).
    #[error("cannot write the model")]
    Write(#[from] tactician_tflite::WriteError),
    /// The runtime cannot run a file.
    #[error("the runtime cannot run {path}")]
    Run {
        /// The file.
        path: PathBuf,
        /// The runtime's reason.
        #[source]
        source: tactician_runtime::Error,
    },
    /// A model folder, prepared folder or export folder cannot be read.
    #[error(transparent)]
    Format(#[from] tactician_formats::FormatError),
    /// A file operation failed.
    #[error(transparent)]
    Os(#[from] tactician_os::Error),
    /// The export folder is not complete or does not match its manifest.
    #[error("{path}: {message}")]
    Incomplete {
        /// The export folder.
        path: PathBuf,
        /// What is missing or different.
        message: String,
    },
    /// The files do not belong together (another model, another encoder, other data).
    #[error("{0}")]
    Mismatch(String),
    /// A setting is out of range.
    #[error("{0}")]
    Settings(String),
}
