//! The folders Tactician's workstation steps hand to each other, each format defined here
//! once and read and written only through this crate:
//!
//! - [`prepared`]: the prepared-data folder `tactician prepare` writes (format
//!   `tactician-prepared/1`): `manifest.json` ([`prepared::PreparedManifest`]),
//!   `{train,val,test}.safetensors` ([`prepared::Split`]) and `scenarios.json`.
//! - [`model`]: the trained-model folder `tactician train` writes (format `tactician-mlp/1`):
//!   `model.json` ([`model::ModelJson`]) and `model.safetensors`, loaded as an [`model::Mlp`]
//!   that also runs the network in plain float arithmetic.
//! - [`tensors`]: the safetensors reading and writing both formats (and the trainer's
//!   checkpoints) share.
//!
//! ```
//! use tactician_formats::model::{Activation, Mlp, ModelJson};
//!
//! let meta = ModelJson::new(3, vec![4], Activation::Relu, 2, true, "demo-0123");
//! let mlp = Mlp::random(meta, 7);
//! let dir = tempfile::tempdir().unwrap();
//! mlp.write(dir.path(), &[]).unwrap();
//! let back = Mlp::load(dir.path()).unwrap();
//! assert_eq!(back.forward(&[0.5, -1.0, 2.0]), mlp.forward(&[0.5, -1.0, 2.0]));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
pub mod model;
pub mod prepared;
pub mod tensors;

pub use error::FormatError;
