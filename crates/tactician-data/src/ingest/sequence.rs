//! The ordered part of an ingest: line numbers, deduplication, the quarantine and the counts.
//!
//! Work comes back from the parallel stage in input order; the sequencer turns it into
//! accepted chunks (sent on to the writer) and quarantine entries, keeping every count such
//! that records read = accepted + quarantined.

use super::chunk::{ChunkResult, parse_chunk, retain};
use super::reason::{Reason, Reject};
use super::record::DatasetEncoder;
use super::run::{FileReport, IngestError};
use super::work::Done;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Running counts of an ingest.
#[derive(Debug, Default)]
pub struct Stats {
    /// Records read.
    pub records: u64,
    /// Battles accepted.
    pub accepted: u64,
    /// Records quarantined.
    pub quarantined: u64,
    /// Decisions accepted.
    pub transitions: u64,
    /// Compressed bytes of finished files.
    pub bytes_done: u64,
    /// Quarantined records per reason.
    pub by_reason: BTreeMap<Reason, u64>,
}

/// Line bookkeeping of a file read frame by frame.
#[derive(Debug, Default)]
struct FrameLines {
    next_line: u64,
    /// The start of a line whose frame ended before its newline.
    carry: Vec<u8>,
}

/// Orders results, numbers lines, deduplicates battles and fills the quarantine.
pub struct Sequencer<'a> {
    names: &'a [String],
    encoder: &'a DatasetEncoder,
    seen: HashSet<String>,
    quarantine: Quarantine,
    /// Counts so far.
    pub stats: Stats,
    /// Per-file counts.
    pub files: Vec<FileReport>,
    frames: Vec<FrameLines>,
}

impl<'a> Sequencer<'a> {
    /// A sequencer for `names` (the input files), with the battle ids already in the dataset.
    pub fn new(
        names: &'a [String],
        encoder: &'a DatasetEncoder,
        seen: HashSet<String>,
        quarantine: PathBuf,
    ) -> Self {
        Self {
            names,
            encoder,
            seen,
            quarantine: Quarantine::new(quarantine),
            stats: Stats::default(),
            files: names
                .iter()
                .map(|n| FileReport {
                    path: n.clone(),
                    bytes: 0,
                    compressed: false,
                    records: 0,
                    accepted: 0,
                    quarantined: 0,
                    error: None,
                })
                .collect(),
            frames: names
                .iter()
                .map(|_| FrameLines {
                    next_line: 1,
                    carry: Vec::new(),
                })
                .collect(),
        }
    }

