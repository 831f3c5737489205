//! Logs from another game: the example in `docs/examples/external` (a feature spec, a log, and
//! the Python script that writes such logs) ingests cleanly with its own spec, and what lands in
//! the dataset is what the log says.

mod common;

use arrow_array::{Array, FixedSizeBinaryArray, Int32Array, StringArray, UInt32Array};
use common::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use tactician_battle::FeatureSpec;
use tactician_data::dataset::Dataset;
use tactician_data::ingest::ingest;

fn example(name: &str) -> PathBuf {
    repo_root().join("docs/examples/external").join(name)
}

fn spec() -> FeatureSpec {
    // Deserializing checks the declared hash against the layout.
    serde_json::from_str(&fs::read_to_string(example("spec.json")).unwrap()).unwrap()
}

fn records(log: &Path) -> Vec<Value> {
    fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Ingests `log` with the example spec and checks every record is accepted, then checks the
/// transitions table against the log, value for value.
fn ingests_cleanly(log: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let spec = spec();
    let report = ingest(&ds, &[log.to_path_buf()], &spec, &opts(), &|_| {}).unwrap();
    check_reconciles(&ds, &report);
    let recs = records(log);
    assert_eq!(report.quarantined, 0, "{:#?}", quarantine(&ds, &report));
    assert_eq!(report.accepted, recs.len() as u64);
    let decisions: Vec<&Value> = recs
        .iter()
        .flat_map(|r| r["decisions"].as_array().unwrap())
        .collect();
    assert_eq!(report.transitions, decisions.len() as u64);

    // Every row, in log order, holds the logged features, mask, action and effects.
    let dataset = Dataset::open(&ds).unwrap();
    assert_eq!(dataset.manifest().encoder.hash(), spec.hash());
    let mut row = 0;
    for f in dataset.manifest().table("transitions") {
        let file = fs::File::open(ds.join(&f.path)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let col = |n: &str| batch.column_by_name(n).unwrap().clone();
            let features = col("features");
            let features = features
                .as_any()
                .downcast_ref::<FixedSizeBinaryArray>()
                .unwrap();
            let legal = col("legal");
            let legal = legal.as_any().downcast_ref::<StringArray>().unwrap();
            let action = col("action");
            let action = action.as_any().downcast_ref::<UInt32Array>().unwrap();
            let damage = col("damage");
            let damage = damage.as_any().downcast_ref::<Int32Array>().unwrap();
            let healing = col("healing");
            let healing = healing.as_any().downcast_ref::<Int32Array>().unwrap();
            for r in 0..batch.num_rows() {
                let d = decisions[row];
                let want: Vec<f32> = d["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect();
                let got: Vec<f32> = features
                    .value(r)
                    .chunks(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                assert_eq!(got, want, "row {row}");
                assert_eq!(legal.value(r), d["legal"].as_str().unwrap());
                assert_eq!(u64::from(action.value(r)), d["action"].as_u64().unwrap());
                let own = |kind: &str| -> i32 {
                    let me = serde_json::json!([d["side"], d["actor"]]);
                    d["events"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|e| e["kind"] == kind && e["source"] == me)
                        .map(|e| e["amount"].as_i64().unwrap() as i32)
                        .sum()
                };
                assert_eq!(damage.value(r), own("damage"), "row {row}");
                assert_eq!(healing.value(r), own("healed"), "row {row}");
                row += 1;
            }
        }
    }
    assert_eq!(row, decisions.len());
}

#[test]
fn the_example_spec_declares_the_hash_of_its_layout() {
    let spec = spec();
    assert_eq!(spec.num_features(), 8);
    assert_eq!(spec.num_actions(), 5);
    let text = fs::read_to_string(example("spec.json")).unwrap();
    let raw: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["hash"].as_str(), Some(spec.hash()));
    // Every record of the example log carries that hash and those sizes.
    for r in records(&example("battles.jsonl")) {
        assert_eq!(r["encoder"]["hash"].as_str(), Some(spec.hash()));
        assert_eq!(r["encoder"]["features"], 8);
        assert_eq!(r["encoder"]["actions"], 5);
    }
}

#[test]
fn the_example_external_log_ingests_with_its_spec() {
    let log = example("battles.jsonl");
    assert!(fs::metadata(&log).unwrap().len() < 100_000);
    ingests_cleanly(&log);
}

#[test]
fn the_example_log_is_refused_by_a_dataset_of_the_built_in_game() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let log = example("battles.jsonl");
    let report = run(&ds, std::slice::from_ref(&log), &opts()).unwrap();
    check_reconciles(&ds, &report);
    let n = records(&log).len() as u64;
    assert_eq!(report.accepted, 0);
    assert_eq!(report.by_reason, reasons(&[("unknown_encoder", n)]));
}

#[test]
fn the_python_writer_writes_logs_that_ingest() {
    let Some(py) = python_with(&[]) else { return };
    let script = example("write_log.py");
    let dir = tempfile::tempdir().unwrap();
    let write = |args: &[&str]| -> Vec<u8> {
        let mut all: Vec<&OsStr> = vec![script.as_os_str()];
        all.extend(args.iter().map(OsStr::new));
        run_python(&py, &all)
    };
    // The committed example is exactly what the script writes with its documented arguments.
    let documented = write(&["--battles", "12", "--seed", "1"]);
    assert_eq!(
        documented,
        fs::read(example("battles.jsonl")).unwrap(),
        "docs/examples/external/battles.jsonl is stale: regenerate it with \
         `python3 write_log.py --battles 12 --seed 1 --out battles.jsonl`"
    );
    // Same seed, same bytes; another seed, other battles.
    let a = write(&["--battles", "30", "--seed", "100"]);
    assert_eq!(a, write(&["--battles", "30", "--seed", "100"]));
    assert_ne!(
        a[..200],
        write(&["--battles", "30", "--seed", "101"])[..200]
    );
    let log = dir.path().join("external.jsonl");
    fs::write(&log, &a).unwrap();
    ingests_cleanly(&log);
    // With real timings too.
    let timed = dir.path().join("timed.jsonl");
    write(&[
        "--battles",
        "5",
        "--seed",
        "7",
        "--wall-clock",
        "--out",
        timed.to_str().unwrap(),
    ]);
    ingests_cleanly(&timed);
}
