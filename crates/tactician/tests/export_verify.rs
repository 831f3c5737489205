//! `tactician export` and `tactician verify` end to end on a seeded random network standing
//! in for the trainer's output.

use std::path::Path;
use std::process::{Command, Output};
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_formats::prepared::Split;

/// SplitMix64, for seeded test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A seeded random network standing in for a trained one.
fn network(
    seed: u64,
    inputs: usize,
    hidden: &[usize],
    actions: usize,
    act: Activation,
    value: bool,
) -> Mlp {
    let meta = ModelJson::new(inputs, hidden.to_vec(), act, actions, value, "test-encoder");
    Mlp::random(meta, seed)
}

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Writes PREPARED/{train,test}.safetensors for `mlp` (random features, or all 1 when
/// `constant`; the first action always legal and taken).
fn prepared(dir: &Path, mlp: &Mlp, constant: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut rng = SplitMix64(42);
    let (f, a) = (mlp.inputs(), mlp.actions());
    for (split, n) in [("train", 600usize), ("test", 400)] {
        let x: Vec<f32> = (0..n * f)
            .map(|_| {
                if constant {
                    1.0
                } else {
                    rng.uniform() as f32 * 4.0 - 1.0
                }
            })
            .collect();
        let legal: Vec<u8> = (0..n * a)
            .map(|i| u8::from(i % a == 0 || rng.uniform() < 0.6))
            .collect();
        let split_data = Split {
            rows: n,
            features: f,
            actions: a,
            x,
            legal,
            action: vec![0; n],
            weight: vec![1.0; n],
            value: vec![0.0; n],
        };
        split_data
            .write(&dir.join(format!("{split}.safetensors")))
            .unwrap();
    }
}

#[test]
fn export_then_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let mlp = network(5, 24, &[32, 32], 8, Activation::Relu, true);
    let (model, data, out) = (
        tmp.path().join("model"),
        tmp.path().join("prepared"),
        tmp.path().join("export"),
    );
    std::fs::create_dir_all(&model).unwrap();
    mlp.write(&model, &[]).unwrap();
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

    // A gate that is not a fraction is refused; a gate above what a file reaches fails the
    // command after printing the report.
    let verify_with = |gate: &str| {
        tactician(&[
            "verify",
            s(&out),
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--min-int8-agreement",
            gate,
        ])
    };
    let o = verify_with("1.5");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("gate 1.5 is not a fraction"), "{err}");
    let lowest = files
        .iter()
        .map(|f| f["top1_agreement"].as_f64().unwrap())
        .fold(1.0, f64::min);
    let gate = format!("{}", (lowest + 1e-9).min(1.0));
    let o = verify_with(&gate);
    if lowest < 1.0 {
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains("verification failed"));
        assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL"));
    } else {
        assert!(o.status.success());
    }
}

#[test]
fn bad_input_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mlp = network(6, 10, &[8], 4, Activation::Tanh, false);
    let (model, data) = (tmp.path().join("model"), tmp.path().join("prepared"));
    std::fs::create_dir_all(&model).unwrap();
    mlp.write(&model, &[]).unwrap();

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

#[test]
fn an_export_is_all_or_nothing_and_verify_trusts_only_its_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let mlp = network(8, 12, &[16], 5, Activation::Relu, true);
    let (model, data, out) = (
        tmp.path().join("model"),
        tmp.path().join("prepared"),
        tmp.path().join("export"),
    );
    std::fs::create_dir_all(&model).unwrap();
    mlp.write(&model, &[]).unwrap();
    prepared(&data, &mlp, false);
    let export = |quantize: &str| {
        tactician(&[
            "export",
            s(&model),
            "--out",
            s(&out),
            "--calibration",
            s(&data),
            "--quantize",
            quantize,
        ])
    };
    let verify = || {
        tactician(&[
            "verify",
            s(&out),
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--min-int8-agreement",
            "0.5",
        ])
    };
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    assert!(export("all").status.success());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("export.json")).unwrap()).unwrap();
    assert_eq!(manifest["files"].as_array().unwrap().len(), 3);
    // A new export replaces the old one's files, stale ones included, and nothing else.
    let o = export("none");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["export.json", "model-f32.tflite", "notes.txt"]);
    assert!(verify().status.success());
    // A file the manifest lists is missing, or not the one it lists: verify refuses.
    let f32_path = out.join("model-f32.tflite");
    let bytes = std::fs::read(&f32_path).unwrap();
    std::fs::remove_file(&f32_path).unwrap();
    let o = verify();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("model-f32.tflite is listed in export.json but missing"),
        "{err}"
    );
    std::fs::write(&f32_path, &bytes[..bytes.len() - 16]).unwrap();
    let err = String::from_utf8_lossy(&verify().stderr).into_owned();
    assert!(err.contains("is not the file export.json lists"), "{err}");
    std::fs::write(&f32_path, &bytes).unwrap();
    std::fs::remove_file(out.join("export.json")).unwrap();
    let err = String::from_utf8_lossy(&verify().stderr).into_owned();
    assert!(
        err.contains("no export.json: not a complete export"),
        "{err}"
    );
    // An output that is or lies inside an input is refused before anything is written.
    for bad in [model.clone(), model.join("export"), data.clone()] {
        let o = tactician(&[
            "export",
            s(&model),
            "--out",
            s(&bad),
            "--calibration",
            s(&data),
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("refusing to write"), "{err}");
    }
    assert!(!model.join("export").exists());
    assert!(Mlp::load(&model).is_ok());
}
