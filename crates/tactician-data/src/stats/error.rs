//! The errors of computing statistics.

use crate::dataset::DatasetError;
use std::path::PathBuf;

/// Why statistics could not be computed. Every variant names the file (and column) at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The dataset folder could not be opened (missing, not a dataset, bad manifest).
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The dataset holds no battles.
    #[error(
        "the dataset {0} holds no battles yet; add some with `tactician ingest LOGS --out DATASET`"
    )]
    Empty(PathBuf),
    /// A part file could not be opened.
    #[error("cannot open {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A part file is not readable Parquet.
    #[error("cannot read {path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A column is missing or has another type than the dataset format says.
    #[error("column {column} of {path}: {message}")]
    Column {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A value breaks the dataset's rules (an action outside the action space, a side other
    /// than 0 or 1, a battle's rows out of order).
    #[error("{path}: {message}")]
    Value {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}
