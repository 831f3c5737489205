//! The error type of the formats.

use std::path::{Path, PathBuf};

/// Why a folder or file of one of the formats cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A file or folder operation failed.
    #[error(transparent)]
    Os(#[from] tactician_os::Error),
    /// A JSON file does not parse as what it should be.
    #[error("{path} is not a valid {what}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What the file should be, e.g. `model.json`.
        what: &'static str,
        /// The parser's reason.
        #[source]
        source: serde_json::Error,
    },
    /// A safetensors file is corrupt.
    #[error("{path} is not a valid safetensors file")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// The reader's reason.
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// The file parses but its content does not fit the format (types, shapes, values).
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl FormatError {
    /// A [`FormatError::Invalid`].
    pub fn invalid(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        FormatError::Invalid {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }

    /// A read error of `path`.
    pub fn read(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        tactician_os::Error::io("read", path.as_ref(), source).into()
    }
}

/// Reads and parses the JSON file `path` as `what`.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, FormatError> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::read(path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| FormatError::Json {
        path: path.to_path_buf(),
        what,
        source,
    })
}

/// `value` as pretty JSON with a final newline.
pub(crate) fn pretty_json(value: &impl serde::Serialize) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(value).expect("the formats' types serialize");
    text.push(b'\n');
    text
}
