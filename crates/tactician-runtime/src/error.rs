//! Typed errors of the runtime.

/// Why a model could not be loaded or a decision could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not a well-formed TFLite model.
    #[error("malformed model: {0}")]
    Malformed(String),
    /// The model uses an operator, type or shape the engine does not run.
    #[error("unsupported model: operator {op_index} ({op}): {reason}")]
    UnsupportedOp {
        /// Index of the operator in the graph.
        op_index: usize,
        /// The operator's name.
        op: String,
        /// What is not supported.
        reason: String,
    },
    /// The model's inputs or outputs are not what the engine or policy expects.
    #[error("unsupported model: {0}")]
    Unsupported(String),
    /// The model's metadata is missing or unreadable.
    #[error("model metadata: {0}")]
    Metadata(String),
    /// The model was built for another feature encoder than the device's.
    #[error(
        "the model's encoder hash {model} differs from this device's encoder {device}: refusing to \
         serve a model that would read features it was not trained on"
    )]
    EncoderMismatch {
        /// Hash in the model's metadata.
        model: String,
        /// Hash of the device's encoder.
        device: String,
    },
    /// An input had the wrong length.
    #[error("{what}: expected {expected} values, got {got}")]
    InputLength {
        /// Which input.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// A feature value was NaN or infinite.
    #[error("feature {index} is not a finite number ({value})")]
    NonFinite {
        /// Index in the feature vector (across the batch).
        index: usize,
        /// The value.
        value: f32,
    },
    /// The legal-action mask allows no action.
    #[error("the legal-action mask allows no action (row {row})")]
    NoLegalAction {
        /// Batch row.
        row: usize,
    },
    /// A batch larger than the engine was planned for, or empty.
    #[error("batch of {got} rows: this engine runs 1 to {max} rows")]
    Batch {
        /// Requested batch.
        got: usize,
        /// Maximum planned at load.
        max: usize,
    },
    /// The model produced a NaN or infinite output.
    #[error("the model produced a non-finite output")]
    NonFiniteOutput,
    /// An internal invariant failed (a bug, reported instead of a panic).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;
