//! The error type of this crate, and [`report`], which prints any error with its causes.

use std::path::PathBuf;

/// Why a file-system operation failed.
///
/// The message names the operation and the path; the operating system's reason is the
/// [`source`](std::error::Error::source), printed after it by [`report`] (or `{:#}` of
/// `anyhow`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operation on a path failed.
    #[error("cannot {op} {path}")]
    Io {
        /// What was being done: `write`, `rename`, `sync`, `create`, `read`, `remove`.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The output path exists and is not a folder.
    #[error("{0} exists and is not a folder")]
    NotADirectory(PathBuf),
    /// The output folder holds a previous output and replacing it was not asked for.
    #[error("{path} already holds {found}: pass --force to replace it")]
    Exists {
        /// The folder.
        path: PathBuf,
        /// The first file of a previous output found in it.
        found: String,
    },
    /// Another running process is writing the same output.
    #[error("{path} is being written by process {pid}")]
    Busy {
        /// The output folder.
        path: PathBuf,
        /// The other process.
        pid: u32,
    },
    /// The output overlaps an input.
    #[error("refusing to write {output}: it {relation} the input {input}")]
    Overlap {
        /// The output.
        output: PathBuf,
        /// The input.
        input: PathBuf,
        /// `is`, `contains` or `lies inside`.
        relation: &'static str,
    },
}

impl Error {
    /// An [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// Whether the cause is a full disk (or a file size limit).
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge
            ),
            _ => false,
        }
    }
}

/// `error` and every cause below it on one line, separated by `: `, skipping a cause whose
/// text its parent's message already ends with (so a library that prints its cause and also
/// returns it as the source is not read twice).
pub fn report(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_prints_each_cause_once() {
        let e = Error::io(
            "read",
            "/no/such/file",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        let text = report(&e);
        assert_eq!(text, "cannot read /no/such/file: entity not found");
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Repeats(#[source] std::io::Error);
        let e = Repeats(std::io::Error::other("disk on fire"));
        assert_eq!(report(&e), "outer: disk on fire");
    }

    #[test]
    fn storage_full_is_recognized() {
        let full = Error::io("write", "x", std::io::Error::from_raw_os_error(28));
        assert!(full.is_storage_full());
        let other = Error::io("write", "x", std::io::Error::from_raw_os_error(2));
        assert!(!other.is_storage_full());
    }
}
