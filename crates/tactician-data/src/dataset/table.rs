//! Writing one table as a series of Parquet part files.
//!
//! Each part is written under a temporary name, flushed to disk, and renamed into place only
//! when complete; its size and BLAKE3 hash are computed while it is written.

use super::DatasetError;
use super::manifest::FileEntry;
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
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

/// A part file being written: through Arrow's buffering writer (batches), or as a plain
/// Parquet file writer once row groups encoded elsewhere are appended.
enum PartWriter {
    Arrow(ArrowWriter<HashingFile>),
    Raw(SerializedFileWriter<HashingFile>),
}

impl PartWriter {
    fn into_inner(self) -> Result<HashingFile, ParquetError> {
        match self {
            Self::Arrow(w) => w.into_inner(),
            Self::Raw(w) => w.into_inner(),
        }
    }
}

/// One row group, encoded and compressed (by [`RowGroupEncoder::encode`], on any thread), ready
/// to be appended to a part file by [`TableWriter::write_encoded`].
pub struct EncodedRowGroup {
    chunks: Vec<ArrowColumnChunk>,
    rows: usize,
}

impl EncodedRowGroup {
    /// Rows in the group.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// Encodes batches of one table into row groups, with the same writer properties as
/// [`TableWriter`]. Shared by the threads that encode: Parquet encoding and compression is
/// most of the cost of writing, so it runs in parallel while the writer only appends bytes.
pub struct RowGroupEncoder {
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
}

impl RowGroupEncoder {
    /// An encoder for `schema` (`row_group_rows` and `codec` as given to the
    /// [`TableWriter`]).
    pub fn new(
        schema: SchemaRef,
        row_group_rows: usize,
        codec: FeatureCodec,
    ) -> Result<Self, ParquetError> {
        let props = properties(row_group_rows, codec);
        let writer = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?;
        let (_, factory) = writer.into_serialized_writer()?;
        Ok(Self { factory, schema })
    }

    /// Encodes `batches` (of this encoder's schema) as one row group.
    pub fn encode(&self, batches: &[RecordBatch]) -> Result<EncodedRowGroup, ParquetError> {
        let mut writers = self.factory.create_column_writers(0)?;
        let mut rows = 0;
        for batch in batches {
            rows += batch.num_rows();
            let mut next = writers.iter_mut();
            for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
                for leaf in compute_leaves(field, column)? {
                    next.next()
                        .ok_or_else(|| {
                            ParquetError::General("more leaf columns than writers".into())
                        })?
                        .write(&leaf)?;
                }
            }
        }
        let chunks = writers
            .into_iter()
            .map(|w| w.close())
            .collect::<Result<_, _>>()?;
        Ok(EncodedRowGroup { chunks, rows })
    }
}

struct Open {
    writer: PartWriter,
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
    row_group_rows: usize,
    next_part: u32,
    rows_per_file: u64,
    current: Option<Open>,
    done: Vec<FileEntry>,
}

/// Data page size of the `features` column. LZ4 finds matches no further back than 64 KiB, so
/// larger pages compress hardly better (the benchmark's dataset: 13.25 MB with 64 KiB pages,
/// 12.96 MB with Parquet's default of 1 MiB), while every 1 MiB page costs fresh buffers of
/// that size for its bytes and its compressed copy, which the allocator maps from and returns
/// to the kernel page by page: a single-thread ingest took 28% less CPU with 64 KiB pages
/// (perf samples, three runs each; the kernel's share, page faults, fell from 26% to 15%).
const FEATURE_PAGE_BYTES: usize = 64 << 10;

/// How the `features` column of the transitions table is compressed: the dataset's one real
/// trade between size and speed, since the feature bytes are nearly all of it.
///
/// Measured on the pipeline's logs (2,100 battles, 252,579 decisions of 259 features; three
/// runs each, alternated, 2026-11-26):
/// - `lz4` (LZ4_RAW, the default): 64 MB; `tactician ingest` takes 1.35-1.68 s, and
///   `tactician prepare` 0.21-0.30 s with the pipeline's preset (1.08-1.51 s keeping every
///   player);
/// - `none`: 254 MB, 4 times larger; ingest takes 1.61-1.93 s (writing and syncing four times
///   the bytes costs more than compressing them), prepare 0.18-0.19 s (0.78-0.80 s), as
///   decompressing the pages is otherwise most of its reading: for a dataset prepared many
///   times;
/// - `zstd` (level 1): smaller still (the ingest benchmark's 50,420 decisions: 7.0 MB against
///   13.0 MB with LZ4), slower to write and to read: for archiving.
///
/// Any Parquet reader (pyarrow, pandas) reads all three.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureCodec {
    /// Uncompressed: the fastest to prepare from.
    None,
    /// LZ4_RAW: a quarter of the size, the fastest to ingest.
    #[default]
    Lz4,
    /// zstd level 1: the smallest.
    Zstd,
}

