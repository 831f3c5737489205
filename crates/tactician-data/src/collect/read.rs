//! Reading a collection back: records from a log file, and the checked statistics of a folder.

use super::error::CollectError;
use super::manifest::{Manifest, read_manifest};
use super::summary::{BattleFacts, Summary, Tally, parse_victory};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use tactician_battle::record::{BattleWall, Outcome, SideInfo};

/// Reads one JSON value per line from a battle log (`.jsonl`, or zstd-compressed `.jsonl.zst`).
pub struct LogReader<T> {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    line: u64,
    buf: String,
    _t: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> LogReader<T> {
    /// Opens a log file; a name ending in `.zst` is decompressed.
    pub fn open(path: &Path) -> Result<Self, CollectError> {
        let err = |source| CollectError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(err)?;
        let is_zst = path.extension().is_some_and(|e| e == "zst");
        Self::from_reader(path, file, is_zst).map_err(err)
    }

    /// Reads from `input` (named `path` in errors).
    pub fn from_reader(
        path: &Path,
        input: impl Read + Send + 'static,
        zstd: bool,
    ) -> std::io::Result<Self> {
        let input: Box<dyn BufRead + Send> = if zstd {
            Box::new(BufReader::new(zstd::Decoder::new(input)?))
        } else {
            Box::new(BufReader::new(input))
        };
        Ok(Self {
            path: path.to_path_buf(),
            input,
            line: 0,
            buf: String::new(),
            _t: PhantomData,
        })
    }
}

impl<T: DeserializeOwned> Iterator for LogReader<T> {
    type Item = Result<T, CollectError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.buf.clear();
        match self.input.read_line(&mut self.buf) {
            Ok(0) => None,
            Ok(_) => {
                self.line += 1;
                Some(
                    serde_json::from_str(self.buf.trim_end_matches('\n')).map_err(|e| {
                        CollectError::Corrupt {
                            path: self.path.clone(),
                            reason: format!("line {}: {e}", self.line),
                        }
                    }),
                )
            }
            Err(source) => Some(Err(CollectError::Read {
                path: self.path.clone(),
                source,
            })),
        }
    }
}

/// The part of a record the statistics read (the rest is skipped).
#[derive(Deserialize)]
struct Head {
    sides: Vec<SideInfo>,
    outcome: Outcome<IgnoredAny>,
    #[serde(default)]
    wall: BattleWall,
}

/// Reads the collection in `dir` back: checks every file's size and BLAKE3 hash against the
/// manifest and its battle count, and computes the statistics from the records themselves.
pub fn summarize(dir: &Path) -> Result<Summary, CollectError> {
    let manifest = read_manifest(dir)?;
    let mut tally = Tally::new(&manifest.matchups);
    let mut battles = 0u64;
    for entry in &manifest.files {
        let path = dir.join(&entry.name);
        let corrupt = |reason: String| CollectError::Corrupt {
            path: path.clone(),
            reason,
        };
        if Path::new(&entry.name).file_name() != Some(entry.name.as_ref()) {
            return Err(corrupt(
                "the manifest names a file outside the folder".into(),
            ));
        }
        let bytes = std::fs::read(&path).map_err(|source| CollectError::Read {
            path: path.clone(),
            source,
        })?;
        if bytes.len() as u64 != entry.bytes
            || blake3::hash(&bytes).to_hex().as_str() != entry.blake3
        {
            return Err(corrupt(
                "its size or BLAKE3 hash differs from the manifest".into(),
            ));
        }
        let zst = entry.name.ends_with(".zst");
        let reader = LogReader::<Head>::from_reader(&path, std::io::Cursor::new(bytes), zst)
            .map_err(|e| corrupt(e.to_string()))?;
        let mut count = 0u64;
        for head in reader {
            tally.add(&facts(&manifest, &head?).map_err(corrupt)?);
            count += 1;
        }
        if count != entry.battles {
            return Err(corrupt(format!(
                "it holds {count} battles, the manifest says {}",
                entry.battles
            )));
        }
        battles += count;
    }
    let summary = tally.finish(
        dir.to_path_buf(),
        manifest.files.clone(),
        (manifest.wall.seconds, manifest.wall.threads),
    );
    if battles != manifest.battles || summary.decisions != manifest.decisions {
        return Err(CollectError::Corrupt {
            path: dir.join(super::MANIFEST_NAME),
            reason: "its battle or decision count differs from the files".into(),
        });
    }
    Ok(summary)
}

fn facts(manifest: &Manifest, head: &Head) -> Result<BattleFacts, String> {
    let name = |i: usize| {
        head.sides
            .get(i)
            .and_then(|s| s.strategy.as_deref())
            .ok_or_else(|| format!("a battle has no strategy for side {i}"))
    };
    let (s0, s1) = (name(0)?, name(1)?);
    let matchup = manifest
        .matchups
        .iter()
        .position(|m| (m.a == s0 && m.b == s1) || (m.a == s1 && m.b == s0))
        .ok_or_else(|| format!("a battle of {s0} vs {s1} is in no matchup of the manifest"))?;
    let v = &head.outcome.victory;
    let victory = parse_victory(v).ok_or_else(|| format!("unknown victory condition {v:?}"))?;
    Ok(BattleFacts {
        matchup,
        a_side: u8::from(manifest.matchups[matchup].a != s0),
        winner: head.outcome.winner,
        victory,
        turns: head.outcome.turns,
        wall_ms: head.wall.wall_ms,
    })
}
