//! Facts about processes: this one's resident memory, and whether another is still running.
//!
//! On Linux they come from `/proc`; elsewhere the memory figures are `None` and every process
//! counts as gone.

/// This process's resident memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// Resident set size now (`VmRSS`), bytes.
    pub rss_bytes: u64,
    /// Peak resident set size so far (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
}

/// This process's resident memory, `None` where `/proc/self/status` cannot be read.
pub fn memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status(&status)
}

/// The peak resident set size of this process in bytes, `None` where unknown.
pub fn peak_rss_bytes() -> Option<u64> {
    memory().map(|m| m.peak_rss_bytes)
}

/// The peak resident set size of this process in MiB, `None` where unknown.
pub fn peak_rss_mib() -> Option<f64> {
    peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0))
}

/// Reads `VmRSS` and `VmHWM` (in kB) from the text of `/proc/<pid>/status`.
fn parse_status(status: &str) -> Option<Memory> {
    let kib = |field: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(field))?;
        line[field.len()..].split_whitespace().next()?.parse().ok()
    };
    Some(Memory {
        rss_bytes: kib("VmRSS:")? * 1024,
        peak_rss_bytes: kib("VmHWM:")? * 1024,
    })
}

/// Whether process `pid` is running (on Linux: `/proc/<pid>` exists and is not a zombie).
pub fn is_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state is the first field after the parenthesized command name.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_fields() {
        let text = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nThreads:\t1\n";
        assert_eq!(
            parse_status(text),
            Some(Memory {
                rss_bytes: 1024 * 1024,
                peak_rss_bytes: 2048 * 1024,
            })
        );
        assert_eq!(parse_status("Name:\tx\n"), None);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn reads_this_process() {
        let m = memory().unwrap();
        assert!(m.rss_bytes > 0 && m.peak_rss_bytes >= m.rss_bytes);
        assert!(is_running(std::process::id()));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_finished_child_is_not_running() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!is_running(pid));
    }
}
