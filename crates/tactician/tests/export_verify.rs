//! `tactician export` and `tactician verify` end to end on a seeded random network standing
//! in for the trainer's output.

use std::path::Path;
use std::process::{Command, Output};
use tactician_tflite::mlp::{HiddenActivation, Mlp, SplitMix64};
use tactician_tflite::model_dir;

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes PREPARED/{train,test}.safetensors with `features` and `legal` for `mlp`.
fn prepared(dir: &Path, mlp: &Mlp, constant: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = SplitMix64(42);
    for (split, n) in [("train", 600usize), ("test", 400)] {
        let features: Vec<f32> = (0..n * mlp.inputs)
            .map(|_| {
                if constant {
                    1.0
                } else {
                    rng.uniform() as f32 * 4.0 - 1.0
                }
            })
            .collect();
        let legal: Vec<u8> = (0..n * mlp.actions())
            .map(|i| u8::from(i % mlp.actions() == 0 || rng.uniform() < 0.6))
            .collect();
        let fb: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
        let views = vec![
            (
                "features".to_owned(),
                safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    vec![n, mlp.inputs],
                    &fb,
                )
                .unwrap(),
            ),
            (
                "legal".to_owned(),
                safetensors::tensor::TensorView::new(
                    safetensors::Dtype::U8,
                    vec![n, mlp.actions()],
                    &legal,
                )
                .unwrap(),
            ),
        ];
        let bytes = safetensors::serialize(views, None).unwrap();
        std::fs::write(dir.join(format!("{split}.safetensors")), bytes).unwrap();
    }
}

#[test]
fn export_then_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let mlp = Mlp::random(5, 24, &[32, 32], 8, HiddenActivation::Relu, true);
    let (model, data, out) = (
        tmp.path().join("model"),
        tmp.path().join("prepared"),
        tmp.path().join("export"),
    );
    model_dir::save(&mlp, &model).unwrap();
    prepared(&data, &mlp, false);

    let o = tactician(&[
        "export",
        s(&model),
        "--out",
        s(&out),
        "--calibration",
        s(&data),
        "--quantize",
        "all",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let f32_bytes = std::fs::read(out.join("model-f32.tflite")).unwrap();
    let int8_bytes = std::fs::read(out.join("model-int8.tflite")).unwrap();
    assert!(out.join("model-dynamic.tflite").exists());
    // On a network this small the flatbuffer's fixed overhead weighs as much as the weights,
    // so only require a smaller file (verify's report gives the reduction).
    assert!(int8_bytes.len() < f32_bytes.len());

    // Same checkpoint, same bytes.
    let again = tmp.path().join("again");
    let o = tactician(&[
        "export",
        s(&model),
        "--out",
        s(&again),
        "--calibration",
        s(&data),
        "--quantize",
        "all",
    ]);
    assert!(o.status.success());
    for f in [
        "model-f32.tflite",
        "model-dynamic.tflite",
        "model-int8.tflite",
    ] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }

    // Untrained random weights leave many near-tied logits, which int8 rounding may flip: the
    // default 99.5% gate is meant for trained models, so this run asks for 98%.
    let o = tactician(&[
        "verify",
        s(&out),
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--min-int8-agreement",
        "0.98",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        let agree = f["top1_agreement"].as_f64().unwrap();
        assert!(agree >= f["gate"].as_f64().unwrap(), "{f}");
        assert_eq!(f["rows"], 400);
    }
    assert_eq!(files[0]["precision"], "f32");
    assert!(files[0]["max_abs_logit_error"].as_f64().unwrap() < 1e-4);
    assert!(
        files[2]["operators"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o == "QUANTIZE")
    );

    // An impossible gate fails the command.
    let o = tactician(&[
        "verify",
        s(&out),
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--min-int8-agreement",
        "1.5",
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("verification failed"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL"));
}

#[test]
fn bad_input_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mlp = Mlp::random(6, 10, &[8], 4, HiddenActivation::Tanh, false);
    let (model, data) = (tmp.path().join("model"), tmp.path().join("prepared"));
    model_dir::save(&mlp, &model).unwrap();

    // int8 without a representative sample.
    let out = tmp.path().join("e1");
    let o = tactician(&["export", s(&model), "--out", s(&out)]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--calibration"));
    assert!(!out.exists());

    // An all-constant sample.
    prepared(&data, &mlp, true);
    let out = tmp.path().join("e2");
    let o = tactician(&[
        "export",
        s(&model),
        "--out",
        s(&out),
        "--calibration",
        s(&data),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("constant"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!out.exists());

    // A model too large for the target: the float32 file of this network is a few KB.
    let out = tmp.path().join("e4");
    let o = tactician(&[
        "export",
        s(&model),
        "--out",
        s(&out),
        "--quantize",
        "none",
        "--max-bytes",
        "1K",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("above the limit of 1024 bytes"), "{err}");
    assert!(!out.exists());
    // A limit it fits under writes the file; a malformed limit is refused by the parser.
    let o = tactician(&[
        "export",
        s(&model),
        "--out",
        s(&out),
        "--quantize",
        "none",
        "--max-bytes",
        "1M",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("model-f32.tflite").exists());
    let o = tactician(&["export", s(&model), "--out", s(&out), "--max-bytes", "lots"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a size"));

    // An unsupported architecture.
    let json = model.join("model.json");
    let text = std::fs::read_to_string(&json)
        .unwrap()
        .replace("\"tanh\"", "\"gelu\"");
    std::fs::write(&json, text).unwrap();
    let out = tmp.path().join("e3");
    let o = tactician(&["export", s(&model), "--out", s(&out), "--quantize", "none"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("gelu"));
    assert!(!out.exists());
}

#[test]
fn bench_export_measures_every_precision() {
    // Our side only (the converter peer needs tensorflow, which CI does not install); a missing
    // Python must not matter with --no-peer.
    let o = tactician(&["bench", "export", "--no-peer", "--repeats", "1", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["network"], "192-256-256-32");
    let rows = v["rows"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["precision"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["f32", "dynamic", "int8"]);
    for r in rows {
        assert!(r["ours_seconds"].as_f64().unwrap() > 0.0);
        // float32 weights alone are 4 × 122,880 bytes; the quantized files about a quarter.
        let bytes = r["ours_bytes"].as_u64().unwrap();
        if r["precision"] == "f32" {
            assert!(bytes > 4 * 122_880, "{bytes}");
        } else {
            assert!((122_880..4 * 122_880).contains(&bytes), "{bytes}");
        }
        assert!(r["ratio"].is_null());
    }
}
