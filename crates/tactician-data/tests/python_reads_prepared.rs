//! The prepared tensors are plain safetensors: the Python `safetensors` package (numpy
//! backend) loads them with the shapes and dtypes docs/prepare.md gives, and the values agree
//! with the manifest (normalization recomputed from train, legal actions, outcome values).
//!
//! Needs a Python with `safetensors` and `numpy`: `TACTICIAN_PYTHON`, else `python3` from
//! `PATH`. Under CI (`CI=true`) a missing one fails the test; elsewhere it is skipped
//! with a message.

mod prepare_common;

use std::path::PathBuf;
use std::process::Command;
use tactician_data::prepare::{PrepareConfig, PrepareOptions, prepare};

const CHECK: &str = r#"
import json, os, sys
import numpy as np
from safetensors.numpy import load_file

root = sys.argv[1]
m = json.load(open(os.path.join(root, "manifest.json")))
F, A = len(m["encoder"]["features"]), len(m["encoder"]["actions"])
out = {}
for split in ["train", "val", "test"]:
    t = load_file(os.path.join(root, split + ".safetensors"))
    n = m["counts"]["rows"][split]
    assert t["features"].shape == (n, F) and t["features"].dtype == np.float32, t["features"].shape
    assert t["legal"].shape == (n, A) and t["legal"].dtype == np.uint8
    assert t["action"].shape == (n,) and t["action"].dtype == np.int32
    assert t["weight"].shape == (n,) and t["weight"].dtype == np.float32
    assert t["value"].shape == (n,) and t["value"].dtype == np.float32
    assert set(np.unique(t["legal"])) <= {0, 1}
    assert (t["legal"][np.arange(n), t["action"]] == 1).all(), "every action is legal"
    assert set(np.unique(t["value"]).tolist()) <= {-1.0, 0.0, 1.0}
    if split == "train":
        f = t["features"].astype(np.float64)
        mean = f.mean(axis=0)
        std = f.std(axis=0)
        assert np.allclose(mean, m["normalization"]["mean"], atol=1e-5)
        const = set(m["normalization"]["constant_features"])
        names = m["encoder"]["features"]
        for j, name in enumerate(names):
            want = 1.0 if name in const else max(std[j], m["normalization"]["std_floor"])
            assert abs(m["normalization"]["std"][j] - want) < 1e-5, (name, m["normalization"]["std"][j], want)
        assert abs(float(t["weight"].mean()) - 1.0) < 1e-4
    out[split] = {"rows": int(n), "first_action": int(t["action"][0]), "first_feature1": float(t["features"][0, 1])}
scen = json.load(open(os.path.join(root, "scenarios.json")))
assert len(scen) >= 5
for s in scen:
    assert len(s["features"]) == F and len(s["legal"]) == A
    for a in s["acceptable"]:
        assert s["legal"][m["encoder"]["actions"].index(a)] == 1, (s["name"], a)
out["scenarios"] = len(scen)
print(json.dumps(out))
"#;

fn python() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("TACTICIAN_PYTHON") {
        Some(p) => vec![PathBuf::from(p)],
        None => vec!["python3".into()],
    };
    let mut tried = Vec::new();
    for py in candidates {
        match Command::new(&py)
            .args(["-c", "import safetensors.numpy, numpy"])
            .output()
        {
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
        "no Python with safetensors and numpy ({})",
        tried.join("; ")
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("skipping: {why}");
    None
}

#[test]
fn python_safetensors_loads_the_prepared_files() {
    let Some(py) = python() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let spec = tactician_game::SkirmishEncoder::feature_spec();
    prepare_common::write(&ds, spec, 8, 0, 120, 30);
    let out = tmp.path().join("prepared");
    let config = PrepareConfig {
        players: vec![],
        ..Default::default()
    };
    let game = tactician_game::game_spec().unwrap();
    let m = prepare(&ds, &out, &config, &game, &PrepareOptions::default()).unwrap();
    let o = Command::new(&py)
        .arg("-c")
        .arg(CHECK)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for split in ["train", "val", "test"] {
        assert_eq!(seen[split]["rows"], m.counts.rows[split], "{split}");
    }
    assert_eq!(seen["scenarios"], m.scenarios.names.len());
    // The first training row is the first kept decision of a train battle: its feature 1
    // names a battle number, an integer.
    let f1 =
        seen["train"]["first_feature1"].as_f64().unwrap() * f64::from(prepare_common::BATTLE_SCALE);
    assert_eq!(f1.fract(), 0.0);
}
