//! Logs from another game: the example in `docs/examples/external` (a game spec, a log, and
//! the Python script that writes such logs) ingests cleanly with its own spec, what lands in
//! the dataset is what the log says, and its declarations (a symmetry, a scenario, its
//! victories) give it augmentation, scenarios and outcome checks like the built-in game.

mod common;

use arrow_array::{Array, FixedSizeBinaryArray, Int32Array, StringArray, UInt32Array};
use common::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use tactician_battle::{FeatureSpec, GameSpec};
use tactician_data::dataset::Dataset;
use tactician_data::ingest::ingest;
use tactician_data::prepare::{PrepareConfig, PrepareOptions, prepare};

fn example(name: &str) -> PathBuf {
    repo_root().join("docs/examples/external").join(name)
}

fn spec() -> FeatureSpec {
    game().features().clone()
}

fn game() -> GameSpec {
    // Reading checks the declared hash against the layout, and every declaration.
    GameSpec::from_json(&fs::read(example("spec.json")).unwrap()).unwrap()
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
    let report = ingest(&ds, &[log.to_path_buf()], &game(), &opts(), &|_| {}).unwrap();
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

#[test]
fn the_example_declarations_give_augmentation_scenarios_and_outcome_checks() {
    let game = game();
    assert_eq!(game.symmetries().len(), 1);
    assert_eq!(game.scenarios().len(), 1);
    assert_eq!(game.outcomes().victories.len(), 3);
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let log = example("battles.jsonl");
    ingest(&ds, std::slice::from_ref(&log), &game, &opts(), &|_| {}).unwrap();

    // Prepare: every player, the symmetry doubles the training split, the scenario is written.
    let out = dir.path().join("prepared");
    // The example's 12 battles: a seed that gives every split some of them.
    let config = PrepareConfig {
        players: Vec::new(),
        train: 0.5,
        val: 0.25,
        test: 0.25,
        seed: 1,
        ..PrepareConfig::default()
    };
    let m = prepare(&ds, &out, &config, &game, &PrepareOptions::default()).unwrap();
    assert!(m.augmentation.enabled, "{:?}", m.augmentation.reason);
    assert_eq!(m.augmentation.symmetries, ["swap_enemies"]);
    assert_eq!(m.augmentation.multiplier, 2.0);
    assert_eq!(m.scenarios.names, ["finish_the_weak_enemy"]);
    let written = tactician_formats::prepared::read_scenarios(&out).unwrap();
    assert_eq!(written[0].encoder, game.features().hash());
    assert_eq!(written[0].acceptable, ["attack_0"]);
    let train =
        tactician_formats::prepared::Split::read(&out.join("train.safetensors"), None).unwrap();
    let half = train.rows / 2;
    for r in 0..half {
        let (a, b) = (train.row(r), train.row(r + half));
        assert_eq!((b[2], b[3]), (a[3], a[2]));
        let expected = match train.action[r] {
            1 => 2,
            2 => 1,
            x => x,
        };
        assert_eq!(train.action[r + half], expected);
    }

    // Outcome rules, feature ranges: broken records are quarantined with the right reason.
    let mut recs = records(&log);
    let mut draw_with_winner = recs[0].clone();
    draw_with_winner["outcome"]["victory"] = "timeout".into();
    draw_with_winner["outcome"]["winner"] = 0.into();
    draw_with_winner["battle_id"] = "draw-with-winner".into();
    let mut unknown = recs[1].clone();
    unknown["outcome"]["victory"] = "resignation".into();
    unknown["battle_id"] = "unknown-victory".into();
    let mut out_of_range = recs.remove(2);
    out_of_range["decisions"][1]["features"][0] = 1.25.into();
    out_of_range["battle_id"] = "out-of-range".into();
    let text: String = [draw_with_winner, unknown, out_of_range]
        .iter()
        .map(|r| format!("{r}\n"))
        .collect();
    let bad = dir.path().join("bad.jsonl");
    fs::write(&bad, text).unwrap();
    let ds2 = dir.path().join("ds2");
    let report = ingest(&ds2, &[bad], &game, &opts(), &|_| {}).unwrap();
    assert_eq!(
        report.by_reason,
        reasons(&[
            ("outcome_inconsistent", 1),
            ("invalid_value", 1),
            ("feature_range", 1)
        ])
    );
    let q = quarantine(&ds2, &report);
    let detail = |id: &str| {
        q.iter()
            .find(|e| e.battle_id.as_deref() == Some(id))
            .map(|e| e.detail.clone())
            .unwrap()
    };
    assert!(detail("draw-with-winner").contains("victory timeout with winner Some(0)"));
    assert!(detail("unknown-victory").contains("does not exist in the game duel-arena-v1"));
    let range = detail("out-of-range");
    assert!(
        range.contains(
            "decisions[1].features[0] (own_hp_0) is 1.25, outside its declared range [0, 1]"
        ),
        "{range}"
    );
}
