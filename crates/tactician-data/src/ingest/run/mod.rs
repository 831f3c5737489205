//! The ingest run: files in, dataset parts and quarantine out, as a streaming pipeline.
//!
//! ```text
//! reader thread ──chunks──► parse (rayon, in parallel) ──in order──► sequencer ──► writer thread
//!  (decompress, cut lines)    (validate into columns)      (dedup, quarantine, counts)  (Parquet)
//! ```
//!
//! Every queue between the stages is bounded, so memory stays flat whatever the input size.
//! Nothing becomes part of the dataset until the manifest is replaced at the very end: a
//! failure, a refused batch or a kill leaves the dataset exactly as it was.
//!
//! [`ingest`] and its settings are here; the pipeline that puts the parsed units back in
//! order and feeds the writer is in `pipeline`, the encoding of row groups and the writer
//! thread's loop in `encode`, and the errors and reports in `report`.

mod encode;
mod pipeline;
mod report;

#[cfg(test)]
mod tests;

use super::reader::{Item, ReadOptions, open, read_file};
use super::record::DatasetEncoder;
use super::sequence::Sequencer;
use crate::dataset::manifest::{IngestEntry, SourceEntry};
use crate::dataset::table::{FeatureCodec, RowGroupEncoder, TableWriter};
use crate::dataset::{Dataset, DatasetError, schema};
use encode::{Encode, Encoded, write_loop};
use pipeline::Pipeline;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tactician_battle::GameSpec;

pub use report::{FileReport, IngestError, IngestReport, Progress};
pub use tactician_os::process::peak_rss_bytes;

/// Settings of an ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Worker threads for parsing (0 = all cores).
    pub threads: usize,
    /// Target bytes of log text per parse task.
    pub chunk_bytes: usize,
    /// Longest record accepted, in bytes.
    pub max_line: usize,
    /// Refuse the whole batch (add nothing) when more than this fraction of records is
    /// quarantined.
    pub max_reject_rate: Option<f64>,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Rows per Parquet part file.
    pub rows_per_file: u64,
    /// How the `features` column is compressed.
    pub feature_codec: FeatureCodec,
}

impl IngestOptions {
    /// Refuses settings outside their range (each named).
    pub fn validate(&self) -> Result<(), IngestError> {
        let bad = |what: String| Err(IngestError::Options(what));
        if self.chunk_bytes == 0 {
            return bad("chunk_bytes must be at least 1".into());
        }
        if self.max_line == 0 {
            return bad("the longest record accepted (max_line) must be at least 1 byte".into());
        }
        if let Some(r) = self.max_reject_rate
            && !(0.0..=1.0).contains(&r)
        {
            return bad(format!(
                "max_reject_rate must be a fraction between 0 and 1, got {r}"
            ));
        }
        if self.row_group_rows == 0 || self.rows_per_file == 0 {
            return bad("row_group_rows and rows_per_file must be at least 1".into());
        }
        Ok(())
    }

    /// The reader's settings among these.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            chunk_bytes: self.chunk_bytes,
            max_line: self.max_line,
        }
    }
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            chunk_bytes: 1 << 20,
            max_line: 64 << 20,
            max_reject_rate: None,
            row_group_rows: 1 << 16,
            rows_per_file: 1 << 21,
            feature_codec: FeatureCodec::default(),
        }
    }
}

