//! Reading a few columns of one Parquet part file, a batch at a time.

use super::StatsError;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::path::Path;

/// Rows per batch read.
const BATCH_ROWS: usize = 8192;

/// One batch of a part file, with the file's name for error messages.
pub(crate) struct Batch<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> Batch<'a> {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    /// The column `name`, as the Arrow array type `T`.
    pub fn col<T: Array + 'static>(&self, name: &str) -> Result<&'a T, StatsError> {
        let array = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| self.column_error(name, "is missing".into()))?;
        array.as_any().downcast_ref::<T>().ok_or_else(|| {
            self.column_error(
                name,
                format!(
                    "has type {} where the dataset format has another",
                    array.data_type()
                ),
            )
        })
    }

    /// The column `name`, which the format declares non-null, as `T`.
    pub fn required<T: Array + 'static>(&self, name: &str) -> Result<&'a T, StatsError> {
        let array = self.col::<T>(name)?;
        if array.null_count() > 0 {
            return Err(self.column_error(name, "holds nulls but is declared non-null".into()));
        }
        Ok(array)
    }

    /// An error about `column` of this file.
    pub fn column_error(&self, column: &str, message: String) -> StatsError {
        StatsError::Column {
            path: self.path.to_path_buf(),
            column: column.to_string(),
            message,
        }
    }

    /// An error about a value of this file.
    pub fn value_error(&self, message: String) -> StatsError {
        StatsError::Value {
            path: self.path.to_path_buf(),
            message,
        }
    }
}

/// Calls `f` on every batch of `columns` of the Parquet file `path`, in row order. Only those
/// columns are decoded, one row group at a time, so memory does not grow with the file.
pub(crate) fn scan(
    path: &Path,
    columns: &[&str],
    mut f: impl FnMut(&Batch<'_>) -> Result<(), StatsError>,
) -> Result<(), StatsError> {
    let parquet = |e: &dyn std::fmt::Display| StatsError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let file = File::open(path).map_err(|source| StatsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet(&e))?;
    for &c in columns {
        if builder.schema().field_with_name(c).is_err() {
            return Err(StatsError::Column {
                path: path.to_path_buf(),
                column: c.to_string(),
                message: "is missing".into(),
            });
        }
    }
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| parquet(&e))?;
    for batch in reader {
        let batch = batch.map_err(|e| parquet(&e))?;
        f(&Batch {
            batch: &batch,
            path,
        })?;
    }
    Ok(())
}