    /// Takes one finished unit of work; accepted battles go to `send`.
    pub fn done(
        &mut self,
        done: Done,
        send: &mut dyn FnMut(ChunkResult),
    ) -> Result<(), IngestError> {
        match done {
            Done::Parsed {
                file,
                first_line: Some(_),
                result,
                ..
            } => self.accept(file, *result, send),
            Done::Parsed {
                file,
                first_line: None,
                mut result,
                lines,
                data,
            } => {
                let fl = &mut self.frames[file as usize];
                if !fl.carry.is_empty() {
                    // The group starts in the middle of a line: reparse it joined to the carry.
                    return self.raw_bytes(file, &data, send);
                }
                let offset = fl.next_line - 1;
                fl.next_line += lines;
                for b in &mut result.battles {
                    b.line += offset;
                }
                for (line, _) in &mut result.rejects {
                    *line += offset;
                }
                self.accept(file, *result, send)
            }
            Done::Raw { file, frames } => {
                for frame in frames {
                    match frame {
                        Ok(bytes) => self.raw_bytes(file, &bytes, send)?,
                        Err(detail) => {
                            self.flush_carry(file, send)?;
                            let line = self.frames[file as usize].next_line;
                            // A frame holds one record in logs written by `collect`; count it so.
                            self.frames[file as usize].next_line += 1;
                            self.failure(
                                file,
                                line,
                                Reason::CorruptCompression,
                                format!("{detail}; this frame's records are lost, the next frames are read"),
                            )?;
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Appends decompressed bytes of a frame-mode file and parses the whole lines they complete.
    fn raw_bytes(
        &mut self,
        file: u32,
        bytes: &[u8],
        send: &mut dyn FnMut(ChunkResult),
    ) -> Result<(), IngestError> {
        let fl = &mut self.frames[file as usize];
        fl.carry.extend_from_slice(bytes);
        let Some(last) = memchr::memrchr(b'\n', &fl.carry) else {
            return Ok(());
        };
        let rest = fl.carry.split_off(last + 1);
        let whole = std::mem::replace(&mut fl.carry, rest);
        let first = fl.next_line;
        fl.next_line += memchr::memchr_iter(b'\n', &whole).count() as u64;
        let result = parse_chunk(file, first, &whole, self.encoder);
        self.accept(file, result, send)
    }

    /// Parses what is left of a frame-mode file's last line (a line without a newline).
    pub fn flush_carry(
        &mut self,
        file: u32,
        send: &mut dyn FnMut(ChunkResult),
    ) -> Result<(), IngestError> {
        let fl = &mut self.frames[file as usize];
        if fl.carry.is_empty() {
            return Ok(());
        }
        let tail = std::mem::take(&mut fl.carry);
        let first = fl.next_line;
        fl.next_line += 1;
        let result = parse_chunk(file, first, &tail, self.encoder);
        self.accept(file, result, send)
    }

    /// The rest of a frame-mode file cannot be read.
    pub fn frames_broken(
        &mut self,
        file: u32,
        detail: String,
        send: &mut dyn FnMut(ChunkResult),
    ) -> Result<(), IngestError> {
        self.flush_carry(file, send)?;
        let line = self.frames[file as usize].next_line;
        self.failure(
            file,
            line,
            Reason::CorruptCompression,
            format!("{detail}; the rest of the file from this line could not be read"),
        )
    }

    /// A record that could not be read at all.
    pub fn failure(
        &mut self,
        file: u32,
        line: u64,
        reason: Reason,
        detail: String,
    ) -> Result<(), IngestError> {
        let f = &mut self.files[file as usize];
        f.records += 1;
        f.quarantined += 1;
        self.stats.records += 1;
        self.reject(reason);
        self.quarantine.add(
            &self.names[file as usize],
            line,
            &Reject::new(reason, detail),
        )
    }

    /// A file has been read to its end.
    pub fn file_done(
        &mut self,
        file: u32,
        bytes: u64,
        compressed: bool,
        send: &mut dyn FnMut(ChunkResult),
    ) -> Result<(), IngestError> {
        self.flush_carry(file, send)?;
        let f = &mut self.files[file as usize];
        f.bytes = bytes;
        f.compressed = compressed;
        self.stats.bytes_done += bytes;
        Ok(())
    }

    fn reject(&mut self, reason: Reason) {
        self.stats.quarantined += 1;
        *self.stats.by_reason.entry(reason).or_default() += 1;
    }

    /// Quarantines a parsed chunk's rejects and duplicates, counts, and sends the rest on.
    fn accept(
        &mut self,
        file: u32,
        mut result: ChunkResult,
        send: &mut dyn FnMut(ChunkResult),
    ) -> Result<(), IngestError> {
        let name = &self.names[file as usize];
        self.files[file as usize].records += result.records;
        self.stats.records += result.records;
        for (line, reject) in std::mem::take(&mut result.rejects) {
            self.quarantine.add(name, line, &reject)?;
            self.reject(reject.reason);
            self.files[file as usize].quarantined += 1;
        }
        let mut keep = vec![true; result.battles.len()];
        for (i, b) in result.battles.iter().enumerate() {
            if !self.seen.insert(b.battle_id.clone()) {
                keep[i] = false;
                let reject = Reject {
                    reason: Reason::DuplicateBattle,
                    detail: format!("battle {} was already ingested", b.battle_id),
                    battle_id: Some(b.battle_id.clone()),
                };
                self.quarantine.add(name, b.line, &reject)?;
                self.reject(Reason::DuplicateBattle);
                self.files[file as usize].quarantined += 1;
            }
        }
        retain(&mut result, &keep);
        self.files[file as usize].accepted += result.battles.len() as u64;
        self.stats.accepted += result.battles.len() as u64;
        self.stats.transitions += result.rows.len() as u64;
        if !result.battles.is_empty() {
            send(result);
        }
        Ok(())
    }

    /// Closes the quarantine file; returns whether one was written.
    pub fn finish(self) -> Result<(bool, Stats, Vec<FileReport>), IngestError> {
        let wrote = self.quarantine.finish()?;
        Ok((wrote, self.stats, self.files))
    }

    /// Removes the quarantine file (the ingest failed and will be retried).
    pub fn discard(self) {
        self.quarantine.discard();
    }
}

/// The quarantine file, created on the first rejected record.
struct Quarantine {
    path: PathBuf,
    out: Option<BufWriter<File>>,
}

impl Quarantine {
    fn new(path: PathBuf) -> Self {
        Self { path, out: None }
    }

    fn add(&mut self, source: &str, line: u64, reject: &Reject) -> Result<(), IngestError> {
        let path = self.path.clone();
        let err = move |source| IngestError::Quarantine {
            path: path.clone(),
            source,
        };
        if self.out.is_none() {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir).map_err(&err)?;
            }
            self.out = Some(BufWriter::new(File::create(&self.path).map_err(&err)?));
        }
        let entry = serde_json::json!({
            "reason": reject.reason.code(),
            "detail": reject.detail,
            "source": source,
            "line": line,
            "battle_id": reject.battle_id,
        });
        let out = self.out.as_mut().expect("opened above");
        serde_json::to_writer(&mut *out, &entry).map_err(|e| err(e.into()))?;
        out.write_all(b"\n").map_err(&err)
    }

    fn finish(self) -> Result<bool, IngestError> {
        match self.out {
            None => Ok(false),
            Some(mut out) => {
                let path = self.path;
                out.flush()
                    .and_then(|_| out.get_ref().sync_all())
                    .map_err(|source| IngestError::Quarantine { path, source })?;
                Ok(true)
            }
        }
    }

    fn discard(self) {
        if self.out.is_some() {
            drop(self.out);
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
