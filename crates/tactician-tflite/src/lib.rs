//! The `.tflite` format for Tactician: a strict reader, a deterministic writer, the model's
//! metadata entry and the quantization arithmetic, shared by the exporter (workstation) and the
//! runtime (device).
//!
//! - [`Model::parse`] reads any `.tflite` file (schema version 3) built from the supported
//!   operators, validating every offset, vtable, length, index, shape, type and quantization
//!   parameter; unsupported operators are named in the error.
//! - [`Model::to_bytes`] writes a model; the same model always gives the same bytes.
//! - [`TacticianMetadata`]: the `tactician` metadata entry (model version, encoder hash,
//!   feature count, action names) that makes a file self-describing.
//! - [`quant`] holds the quantization arithmetic (scales, zero points, fixed-point
//!   multipliers) the exporter writes and the runtime executes; [`reference`] evaluates
//!   graphs with the official kernels' integer rules, as a test oracle.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod fb;
mod metadata;
mod model;
pub mod quant;
pub mod reference;
pub mod schema;

pub use error::{ReadError, WriteError};
pub use metadata::{METADATA_NAME, MetadataError, TacticianMetadata};
pub use model::{
    FILE_IDENTIFIER, FullyConnectedOptions, MAX_FLATBUFFER_SIZE, Metadata, Model, Operator,
    OperatorCode, Options, Quantization, SCHEMA_VERSION, SignatureDef, Subgraph, Tensor,
};
pub use schema::{Activation, BuiltinOperator, TensorType, WeightsFormat};
