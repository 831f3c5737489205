//! Helpers shared by the integration tests: seeded networks and inputs, and the official
//! interpreter driver.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use tactician_formats::model::{Activation, Mlp, ModelJson};

/// SplitMix64: seeded test inputs.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random network (the same arguments give the same weights).
pub fn random(
    seed: u64,
    inputs: usize,
    hidden: &[usize],
    actions: usize,
    activation: Activation,
    value_head: bool,
) -> Mlp {
    let mut meta = ModelJson::new(
        inputs,
        hidden.to_vec(),
        activation,
        actions,
        value_head,
        "random",
    );
    meta.model_version = format!("random-{seed}");
    Mlp::random(meta, seed)
}

/// Seeded input rows in roughly the range of normalized-then-raw features.
pub fn rows(seed: u64, n: usize, features: usize) -> Vec<f32> {
    let mut rng = SplitMix64(seed);
    (0..n * features)
        .map(|i| {
            // Mix of binary-like and continuous features, as the game encoder gives.
            let u = rng.uniform() as f32;
            if i % features % 3 == 0 {
                (u > 0.5) as u8 as f32
            } else {
                u * 6.0 - 2.0
            }
        })
        .collect()
}

/// The test networks: (name, network).
pub fn networks() -> Vec<(&'static str, Mlp)> {
    vec![
        (
            "relu",
            random(11, 40, &[64, 48], 12, Activation::Relu, true),
        ),
        ("tanh", random(12, 33, &[32], 9, Activation::Tanh, true)),
        (
            "relu6-nohead",
            random(13, 20, &[24, 24, 16], 7, Activation::Relu6, false),
        ),
    ]
}

/// The Python interpreter the tests use: $TACTICIAN_PYTHON (which `./scripts/test` sets to
/// its venv), else `python3` from `PATH`.
pub fn python() -> PathBuf {
    std::env::var_os("TACTICIAN_PYTHON").map_or_else(|| "python3".into(), PathBuf::from)
}

/// Whether we run under CI (missing tools are failures there).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// One output of the official interpreter.
pub struct Output {
    pub name: String,
    pub values: Vec<f32>,
}

/// Runs `model` in the official interpreter on `x` (`rows` × `features`) with the given
/// resolver ("auto", "reference", "builtin"). `None` when ai-edge-litert is missing outside CI.
pub fn litert(
    dir: &Path,
    model: &Path,
    x: &[f32],
    rows: usize,
    features: usize,
    resolver: &str,
) -> Option<Vec<Output>> {
    let inputs = dir.join("inputs.f32");
    let bytes: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(&inputs, bytes).unwrap();
    let outdir = dir.join(format!("out-{resolver}"));
    std::fs::create_dir_all(&outdir).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/litert_check.py");
    let py = python();
    let out = Command::new(&py)
        .arg(&script)
        .arg(model)
        .arg(&inputs)
        .arg(rows.to_string())
        .arg(features.to_string())
        .arg(&outdir)
        .arg(resolver)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            assert!(!in_ci(), "cannot run {}: {e}", py.display());
            eprintln!("SKIPPED (not CI): cannot run {}: {e}", py.display());
            return None;
        }
    };
    if out.status.code() == Some(3) {
        let msg = String::from_utf8_lossy(&out.stderr);
        assert!(!in_ci(), "ai-edge-litert is required in CI: {msg}");
        eprintln!("SKIPPED (not CI): {msg}");
        return None;
    }
    assert!(
        out.status.success(),
        "litert_check.py failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outputs = summary["outputs"].as_array().unwrap();
    Some(
        outputs
            .iter()
            .map(|o| {
                let data = std::fs::read(o["file"].as_str().unwrap()).unwrap();
                Output {
                    name: o["name"].as_str().unwrap().to_owned(),
                    values: data
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                }
            })
            .collect(),
    )
}
