//! The dataset is plain Parquet: pyarrow and pandas read it as docs/dataset.md says, with the
//! row counts the manifest gives and the values the logs hold.
//!
//! Needs a Python with pyarrow, pandas and numpy (`./scripts/test` installs them in a venv and
//! sets `TACTICIAN_PYTHON`). Under CI a missing one fails the test; elsewhere it is skipped.

mod common;

use common::*;
use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use tactician_data::dataset::table::FeatureCodec;
use tactician_data::ingest::IngestOptions;

/// Reads the dataset the way docs/dataset.md shows: the manifest's file list, one table per
/// name, features decoded from little-endian f32 bytes. Prints what it found as JSON.
const READER: &str = r#"
import json, os, sys
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

root, battle_id, turn = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(os.path.join(root, "dataset.json")) as f:
    manifest = json.load(f)

def read(table):
    files = [f for f in manifest["files"] if f["table"] == table]
    for f in files:
        assert os.path.getsize(os.path.join(root, f["path"])) == f["bytes"], f
    tables = [pq.read_table(os.path.join(root, f["path"])) for f in files]
    for t, f in zip(tables, files):
        assert t.num_rows == f["rows"], (f, t.num_rows)
    return pa.concat_tables(tables), len(files)

transitions, t_files = read("transitions")
battles, b_files = read("battles")
meta = transitions.schema.metadata
names = json.loads(meta[b"tactician.features"])
assert meta[b"tactician.features.dtype"] == b"<f4"
assert transitions.schema.field("features").type == pa.binary(4 * len(names))

codecs = []
for f in manifest["files"]:
    if f["table"] == "transitions":
        md = pq.ParquetFile(os.path.join(root, f["path"])).metadata
        col = [i for i in range(md.num_columns) if md.schema.column(i).name == "features"][0]
        codecs.append(md.row_group(0).column(col).compression)

df = transitions.to_pandas()
features = np.frombuffer(b"".join(df["features"]), dtype="<f4").reshape(len(df), len(names))
row = df[(df["battle_id"] == battle_id) & (df["turn"] == turn)]
assert len(row) == 1, row
r = row.iloc[0]
bdf = battles.to_pandas()
b = bdf[bdf["battle_id"] == battle_id]
assert len(b) == 1, b
b = b.iloc[0]
none = lambda x: None if pd.isna(x) else x

print(json.dumps({
    "transitions": len(df),
    "battles": len(bdf),
    "files": [t_files, b_files],
    "codecs": codecs,
    "features_named": len(names),
    "actions": json.loads(meta[b"tactician.actions"]),
    "row": {
        "features": [float(x) for x in features[row.index[0]]],
        "legal": r["legal"],
        "legal_count": int(r["legal_count"]),
        "action": int(r["action"]),
        "side": int(r["side"]),
        "actor": int(r["actor"]),
        "player": r["player"],
        "human": bool(r["human"]),
        "reward": float(r["reward"]),
        "done": bool(r["done"]),
        "next_turn": none(r["next_turn"]) and int(r["next_turn"]),
    },
    "battle": {
        "winner": None if pd.isna(b["winner"]) else int(b["winner"]),
        "victory": b["victory"],
        "turns": int(b["turns"]),
        "seed": int(b["seed"]),
        "side0_player": b["side0_player"],
        "side1_player": b["side1_player"],
        "source_line": int(b["source_line"]),
        "ingest": int(b["ingest"]),
    },
    "done_rows": int(df["done"].sum()),
}))
"#;

#[test]
fn pyarrow_and_pandas_read_the_dataset() {
    let Some(py) = python_with(&["pyarrow", "pandas", "numpy"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    // Three ingests, one per features codec: each table has three part files, all listed in
    // the manifest.
    let first = write_plain(
        &dir.path().join("a.jsonl"),
        &(0..4).map(line).collect::<Vec<_>>(),
    );
    let second = dir.path().join("b.jsonl.zst");
    fs::write(
        &second,
        frames(&(4..6).map(line).collect::<Vec<_>>()).concat(),
    )
    .unwrap();
    let third = write_plain(
        &dir.path().join("c.jsonl"),
        &(6..9).map(line).collect::<Vec<_>>(),
    );
    let codec = |feature_codec| IngestOptions {
        feature_codec,
        ..opts()
    };
    run(&ds, &[first], &codec(FeatureCodec::None)).unwrap();
    run(&ds, &[second], &codec(FeatureCodec::Lz4)).unwrap();
    let report = run(&ds, &[third], &codec(FeatureCodec::Zstd)).unwrap();
    assert_eq!(report.accepted, 3);

    // Battle 6 (line 1 of the third log), a decision in its middle.
    let battle = &battles()[6];
    let decisions = battle["decisions"].as_array().unwrap();
    let turn = decisions.len() / 2;
    let d = &decisions[turn];
    let out = run_python(
        &py,
        &[
            OsStr::new("-c"),
            OsStr::new(READER),
            ds.as_os_str(),
            OsStr::new(&id(6)),
            OsStr::new(&turn.to_string()),
        ],
    );
    let got: Value = serde_json::from_slice(&out).unwrap();

    let all_decisions: usize = (0..9)
        .map(|i| battles()[i]["decisions"].as_array().unwrap().len())
        .sum();
    assert_eq!(got["transitions"], all_decisions);
    assert_eq!(got["battles"], 9);
    assert_eq!(got["done_rows"], 9);
    assert_eq!(got["files"], serde_json::json!([3, 3]));
    // pyarrow calls Parquet's LZ4_RAW codec "LZ4".
    assert_eq!(
        got["codecs"],
        serde_json::json!(["UNCOMPRESSED", "LZ4", "ZSTD"])
    );
    assert_eq!(got["features_named"], battle["encoder"]["features"]);
    assert_eq!(
        got["actions"].as_array().unwrap().len() as u64,
        battle["encoder"]["actions"].as_u64().unwrap()
    );

    let row = &got["row"];
    // The features are the logged f32 values exactly (Python prints each as a double; read
    // back as f32 it is the same value).
    let want: Vec<f32> = d["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    let have: Vec<f32> = row["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(have, want);
    assert_eq!(row["legal"], d["legal"]);
    let ones = d["legal"].as_str().unwrap().matches('1').count();
    assert_eq!(row["legal_count"], ones);
    assert_eq!(row["action"], d["action"]);
    assert_eq!(row["side"], d["side"]);
    assert_eq!(row["actor"], d["actor"]);
    let side = d["side"].as_u64().unwrap() as usize;
    assert_eq!(row["player"], battle["sides"][side]["strategy"]);
    assert_eq!(row["human"], false);
    assert_eq!(row["reward"].as_f64(), d["reward"].as_f64());
    assert_eq!(row["done"], d["done"]);
    let next = decisions[turn + 1..]
        .iter()
        .find(|n| n["side"] == d["side"])
        .map(|n| n["turn"].clone());
    assert_eq!(row["next_turn"], next.unwrap_or(Value::Null));

    let b = &got["battle"];
    assert_eq!(b["winner"], battle["outcome"]["winner"]);
    assert_eq!(b["victory"], battle["outcome"]["victory"]);
    assert_eq!(b["turns"], decisions.len());
    assert_eq!(b["seed"], battle["seed"]);
    assert_eq!(b["side0_player"], battle["sides"][0]["strategy"]);
    assert_eq!(b["side1_player"], battle["sides"][1]["strategy"]);
    assert_eq!(b["source_line"], 1);
    assert_eq!(b["ingest"], 3);
}
