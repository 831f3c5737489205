//! Parallel self-play collection of battle logs.
//!
//! A run plays `battles` battles of the built-in game between scripted strategies, on all cores,
//! and writes them as battle logs (JSON Lines, one [`BattleRecord`] per line, zstd-compressed by
//! default; the schema is in `docs/battle-log.md`):
//!
//! - battle `i` is played from seed `SplitMix64::derive(run_seed, i)`, and each side's strategy
//!   from a seed derived from the battle seed and the side, so a run is reproducible;
//! - battles are dealt to the matchups in turn and alternate sides within a matchup
//!   ([`assignment`]);
//! - battles `k·S .. (k+1)·S` go to file `part-{k:05}.jsonl.zst` (`S` = shard size), each
//!   written atomically; content never depends on the thread count;
//! - `collect.json` ([`Manifest`]), written last, lists the settings and every file with its
//!   battle count, size and BLAKE3 hash. A folder holds a complete collection exactly when it
//!   holds `collect.json`;
//! - everything is written into a staging folder beside the output and put in place when
//!   complete ([`tactician_os::OutputDir`]): a failed run leaves nothing, and a previous
//!   collection (replaced only with `force`, file by file, the manifest last) stays as it was.
//!
//! ```no_run
//! use tactician_data::collect::{CollectConfig, Settings, collect};
//!
//! let config = CollectConfig {
//!     settings: Settings { battles: 100, matchups: "random:*".into(), ..Settings::default() },
//!     ..CollectConfig::new("runs/example/logs")
//! };
//! let summary = collect(&config, &|_progress| {}).unwrap();
//! println!("{}", summary.to_markdown());
//! ```
//!
//! [`BattleRecord`]: tactician_battle::record::BattleRecord

mod error;
mod manifest;
mod matchup;
mod output;
mod read;
mod shard;
mod summary;

pub use error::CollectError;
pub use manifest::{MANIFEST_FORMAT, Manifest, RunWall, Settings, read_manifest};
pub use matchup::{Matchup, MatchupError, assignment, parse_matchups};
pub use read::{LogReader, summarize};
pub use shard::{FileEntry, ZSTD_LEVEL};
pub use summary::{MatchupStats, Summary};

use rayon::prelude::*;
use shard::AtomicFile;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use summary::{BattleFacts, Tally};
use tactician_game::record::{self, WallClock};
use tactician_game::strategy;

/// Most battles one run may hold: a million battles is about 20 GB of compressed logs and hours
/// of work; a larger number is more likely a typo than a plan.
pub const MAX_BATTLES: u64 = 1_000_000;
/// Highest round limit accepted.
pub const MAX_ROUNDS: u16 = 1000;
/// Most battles per file.
pub const MAX_SHARD_SIZE: u64 = 100_000;
/// The manifest's file name.
pub const MANIFEST_NAME: &str = "collect.json";
/// Battles played in parallel before being written in order, per file.
const BATCH: u64 = 32;

/// A collection run: what to play ([`Settings`]) and where and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectConfig {
    /// What to play.
    pub settings: Settings,
    /// Output folder (created if missing).
    pub out: PathBuf,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    /// Replace a previous collection in `out` instead of refusing.
    pub force: bool,
}

impl CollectConfig {
    /// Default settings, writing to `out`.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            settings: Settings::default(),
            out: out.into(),
            threads: None,
            force: false,
        }
    }
}

/// How far a run is, reported after every battle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Battles finished.
    pub done: u64,
    /// Battles in the run.
    pub total: u64,
}

pub use tactician_game::{battle_seed, strategy_seed};

