//! `tactician eval` run as a user would, on a small seeded model and a small prepared folder:
//! the JSON report's shape and numbers, thread-count independence, and clear refusals.

use std::path::Path;
use std::process::{Command, Output};
use tactician_battle::Scenario;
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_formats::prepared::{
    EncoderInfo, Normalization, PreparedManifest, SCENARIOS, Split, SplitName, scenarios_json,
};
use tactician_game::{NUM_ACTIONS, SkirmishEncoder};

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A seeded random model in `dir` and a prepared folder in `data` whose test split holds rows
/// labelled with the model's own choices (so agreement is 100%) except `wrong` rows.
fn setup(dir: &Path, data: &Path, hash: &str, wrong: usize) -> Mlp {
    let spec = SkirmishEncoder::feature_spec();
    let meta = ModelJson::for_spec(spec, vec![12], Activation::Tanh, true);
    let model = Mlp::random(meta, 5);
    std::fs::create_dir_all(dir).unwrap();
    model.write(dir, &[]).unwrap();
    std::fs::create_dir_all(data).unwrap();
    let (f, a, rows) = (spec.num_features(), NUM_ACTIONS, 20);
    let mut split = Split {
        rows,
        features: f,
        actions: a,
        x: (0..rows * f)
            .map(|i| ((i * 37) % 101) as f32 / 101.0)
            .collect(),
        legal: vec![1; rows * a],
        action: Vec::new(),
        weight: vec![1.0; rows],
        value: vec![0.0; rows],
    };
    for r in 0..rows {
        let out = model.forward(&split.x[r * f..(r + 1) * f]);
        let best = tactician_runtime::masked_argmax(&out.logits, |_| true).unwrap();
        split
            .action
            .push((if r < wrong { (best + 1) % a } else { best }) as u32);
    }
    split
        .write(&data.join(SplitName::Test.file_name()))
        .unwrap();
    let encoder = EncoderInfo {
        name: "skirmish".into(),
        hash: hash.into(),
        features: spec.features().iter().map(|d| d.name.clone()).collect(),
        actions: spec.actions().to_vec(),
    };
    PreparedManifest::new(encoder, Normalization::identity(f))
        .write(data)
        .unwrap();
    let scenario = Scenario {
        name: "anything legal".into(),
        description: String::new(),
        features: split.x[..f].to_vec(),
        legal: vec![1; a],
        acceptable: tactician_game::ACTION_NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        encoder: hash.into(),
        state: Default::default(),
    };
    std::fs::write(data.join(SCENARIOS), scenarios_json(&[scenario])).unwrap();
    model
}

#[test]
fn eval_reports_accuracy_scenarios_and_battles() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = (dir.path().join("model"), dir.path().join("prepared"));
    setup(&model, &data, SkirmishEncoder::feature_spec().hash(), 5);
    let args = |threads: &'static str| {
        vec![
            "eval",
            path(&model),
            "--data",
            path(&data),
            "--battles",
            "4",
            "--opponents",
            "random,aggressive",
            "-j",
            threads,
            "--json",
        ]
    };
    let out = ok(&tactician(&args("1")), "eval");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["test"]["examples"], 20);
    assert_eq!(j["test"]["top1"], 0.75);
    assert_eq!(j["scenarios"]["passed"], 1);
    let opponents = j["battles"]["opponents"].as_array().unwrap();
    assert_eq!(opponents.len(), 2);
    for o in opponents {
        assert_eq!(o["battles"], 4);
        let wdl = &o["wdl"];
        let n = wdl["wins"].as_u64().unwrap()
            + wdl["draws"].as_u64().unwrap()
            + wdl["losses"].as_u64().unwrap();
        assert_eq!(n, 4);
    }
    // Another thread count, the same report.
    assert_eq!(ok(&tactician(&args("2")), "eval -j 2"), out);

    // The text report has its tables.
    let text = ok(
        &tactician(&[
            "eval",
            path(&model),
            "--data",
            path(&data),
            "--battles",
            "2",
            "--opponents",
            "random",
        ]),
        "eval (text)",
    );
    for part in [
        "teacher agreement",
        "Scenarios: 1/1",
        "95% Wilson",
        "random",
    ] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }
}

#[test]
fn eval_refuses_other_encoders_and_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (model, data) = (dir.path().join("model"), dir.path().join("prepared"));
    setup(&model, &data, "skirmish-v0-0000000000000000", 0);
    let o = tactician(&[
        "eval",
        path(&model),
        "--data",
        path(&data),
        "--battles",
        "0",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("skirmish-v0-0000000000000000"), "{err}");

    let o = tactician(&["eval", path(&model), "--battles", "3"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("even"));

    let o = tactician(&["eval", path(&dir.path().join("nothing")), "--battles", "2"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("model.json"));
}
