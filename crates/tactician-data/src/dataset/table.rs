//! Writing one table as a series of Parquet part files.
//!
//! Each part is written under a temporary name, flushed to disk, and renamed into place only
//! when complete; its size and BLAKE3 hash are computed while it is written.

use super::DatasetError;
use super::manifest::FileEntry;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A file writer that hashes and counts what passes through it.
pub struct HashingFile {
    file: File,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

struct Open {
    writer: ArrowWriter<HashingFile>,
    tmp: PathBuf,
    name: String,
    rows: u64,
}

/// Writes batches of one table into `dir/<table>/part-NNNNNN.parquet` files.
pub struct TableWriter {
    root: PathBuf,
    table: &'static str,
    schema: SchemaRef,
    props: WriterProperties,
    next_part: u32,
    rows_per_file: u64,
    current: Option<Open>,
    done: Vec<FileEntry>,
}

/// Writer properties: zstd level 1 everywhere (the feature bytes shrink about eightfold for
/// little cost), large write batches, dictionary encoding only for the string columns (the
/// numeric ones are cheaper to compress plainly), and no statistics for the feature bytes,
/// whose minimum and maximum mean nothing.
fn properties(row_group_rows: usize) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_write_batch_size(8192)
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("level 1 is valid"),
        ))
        .set_dictionary_enabled(false)
        .set_column_statistics_enabled(ColumnPath::from("features"), EnabledStatistics::None)
        .set_created_by("tactician".into());
    for column in [
        "battle_id",
        "player",
        "legal",
        "game",
        "game_version",
        "encoder",
        "side0_player",
        "side1_player",
        "victory",
        "source_file",
    ] {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), true);
    }
    builder.build()
}

impl TableWriter {
    /// A writer for `table` under `root`, numbering parts from `first_part`.
    pub fn new(
        root: &Path,
        table: &'static str,
        schema: SchemaRef,
        first_part: u32,
        rows_per_file: u64,
        row_group_rows: usize,
    ) -> Self {
        Self {
            root: root.to_path_buf(),
            table,
            schema,
            props: properties(row_group_rows),
            next_part: first_part,
            rows_per_file,
            current: None,
            done: Vec::new(),
        }
    }

    /// Appends a batch, starting a new part when the current one is full.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DatasetError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if self.current.is_none() {
            let name = format!("{}/part-{:06}.parquet", self.table, self.next_part);
            self.next_part += 1;
            let path = self.root.join(&name);
            let tmp = path.with_extension("parquet.tmp");
            std::fs::create_dir_all(path.parent().expect("parts live in a folder"))
                .map_err(|e| DatasetError::io("create", &tmp, e))?;
            let file = File::create(&tmp).map_err(|e| DatasetError::io("create", &tmp, e))?;
            let sink = HashingFile {
                file,
                hasher: blake3::Hasher::new(),
                bytes: 0,
            };
            let writer = ArrowWriter::try_new(sink, self.schema.clone(), Some(self.props.clone()))
                .map_err(|e| DatasetError::parquet(&tmp, e))?;
            self.current = Some(Open {
                writer,
                tmp,
                name,
                rows: 0,
            });
        }
        let open = self.current.as_mut().expect("opened above");
        open.writer
            .write(batch)
            .map_err(|e| DatasetError::parquet(&open.tmp, e))?;
        open.rows += batch.num_rows() as u64;
        if open.rows >= self.rows_per_file {
            self.close_current()?;
        }
        Ok(())
    }

    /// Finishes the current part (footer, flush, fsync) and renames it into place. On failure
    /// its temporary file is removed.
    fn close_current(&mut self) -> Result<(), DatasetError> {
        let Some(open) = self.current.take() else {
            return Ok(());
        };
        let tmp = open.tmp.clone();
        let path = self.root.join(&open.name);
        let closed = open
            .writer
            .into_inner()
            .map_err(|e| DatasetError::parquet(&tmp, e))
            .and_then(|sink| {
                let HashingFile {
                    mut file,
                    hasher,
                    bytes,
                } = sink;
                file.flush()
                    .map_err(|e| DatasetError::io("write", &tmp, e))?;
                file.sync_all()
                    .map_err(|e| DatasetError::io("sync", &tmp, e))?;
                std::fs::rename(&tmp, &path).map_err(|e| DatasetError::io("rename", &tmp, e))?;
                Ok((hasher, bytes))
            });
        match closed {
            Ok((hasher, bytes)) => {
                self.done.push(FileEntry {
                    path: open.name,
                    table: self.table.to_string(),
                    rows: open.rows,
                    bytes,
                    blake3: hasher.finalize().to_hex().to_string(),
                });
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Closes the last part and returns every part written. On failure nothing this writer
    /// wrote is left on disk.
    pub fn finish(mut self) -> Result<Vec<FileEntry>, DatasetError> {
        match self.close_current() {
            Ok(()) => Ok(std::mem::take(&mut self.done)),
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    /// Deletes everything this writer wrote (after a failure or a refused batch).
    pub fn abort(mut self) {
        if let Some(open) = self.current.take() {
            drop(open.writer);
            let _ = std::fs::remove_file(&open.tmp);
        }
        for f in &self.done {
            let _ = std::fs::remove_file(self.root.join(&f.path));
        }
    }
}
