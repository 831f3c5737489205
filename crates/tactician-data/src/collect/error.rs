//! Why a collection run, or reading one back, failed.

use super::matchup::MatchupError;
use super::{MAX_BATTLES, MAX_ROUNDS, MAX_SHARD_SIZE};
use std::io;
use std::path::PathBuf;
use tactician_game::record::RecordError;

/// Why a collection run, or reading one back, failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// Zero battles were asked for.
    #[error("the number of battles must be at least 1")]
    ZeroBattles,
    /// More battles than one run may hold.
    #[error(
        "{0} battles is more than the limit of {MAX_BATTLES} per run; \
         split the work into several runs with different seeds"
    )]
    TooManyBattles(u64),
    /// Fewer battles than matchups: some matchup would never be played.
    #[error(
        "{battles} battles cannot cover {matchups} matchups; \
         ask for at least {matchups} battles or for fewer matchups"
    )]
    TooFewBattles {
        /// Battles asked for.
        battles: u64,
        /// Matchups in the spec.
        matchups: usize,
    },
    /// The matchup spec is wrong.
    #[error(transparent)]
    Matchup(#[from] MatchupError),
    /// The round limit is out of range.
    #[error("max_rounds must be between 1 and {MAX_ROUNDS}, got {0}")]
    MaxRounds(u16),
    /// The shard size is out of range.
    #[error("the shard size must be between 1 and {MAX_SHARD_SIZE} battles, got {0}")]
    ShardSize(u64),
    /// The thread count is out of range.
    #[error("the thread count must be between 1 and 1024, got {0}")]
    Threads(usize),
    /// The output path exists and is not a folder.
    #[error("output path {0} exists and is not a folder")]
    NotADirectory(PathBuf),
    /// The output folder cannot be created or written to.
    #[error("output folder {path} cannot be created or written to")]
    Unwritable {
        /// The folder.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// The output folder already holds (part of) a collection.
    #[error(
        "output folder {path} already holds a collection ({found}); \
         pass --force to replace it, or choose another folder"
    )]
    AlreadyCollected {
        /// The folder.
        path: PathBuf,
        /// One of the files found.
        found: String,
    },
    /// The output folder or one of its files could not be written.
    #[error(transparent)]
    Output(tactician_os::Error),
    /// Writing, syncing or renaming a file failed.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {reason}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// Rayon's reason.
        reason: String,
    },
    /// A strategy misbehaved while a battle was recorded.
    #[error("battle {index} of the run")]
    Record {
        /// The battle's index in the run.
        index: u64,
        /// What went wrong.
        #[source]
        source: RecordError,
    },
    /// A file of a collection cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// A file of a collection is not what its manifest or format says.
    #[error("{path} is corrupt: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl From<tactician_os::Error> for CollectError {
    fn from(e: tactician_os::Error) -> Self {
        match e {
            tactician_os::Error::NotADirectory(path) => CollectError::NotADirectory(path),
            tactician_os::Error::Exists { path, found } => {
                CollectError::AlreadyCollected { path, found }
            }
            e => CollectError::Output(e),
        }
    }
}
