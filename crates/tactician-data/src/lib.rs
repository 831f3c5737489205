//! Tactician's data layer: collecting battles by self-play and (later) ingesting logs into
//! datasets, statistics and training tensors.

pub mod collect;
pub mod dataset;
pub mod ingest;
pub mod prepare;
pub mod stats;
pub mod tournament;
