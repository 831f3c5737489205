//! Encoding accepted chunks into what the writer appends (Parquet row groups of transitions,
//! batches of battles), on the pool, and the writer thread's loop.

use crate::dataset::table::{EncodedRowGroup, RowGroupEncoder, TableWriter};
use crate::dataset::{DatasetError, batch};
use crate::ingest::chunk::ChunkResult;
use arrow_array::RecordBatch;
use std::path::Path;
use std::sync::mpsc::Receiver;

pub(super) type Written = (TableWriter, TableWriter, Option<DatasetError>);

/// What the writer receives: encoded row groups of transitions, and battle batches.
pub(super) struct Encoded {
    transitions: Vec<EncodedRowGroup>,
    battles: Vec<RecordBatch>,
}

/// Turning accepted chunks into what the writer appends (run on the pool).
pub(super) struct Encode<'a> {
    pub(super) transitions: RowGroupEncoder,
    pub(super) t_schema: arrow_schema::SchemaRef,
    pub(super) b_schema: arrow_schema::SchemaRef,
    pub(super) ingest: u32,
    pub(super) files: &'a [String],
    pub(super) row_group_rows: usize,
}

impl Encode<'_> {
    /// Splits `chunks` (in order) into runs of consecutive chunks of about `rows` rows each.
    pub(super) fn group(&self, chunks: Vec<ChunkResult>, rows: usize) -> Vec<Vec<ChunkResult>> {
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
    pub(super) fn run(&self, mut chunks: Vec<ChunkResult>) -> Result<Encoded, DatasetError> {
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

pub(super) fn write_loop(
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
