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
    fn files_rotate_at_the_limit_not_before() {
        let tmp = tempfile::tempdir().unwrap();
        // Two 10-byte lines fill a 20-byte file exactly; the third starts the next file.
        let log = BattleLog::new(tmp.path(), 20, 1000);
        for i in 0..3 {
            log.append(format!("{{\"b\":{i:03}}}").as_bytes()).unwrap();
        }
        let files = parts(log.dir());
        let sizes: Vec<u64> = files.iter().map(|(_, n)| *n).collect();
        assert_eq!(sizes, vec![20, 10], "{files:?}");
        // A total exactly at the bound keeps every file.
        let log = BattleLog::new(&tmp.path().join("b"), 10, 20);
        log.append(b"{\"b\":000}").unwrap();
        log.append(b"{\"b\":001}").unwrap();
        assert_eq!(parts(log.dir()).len(), 2);
        log.append(b"{\"b\":002}").unwrap();
        let names: Vec<String> = parts(log.dir())
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["part-00001.jsonl", "part-00002.jsonl"]);
        // Other files in the folder are not logs.
        std::fs::write(log.dir().join("notes.jsonl"), "x\n").unwrap();
        std::fs::write(log.dir().join("part-00009.jsonl.tmp"), "x\n").unwrap();
        assert_eq!(parts(log.dir()).len(), 2);
    }

    #[test]
    fn limits_hold_at_their_edges() {
        let tmp = tempfile::tempdir().unwrap();
        // The newline counts: at 19 bytes, two 10-byte lines do not share a file.
        let log = BattleLog::new(&tmp.path().join("a"), 19, 1000);
        log.append(b"{\"b\":000}").unwrap();
        log.append(b"{\"b\":001}").unwrap();
        let sizes: Vec<u64> = parts(log.dir()).iter().map(|(_, n)| *n).collect();
        assert_eq!(sizes, vec![10, 10]);
        // A record larger than a file's limit is kept whole in the first file, never dropped.
        let log = BattleLog::new(&tmp.path().join("b"), 5, 5);
        log.append(b"{\"big\":12345}").unwrap();
        let files = parts(log.dir());
        assert_eq!(files.len(), 1);
        assert!(files[0].0.ends_with("part-00000.jsonl"), "{files:?}");
        // Restarted with a smaller bound: as many old files go as needed.
        let dir = tmp.path().join("c");
        let log = BattleLog::new(&dir, 10, 1000);
        for i in 0..4 {
            log.append(format!("{{\"b\":{i:03}}}").as_bytes()).unwrap();
        }
        let log = BattleLog::new(&dir, 10, 10);
        log.append(b"{\"b\":004}").unwrap();
        let files = parts(log.dir());
        assert_eq!(files.len(), 1, "{files:?}");
        assert_eq!(
            std::fs::read_to_string(&files[0].0).unwrap(),
            "{\"b\":004}\n"
        );
        // A file that is one torn line and nothing else is emptied by the repair.
        let log = BattleLog::new(&tmp.path().join("d"), 1000, 1000);
        std::fs::create_dir_all(log.dir()).unwrap();
        std::fs::write(log.dir().join("part-00000.jsonl"), b"{\"torn").unwrap();
        log.append(b"{\"b\":1}").unwrap();
        assert_eq!(
            std::fs::read_to_string(log.dir().join("part-00000.jsonl")).unwrap(),
            "{\"b\":1}\n"
        );
    }

    #[test]
    fn a_long_torn_line_is_cut_back_to_the_last_record() {
        let tmp = tempfile::tempdir().unwrap();
        let log = BattleLog::new(tmp.path(), 1 << 30, 1 << 30);
        log.append(b"{\"first\":1}").unwrap();
        let path = parts(log.dir())[0].0.clone();
        // A torn line longer than the repair's read block.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&vec![b'x'; 200 * 1024]).unwrap();
        drop(f);
        log.append(b"{\"second\":2}").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"first\":1}\n{\"second\":2}\n"
        );
    }

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
        assert!(
            text.contains("{\"battle\":9,"),
            "a complete record was lost: {text}"
        );
        assert!(text.ends_with("{\"battle\":11}\n"));
        for line in text.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}