impl FeatureCodec {
    fn compression(self) -> Compression {
        match self {
            Self::None => Compression::UNCOMPRESSED,
            Self::Lz4 => Compression::LZ4_RAW,
            Self::Zstd => Compression::ZSTD(ZstdLevel::try_new(1).expect("level 1 is valid")),
        }
    }

    /// The codec that writes `compression` (any zstd level), if it is one of ours.
    pub fn from_compression(compression: Compression) -> Option<Self> {
        match compression {
            Compression::UNCOMPRESSED => Some(Self::None),
            Compression::LZ4_RAW => Some(Self::Lz4),
            Compression::ZSTD(_) => Some(Self::Zstd),
            _ => None,
        }
    }
}

impl std::str::FromStr for FeatureCodec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "lz4" => Ok(Self::Lz4),
            "zstd" => Ok(Self::Zstd),
            _ => Err(format!("unknown features codec {s:?} (none, lz4 or zstd)")),
        }
    }
}

/// Writer properties: zstd level 1 everywhere except the feature bytes, which take `codec`
/// (see [`FeatureCodec`]; compressing them was the largest single cost of an ingest) in pages
/// of [`FEATURE_PAGE_BYTES`], large write batches, dictionary encoding only for the string
/// columns (the numeric ones are cheaper to compress plainly), and no statistics for the
/// feature bytes, whose minimum and maximum mean nothing.
fn properties(row_group_rows: usize, codec: FeatureCodec) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_write_batch_size(8192)
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("level 1 is valid"),
        ))
        .set_dictionary_enabled(false)
        .set_column_statistics_enabled(ColumnPath::from("features"), EnabledStatistics::None)
        .set_column_compression(ColumnPath::from("features"), codec.compression())
        .set_column_data_page_size_limit(ColumnPath::from("features"), FEATURE_PAGE_BYTES)
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
            props: properties(row_group_rows, FeatureCodec::default()),
            row_group_rows,
            next_part: first_part,
            rows_per_file,
            current: None,
            done: Vec::new(),
        }
    }

    /// The same writer, compressing the `features` column with `codec` (default:
    /// [`FeatureCodec::Lz4`]).
    pub fn with_feature_codec(mut self, codec: FeatureCodec) -> Self {
        self.props = properties(self.row_group_rows, codec);
        self
    }

    /// Appends a batch, starting a new part when the current one is full.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DatasetError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let open = self.open()?;
        let PartWriter::Arrow(writer) = &mut open.writer else {
            return Err(DatasetError::parquet(
                &open.tmp,
                ParquetError::General("batches written after encoded row groups".into()),
            ));
        };
        writer
            .write(batch)
            .map_err(|e| DatasetError::parquet(&open.tmp, e))?;
        open.rows += batch.num_rows() as u64;
        if open.rows >= self.rows_per_file {
            self.close_current()?;
        }
        Ok(())
    }

    /// Appends a row group encoded by a [`RowGroupEncoder`] of this table's schema, starting a
    /// new part when the current one is full.
    pub fn write_encoded(&mut self, group: EncodedRowGroup) -> Result<(), DatasetError> {
        if group.rows == 0 {
            return Ok(());
        }
        self.open()?;
        let Some(mut open) = self.current.take() else {
            unreachable!("opened above")
        };
        if let PartWriter::Arrow(writer) = open.writer {
            // Nothing was buffered; this keeps the Arrow schema in the footer.
            match writer.into_serialized_writer() {
                Ok((raw, _)) => open.writer = PartWriter::Raw(raw),
                Err(e) => {
                    let _ = std::fs::remove_file(&open.tmp);
                    return Err(DatasetError::parquet(&open.tmp, e));
                }
            }
        }
        let open = self.current.insert(open);
        let failed = |e| DatasetError::parquet(&open.tmp, e);
        let PartWriter::Raw(writer) = &mut open.writer else {
            unreachable!("converted above")
        };
        let mut row_group = writer.next_row_group().map_err(failed)?;
        for chunk in group.chunks {
            chunk.append_to_row_group(&mut row_group).map_err(failed)?;
        }
        row_group.close().map_err(failed)?;
        open.rows += group.rows as u64;
        if open.rows >= self.rows_per_file {
            self.close_current()?;
        }
        Ok(())
    }

    /// The current part, opened if there is none.
    fn open(&mut self) -> Result<&mut Open, DatasetError> {
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
                writer: PartWriter::Arrow(writer),
                tmp,
                name,
                rows: 0,
            });
        }
        Ok(self.current.as_mut().expect("opened above"))
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
