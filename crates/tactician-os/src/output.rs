//! A command's output folder: staged beside the target, put in place only when complete, and
//! replacing only the command's own files.

use crate::{Error, process, sync_dir, sync_parent};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Decides whether an entry name of the output folder is one the command writes.
type Own = Box<dyn Fn(&str) -> bool + Send + Sync>;

/// An output folder being written.
///
/// [`OutputDir::create`] makes a staging folder `.NAME.staging-PID` beside the target; the
/// command writes its files into [`OutputDir::path`]; [`OutputDir::commit`] puts them in place:
///
/// - when the target does not exist (or is an empty folder), the staging folder is renamed to
///   it: the output appears whole, in one step;
/// - otherwise the target's *marker* (the file that says the output is complete, such as a
///   manifest) is removed first, then the own files the new output lacks, then every staged
///   entry is renamed in, the marker last. Entries the command does not own are never touched.
///   An interruption leaves a folder without its marker, which readers refuse as incomplete.
///
/// Everything is written and synced before the first old file is removed, so a full disk or
/// any other failure while writing leaves the previous output as it was. Dropping an
/// uncommitted `OutputDir` removes its staging folder; staging folders of processes that are
/// gone are removed by the next `create` for the same target.
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    own: Own,
    committed: bool,
}

impl std::fmt::Debug for OutputDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputDir")
            .field("target", &self.target)
            .field("staging", &self.staging)
            .field("committed", &self.committed)
            .finish()
    }
}

/// The staging folder's name prefix for target name `name`.
fn staging_prefix(name: &str) -> String {
    format!(".{name}.staging-")
}

impl OutputDir {
    /// Starts an output at `target`. `own` says which entry names of the folder the command
    /// writes. Refuses a target that is not a folder, and one that holds own entries unless
    /// `force` (entries the command does not own never stop it). Creates missing parent folders.
    pub fn create(
        target: &Path,
        own: impl Fn(&str) -> bool + Send + Sync + 'static,
        force: bool,
    ) -> Result<Self, Error> {
        let name = Self::preflight(target, &own, force)?;
        if target.is_dir() {
            // Fail now, not after the work, if the folder cannot take the new files.
            let probe = target.join(format!(".{name}.probe-{}", std::process::id()));
            fs::write(&probe, b"")
                .and_then(|()| fs::remove_file(&probe))
                .map_err(|e| Error::io("write to", target, e))?;
        }
        let parent = parent_of(target);
        fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
        remove_stale_staging(&parent, &name, target)?;
        let staging = parent.join(format!("{}{}", staging_prefix(&name), std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(|e| Error::io("remove", &staging, e))?;
        }
        fs::create_dir(&staging).map_err(|e| Error::io("create", &staging, e))?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
            own: Box::new(own),
            committed: false,
        })
    }

    /// The checks of [`OutputDir::create`] without creating anything, for a command that works
    /// long before it writes: `target` must be a folder (or not exist) and hold no own entry
    /// unless `force`. Returns the target's file name.
    pub fn preflight(
        target: &Path,
        own: &dyn Fn(&str) -> bool,
        force: bool,
    ) -> Result<String, Error> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                Error::io(
                    "use",
                    target,
                    std::io::Error::new(ErrorKind::InvalidInput, "not a folder name"),
                )
            })?;
        match fs::metadata(target) {
            Ok(m) if !m.is_dir() => return Err(Error::NotADirectory(target.to_path_buf())),
            Ok(_) => {
                if !force && let Some(found) = own_entries(target, own)?.into_iter().next() {
                    return Err(Error::Exists {
                        path: target.to_path_buf(),
                        found,
                    });
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("read", target, e)),
        }
        Ok(name)
    }

    /// The folder to write the output into.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Writes the file `name` of the output into the staging folder. A plain write: nothing
    /// of the staging folder is visible before [`OutputDir::commit`], which syncs it all.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.staging.join(name);
        fs::write(&path, bytes).map_err(|e| Error::io("write", &path, e))
    }

    /// Puts the staged output in place (see the type's documentation); `marker` is the file
    /// that marks a complete output, moved last.
    pub fn commit(mut self, marker: Option<&str>) -> Result<(), Error> {
        sync_tree(&self.staging)?;
        let parent = parent_of(&self.target);
        let fresh = match fs::read_dir(&self.target) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == ErrorKind::NotFound => true,
            Err(e) => return Err(Error::io("read", &self.target, e)),
        };
        if fresh {
            // rename(2) replaces an empty folder.
            fs::rename(&self.staging, &self.target)
                .map_err(|e| Error::io("rename", &self.target, e))?;
            self.committed = true;
            return sync_dir(&parent);
        }
        let staged = entry_names(&self.staging)?;
        if let Some(m) = marker {
            remove_entry(&self.target.join(m))?;
            sync_dir(&self.target)?;
        }
        for old in own_entries(&self.target, &self.own)? {
            if !staged.contains(&old) {
                remove_entry(&self.target.join(&old))?;
            }
        }
        let last = marker.filter(|m| staged.iter().any(|s| s == m));
        for name in staged.iter().filter(|s| Some(s.as_str()) != last) {
            replace(&self.staging.join(name), &self.target.join(name))?;
        }
        if let Some(m) = last {
            sync_dir(&self.target)?;
            replace(&self.staging.join(m), &self.target.join(m))?;
        }
        sync_dir(&self.target)?;
        self.committed = true;
        fs::remove_dir(&self.staging).map_err(|e| Error::io("remove", &self.staging, e))?;
        sync_dir(&parent)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// The folder holding `path` (`.` for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Entry names of `dir`, sorted.
fn entry_names(dir: &Path) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// The entries of `dir` that `own` claims, sorted.
fn own_entries(dir: &Path, own: &dyn Fn(&str) -> bool) -> Result<Vec<String>, Error> {
    Ok(entry_names(dir)?.into_iter().filter(|n| own(n)).collect())
}

/// Removes staging folders of `name` in `parent` left by processes that are gone; refuses when
/// a running process other than this one is writing the same target.
fn remove_stale_staging(parent: &Path, name: &str, target: &Path) -> Result<(), Error> {
    let prefix = staging_prefix(name);
    for entry in entry_names(parent)? {
        let Some(pid) = entry
            .strip_prefix(&prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && process::is_running(pid) {
            return Err(Error::Busy {
                path: target.to_path_buf(),
                pid,
            });
        }
        let path = parent.join(&entry);
        fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
    }
    Ok(())
}

/// Removes a file or a folder (and its content); a missing one is not an error.
fn remove_entry(path: &Path) -> Result<(), Error> {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
    };
    result.map_err(|e| Error::io("remove", path, e))
}

/// Renames `from` to `to`, replacing a file or a folder there.
fn replace(from: &Path, to: &Path) -> Result<(), Error> {
    if fs::symlink_metadata(to).is_ok_and(|m| m.is_dir()) {
        remove_entry(to)?;
    }
    fs::rename(from, to).map_err(|e| Error::io("rename", to, e))
}

/// Syncs every file and folder below `dir`, and `dir` itself.
fn sync_tree(dir: &Path) -> Result<(), Error> {
    for entry in fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))? {
        let entry = entry.map_err(|e| Error::io("read", dir, e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io("read", &path, e))?;
        if kind.is_dir() {
            sync_tree(&path)?;
        } else if kind.is_file() {
            fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| Error::io("sync", &path, e))?;
        }
    }
    sync_dir(dir)?;
    sync_parent(dir)
}

#[cfg(test)]
mod tests;
