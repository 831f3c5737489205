//! The trainer's errors.

use std::path::PathBuf;

/// What can go wrong while loading data, training, saving or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A setting is out of range.
    #[error("invalid training config: {0}")]
    Config(String),
    /// A file or folder operation failed.
    #[error(transparent)]
    Os(#[from] tactician_os::Error),
    /// The prepared data or a model folder cannot be read.
    #[error(transparent)]
    Format(#[from] tactician_formats::FormatError),
    /// A checkpoint's content is not what it should be.
    #[error("{path}: {msg}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
    /// Data made by another encoder (or another version of it).
    #[error("encoder mismatch: {0}")]
    Encoder(String),
    /// The loss became NaN or infinite.
    #[error(
        "the loss became {value} at epoch {epoch}, batch {batch}; training stopped \
         (the last good checkpoint, from epoch {last_good_epoch}, is kept; try a lower \
         learning rate)"
    )]
    NonFinite {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// The loss value.
        value: f32,
        /// The last completed epoch (0: none).
        last_good_epoch: usize,
    },
    /// The run cannot start or resume in this state.
    #[error("{0}")]
    State(String),
}

impl TrainError {
    /// A failed file operation `op` (`read`, `write`, `create`, `remove`...) on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Os(tactician_os::Error::io(op, path, source))
    }

    /// A checkpoint content error about `path`.
    pub fn invalid(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Self::Invalid {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
