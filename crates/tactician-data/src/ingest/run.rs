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

use super::chunk::ChunkResult;
use super::reader::{Event, Item, ReadOptions, open, read_file};
use super::record::DatasetEncoder;
use super::sequence::Sequencer;
use super::work::{self, Done, Work};
use crate::dataset::manifest::{IngestEntry, SourceEntry};
use crate::dataset::table::{EncodedRowGroup, FeatureCodec, RowGroupEncoder, TableWriter};
use crate::dataset::{Dataset, DatasetError, batch, schema};
use arrow_array::RecordBatch;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tactician_battle::FeatureSpec;

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

/// Errors that stop an ingest (bad records never do; they are quarantined).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// No log files were given.
    #[error("no log files given")]
    NoInput,
    /// The dataset folder failed.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The quarantine file could not be written.
    #[error("cannot write the quarantine file {path}: {source}")]
    Quarantine {
        /// The file.
        path: PathBuf,
        /// The cause.
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

/// The process's peak resident set size (`VmHWM` in `/proc/self/status`), on Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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

/// Ingests `logs` into the dataset at `root` (created, bound to `spec`, if it does not exist).
pub fn ingest(
    root: &Path,
    logs: &[PathBuf],
    spec: &FeatureSpec,
    opts: &IngestOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<IngestReport, IngestError> {
    if logs.is_empty() {
        return Err(IngestError::NoInput);
    }
    let started = Instant::now();
    let mut dataset = Dataset::open_or_create(root, spec)?;
    let _lock = dataset.lock()?;
    dataset.clean_orphans()?;
    let mut manifest = dataset.manifest().clone();
    let encoder = DatasetEncoder::for_spec(&manifest.encoder);
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

type Written = (TableWriter, TableWriter, Option<DatasetError>);

/// What the writer receives: encoded row groups of transitions, and battle batches.
struct Encoded {
    transitions: Vec<EncodedRowGroup>,
    battles: Vec<RecordBatch>,
}

/// Turning accepted chunks into what the writer appends (run on the pool).
struct Encode<'a> {
    transitions: RowGroupEncoder,
    t_schema: arrow_schema::SchemaRef,
    b_schema: arrow_schema::SchemaRef,
    ingest: u32,
    files: &'a [String],
    row_group_rows: usize,
}

impl Encode<'_> {
    /// Splits `chunks` (in order) into runs of consecutive chunks of about `rows` rows each.
    fn group(&self, chunks: Vec<ChunkResult>, rows: usize) -> Vec<Vec<ChunkResult>> {
        let mut groups = Vec::new();
        let mut current = Vec::new();
        let mut n = 0;
        for chunk in chunks {
            if chunk.battles.is_empty() {
                continue;
            }
            n += chunk.rows.len();
            current.push(chunk);
            if n >= rows {
                groups.push(std::mem::take(&mut current));
                n = 0;
            }
        }
        if !current.is_empty() {
            groups.push(current);
        }
        groups
    }

    /// Encodes a run of chunks: its transitions as row groups of at most `row_group_rows`
    /// rows, its battles as batches.
    fn run(&self, mut chunks: Vec<ChunkResult>) -> Result<Encoded, DatasetError> {
        let arrow = |table: &str| {
            let table = Path::new(table).to_path_buf();
            move |e| DatasetError::parquet(&table, e)
        };
        let parquet = |e| DatasetError::parquet(Path::new("transitions"), e);
        let mut out = Encoded {
            transitions: Vec::new(),
            battles: Vec::with_capacity(chunks.len()),
        };
        let mut group: Vec<RecordBatch> = Vec::new();
        let mut group_rows = 0;
        for chunk in &mut chunks {
            out.battles.push(
                batch::battles(chunk, &self.b_schema, self.ingest, self.files)
                    .map_err(arrow("battles"))?,
            );
            let rows = batch::transitions(chunk, &self.t_schema).map_err(arrow("transitions"))?;
            let mut offset = 0;
            while offset < rows.num_rows() {
                let take = (self.row_group_rows - group_rows).min(rows.num_rows() - offset);
                group.push(rows.slice(offset, take));
                offset += take;
                group_rows += take;
                if group_rows == self.row_group_rows {
                    out.transitions
                        .push(self.transitions.encode(&group).map_err(parquet)?);
                    group.clear();
                    group_rows = 0;
                }
            }
        }
        if group_rows > 0 {
            out.transitions
                .push(self.transitions.encode(&group).map_err(parquet)?);
        }
        Ok(out)
    }
}

fn write_loop(
    rx: Receiver<Encoded>,
    mut transitions: TableWriter,
    mut battles: TableWriter,
) -> Written {
    let mut error = None;
    for msg in rx.iter() {
        if error.is_some() {
            continue; // Drain, so the sender never blocks.
        }
        let step = msg
            .transitions
            .into_iter()
            .try_for_each(|g| transitions.write_encoded(g))
            .and_then(|_| msg.battles.iter().try_for_each(|b| battles.write(b)));
        if let Err(e) = step {
            error = Some(e);
        }
    }
    (transitions, battles, error)
}

/// A message from a task on the pool to the thread that runs the pipeline.
enum Msg {
    /// Unit of work number `.0` is done.
    Parsed(u64, Done),
    /// Encoded group number `.0` is ready.
    Encoded(u64, Result<Encoded, DatasetError>),
    /// A task panicked (a bug).
    Panicked,
}

/// A place in the input order: a unit of work (running, or its result) or a reader event
/// (a failure, broken frames, the end of a file), handled in order with the results of the
/// work.
enum Slot {
    Running,
    Done(Done),
    Event(Event),
}

/// The in-order, bounded pipeline of an ingest, run on the calling thread: units of work and
/// encoding groups run on the pool as tasks of `scope`; their results come back here, where
/// they are put back in order for the sequencer and the writer.
struct Pipeline<'a, 'scope> {
    scope: &'a rayon::Scope<'scope>,
    encoder: &'scope DatasetEncoder,
    encode: &'scope Encode<'scope>,
    threads: usize,
    group_rows: usize,
    to_writer: &'a SyncSender<Encoded>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Tasks spawned and not yet reported back.
    busy: usize,
    /// Input order from the first slot not yet handed to the sequencer.
    slots: VecDeque<Slot>,
    /// Number of the first slot.
    front: u64,
    /// Accepted chunks waiting to be encoded, and their rows.
    pending: Vec<ChunkResult>,
    pending_rows: usize,
    /// Encoded groups that arrived before an earlier one.
    encoded: BTreeMap<u64, Encoded>,
    next_group: u64,
    next_write: u64,
}

impl<'a, 'scope> Pipeline<'a, 'scope> {
    fn new(
        scope: &'a rayon::Scope<'scope>,
        encoder: &'scope DatasetEncoder,
        encode: &'scope Encode<'scope>,
        threads: usize,
        group_rows: usize,
        to_writer: &'a SyncSender<Encoded>,
    ) -> Self {
        let (tx, rx) = channel();
        Self {
            scope,
            encoder,
            encode,
            threads,
            group_rows,
            to_writer,
            tx,
            rx,
            busy: 0,
            slots: VecDeque::new(),
            front: 0,
            pending: Vec::new(),
            pending_rows: 0,
            encoded: BTreeMap::new(),
            next_group: 0,
            next_write: 0,
        }
    }

    /// Most tasks in flight: enough to keep every thread busy while results are put in
    /// order, few enough to bound memory (about what a batch of units held before).
    fn window(&self) -> usize {
        self.threads * 4
    }

    /// Takes the reader's next item.
    fn take(&mut self, item: Item, seq: &mut Sequencer) -> Result<(), IngestError> {
        while self.busy >= self.window() {
            self.wait(seq)?;
        }
        match item {
            Item::Work(work) => self.spawn_work(work),
            Item::Event(event) => self.slots.push_back(Slot::Event(event)),
        }
        self.advance(seq)
    }

    /// Waits for every unit of work, encodes what is left, and hands it all to the writer.
    fn finish(mut self, seq: &mut Sequencer) -> Result<(), IngestError> {
        self.advance(seq)?;
        while !self.slots.is_empty() {
            self.wait(seq)?;
        }
        self.dispatch(true);
        while self.busy > 0 {
            self.wait(seq)?;
        }
        Ok(())
    }

    fn spawn_work(&mut self, work: Work) {
        let number = self.front + self.slots.len() as u64;
        self.slots.push_back(Slot::Running);
        self.busy += 1;
        let tx = self.tx.clone();
        let encoder = self.encoder;
        self.scope.spawn(move |_| {
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                work::run(&work, encoder)
            }));
            // The receiver is gone only when the ingest already stopped on an error.
            let _ = tx.send(done.map_or(Msg::Panicked, |d| Msg::Parsed(number, d)));
        });
    }

    /// Waits for one task to report, and moves what it unblocked along.
    fn wait(&mut self, seq: &mut Sequencer) -> Result<(), IngestError> {
        let msg = self
            .rx
            .recv()
            .map_err(|_| IngestError::Internal("the worker pool stopped".into()))?;
        self.busy -= 1;
        match msg {
            Msg::Parsed(number, done) => {
                let i = (number - self.front) as usize;
                self.slots[i] = Slot::Done(done);
                self.advance(seq)
            }
            Msg::Encoded(number, encoded) => {
                self.encoded.insert(number, encoded?);
                while let Some(e) = self.encoded.remove(&self.next_write) {
                    self.next_write += 1;
                    if self.to_writer.send(e).is_err() {
                        // The writer stopped on an error, which `join` reports.
                        self.encoded.clear();
                        break;
                    }
                }
                Ok(())
            }
            Msg::Panicked => Err(IngestError::Internal("a worker task panicked".into())),
        }
    }

    /// Hands the slots at the front that are ready to the sequencer, in order.
    fn advance(&mut self, seq: &mut Sequencer) -> Result<(), IngestError> {
        while let Some(slot) = self.slots.pop_front() {
            let pending = &mut self.pending;
            let rows = &mut self.pending_rows;
            let mut send = |chunk: ChunkResult| {
                *rows += chunk.rows.len();
                pending.push(chunk);
            };
            match slot {
                Slot::Running => {
                    // The next result in order is not there yet.
                    self.slots.push_front(Slot::Running);
                    return Ok(());
                }
                Slot::Done(done) => seq.done(done, &mut send)?,
                Slot::Event(Event::Failure {
                    file,
                    line,
                    reason,
                    detail,
                }) => seq.failure(file, line, reason, detail)?,
                Slot::Event(Event::FramesBroken { file, detail }) => {
                    seq.frames_broken(file, detail, &mut send)?
                }
                Slot::Event(Event::FileDone {
                    file,
                    bytes,
                    compressed,
                }) => seq.file_done(file, bytes, compressed, &mut send)?,
            }
            self.front += 1;
            self.dispatch(false);
        }
        Ok(())
    }

    /// Starts encoding the waiting chunks once there are enough rows for a row group per
    /// thread (or, with `all`, whatever is left).
    fn dispatch(&mut self, all: bool) {
        if self.pending.is_empty() || (!all && self.pending_rows < self.group_rows * self.threads) {
            return;
        }
        let chunks = std::mem::take(&mut self.pending);
        let rows = std::mem::take(&mut self.pending_rows);
        let groups = self
            .encode
            .group(chunks, rows.div_ceil(self.threads).max(self.group_rows));
        for group in groups {
            let number = self.next_group;
            self.next_group += 1;
            self.busy += 1;
            let tx = self.tx.clone();
            let encode = self.encode;
            self.scope.spawn(move |_| {
                let encoded =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| encode.run(group)));
                let _ = tx.send(encoded.map_or(Msg::Panicked, |e| Msg::Encoded(number, e)));
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tactician_game::record::{WallClock, record};
    use tactician_game::{GameConfig, SkirmishEncoder, strategy};

    /// A log of `n` battles, one zstd frame each, with a corrupt frame after the third.
    fn frame_log(path: &Path, n: u64) {
        let mut out = Vec::new();
        for i in 0..n {
            let mut a = strategy::by_name("aggressive", 10 + i).unwrap();
            let mut b = strategy::by_name("kiting", 20 + i).unwrap();
            let rec = record(
                500 + i,
                GameConfig::default(),
                [&mut *a, &mut *b],
                WallClock::Zero,
            )
            .unwrap();
            let line = serde_json::to_string(&rec).unwrap() + "\n";
            let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
            enc.include_contentsize(true).unwrap();
            enc.set_pledged_src_size(Some(line.len() as u64)).unwrap();
            enc.write_all(line.as_bytes()).unwrap();
            let mut frame = enc.finish().unwrap();
            if i == 3 {
                let mid = frame.len() / 2;
                frame[mid] ^= 0x5A;
                frame[mid + 1] ^= 0xA5;
            }
            out.extend_from_slice(&frame);
        }
        std::fs::write(path, out).unwrap();
    }

    /// The bytes of every Parquet part of a dataset, by path.
    fn parts(root: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for table in ["transitions", "battles"] {
            for entry in std::fs::read_dir(root.join(table)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.strip_prefix(root).unwrap().display().to_string();
                out.insert(name, std::fs::read(&path).unwrap());
            }
        }
        out
    }

    /// Every row of a table, as text, in file order.
    fn rows(root: &Path, table: &str) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(table))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(f).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            for batch in reader {
                let batch = batch.unwrap();
                for r in 0..batch.num_rows() {
                    let row: Vec<String> = batch
                        .columns()
                        .iter()
                        .map(|c| format!("{:?}", c.slice(r, 1)))
                        .collect();
                    out.push(row.join("|"));
                }
            }
        }
        out
    }

    /// Many small units of work and row groups in flight at once, finishing out of order:
    /// the dataset is the same bytes on every run, holds the same rows as a one-thread
    /// ingest, and the corrupt frame is quarantined at its own line.
    #[test]
    fn the_pipeline_is_deterministic_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl.zst");
        frame_log(&log, 12);
        let spec = SkirmishEncoder::feature_spec();
        let opts = |threads| IngestOptions {
            threads,
            chunk_bytes: 4096,
            row_group_rows: 150,
            ..IngestOptions::default()
        };
        let run = |name: &str, threads| {
            let root = dir.path().join(name);
            let report = ingest(
                &root,
                std::slice::from_ref(&log),
                spec,
                &opts(threads),
                &|_| {},
            )
            .unwrap();
            (root, report)
        };
        let (a, ra) = run("a", 2);
        let (b, rb) = run("b", 2);
        let (one, r1) = run("one", 1);
        assert_eq!(ra.records, 12);
        assert_eq!(ra.accepted, 11);
        assert_eq!(ra.by_reason.get("corrupt_compression"), Some(&1));
        let quarantine = std::fs::read_to_string(a.join(ra.quarantine.as_ref().unwrap())).unwrap();
        assert!(quarantine.contains("\"line\":4"), "{quarantine}");
        assert_eq!(
            (ra.transitions, ra.by_reason.clone()),
            (rb.transitions, rb.by_reason)
        );
        assert_eq!(
            (ra.transitions, ra.by_reason),
            (r1.transitions, r1.by_reason)
        );
        assert_eq!(parts(&a), parts(&b));
        for table in ["transitions", "battles"] {
            let (x, y) = (rows(&a, table), rows(&one, table));
            assert!(!x.is_empty());
            assert_eq!(x, y, "{table}");
        }
    }
}
