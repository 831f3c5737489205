//! TFLite for Tactician: a strict reader of `.tflite` files, a deterministic writer, and the
//! exporter that turns a trained MLP into float32, dynamic-range and int8 models.
//!
//! - [`Model::parse`] reads any `.tflite` file (schema version 3) built from the supported
//!   operators, validating every offset, vtable, length, index, shape, type and quantization
//!   parameter; unsupported operators are named in the error.
//! - [`Model::to_bytes`] writes a model; the same model always gives the same bytes.
//! - [`export`] builds the graphs for an [`Mlp`]; [`quant`] holds the quantization arithmetic
//!   (scales, zero points, fixed-point multipliers) shared with the runtime's reference
//!   semantics; [`reference`] evaluates our graphs with the official kernels' integer rules.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
pub mod export;
mod fb;
pub mod mlp;
mod model;
#[cfg(feature = "model-dir")]
pub mod model_dir;
pub mod quant;
pub mod reference;
pub mod schema;

pub use error::{ReadError, WriteError};
pub use export::{ExportOptions, Precision, TacticianMetadata, export};
pub use mlp::{Dense, HiddenActivation, Mlp};
pub use model::{
    FILE_IDENTIFIER, FullyConnectedOptions, MAX_FLATBUFFER_SIZE, Metadata, Model, Operator,
    OperatorCode, Options, Quantization, SCHEMA_VERSION, SignatureDef, Subgraph, Tensor,
};
pub use schema::{Activation, BuiltinOperator, TensorType, WeightsFormat};
