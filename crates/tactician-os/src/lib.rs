//! What Tactician asks of the operating system, in one place for every crate, the device's
//! included:
//!
//! - [`AtomicFile`] and [`write_atomic`]: a file appears under its final name only complete
//!   and synced, and its folder is synced after the rename, so a crash or a full disk never
//!   leaves a partial file under a name a reader trusts.
//! - [`OutputDir`]: a command's output folder, written in a staging folder beside it and put in
//!   place when complete. `--force` replaces only the files the command owns; anything else in
//!   the folder is left alone.
//! - [`check_disjoint`]: refuses an output that is, contains or lies inside one of the
//!   command's inputs, so `--force` can never delete an input.
//! - [`process`]: the process's resident memory (current and peak) and whether a process id is
//!   still running.
//! - [`report`]: an error and its causes on one line, each cause once.
//!
//! ```
//! use tactician_os::OutputDir;
//!
//! let tmp = tempfile::tempdir().unwrap();
//! let out = tmp.path().join("export");
//! let own = |name: &str| name.ends_with(".tflite") || name == "export.json";
//! let staged = OutputDir::create(&out, own, false).unwrap();
//! staged.write("model.tflite", b"TFL3").unwrap();
//! staged.write("export.json", b"{}").unwrap();
//! staged.commit(Some("export.json")).unwrap();
//! assert!(out.join("model.tflite").exists());
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod atomic;
mod error;
mod guard;
mod output;
pub mod process;

pub use atomic::{AtomicFile, sync_dir, sync_parent, temp_path, write_atomic};
pub use error::{Error, report};
pub use guard::check_disjoint;
pub use output::OutputDir;
