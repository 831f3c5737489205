//! The dataset manifest, `dataset.json`: the one file that says what the dataset holds.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tactician_battle::FeatureSpec;

/// The `format` tag of version 1 datasets.
pub const FORMAT: &str = "tactician.dataset/1";

/// One Parquet part file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the dataset folder.
    pub path: String,
    /// `transitions` or `battles`.
    pub table: String,
    /// Rows in the file.
    pub rows: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// BLAKE3 hash of the file's bytes (hex).
    pub blake3: String,
}

/// One source file of an ingest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// Path as given.
    pub path: String,
    /// Bytes read.
    pub bytes: u64,
    /// Whether it was zstd-compressed.
    pub compressed: bool,
    /// Records read from it.
    pub records: u64,
    /// Records accepted from it.
    pub accepted: u64,
}

/// What one ingest added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestEntry {
    /// Ingest number, from 1.
    pub id: u32,
    /// When it started (Unix milliseconds).
    pub started_unix_ms: u64,
    /// The logs read.
    pub sources: Vec<SourceEntry>,
    /// Records (non-blank lines, plus unreadable file remainders) read.
    pub records: u64,
    /// Battles accepted.
    pub accepted: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Quarantined records by reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Decisions accepted.
    pub transitions: u64,
    /// The quarantine file, relative to the dataset folder, if anything was quarantined.
    pub quarantine: Option<String>,
    /// Part files this ingest added.
    pub files: Vec<String>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The encoder every record of this dataset was made with.
    pub encoder: FeatureSpec,
    /// Every part file, oldest first.
    pub files: Vec<FileEntry>,
    /// Every ingest, oldest first.
    pub ingests: Vec<IngestEntry>,
    /// Battles in the dataset.
    pub battles: u64,
    /// Transitions in the dataset.
    pub transitions: u64,
}

impl Manifest {
    /// An empty dataset bound to `encoder`.
    pub fn new(encoder: FeatureSpec) -> Self {
        Self {
            format: FORMAT.to_string(),
            encoder,
            files: Vec::new(),
            ingests: Vec::new(),
            battles: 0,
            transitions: 0,
        }
    }

    /// The files of one table.
    pub fn table(&self, table: &str) -> impl Iterator<Item = &FileEntry> {
        self.files.iter().filter(move |f| f.table == table)
    }

    /// The next free part number of `table`.
    pub fn next_part(&self, table: &str) -> u32 {
        self.table(table)
            .filter_map(|f| {
                f.path
                    .rsplit('/')
                    .next()?
                    .strip_prefix("part-")?
                    .strip_suffix(".parquet")?
                    .parse::<u32>()
                    .ok()
            })
            .max()
            .map_or(1, |n| n + 1)
    }
}
