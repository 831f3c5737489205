//! The in-order, bounded pipeline of an ingest: units of work and encoding groups run on the
//! pool, and their results are put back in input order for the sequencer and the writer.

use super::encode::{Encode, Encoded};
use super::report::IngestError;
use crate::dataset::DatasetError;
use crate::ingest::chunk::ChunkResult;
use crate::ingest::reader::{Event, Item};
use crate::ingest::record::DatasetEncoder;
use crate::ingest::sequence::Sequencer;
use crate::ingest::work::{self, Done, Work};
use std::collections::{BTreeMap, VecDeque};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel};

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
pub(super) struct Pipeline<'a, 'scope> {
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
    pub(super) fn new(
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
    pub(super) fn take(&mut self, item: Item, seq: &mut Sequencer) -> Result<(), IngestError> {
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
    pub(super) fn finish(mut self, seq: &mut Sequencer) -> Result<(), IngestError> {
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
