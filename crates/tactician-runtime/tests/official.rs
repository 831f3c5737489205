//! Our engine against the official converter's files and the official interpreter's outputs
//! (fixtures made by tools/make_fixtures.py): float32 within 1e-5, int8 within one quantization
//! step, hybrid (dynamic-range) within 1e-5 of the builtin kernels.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tactician_runtime::{Engine, Isa, Kernels, load};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Case {
    name: String,
    mode: String,
    bytes: Vec<u8>,
    input: Vec<f32>,
    rows: usize,
    default: Vec<(Vec<f32>, f32)>,
    reference: Vec<(Vec<f32>, f32)>,
}

fn outputs(v: &Value) -> Vec<(Vec<f32>, f32)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let data = o["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect();
            (data, o["step"].as_f64().unwrap() as f32)
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for model in ["small", "value", "mixed", "large"] {
        for mode in ["f32", "dynamic", "int8"] {
            let stem = format!("{model}-{mode}");
            let json: Value = serde_json::from_slice(
                &std::fs::read(fixtures().join(format!("{stem}.json"))).unwrap(),
            )
            .unwrap();
            out.push(Case {
                name: stem.clone(),
                mode: mode.to_string(),
                bytes: std::fs::read(fixtures().join(format!("{stem}.tflite"))).unwrap(),
                input: json["input"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_f64().unwrap() as f32)
                    .collect(),
                rows: json["input_shape"][0].as_u64().unwrap() as usize,
                default: outputs(&json["outputs_default"]),
                reference: outputs(&json["outputs_reference_kernels"]),
            });
        }
    }
    out
}

fn run(engine: &mut Engine, input: &[f32], rows: usize) -> Vec<Vec<f32>> {
    engine.input_mut(0, rows).unwrap().copy_from_slice(input);
    engine.run(rows).unwrap();
    (0..engine.outputs().len())
        .map(|i| engine.output(i, rows).unwrap().to_vec())
        .collect()
}

/// Largest error in units of the allowed tolerance (≤ 1 passes).
fn worst(mode: &str, got: &[f32], want: &[f32], step: f32) -> f32 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| {
            let tol = if mode == "int8" {
                step * 1.0001
            } else {
                1e-5 * w.abs().max(1.0)
            };
            (g - w).abs() / tol
        })
        .fold(0.0, f32::max)
}

#[test]
fn matches_official_interpreter() {
    let mut report = Vec::new();
    let mut failed = false;
    for c in cases() {
        let graph = load::graph_from_bytes(&c.bytes).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        for isa in [Isa::detect(), Isa::Scalar] {
            let mut engine = Engine::with_kernels(&graph, 8, Kernels::new(isa)).unwrap();
            let got = run(&mut engine, &c.input, c.rows);
            for (k, out) in got.iter().enumerate() {
                let (want_ref, step) = &c.reference[k];
                let e_ref = worst(&c.mode, out, want_ref, *step);
                let (want_def, _) = &c.default[k];
                let e_def = worst(&c.mode, out, want_def, *step);
                report.push(format!(
                    "{:<14} {:<9} out {k}: err/tol vs builtin kernels {e_ref:.3}, vs default {e_def:.3}",
                    c.name,
                    isa.name()
                ));
                // Dynamic-range files run under XNNPACK by default, which quantizes inputs its
                // own way: those are compared with the builtin hybrid kernel only.
                if e_ref > 1.0 || (c.mode != "dynamic" && e_def > 1.0) {
                    failed = true;
                    report.push("  ^ FAILED".into());
                }
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(!failed, "{}", report.join("\n"));
}

#[test]
fn batch_rows_equal_single_rows() {
    for c in cases() {
        let mut engine = tactician_runtime::load_engine(&c.bytes, 8).unwrap();
        let batch = run(&mut engine, &c.input, c.rows);
        let f = c.input.len() / c.rows;
        for r in 0..c.rows {
            let single = run(&mut engine, &c.input[r * f..(r + 1) * f], 1);
            for (k, out) in single.iter().enumerate() {
                let n = out.len();
                assert_eq!(
                    &batch[k][r * n..(r + 1) * n],
                    &out[..],
                    "{} row {r} output {k}",
                    c.name
                );
            }
        }
    }
}