/// Checks the settings and expands the matchup spec, without touching the disk.
pub fn validate(settings: &Settings) -> Result<Vec<Matchup>, CollectError> {
    let s = settings;
    if s.battles == 0 {
        return Err(CollectError::ZeroBattles);
    }
    if s.battles > MAX_BATTLES {
        return Err(CollectError::TooManyBattles(s.battles));
    }
    if s.max_rounds == 0 || s.max_rounds > MAX_ROUNDS {
        return Err(CollectError::MaxRounds(s.max_rounds));
    }
    if s.shard_size == 0 || s.shard_size > MAX_SHARD_SIZE {
        return Err(CollectError::ShardSize(s.shard_size));
    }
    let matchups = parse_matchups(&s.matchups)?;
    if s.battles < matchups.len() as u64 {
        return Err(CollectError::TooFewBattles {
            battles: s.battles,
            matchups: matchups.len(),
        });
    }
    Ok(matchups)
}

/// Runs a collection: validates the config, prepares the folder, plays and writes every battle
/// in parallel, writes the manifest, and returns the statistics. `progress` is called from the
/// worker threads after every battle.
pub fn collect(
    config: &CollectConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary, CollectError> {
    let settings = &config.settings;
    let matchups = validate(settings)?;
    let threads = match config.threads {
        Some(n) if n == 0 || n > 1024 => return Err(CollectError::Threads(n)),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let staged =
        tactician_os::OutputDir::create(&config.out, output::is_collection_file, config.force)
            .map_err(|e| match e {
                tactician_os::Error::Io { path, source, .. } => {
                    CollectError::Unwritable { path, source }
                }
                e => e.into(),
            })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("collect-{i}"))
        .build()
        .map_err(|e| CollectError::ThreadPool {
            threads,
            reason: e.to_string(),
        })?;

    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let started = Instant::now();
    let run = Run {
        settings,
        matchups: &matchups,
        out: staged.path(),
        done: AtomicU64::new(0),
        failed: AtomicBool::new(false),
        first_error: Mutex::new(None),
        progress,
    };
    let shards = settings.battles.div_ceil(settings.shard_size);
    let result: Result<Vec<(FileEntry, Vec<BattleFacts>)>, ()> = pool.install(|| {
        (0..shards)
            .into_par_iter()
            .map(|k| run.shard(k).map_err(|e| run.fail(e)))
            .collect()
    });
    // On any error the staging folder is dropped with everything written so far: a previous
    // collection in the folder stays as it was.
    let summary = result.map_err(|()| run.take_error()).and_then(|parts| {
        let seconds = started.elapsed().as_secs_f64();
        finish(
            config,
            staged.path(),
            &matchups,
            parts,
            started_unix_ms,
            seconds,
            threads,
        )
    })?;
    staged.commit(Some(MANIFEST_NAME))?;
    Ok(summary)
}

/// Writes the manifest and builds the summary.
fn finish(
    config: &CollectConfig,
    dir: &Path,
    matchups: &[Matchup],
    parts: Vec<(FileEntry, Vec<BattleFacts>)>,
    started_unix_ms: u64,
    seconds: f64,
    threads: usize,
) -> Result<Summary, CollectError> {
    let mut tally = Tally::new(matchups);
    let mut files = Vec::with_capacity(parts.len());
    for (file, facts) in parts {
        facts.iter().for_each(|f| tally.add(f));
        files.push(file);
    }
    let summary = tally.finish(config.out.clone(), files.clone(), (seconds, threads));
    let zero = config.settings.zero_wall_clock;
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        tool: format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        game: tactician_battle::record::GameInfo {
            name: tactician_game::rules::GAME_NAME.to_string(),
            version: tactician_game::rules::GAME_VERSION.to_string(),
        },
        rules: config.settings.game_config(),
        encoder: record::encoder_info(),
        settings: config.settings.clone(),
        matchups: matchups.to_vec(),
        battles: summary.battles,
        decisions: summary.decisions,
        files,
        wall: if zero {
            RunWall::default()
        } else {
            RunWall {
                started_unix_ms,
                seconds,
                threads,
            }
        },
    };
    let mut json = serde_json::to_vec_pretty(&manifest).expect("the manifest serializes");
    json.push(b'\n');
    tactician_os::write_atomic(&dir.join(MANIFEST_NAME), &json)?;
    Ok(summary)
}

