//! Helpers shared by the ingest tests: real battle records, log files (plain and zstd), ingest
//! runs, and what they leave in the dataset (quarantine entries, battle rows, files).

#![allow(dead_code)]

use arrow_array::{Array, StringArray, UInt64Array};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tactician_data::dataset::Dataset;
use tactician_data::ingest::{IngestError, IngestOptions, IngestReport, ingest};
use tactician_game::record::{WallClock, record};
use tactician_game::{GameConfig, strategy};

/// Real records of the built-in game, as JSON values, each a different battle.
pub fn battles() -> &'static [Value] {
    static BATTLES: OnceLock<Vec<Value>> = OnceLock::new();
    BATTLES.get_or_init(|| {
        let pairs = [
            ("aggressive", "support"),
            ("defensive", "aggressive"),
            ("kiting", "support"),
            ("support", "kiting"),
            ("aggressive", "defensive"),
            ("random", "aggressive"),
        ];
        (0..16u64)
            .map(|i| {
                let (a, b) = pairs[i as usize % pairs.len()];
                let mut s0 = strategy::by_name(a, 100 + i).unwrap();
                let mut s1 = strategy::by_name(b, 200 + i).unwrap();
                let rec = record(
                    1000 + i,
                    GameConfig::default(),
                    [&mut *s0, &mut *s1],
                    WallClock::Zero,
                )
                .unwrap();
                serde_json::to_value(&rec).unwrap()
            })
            .collect()
    })
}

/// Battle `i` as one JSON line (without the newline).
pub fn line(i: usize) -> String {
    serde_json::to_string(&battles()[i]).unwrap()
}

/// The id of battle `i`.
pub fn id(i: usize) -> String {
    battles()[i]["battle_id"].as_str().unwrap().to_string()
}

