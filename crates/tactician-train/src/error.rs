//! The trainer's errors.

use std::path::PathBuf;

/// What can go wrong while loading data, training, saving or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A setting is out of range.
    #[error("invalid training config: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file's content is not what it should be (corrupt, wrong shape, wrong values).
    #[error("{path}: {msg}")]
    Format {
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
    /// An I/O error about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    /// A format error about `path`.
    pub fn format(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
