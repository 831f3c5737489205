//! Ingest: battle logs in, validated dataset rows out.

pub mod chunk;
pub mod columns;
pub mod json;
pub mod reader;
pub mod reason;
pub mod record;
pub mod run;
pub mod sequence;
pub mod work;

pub use run::{FileReport, IngestError, IngestOptions, IngestReport, Progress, ingest};
