//! Files that appear under their final name only when complete: written under a temporary
//! name in the same folder, synced, renamed, and the folder synced.

use crate::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file being written under a temporary name beside its final one.
///
/// [`AtomicFile::finish`] syncs it and renames it into place; dropping it unfinished (an
/// error, a panic) removes the temporary file, so a failed write leaves nothing behind.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
}

/// The temporary name [`AtomicFile`] writes `path` under: `.NAME.PID-N.tmp` in the same
/// folder (hidden, unique per process and write, and ending in `.tmp`).
pub fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

impl AtomicFile {
    /// Starts writing `path`.
    pub fn create(path: &Path) -> Result<Self, Error> {
        let tmp = temp_path(path);
        let file = File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            file: Some(BufWriter::with_capacity(1 << 16, file)),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `bytes`.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let file = self
            .file
            .as_mut()
            .expect("the file is taken only by finish");
        file.write_all(bytes)
            .map_err(|e| Error::io("write", &self.tmp, e))
    }

    /// Flushes and syncs the file, renames it to its final name (replacing any file there) and
    /// syncs the folder.
    pub fn finish(mut self) -> Result<(), Error> {
        let file = self.file.take().expect("the file is taken only here");
        let file = file
            .into_inner()
            .map_err(|e| Error::io("write", &self.tmp, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("sync", &self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io("rename", &self.path, e))?;
        // Renamed: nothing is left for Drop to remove.
        self.tmp = PathBuf::new();
        sync_parent(&self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file
            .as_mut()
            .expect("the file is taken only by finish")
            .write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file
            .as_mut()
            .expect("the file is taken only by finish")
            .flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.tmp.as_os_str().is_empty() {
            self.file = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `path` atomically: complete and synced under its final name, or not at
/// all (the previous file, if any, stays).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.finish()
}

/// Syncs the folder `dir`, so that entries created, renamed or removed in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync", dir, e))
}

/// Syncs the folder holding `path`.
pub fn sync_parent(path: &Path) -> Result<(), Error> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    sync_dir(dir.unwrap_or(Path::new(".")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn appears_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"{\"x\":").unwrap();
        f.write_all(b"1}").unwrap();
        assert!(!path.exists());
        let tmp = names(dir.path());
        assert_eq!(tmp.len(), 1);
        assert!(
            tmp[0].starts_with(".a.json.") && tmp[0].ends_with(".tmp"),
            "{tmp:?}"
        );
        f.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"x\":1}");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn an_unfinished_file_leaves_nothing_and_keeps_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.bin");
        std::fs::write(&path, b"old").unwrap();
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"partial").unwrap();
        drop(f);
        assert_eq!(names(dir.path()), ["b.bin"]);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/c.txt");
        let e = write_atomic(&path, b"x").unwrap_err();
        let text = crate::report(&e);
        assert!(text.starts_with("cannot create "), "{text}");
        assert!(text.contains("c.txt"), "{text}");
        assert_eq!(text.matches("os error").count(), 1, "{text}");
    }
}
