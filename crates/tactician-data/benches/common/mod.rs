//! What the benchmarks share: battle logs collected from the built-in strategies.

use std::path::{Path, PathBuf};
use tactician_data::collect::{CollectConfig, Settings, collect};

/// Collects `battles` battles of every matchup from `seed` on 2 threads into `logs` (zstd
/// files, as `tactician collect` writes them); returns the log files and their decisions.
pub fn collect_logs(logs: &Path, battles: u64, seed: u64) -> (Vec<PathBuf>, u64) {
    let config = CollectConfig {
        settings: Settings {
            battles,
            matchups: "all".into(),
            seed,
            ..Settings::default()
        },
        out: logs.to_path_buf(),
        threads: Some(2),
        force: false,
    };
    let summary = collect(&config, &|_| {}).expect("collect");
    let files = summary.files.iter().map(|f| logs.join(&f.name)).collect();
    (files, summary.decisions)
}
