//! Errors of the reader and the writer.

/// Why a `.tflite` file was rejected by [`crate::Model::parse`].
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ReadError {
    /// The file identifier is not `TFL3`.
    #[error("not a TFLite file: file identifier is {found:?}, expected \"TFL3\"")]
    NotTflite {
        /// The four identifier bytes found at offset 4.
        found: Vec<u8>,
    },
    /// The FlatBuffer structure is broken (offsets, vtables, lengths, alignment).
    #[error("malformed TFLite file: {0}")]
    Malformed(String),
    /// The structure is sound but the model is inconsistent (indices, shapes, types, quantization).
    #[error("invalid TFLite model: {0}")]
    Invalid(String),
    /// The model uses something this reader does not support (named).
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl ReadError {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        ReadError::Malformed(msg.into())
    }
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        ReadError::Invalid(msg.into())
    }
    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        ReadError::Unsupported(msg.into())
    }
}

/// Why a model could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// The in-memory model is inconsistent; the message says how.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// The file would exceed the size limit.
    #[error("the exported model would be {size} bytes, above the limit of {limit} bytes")]
    TooLarge {
        /// The size the file would have.
        size: u64,
        /// The limit.
        limit: u64,
    },
}
