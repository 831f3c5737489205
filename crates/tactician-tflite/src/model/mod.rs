//! The in-memory model: what [`Model::parse`] returns and what [`Model::to_bytes`] writes.
//!
//! The model's types and constants live in `types`, its consistency checks in `validate`,
//! the FlatBuffer reader in `read` and the deterministic writer in `write`.

mod read;
mod types;
mod validate;
mod write;

#[cfg(test)]
mod tests;

pub use types::{
    FILE_IDENTIFIER, FullyConnectedOptions, Metadata, Model, Operator, OperatorCode, Options,
    Quantization, SCHEMA_VERSION, SignatureDef, Subgraph, Tensor,
};
pub use write::MAX_FLATBUFFER_SIZE;
