//! Tactician's trainer: a dense policy network (with an optional value head) trained by a
//! fused forward/backward pass on the `gemm` crate, with Adam/AdamW, learning-rate schedules,
//! early stopping, per-epoch metrics and checkpoints that resume bit-identically, and a
//! hyper-parameter search. It reads the prepared-data folder and writes the model folder of
//! `tactician-formats`. See docs/train.md.
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod error;
pub mod kernel;
pub mod model;
pub mod net;
pub mod optim;
pub mod perf;
pub mod rng;
pub mod synth;
pub mod train;
pub mod tune;

pub use config::{Activation, OptimizerKind, ScheduleKind, TrainConfig};
pub use data::Prepared;
pub use error::TrainError;
pub use model::TrainedModel;
pub use train::{TrainOptions, TrainSummary, train};
