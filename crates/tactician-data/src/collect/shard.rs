//! Writing one file atomically: to `<name>.tmp`, then synced and renamed to `<name>`.
//!
//! A file under its final name is therefore always complete. A writer dropped before
//! [`AtomicFile::finish`] (an error, a panic) removes its temporary file.

use super::error::CollectError;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The zstd level of compressed logs: fast to write, more than ten times smaller than plain JSON.
pub const ZSTD_LEVEL: i32 = 3;

/// A finished file of a collection, as listed in its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name inside the output folder.
    pub name: String,
    /// Index (in the run) of its first battle.
    pub first_battle: u64,
    /// Battles it holds, one per line.
    pub battles: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// BLAKE3 hash of its bytes, in hex.
    pub blake3: String,
}

/// Counts and hashes the bytes written through it.
struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `value` as one JSON line, compressed into a zstd frame if `compress`.
///
/// Serializes into a per-thread buffer that keeps its capacity: a battle is a few hundred
/// kilobytes of JSON, and growing a fresh vector for each would copy it several times.
pub fn encode_line(value: &impl Serialize, compress: bool) -> io::Result<Vec<u8>> {
    thread_local! {
        static LINE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    LINE.with_borrow_mut(|buf| {
        buf.clear();
        serde_json::to_writer(&mut *buf, value)?;
        buf.push(b'\n');
        if compress {
            compress_frame(buf)
        } else {
            Ok(buf.clone())
        }
    })
}

/// Compresses `bytes` into one zstd frame (level [`ZSTD_LEVEL`], with content size and
/// checksum). Frames concatenate: a file of frames decompresses as one stream, so each battle is
/// compressed on its own thread and the files stay identical for any thread count.
pub fn compress_frame(bytes: &[u8]) -> io::Result<Vec<u8>> {
    thread_local! {
        static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
            const { RefCell::new(None) };
    }
    COMPRESSOR.with_borrow_mut(|slot| {
        let c = match slot {
            Some(c) => c,
            None => {
                let mut c = zstd::bulk::Compressor::new(ZSTD_LEVEL)?;
                c.include_checksum(true)?;
                c.include_contentsize(true)?;
                slot.insert(c)
            }
        };
        c.compress(bytes)
    })
}

/// A file being written under a temporary name.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    sink: Option<Hashing<BufWriter<File>>>,
}

impl AtomicFile {
    /// Starts `path` (as `path.tmp`).
    pub fn create(path: &Path) -> Result<Self, CollectError> {
        let tmp = tmp_path(path);
        let file = File::create(&tmp).map_err(|source| CollectError::Write {
            path: tmp.clone(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            sink: Some(Hashing {
                inner: BufWriter::with_capacity(1 << 16, file),
                hasher: blake3::Hasher::new(),
                bytes: 0,
            }),
        })
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), CollectError> {
        let sink = self
            .sink
            .as_mut()
            .expect("the sink is taken only by finish");
        sink.write_all(bytes).map_err(|source| CollectError::Write {
            path: self.tmp.clone(),
            source,
        })
    }

    /// Completes the file: flushes, syncs it to disk, renames it to its final name and syncs
    /// the folder. Returns its size and BLAKE3 hash.
    pub fn finish(mut self) -> Result<(u64, String), CollectError> {
        let err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CollectError::Write { path, source }
        };
        let sink = self.sink.take().expect("the sink is taken only here");
        let (bytes, hash) = (sink.bytes, sink.hasher.finalize().to_hex().to_string());
        let file = sink.inner.into_inner().map_err(|e| CollectError::Write {
            path: self.tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(err(&self.tmp))?;
        drop(file);
        fs::rename(&self.tmp, &self.path).map_err(err(&self.path))?;
        // Renamed: nothing left for Drop to clean up.
        self.tmp = PathBuf::new();
        sync_dir(&self.path)?;
        Ok((bytes, hash))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.sink = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// `path` with `.tmp` appended.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Syncs the folder holding `path`, so a rename into it survives a crash.
fn sync_dir(path: &Path) -> Result<(), CollectError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| CollectError::Write {
            path: dir.to_path_buf(),
            source,
        })
}

/// Writes `bytes` to `path` atomically (temporary name, sync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CollectError> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.finish().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_under_the_final_name_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl.zst");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(&compress_frame(b"{\"x\":1}\n").unwrap())
            .unwrap();
        f.write_all(&compress_frame(b"{\"y\":2}\n").unwrap())
            .unwrap();
        assert!(!path.exists() && tmp_path(&path).exists());
        let (bytes, hash) = f.finish().unwrap();
        assert!(path.exists() && !tmp_path(&path).exists());
        let data = fs::read(&path).unwrap();
        assert_eq!(bytes, data.len() as u64);
        assert_eq!(hash, blake3::hash(&data).to_hex().to_string());
        assert_eq!(
            zstd::decode_all(&data[..]).unwrap(),
            b"{\"x\":1}\n{\"y\":2}\n"
        );
    }

    #[test]
    fn dropping_an_unfinished_file_removes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.jsonl");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
