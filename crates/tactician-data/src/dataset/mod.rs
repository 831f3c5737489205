//! The dataset folder: Parquet tables of battles and transitions, a manifest, a quarantine.
//!
//! ```text
//! DATASET/
//!   dataset.json                    manifest: encoder spec, files with rows and hashes, ingests
//!   transitions/part-000001.parquet one row per decision
//!   battles/part-000001.parquet     one row per battle
//!   quarantine/ingest-000001.jsonl  rejected records with reason, source file and line
//!   .lock                           held while an ingest runs
//! ```
//!
//! The manifest is the only source of truth: files it does not list (left over from an
//! interrupted ingest) are ignored and cleaned up, and it is replaced atomically, so it never
//! points at a half-written file.

pub mod batch;
pub mod manifest;
pub mod schema;
pub mod table;

use manifest::{FORMAT, Manifest};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tactician_battle::FeatureSpec;

/// Name of the manifest file.
pub const MANIFEST: &str = "dataset.json";

/// Errors of the dataset folder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A file operation failed.
    #[error(transparent)]
    Os(#[from] tactician_os::Error),
    /// Parquet or Arrow failed.
    #[error("parquet error on {path}: {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// The folder exists, is not empty, and holds no dataset manifest.
    #[error(
        "{0} is not a Tactician dataset (it is not empty and has no {MANIFEST}); choose another folder"
    )]
    NotADataset(PathBuf),
    /// The manifest cannot be read or has another format.
    #[error("{path}: {message}")]
    BadManifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another process holds the dataset's lock.
    #[error(
        "{0} is locked by another ingest (process {1}); wait for it or remove the stale lock file"
    )]
    Locked(PathBuf, String),
    /// The dataset is bound to another encoder than the one asked for.
    #[error("the dataset holds features of encoder {dataset} but {asked} was asked for")]
    EncoderMismatch {
        /// The dataset's encoder hash.
        dataset: String,
        /// The requested encoder hash.
        asked: String,
    },
    /// A part file listed in the manifest is missing or changed.
    #[error("{path} does not match the manifest: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What differs.
        message: String,
    },
}

