//! Why a preparation failed.

use crate::dataset::DatasetError;
use std::path::{Path, PathBuf};

/// Errors of [`super::prepare`]. Every one leaves no output behind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// The dataset cannot be opened or read.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// A file operation failed, or the output folder cannot be written (not a folder, a
    /// previous output without `force`, an overlap with the input).
    #[error(transparent)]
    Os(#[from] tactician_os::Error),
    /// Parquet or Arrow failed on a part file.
    #[error("parquet error on {path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// A column is missing or has another type than the dataset format says.
    #[error("{path}: column {column} {message}")]
    Column {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The settings are impossible (e.g. split ratios that do not add up to 1).
    #[error("invalid prepare settings: {0}")]
    Config(String),
    /// The dataset's encoder is not the game's (the built-in game's, or the given spec's).
    #[error(
        "encoder hash mismatch: the dataset holds features of encoder {dataset} but the game's \
         encoder is {game}; re-ingest the battle logs with the current game (or pass the spec \
         the dataset was made with)"
    )]
    EncoderMismatch {
        /// The dataset's encoder hash.
        dataset: String,
        /// The expected encoder hash.
        game: String,
    },
    /// The dataset holds no decisions.
    #[error("the dataset {0} holds no decisions; ingest battle logs into it first")]
    EmptyDataset(PathBuf),
    /// The filters removed every decision.
    #[error(
        "the filters removed all {rows} decisions ({removed}); players in the dataset: {players}"
    )]
    NothingKept {
        /// Decisions read.
        rows: u64,
        /// What each rule removed.
        removed: String,
        /// The players the dataset holds.
        players: String,
    },
    /// A split received no decisions.
    #[error(
        "the {split} split is empty ({kept} decisions of {battles} battles kept in all); use \
         more battles or a larger {split} ratio"
    )]
    EmptySplit {
        /// `train`, `val` or `test`.
        split: &'static str,
        /// Decisions kept in all splits.
        kept: u64,
        /// Battles with kept decisions.
        battles: u64,
    },
    /// The dataset's content disagrees with its manifest.
    #[error("{0}")]
    Corrupt(String),
    /// A symmetry does not fit the encoder, or a requested one does not exist.
    #[error("augmentation: {0}")]
    Symmetry(String),
    /// Writing a tensor file failed.
    #[error("cannot write {path}: {message}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
}

impl PrepareError {
    pub(crate) fn io(op: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Os(tactician_os::Error::io(op, path, source))
    }

    pub(crate) fn parquet(path: &Path, e: impl std::fmt::Display) -> Self {
        Self::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    pub(crate) fn column(path: &Path, column: &str, message: impl Into<String>) -> Self {
        Self::Column {
            path: path.to_path_buf(),
            column: column.to_string(),
            message: message.into(),
        }
    }
}
