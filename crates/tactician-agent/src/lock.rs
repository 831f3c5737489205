//! One agent at a time per state folder: `agent.lock` holds the owner's process id. A lock
//! whose process is gone (killed) is taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held lock, released when dropped.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
}

impl StateLock {
    /// Takes the lock of `state`, or says which live process holds it.
    pub fn acquire(state: &Path) -> Result<StateLock> {
        let path = state.join("agent.lock");
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id())
                        .map_err(|e| Error::io("write", &path, e))?;
                    return Ok(StateLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|s| s.trim().parse::<u32>().ok());
                    match pid {
                        Some(pid)
                            if pid != std::process::id()
                                && tactician_os::process::is_running(pid) =>
                        {
                            return Err(Error::Busy {
                                path: state.to_path_buf(),
                                pid,
                            });
                        }
                        // A dead owner (or an unreadable lock): take it over.
                        _ => {
                            std::fs::remove_file(&path)
                                .map_err(|e| Error::io("remove the stale lock", &path, e))?;
                        }
                    }
                }
                Err(e) => return Err(Error::io("create", &path, e)),
            }
        }
        Err(Error::io(
            "take the lock",
            &path,
            std::io::Error::other("another agent keeps taking it"),
        ))
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