impl DatasetError {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Self::Os(tactician_os::Error::io(op, path, source))
    }
    pub(crate) fn parquet(path: &Path, e: impl std::fmt::Display) -> Self {
        Self::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

/// An open dataset folder.
#[derive(Debug)]
pub struct Dataset {
    root: PathBuf,
    manifest: Manifest,
}

/// Holds the dataset's lock file while alive.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl Dataset {
    /// Opens an existing dataset.
    pub fn open(root: &Path) -> Result<Self, DatasetError> {
        let path = root.join(MANIFEST);
        let text = fs::read_to_string(&path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                if root.is_dir() {
                    DatasetError::NotADataset(root.to_path_buf())
                } else {
                    DatasetError::io("open", root, e)
                }
            } else {
                DatasetError::io("read", &path, e)
            }
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| DatasetError::BadManifest {
                path: path.clone(),
                message: format!("not a dataset manifest: {e}"),
            })?;
        if manifest.format != FORMAT {
            return Err(DatasetError::BadManifest {
                path,
                message: format!("format {:?} is not {FORMAT:?}", manifest.format),
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
            manifest,
        })
    }

    /// Opens the dataset at `root`, or creates an empty one bound to `encoder` if the folder
    /// does not exist or is empty. An existing dataset must be bound to the same encoder.
    pub fn open_or_create(root: &Path, encoder: &FeatureSpec) -> Result<Self, DatasetError> {
        if root.join(MANIFEST).exists() {
            let ds = Self::open(root)?;
            if ds.manifest.encoder.hash() != encoder.hash() {
                return Err(DatasetError::EncoderMismatch {
                    dataset: ds.manifest.encoder.hash().to_string(),
                    asked: encoder.hash().to_string(),
                });
            }
            return Ok(ds);
        }
        if root.exists() {
            let mut entries = fs::read_dir(root).map_err(|e| DatasetError::io("read", root, e))?;
            if entries.next().is_some() {
                return Err(DatasetError::NotADataset(root.to_path_buf()));
            }
        } else {
            fs::create_dir_all(root).map_err(|e| DatasetError::io("create", root, e))?;
        }
        let ds = Self {
            root: root.to_path_buf(),
            manifest: Manifest::new(encoder.clone()),
        };
        ds.write_manifest(&ds.manifest)?;
        Ok(ds)
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// How the `features` column is compressed in the transitions files, read from their
    /// Parquet footers: every codec found, in order, once each (empty for a dataset without
    /// rows). A compression this crate never writes is an error that names the file.
    pub fn features_codecs(&self) -> Result<Vec<table::FeatureCodec>, DatasetError> {
        let mut codecs = Vec::new();
        for entry in self
            .manifest
            .files
            .iter()
            .filter(|f| f.table == "transitions")
        {
            let path = self.root.join(&entry.path);
            let file = File::open(&path).map_err(|e| DatasetError::io("open", &path, e))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| DatasetError::parquet(&path, e))?;
            for group in reader.metadata().row_groups() {
                let column = group
                    .columns()
                    .iter()
                    .find(|c| c.column_path().string() == "features")
                    .ok_or_else(|| DatasetError::parquet(&path, "no features column"))?;
                let codec = table::FeatureCodec::from_compression(column.compression())
                    .ok_or_else(|| {
                        DatasetError::parquet(
                            &path,
                            format!("features compressed as {}", column.compression()),
                        )
                    })?;
                if !codecs.contains(&codec) {
                    codecs.push(codec);
                }
            }
        }
        Ok(codecs)
    }

    /// Takes the lock (a file holding our process id), taking over a lock whose process is gone.
    pub fn lock(&self) -> Result<Lock, DatasetError> {
        let path = self.root.join(".lock");
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    let _ = write!(f, "{}", std::process::id());
                    return Ok(Lock { path });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let pid = fs::read_to_string(&path).unwrap_or_default();
                    let alive = pid
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(tactician_os::process::is_running);
                    if alive {
                        return Err(DatasetError::Locked(
                            self.root.clone(),
                            pid.trim().to_string(),
                        ));
                    }
                    let _ = fs::remove_file(&path);
                }
                Err(e) => return Err(DatasetError::io("create", &path, e)),
            }
        }
        Err(DatasetError::Locked(self.root.clone(), "unknown".into()))
    }

    /// Deletes part and temporary files the manifest does not list (left by an interrupted
    /// ingest). Call with the lock held.
    pub fn clean_orphans(&self) -> Result<Vec<PathBuf>, DatasetError> {
        let listed: HashSet<&str> = self
            .manifest
            .files
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        let mut removed = Vec::new();
        for table in ["transitions", "battles"] {
            let dir = self.root.join(table);
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = format!("{table}/{}", entry.file_name().to_string_lossy());
                if !listed.contains(name.as_str()) {
                    let p = entry.path();
                    fs::remove_file(&p).map_err(|e| DatasetError::io("remove", &p, e))?;
                    removed.push(p);
                }
            }
        }
        Ok(removed)
    }

    /// Every battle id already in the dataset.
    pub fn battle_ids(&self) -> Result<HashSet<String>, DatasetError> {
        let mut ids = HashSet::with_capacity(self.manifest.battles as usize);
        for f in self.manifest.table("battles") {
            let path = self.root.join(&f.path);
            let file = File::open(&path).map_err(|e| DatasetError::io("open", &path, e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| DatasetError::parquet(&path, e))?;
            let mask = ProjectionMask::columns(builder.parquet_schema(), ["battle_id"]);
            let reader = builder
                .with_projection(mask)
                .build()
                .map_err(|e| DatasetError::parquet(&path, e))?;
            for batch in reader {
                let batch = batch.map_err(|e| DatasetError::parquet(&path, e))?;
                let col = batch
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow_array::StringArray>()
                    .ok_or_else(|| {
                        DatasetError::parquet(&path, "battle_id is not a string column")
                    })?;
                ids.extend(col.iter().flatten().map(str::to_string));
            }
        }
        Ok(ids)
    }

    /// Replaces the manifest atomically (temporary file, fsync, rename, fsync of the folder).
    pub fn commit(&mut self, manifest: Manifest) -> Result<(), DatasetError> {
        self.write_manifest(&manifest)?;
        self.manifest = manifest;
        Ok(())
    }

    fn write_manifest(&self, manifest: &Manifest) -> Result<(), DatasetError> {
        let text = serde_json::to_vec_pretty(manifest).expect("manifests serialize");
        // On failure the old manifest is untouched and no half-written new one is left.
        tactician_os::write_atomic(&self.root.join(MANIFEST), &text)?;
        Ok(())
    }

    /// Checks every listed file's size and hash against the manifest.
    pub fn verify(&self) -> Result<(), DatasetError> {
        for f in &self.manifest.files {
            let path = self.root.join(&f.path);
            let bytes = fs::read(&path).map_err(|e| DatasetError::io("read", &path, e))?;
            if bytes.len() as u64 != f.bytes || blake3::hash(&bytes).to_hex().as_str() != f.blake3 {
                return Err(DatasetError::Corrupt {
                    path,
                    message: "size or hash differs".into(),
                });
            }
        }
        Ok(())
    }
}