/// Battle `i`, changed by `f`, as one JSON line.
pub fn edited(i: usize, f: impl FnOnce(&mut Value)) -> String {
    let mut v = battles()[i].clone();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

/// Writes `lines` as a plain log, each followed by `\n`.
pub fn write_plain(path: &Path, lines: &[String]) -> PathBuf {
    let mut text = String::new();
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// One zstd frame of `bytes` as `collect` writes them: level 3, content size and checksum.
pub fn frame(bytes: &[u8]) -> Vec<u8> {
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_checksum(true).unwrap();
    enc.include_contentsize(true).unwrap();
    enc.set_pledged_src_size(Some(bytes.len() as u64)).unwrap();
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// One zstd frame per line (line plus `\n`), as `collect` writes logs.
pub fn frames(lines: &[String]) -> Vec<Vec<u8>> {
    lines
        .iter()
        .map(|l| frame(format!("{l}\n").as_bytes()))
        .collect()
}

/// Ingest settings for tests: two threads, defaults otherwise.
pub fn opts() -> IngestOptions {
    IngestOptions {
        threads: 2,
        ..IngestOptions::default()
    }
}

/// The built-in game's spec (built once).
pub fn builtin() -> &'static tactician_battle::GameSpec {
    static GAME: std::sync::OnceLock<tactician_battle::GameSpec> = std::sync::OnceLock::new();
    GAME.get_or_init(|| tactician_game::game_spec().unwrap())
}

/// Ingests `files` into `ds` bound to the built-in encoder.
pub fn run(
    ds: &Path,
    files: &[PathBuf],
    opts: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    ingest(ds, files, builtin(), opts, &|_| {})
}

/// A quarantine entry, as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quarantined {
    /// Source file as given to ingest.
    pub source: String,
    /// 1-based line.
    pub line: u64,
    /// Reason code.
    pub reason: String,
    /// Battle id, when read.
    pub battle_id: Option<String>,
    /// The detail text.
    pub detail: String,
}

/// The entries of the quarantine file of `report` (empty if it wrote none), checking each
/// entry's shape.
pub fn quarantine(ds: &Path, report: &IngestReport) -> Vec<Quarantined> {
    let Some(rel) = &report.quarantine else {
        return Vec::new();
    };
    read_quarantine(&ds.join(rel))
}

/// The entries of a quarantine file.
pub fn read_quarantine(path: &Path) -> Vec<Quarantined> {
    let text = fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
            assert_eq!(keys.len(), 5, "{v}");
            Quarantined {
                source: v["source"].as_str().unwrap().to_string(),
                line: v["line"].as_u64().unwrap(),
                reason: v["reason"].as_str().unwrap().to_string(),
                battle_id: v["battle_id"].as_str().map(str::to_string),
                detail: v["detail"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

/// `(source, line, reason)` of quarantine entries, for compact assertions.
pub fn where_why(q: &[Quarantined]) -> Vec<(String, u64, String)> {
    q.iter()
        .map(|e| (e.source.clone(), e.line, e.reason.clone()))
        .collect()
}

/// A row of the battles table: id, source file and line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BattleRow {
    /// Battle id.
    pub id: String,
    /// Source file as given to ingest.
    pub source: String,
    /// Line in the source.
    pub line: u64,
}

/// Every row of the dataset's battles table (all part files the manifest lists), in file order.
pub fn battle_rows(ds: &Path) -> Vec<BattleRow> {
    let dataset = Dataset::open(ds).unwrap();
    let mut rows = Vec::new();
    for f in dataset.manifest().table("battles") {
        let file = fs::File::open(ds.join(&f.path)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let col = |name: &str| batch.column_by_name(name).unwrap().clone();
            let ids = col("battle_id");
            let ids = ids.as_any().downcast_ref::<StringArray>().unwrap();
            let src = col("source_file");
            let src = src.as_any().downcast_ref::<StringArray>().unwrap();
            let line = col("source_line");
            let line = line.as_any().downcast_ref::<UInt64Array>().unwrap();
            for r in 0..batch.num_rows() {
                rows.push(BattleRow {
                    id: ids.value(r).to_string(),
                    source: src.value(r).to_string(),
                    line: line.value(r),
                });
            }
        }
    }
    rows
}

/// Checks the report's reconciliation: records = accepted + quarantined overall and per file,
/// the per-reason counts add up to the quarantined ones and match the quarantine file, and the
/// accepted battles are the dataset's new battle rows.
pub fn check_reconciles(ds: &Path, report: &IngestReport) {
    assert_eq!(
        report.records,
        report.accepted + report.quarantined,
        "{report:#?}"
    );
    assert_eq!(
        report.by_reason.values().sum::<u64>(),
        report.quarantined,
        "{report:#?}"
    );
    for f in &report.files {
        assert_eq!(f.records, f.accepted + f.quarantined, "{f:#?}");
    }
    assert_eq!(
        report.files.iter().map(|f| f.records).sum::<u64>(),
        report.records
    );
    assert_eq!(
        report.files.iter().map(|f| f.accepted).sum::<u64>(),
        report.accepted
    );
    let q = quarantine(ds, report);
    assert_eq!(q.len() as u64, report.quarantined, "{q:#?}");
    let mut counted: BTreeMap<String, u64> = BTreeMap::new();
    for e in &q {
        *counted.entry(e.reason.clone()).or_default() += 1;
    }
    assert_eq!(counted, report.by_reason);
    for f in &report.files {
        let n = q.iter().filter(|e| e.source == f.path).count() as u64;
        assert_eq!(n, f.quarantined, "{}", f.path);
    }
    let rows = battle_rows(ds);
    let added = rows
        .iter()
        .filter(|r| report.files.iter().any(|f| f.path == r.source))
        .count() as u64;
    assert!(added >= report.accepted);
    assert_eq!(
        Dataset::open(ds).unwrap().manifest().battles,
        rows.len() as u64
    );
}

/// `[(reason, n)]` as the report's map.
pub fn reasons(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
    list.iter().map(|(r, n)| (r.to_string(), *n)).collect()
}

/// The names of every file under `dir`, recursively, relative to it, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Every file under `dir` with its bytes, sorted by name.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .map(|name| {
            let bytes = fs::read(dir.join(&name)).unwrap();
            (name, bytes)
        })
        .collect()
}

/// A Python interpreter that can import every one of `modules`: `$TACTICIAN_PYTHON` (set by
/// `scripts/test`), else `python3` from `PATH`. Without one, the test fails
/// under CI (`CI=true`), where `scripts/test` installs it; elsewhere it is skipped with a
/// message saying how to get it.
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("TACTICIAN_PYTHON") {
        candidates.push(PathBuf::from(p));
    } else {
        candidates.push(PathBuf::from("python3"));
    }
    let probe = format!("import {}", modules.join(", "));
    let mut tried = Vec::new();
    for py in candidates {
        let out = std::process::Command::new(&py)
            .args(["-c", if modules.is_empty() { "pass" } else { &probe }])
            .output();
        match out {
            Ok(o) if o.status.success() => return Some(py),
            Ok(o) => tried.push(format!(
                "{}: {}",
                py.display(),
                String::from_utf8_lossy(&o.stderr).trim()
            )),
            Err(e) => tried.push(format!("{}: {e}", py.display())),
        }
    }
    let why = format!(
        "no Python with {modules:?} ({}); run the tests with ./scripts/test, which installs it",
        tried.join("; ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    None
}

/// Runs `python` with `args`, checks it succeeded, and returns its stdout.
pub fn run_python(python: &Path, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = std::process::Command::new(python)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{} failed: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
