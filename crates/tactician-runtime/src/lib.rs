//! Tactician's device runtime: a lean engine for the `.tflite` policies Tactician exports and
//! for fully-connected models from the official converter, plus the policy API a game calls.
//!
//! - [`load`] reads a file through `tactician-tflite`'s strict reader into a [`Graph`].
//! - [`Engine`] checks every operator and type, plans all activation memory once in one arena
//!   and runs batches without heap allocation. Kernels: FULLY_CONNECTED in float32, hybrid
//!   (int8 weights, float activations) and int8 (TFLite's integer requantization), RELU,
//!   RELU6, TANH, LOGISTIC, SOFTMAX, QUANTIZE, DEQUANTIZE, RESHAPE, ADD, MUL.
//! - [`Policy`] turns features and a legal-action mask into an action, masked probabilities
//!   and a value, with deterministic tie-breaking, seeded sampling, a batch form, an LRU cache
//!   and the model's metadata (refusing a model built for another encoder).
//! - [`check`]: a model run on known rows against a reference's answers (top-1 agreement,
//!   output errors, decision latency), as the workstation's verification and the device
//!   both judge a model.
//!
//! The matrix kernels (module [`kernels`]) are the only `unsafe` code: AVX2+FMA on x86-64
//! (chosen at run time), NEON on aarch64, each tested against the scalar reference.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod check;
pub mod engine;
pub mod error;
pub mod graph;
pub mod kernels;
pub mod load;
pub mod policy;
pub mod quant;

pub use check::{Agreement, CheckReport, Latency, Reference, check, masked_argmax};
pub use engine::{Engine, Port, Stats};
pub use error::{Error, Result};
pub use graph::Graph;
pub use kernels::{Isa, Kernels};
pub use policy::{
    BatchDecisions, CacheStats, Decision, METADATA_NAME, Metadata, Policy, PolicyOptions,
    graph_metadata,
};

/// This runtime's version: a published model declares the oldest runtime that runs it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Loads a `.tflite` file's bytes into an engine planned for batches of up to `max_batch`.
pub fn load_engine(bytes: &[u8], max_batch: usize) -> Result<Engine> {
    Engine::new(&load::graph_from_bytes(bytes)?, max_batch)
}
