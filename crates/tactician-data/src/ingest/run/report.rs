//! What an ingest returns: the errors that stop it ([`IngestError`]), the report of what it
//! did per input file and in total, its progress, and the process's peak memory.

use crate::dataset::DatasetError;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Errors that stop an ingest (bad records never do; they are quarantined).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// No log files were given.
    #[error("no log files given")]
    NoInput,
    /// A setting is out of range.
    #[error("invalid ingest settings: {0}")]
    Options(String),
    /// The dataset folder failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The quarantine file could not be written.
    #[error("cannot write the quarantine file {path}")]
    Quarantine {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Too many records were bad: nothing was added.
    #[error(
        "{quarantined} of {records} records ({rate:.1}%) were quarantined, above the limit of {limit:.1}%: nothing was added to the dataset; see {quarantine}"
    )]
    TooDirty {
        /// Records read.
        records: u64,
        /// Records quarantined.
        quarantined: u64,
        /// Their share in percent.
        rate: f64,
        /// The limit in percent.
        limit: f64,
        /// The quarantine file.
        quarantine: String,
        /// The full report.
        report: Box<IngestReport>,
    },
    /// A worker thread panicked (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

/// One input file's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FileReport {
    /// Path as given.
    pub path: String,
    /// Bytes read from disk.
    pub bytes: u64,
    /// Whether it was zstd-compressed.
    pub compressed: bool,
    /// Records read.
    pub records: u64,
    /// Battles accepted.
    pub accepted: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Why the file could not be read at all, if so.
    pub error: Option<String>,
}

/// What an ingest did. `records == accepted + quarantined`, always.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IngestReport {
    /// Ingest number in the dataset.
    pub id: u32,
    /// Per input file.
    pub files: Vec<FileReport>,
    /// Records read.
    pub records: u64,
    /// Battles accepted.
    pub accepted: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Quarantined records per reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Decisions accepted.
    pub transitions: u64,
    /// Quarantine file (relative to the dataset), if anything was quarantined.
    pub quarantine: Option<String>,
    /// Part files added.
    pub new_files: Vec<String>,
    /// Battles in the dataset afterwards.
    pub dataset_battles: u64,
    /// Transitions in the dataset afterwards.
    pub dataset_transitions: u64,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Peak resident memory of the process, in bytes (Linux; `None` elsewhere).
    pub peak_rss_bytes: Option<u64>,
}

/// Progress of an ingest, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Compressed bytes read so far.
    pub bytes: u64,
    /// Total bytes of all input files.
    pub total_bytes: u64,
    /// Records read so far.
    pub records: u64,
    /// Transitions accepted so far.
    pub transitions: u64,
}