/// Ingests `logs` into the dataset at `root` (created, bound to `game`'s feature spec, if it
/// does not exist), checking every record against `game`: its encoder, feature ranges and
/// outcome rules.
pub fn ingest(
    root: &Path,
    logs: &[PathBuf],
    game: &GameSpec,
    opts: &IngestOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IngestReport, IngestError> {
    if logs.is_empty() {
        return Err(IngestError::NoInput);
    }
    opts.validate()?;
    let started = Instant::now();
    let mut dataset = Dataset::open_or_create(root, game.features())?;
    let _lock = dataset.lock()?;
    dataset.clean_orphans()?;
    let mut manifest = dataset.manifest().clone();
    let encoder = DatasetEncoder::for_game(game);
    let id = manifest.ingests.last().map_or(1, |i| i.id + 1);
    let names: Vec<String> = logs.iter().map(|p| p.display().to_string()).collect();
    let quarantine_rel = format!("quarantine/ingest-{id:06}.jsonl");
    let mut seq = Sequencer::new(
        &names,
        &encoder,
        dataset.battle_ids()?,
        root.join(&quarantine_rel),
    );

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        opts.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("ingest-parse-{i}"))
        .build()
        .map_err(|e| IngestError::Internal(e.to_string()))?;
    let total_bytes: u64 = logs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();

    // Writer thread.
    let (to_writer, writer_rx) = sync_channel::<Encoded>(2);
    let transitions_schema = schema::transitions(&manifest.encoder);
    let battles_schema = schema::battles();
    let row_group_rows = opts.row_group_rows.max(1);
    let encode = Encode {
        transitions: RowGroupEncoder::new(
            transitions_schema.clone(),
            row_group_rows,
            opts.feature_codec,
        )
        .map_err(|e| DatasetError::parquet(Path::new("transitions"), e))?,
        t_schema: transitions_schema.clone(),
        b_schema: battles_schema.clone(),
        ingest: id,
        files: &names,
        row_group_rows,
    };
    let t_writer = TableWriter::new(
        root,
        "transitions",
        transitions_schema.clone(),
        manifest.next_part("transitions"),
        opts.rows_per_file,
        opts.row_group_rows,
    )
    .with_feature_codec(opts.feature_codec);
    let b_writer = TableWriter::new(
        root,
        "battles",
        battles_schema.clone(),
        manifest.next_part("battles"),
        u64::MAX,
        opts.row_group_rows,
    );
    let writer = spawn("ingest-write", move || {
        write_loop(writer_rx, t_writer, b_writer)
    })?;

    // Reader thread.
    let (to_main, from_reader) = sync_channel::<Item>(threads * 2 + 2);
    let read_opts = opts.read_options();
    let paths = logs.to_vec();
    let reader = spawn("ingest-read", move || {
        let mut open_errors = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            match open(p) {
                Ok(f) => {
                    let mut emit = |item| to_main.send(item).is_ok();
                    read_file(i as u32, f, read_opts, &mut emit);
                }
                Err(e) => open_errors.push((i, e.to_string())),
            }
        }
        open_errors
    })?;

    // Units of work run on the pool as soon as they are read, at most `window` at a time; the
    // results are taken in input order. Accepted chunks wait until there are enough rows for a
    // row group per thread, and are then encoded on the pool too (Parquet encoding and
    // compression would saturate a single writer thread: it was a third of the CPU time of an
    // ingest); encoded groups go to the writer in order. Nothing waits for a whole batch, so
    // no core idles while a slow unit finishes.
    let result = pool.in_place_scope(|scope| {
        let mut pipe = Pipeline::new(
            scope,
            &encoder,
            &encode,
            threads,
            row_group_rows.min(1 << 14),
            &to_writer,
        );
        for item in from_reader.iter() {
            let step = pipe.take(item, &mut seq);
            progress(Progress {
                bytes: seq.stats.bytes_done,
                total_bytes,
                records: seq.stats.records,
                transitions: seq.stats.transitions,
            });
            step?;
        }
        pipe.finish(&mut seq)
    });
    drop(from_reader);
    drop(to_writer);
    let open_errors = reader
        .join()
        .map_err(|_| IngestError::Internal("reader thread panicked".into()))?;
    let (t_writer, b_writer, write_error) = writer
        .join()
        .map_err(|_| IngestError::Internal("writer thread panicked".into()))?;
    if let Err(e) =
        result.and_then(|_| write_error.map_or(Ok(()), |e| Err(IngestError::Dataset(e))))
    {
        t_writer.abort();
        b_writer.abort();
        seq.discard();
        return Err(e);
    }
    let (wrote_quarantine, stats, mut files) = seq.finish()?;
    for (i, e) in open_errors {
        files[i].error = Some(e);
    }
    let quarantine_file = wrote_quarantine.then(|| quarantine_rel.clone());
    let mut report = IngestReport {
        id,
        files,
        records: stats.records,
        accepted: stats.accepted,
        quarantined: stats.quarantined,
        by_reason: stats
            .by_reason
            .iter()
            .map(|(r, n)| (r.code().to_string(), *n))
            .collect(),
        transitions: stats.transitions,
        quarantine: quarantine_file.clone(),
        new_files: Vec::new(),
        dataset_battles: manifest.battles,
        dataset_transitions: manifest.transitions,
        seconds: 0.0,
        peak_rss_bytes: None,
    };
    if let Some(limit) = opts.max_reject_rate
        && stats.records > 0
        && stats.quarantined as f64 / stats.records as f64 > limit
    {
        t_writer.abort();
        b_writer.abort();
        report.seconds = started.elapsed().as_secs_f64();
        return Err(IngestError::TooDirty {
            records: stats.records,
            quarantined: stats.quarantined,
            rate: 100.0 * stats.quarantined as f64 / stats.records as f64,
            limit: 100.0 * limit,
            quarantine: quarantine_file.unwrap_or_default(),
            report: Box::new(report),
        });
    }
    // From here on a failure (a full disk) removes everything this ingest wrote, so nothing
    // is left that the manifest does not list.
    let (t_files, b_files) = match (t_writer.finish(), b_writer.finish()) {
        (Ok(t), Ok(b)) => (t, b),
        (t, b) => {
            let written: Vec<String> = [&t, &b]
                .into_iter()
                .filter_map(|r| r.as_ref().ok())
                .flatten()
                .map(|f| f.path.clone())
                .collect();
            remove_written(root, &written, report.quarantine.as_deref());
            let e = t.err().or(b.err()).expect("one of them failed");
            return Err(IngestError::Dataset(e));
        }
    };
    let new_files: Vec<String> = t_files
        .iter()
        .chain(&b_files)
        .map(|f| f.path.clone())
        .collect();
    manifest.files.extend(t_files);
    manifest.files.extend(b_files);
    manifest.battles += stats.accepted;
    manifest.transitions += stats.transitions;
    manifest.ingests.push(IngestEntry {
        id,
        started_unix_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        sources: report
            .files
            .iter()
            .map(|f| SourceEntry {
                path: f.path.clone(),
                bytes: f.bytes,
                compressed: f.compressed,
                records: f.records,
                accepted: f.accepted,
            })
            .collect(),
        records: stats.records,
        accepted: stats.accepted,
        quarantined: stats.quarantined,
        by_reason: report.by_reason.clone(),
        transitions: stats.transitions,
        quarantine: quarantine_file,
        files: new_files.clone(),
    });
    if let Err(e) = dataset.commit(manifest) {
        remove_written(root, &new_files, report.quarantine.as_deref());
        return Err(e.into());
    }
    report.new_files = new_files;
    report.dataset_battles = dataset.manifest().battles;
    report.dataset_transitions = dataset.manifest().transitions;
    report.seconds = started.elapsed().as_secs_f64();
    report.peak_rss_bytes = peak_rss_bytes();
    Ok(report)
}

/// Starts a named thread (names show in profilers and `top -H`).
fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<std::thread::JoinHandle<T>, IngestError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| IngestError::Internal(format!("cannot start a thread: {e}")))
}

/// Removes the part files and the quarantine file of an ingest that failed after its writers
/// finished (best effort: what cannot be removed is unlisted, and cleaned by the next ingest).
fn remove_written(root: &Path, parts: &[String], quarantine: Option<&str>) {
    for f in parts {
        let _ = std::fs::remove_file(root.join(f));
    }
    if let Some(q) = quarantine {
        let _ = std::fs::remove_file(root.join(q));
    }
}
