//! Tests of the ingest run: the pipeline's output is deterministic, in input order, and the
//! same whatever the thread count.

use super::*;
use std::collections::BTreeMap;
use std::io::Write;
use tactician_game::record::{WallClock, record};
use tactician_game::{GameConfig, strategy};

/// A log of `n` battles, one zstd frame each, with a corrupt frame after the third.
fn frame_log(path: &Path, n: u64) {
    let mut out = Vec::new();
    for i in 0..n {
        let mut a = strategy::by_name("aggressive", 10 + i).unwrap();
        let mut b = strategy::by_name("kiting", 20 + i).unwrap();
        let rec = record(
            500 + i,
            GameConfig::default(),
            [&mut *a, &mut *b],
            WallClock::Zero,
        )
        .unwrap();
        let line = serde_json::to_string(&rec).unwrap() + "\n";
        let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
        enc.include_contentsize(true).unwrap();
        enc.set_pledged_src_size(Some(line.len() as u64)).unwrap();
        enc.write_all(line.as_bytes()).unwrap();
        let mut frame = enc.finish().unwrap();
        if i == 3 {
            let mid = frame.len() / 2;
            frame[mid] ^= 0x5A;
            frame[mid + 1] ^= 0xA5;
        }
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap();
}

/// The bytes of every Parquet part of a dataset, by path.
fn parts(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for table in ["transitions", "battles"] {
        for entry in std::fs::read_dir(root.join(table)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            out.insert(name, std::fs::read(&path).unwrap());
        }
    }
    out
}

/// Every row of a table, as text, in file order.
fn rows(root: &Path, table: &str) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(table))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(f).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            for r in 0..batch.num_rows() {
                let row: Vec<String> = batch
                    .columns()
                    .iter()
                    .map(|c| format!("{:?}", c.slice(r, 1)))
                    .collect();
                out.push(row.join("|"));
            }
        }
    }
    out
}

/// Many small units of work and row groups in flight at once, finishing out of order:
/// the dataset is the same bytes on every run, holds the same rows as a one-thread
/// ingest, and the corrupt frame is quarantined at its own line.
#[test]
fn the_pipeline_is_deterministic_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.jsonl.zst");
    frame_log(&log, 12);
    let game = tactician_game::game_spec().unwrap();
    let opts = |threads| IngestOptions {
        threads,
        chunk_bytes: 4096,
        row_group_rows: 150,
        ..IngestOptions::default()
    };
    let run = |name: &str, threads| {
        let root = dir.path().join(name);
        let report = ingest(
            &root,
            std::slice::from_ref(&log),
            &game,
            &opts(threads),
            &|_| {},
        )
        .unwrap();
        (root, report)
    };
    let (a, ra) = run("a", 2);
    let (b, rb) = run("b", 2);
    let (one, r1) = run("one", 1);
    assert_eq!(ra.records, 12);
    assert_eq!(ra.accepted, 11);
    assert_eq!(ra.by_reason.get("corrupt_compression"), Some(&1));
    let quarantine = std::fs::read_to_string(a.join(ra.quarantine.as_ref().unwrap())).unwrap();
    assert!(quarantine.contains("\"line\":4"), "{quarantine}");
    assert_eq!(
        (ra.transitions, ra.by_reason.clone()),
        (rb.transitions, rb.by_reason)
    );
    assert_eq!(
        (ra.transitions, ra.by_reason),
        (r1.transitions, r1.by_reason)
    );
    assert_eq!(parts(&a), parts(&b));
    for table in ["transitions", "battles"] {
        let (x, y) = (rows(&a, table), rows(&one, table));
        assert!(!x.is_empty());
        assert_eq!(x, y, "{table}");
    }
}
