//! The battles a device played, as battle logs (`docs/battle-log.md`): one record per line in
//! `STATE/battles/part-NNNNN.jsonl`, appended and synced one battle at a time, rotated at a
//! size and bounded in total (the oldest files go first). A record is on disk whole once its
//! append returns; a line cut by a power loss is the only thing that can be lost, and the next
//! append (like `tactician pull`) drops it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The folder under the state folder.
pub const FOLDER: &str = "battles";

/// A rotated, bounded log of battle records.
#[derive(Debug)]
pub struct BattleLog {
    dir: PathBuf,
    max_part_bytes: u64,
    max_total_bytes: u64,
    lock: Mutex<()>,
}

/// The part files of `dir`, oldest first, with their sizes.
pub fn parts(dir: &Path) -> Vec<(PathBuf, u64)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, u64)> = rd
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with("part-") && n.ends_with(".jsonl")
        })
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.len())))
        .collect();
    out.sort();
    out
}

/// The bytes of a log file up to its last complete line.
pub fn complete_lines(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = std::fs::read(path)?;
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    bytes.truncate(keep);
    Ok(bytes)
}

fn index_of(path: &Path) -> u32 {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("part-"))
        .and_then(|n| n.strip_suffix(".jsonl"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl BattleLog {
    /// The log of a state folder.
    pub fn new(state: &Path, max_part_bytes: u64, max_total_bytes: u64) -> BattleLog {
        BattleLog {
            dir: state.join(FOLDER),
            max_part_bytes: max_part_bytes.max(1),
            max_total_bytes: max_total_bytes.max(max_part_bytes),
            lock: Mutex::new(()),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record (a JSON line without its newline) and syncs it.
    pub fn append(&self, line: &[u8]) -> std::io::Result<()> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        std::fs::create_dir_all(&self.dir)?;
        let mut existing = parts(&self.dir);
        // Repair the newest file first: a power loss may have cut its last line.
        if let Some((last, size)) = existing.last_mut() {
            let mut f = OpenOptions::new().read(true).write(true).open(&*last)?;
            drop_torn_tail(&mut f)?;
            *size = f.metadata()?.len();
        }
        let (mut path, mut size) = existing
            .last()
            .cloned()
            .unwrap_or_else(|| (self.dir.join("part-00000.jsonl"), 0));
        if size > 0 && size + line.len() as u64 + 1 > self.max_part_bytes {
            path = self
                .dir
                .join(format!("part-{:05}.jsonl", index_of(&path) + 1));
            size = 0;
        }
        let new = size == 0 && !path.exists();
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        let mut record = Vec::with_capacity(line.len() + 1);
        record.extend_from_slice(line);
        record.push(b'\n');
        f.write_all(&record)?;
        f.sync_data()?;
        if new {
            tactician_os::sync_dir(&self.dir).map_err(std::io::Error::other)?;
        }
        // Bounded: the oldest files go while the total exceeds the limit.
        let mut all = parts(&self.dir);
        let mut total: u64 = all.iter().map(|(_, n)| n).sum();
        while total > self.max_total_bytes && all.len() > 1 {
            let (oldest, n) = all.remove(0);
            std::fs::remove_file(&oldest)?;
            total -= n;
        }
        Ok(())
    }
}

/// Cuts a file's incomplete last line (a power loss during an append).
fn drop_torn_tail(f: &mut File) -> std::io::Result<()> {
    let len = f.metadata()?.len();
    if len == 0 {
        return Ok(());
    }
    let mut last = [0u8];
    f.seek(SeekFrom::Start(len - 1))?;
    f.read_exact(&mut last)?;
    if last[0] == b'\n' {
        return Ok(());
    }
    // Find the last newline, reading backwards in blocks.
    let mut end = len;
    let mut keep = 0;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = (end - start) as usize;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    f.set_len(keep)?;
    f.sync_data()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_rotate_stay_bounded_and_repair_a_torn_line() {
        let tmp = tempfile::tempdir().unwrap();
        let log = BattleLog::new(tmp.path(), 100, 250);
        for i in 0..10 {
            log.append(format!("{{\"battle\":{i},\"pad\":\"{}\"}}", "x".repeat(20)).as_bytes())
                .unwrap();
        }
        let files = parts(log.dir());
        let total: u64 = files.iter().map(|(_, n)| n).sum();
        assert!(total <= 250, "{files:?}");
        assert!(
            files.len() >= 2 && files.iter().all(|(_, n)| *n <= 100),
            "{files:?}"
        );
        // The newest records are kept, whole, in order.
        let text: String = files
            .iter()
            .map(|(p, _)| String::from_utf8(std::fs::read(p).unwrap()).unwrap())
            .collect();
        assert!(text.ends_with("{\"battle\":9,\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}\n"));
        assert!(!text.contains("\"battle\":0,"));
        // A torn line (power loss mid-append) is dropped by the next append and by readers.
        let (last, _) = files.last().unwrap().clone();
        let mut f = OpenOptions::new().append(true).open(&last).unwrap();
        f.write_all(b"{\"battle\":10,\"pa").unwrap();
        drop(f);
        assert!(complete_lines(&last).unwrap().ends_with(b"}\n"));
        log.append(b"{\"battle\":11}").unwrap();
        let text: String = parts(log.dir())
            .iter()
            .map(|(p, _)| String::from_utf8(std::fs::read(p).unwrap()).unwrap())
            .collect();
        assert!(!text.contains("\"battle\":10"), "{text}");
        assert!(text.ends_with("{\"battle\":11}\n"));
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}
