//! A small pull parser for one JSON document held in memory.
//!
//! Ingest reads hundreds of thousands of decisions per second; `serde_json` reaches about a
//! third of that on our records (measured: 95k decisions/s per core, most of the time in
//! generic float parsing and in scanning sub-objects we do not need). This parser reads
//! exactly the fields a record needs straight into column buffers, skips the rest with a
//! validating scan, and reports *why* a document is bad (truncated, not finite, wrong type),
//! which the quarantine needs. It accepts exactly RFC 8259 JSON except that it does not
//! reject duplicate keys (the last one wins, as in `serde_json`).
//!
//! The cursor and the structural readers (objects, arrays, literals) are in `parser`, string
//! scanning and decoding in `string`, number scanning and the numeric readers in `number`,
//! skipping values in `skip`, and the error types in `error`.

mod error;
mod number;
mod parser;
mod skip;
mod string;

#[cfg(test)]
mod tests;

pub use error::{ErrorKind, JsonError, Result};
pub use parser::Parser;

/// Nesting deeper than this is refused (a crafted document must not exhaust the stack).
pub const MAX_DEPTH: usize = 64;
