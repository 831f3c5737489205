//! The file system as the agent sees it: every change the agent makes to its state folder goes
//! through [`Fs`], so that tests can make any single operation fail ([`FaultFs`]) and check
//! that the device is left with exactly one active, validated model.
//!
//! [`OsFs`] is the real file system. [`write_atomic`] is the one durable write the agent uses:
//! the bytes go to a temporary file beside the target, which is synced, renamed over the
//! target, and the folder is synced.

use std::fmt::Debug;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The operations the agent performs on its state folder.
pub trait Fs: Debug + Send + Sync {
    /// Creates a folder and its missing parents.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Creates (or truncates) a file and writes `bytes`, without syncing.
    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Syncs a file's data and metadata to storage.
    fn sync_file(&self, path: &Path) -> io::Result<()>;
    /// Syncs a folder (its entries) to storage.
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// Renames `from` to `to`, replacing `to` atomically when it exists (a file, a symlink or
    /// an empty folder).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Creates the symbolic link `link` pointing to `target`.
    fn symlink(&self, target: &Path, link: &Path) -> io::Result<()>;
    /// Removes a file or a symbolic link.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes a folder and everything in it.
    fn remove_dir_all(&self, path: &Path) -> io::Result<()>;
    /// Reads a whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Reads a symbolic link's target.
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    /// The names of a folder's entries, sorted.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsFs;

impl Fs for OsFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path)
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        std::fs::write(path, bytes)
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        std::fs::File::open(path)?.sync_all()
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::File::open(path)?.sync_all()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn symlink(&self, target: &Path, link: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(target, link)
        }
        #[cfg(not(unix))]
        {
            let _ = (target, link);
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "the device agent needs symbolic links (a Unix system)",
            ))
        }
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir_all(path)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }
}

/// How a [`FaultFs`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The chosen change fails (a write leaves half its bytes, like a full disk); the
    /// following ones succeed again.
    Fail,
    /// The process dies at the chosen change: it fails half done and every later change
    /// fails too, so the folder stays as a killed process would leave it.
    Crash,
}

#[derive(Debug, Default)]
struct Counters {
    changes: u64,
    reads: u64,
    crashed: bool,
    log: Vec<String>,
}

/// The real file system with one injected failure: the `n`-th change (counting from 1 every
/// create, write, sync, rename, symlink and removal) fails as [`Fault`] says, and optionally
/// the `n`-th read. Counts every operation, so a test can first run a whole update to learn
/// how many changes it makes, then fail each of them in turn.
#[derive(Debug, Default)]
pub struct FaultFs {
    fail_change: Option<(u64, Fault)>,
    fail_read: Option<u64>,
    counters: Mutex<Counters>,
}

impl FaultFs {
    /// A file system that never fails (it only counts).
    pub fn counting() -> FaultFs {
        FaultFs::default()
    }

    /// Fails the `n`-th change (1-based) as `fault` says.
    pub fn failing_change(n: u64, fault: Fault) -> FaultFs {
        FaultFs {
            fail_change: Some((n, fault)),
            ..FaultFs::default()
        }
    }

    /// Fails the `n`-th read (1-based).
    pub fn failing_read(n: u64) -> FaultFs {
        FaultFs {
            fail_read: Some(n),
            ..FaultFs::default()
        }
    }

    /// Changes attempted so far.
    pub fn changes(&self) -> u64 {
        self.lock().changes
    }

    /// Reads attempted so far.
    pub fn reads(&self) -> u64 {
        self.lock().reads
    }

    /// Whether the injected change failure happened.
    pub fn fired(&self) -> bool {
        let c = self.lock();
        self.fail_change.is_some_and(|(n, _)| c.changes >= n)
    }

    /// Every change attempted, in order ("write /path", "rename /a -> /b", ...).
    pub fn log(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counters> {
        match self.counters.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Counts a change; `Some(half)` when it must fail (`half`: do half of it first).
    fn change(&self, what: String) -> Option<bool> {
        let mut c = self.lock();
        c.changes += 1;
        c.log.push(what);
        if c.crashed {
            return Some(false);
        }
        match self.fail_change {
            Some((n, fault)) if c.changes == n => {
                if fault == Fault::Crash {
                    c.crashed = true;
                }
                Some(true)
            }
            _ => None,
        }
    }

    fn read_fails(&self) -> bool {
        let mut c = self.lock();
        c.reads += 1;
        c.crashed || self.fail_read == Some(c.reads)
    }
}

fn injected(what: &str, path: &Path) -> io::Error {
    io::Error::other(format!("injected failure: {what} {}", path.display()))
}

impl Fs for FaultFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        match self.change(format!("mkdir {}", path.display())) {
            Some(_) => Err(injected("mkdir", path)),
            None => OsFs.create_dir_all(path),
        }
    }

    fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        match self.change(format!("write {}", path.display())) {
            Some(half) => {
                if half {
                    // A torn write: the file exists with the first half of its bytes.
                    let _ = OsFs.write(path, &bytes[..bytes.len() / 2]);
                }
                Err(injected("write", path))
            }
            None => OsFs.write(path, bytes),
        }
    }

    fn sync_file(&self, path: &Path) -> io::Result<()> {
        match self.change(format!("fsync {}", path.display())) {
            Some(_) => Err(injected("fsync", path)),
            None => OsFs.sync_file(path),
        }
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        match self.change(format!("fsync-dir {}", path.display())) {
            Some(_) => Err(injected("fsync of folder", path)),
            None => OsFs.sync_dir(path),
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        match self.change(format!("rename {} -> {}", from.display(), to.display())) {
            Some(_) => Err(injected("rename", from)),
            None => OsFs.rename(from, to),
        }
    }

    fn symlink(&self, target: &Path, link: &Path) -> io::Result<()> {
        match self.change(format!(
            "symlink {} -> {}",
            link.display(),
            target.display()
        )) {
            Some(_) => Err(injected("symlink", link)),
            None => OsFs.symlink(target, link),
        }
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        match self.change(format!("remove {}", path.display())) {
            Some(_) => Err(injected("remove", path)),
            None => OsFs.remove_file(path),
        }
    }

    fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        match self.change(format!("remove-dir {}", path.display())) {
            Some(half) => {
                if half {
                    // Half removed: the first entry goes, the rest stays.
                    if let Ok(names) = OsFs.read_dir(path)
                        && let Some(first) = names.first()
                    {
                        let p = path.join(first);
                        let _ = OsFs.remove_file(&p).or_else(|_| OsFs.remove_dir_all(&p));
                    }
                }
                Err(injected("remove folder", path))
            }
            None => OsFs.remove_dir_all(path),
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if self.read_fails() {
            return Err(injected("read", path));
        }
        OsFs.read(path)
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        OsFs.read_link(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        OsFs.read_dir(path)
    }
}

/// The temporary name [`write_atomic`] writes `path` under first.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` durably and atomically: a reader sees the old content or the new,
/// never a mix, and after a crash the new content is there only if complete.
pub fn write_atomic(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    fs.write(&tmp, bytes)?;
    fs.sync_file(&tmp)?;
    fs.rename(&tmp, path)?;
    sync_parent(fs, path)
}

/// Syncs the folder holding `path`.
pub fn sync_parent(fs: &dyn Fs, path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => fs.sync_dir(dir),
        _ => fs.sync_dir(Path::new(".")),
    }
}

/// Whether `path` exists (a dangling symbolic link counts).
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}
