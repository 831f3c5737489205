//! Writing log files: battles encoded as JSON lines (zstd frames), written atomically.
//!
//! A file under its final name is therefore always complete. A writer dropped before
//! [`AtomicFile::finish`] (an error, a panic) removes its temporary file.

use super::error::CollectError;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::io;
use std::path::Path;

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

/// A log file being written atomically (see [`tactician_os::AtomicFile`]), counting and
/// hashing its bytes on the way.
pub struct AtomicFile {
    file: tactician_os::AtomicFile,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl AtomicFile {
    /// Starts `path` (under a temporary name until [`AtomicFile::finish`]).
    pub fn create(path: &Path) -> Result<Self, CollectError> {
        Ok(Self {
            file: tactician_os::AtomicFile::create(path)?,
            hasher: blake3::Hasher::new(),
            bytes: 0,
        })
    }

    /// Appends bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), CollectError> {
        self.file.write_all(bytes)?;
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Completes the file (synced, renamed to its final name, folder synced). Returns its size
    /// and BLAKE3 hash.
    pub fn finish(self) -> Result<(u64, String), CollectError> {
        let (bytes, hash) = (self.bytes, self.hasher.finalize().to_hex().to_string());
        self.file.finish()?;
        Ok((bytes, hash))
    }
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
        assert!(!path.exists());
        let (bytes, hash) = f.finish().unwrap();
        assert!(path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let data = std::fs::read(&path).unwrap();
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
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