/// The shared state of a run's workers.
struct Run<'a> {
    settings: &'a Settings,
    matchups: &'a [Matchup],
    out: &'a Path,
    done: AtomicU64,
    failed: AtomicBool,
    first_error: Mutex<Option<CollectError>>,
    progress: &'a (dyn Fn(Progress) + Sync),
}

impl Run<'_> {
    /// Notes a failure (`None`: a file that stopped because another failed), keeping the first
    /// error, and tells the other files to stop.
    fn fail(&self, error: Option<CollectError>) {
        self.failed.store(true, Ordering::Relaxed);
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        if first.is_none() {
            *first = error;
        }
    }

    /// The first error of the run.
    fn take_error(&self) -> CollectError {
        let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
        first.take().unwrap_or_else(|| CollectError::Write {
            path: self.out.to_path_buf(),
            source: std::io::Error::other("the run stopped without a reason"),
        })
    }

    /// Plays and writes file `k`. `Err(None)` means it stopped because another file failed.
    fn shard(&self, k: u64) -> Result<(FileEntry, Vec<BattleFacts>), Option<CollectError>> {
        let s = self.settings;
        let first = k * s.shard_size;
        let end = (first + s.shard_size).min(s.battles);
        let ext = if s.compress { "jsonl.zst" } else { "jsonl" };
        let name = format!("part-{k:05}.{ext}");
        let path = self.out.join(&name);
        let mut file = AtomicFile::create(&path)?;
        let mut facts = Vec::with_capacity((end - first) as usize);
        let mut start = first;
        while start < end {
            if self.failed.load(Ordering::Relaxed) {
                // Another file failed: stop early; the run reports that file's error.
                return Err(None);
            }
            let stop = (start + BATCH).min(end);
            let lines: Vec<_> = (start..stop)
                .into_par_iter()
                .map(|i| self.battle(i))
                .collect::<Result<_, _>>()?;
            for (line, f) in lines {
                file.write_all(&line)?;
                facts.push(f);
            }
            start = stop;
        }
        let (bytes, blake3) = file.finish()?;
        let entry = FileEntry {
            name,
            first_battle: first,
            battles: end - first,
            bytes,
            blake3,
        };
        Ok((entry, facts))
    }

    /// Plays battle `index` and returns its JSON line (as a zstd frame if compressing).
    fn battle(&self, index: u64) -> Result<(Vec<u8>, BattleFacts), CollectError> {
        let s = self.settings;
        let (matchup, names) = assignment(index, self.matchups);
        let seed = battle_seed(s.seed, index);
        let mut players = [0u8, 1].map(|side| {
            strategy::by_name(names[side as usize], strategy_seed(seed, side))
                .expect("matchups hold validated names")
        });
        let wall = if s.zero_wall_clock {
            WallClock::Zero
        } else {
            WallClock::Measured
        };
        let [p0, p1] = &mut players;
        let rec = record::record(seed, s.game_config(), [p0.as_mut(), p1.as_mut()], wall)
            .map_err(|source| CollectError::Record { index, source })?;
        let line = shard::encode_line(&rec, s.compress).map_err(|source| CollectError::Write {
            path: self.out.to_path_buf(),
            source,
        })?;
        let facts = BattleFacts {
            matchup,
            a_side: u8::from(self.matchups[matchup].a != names[0]),
            winner: rec.outcome.winner,
            victory: summary::parse_victory(&rec.outcome.victory).expect("the game names it"),
            turns: rec.outcome.turns,
            wall_ms: rec.wall.wall_ms,
        };
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        (self.progress)(Progress {
            done,
            total: s.battles,
        });
        Ok((line, facts))
    }
}

#[cfg(test)]
mod tests;
