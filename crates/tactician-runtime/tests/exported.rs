//! Files written by our own exporter (`tactician-export`): the policy loads them with their
//! "tactician" metadata, the engine agrees with the format's reference evaluator, and `check`
//! judges them against the float network.

use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation, Mlp, ModelJson};
use tactician_runtime::graph::OpKind;
use tactician_runtime::{Engine, Policy, PolicyOptions, Reference, check, load, masked_argmax};
use tactician_tflite::{Model, reference};

fn rows(seed: u64, n: usize, f: usize) -> Vec<f32> {
    let mut state = seed;
    (0..n * f)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (((z >> 11) as f64 / (1u64 << 53) as f64) * 4.0 - 2.0) as f32
        })
        .collect()
}

fn network(seed: u64, f: usize, a: usize, act: Activation) -> Mlp {
    let meta = ModelJson::new(f, vec![48, 32], act, a, true, "exported-test");
    Mlp::random(meta, seed)
}

#[test]
fn exported_models_match_the_reference_evaluator() {
    let (f, a, n) = (40, 11, 6);
    let calib = rows(1, 64, f);
    let input = rows(2, n, f);
    for (k, act) in Activation::ALL.into_iter().enumerate() {
        let mlp = network(10 + k as u64, f, a, act);
        for precision in [Precision::Float32, Precision::Dynamic, Precision::Int8] {
            let opts = ExportOptions::new(precision).with_calibration(&calib);
            let bytes = export(&mlp, &opts).unwrap();
            let what = format!("{} {}", act.name(), precision.name());
            let model = Model::parse(&bytes).unwrap();
            let want = reference::evaluate(&model, &[&input], n).unwrap();
            let graph = load::graph_from_bytes(&bytes).unwrap();
            let mut engine = Engine::new(&graph, 8).unwrap();
            engine.input_mut(0, n).unwrap().copy_from_slice(&input);
            engine.run(n).unwrap();
            // One quantization step of each int8 output (the scale its DEQUANTIZE reads).
            let step = |out: i32| -> f32 {
                graph
                    .ops
                    .iter()
                    .find(|o| o.kind == OpKind::Dequantize && o.outputs[0] == out)
                    .and_then(|o| graph.tensors[o.inputs[0] as usize].quant.as_ref())
                    .map_or(0.0, |q| q.scale[0])
            };
            for (i, w) in want.iter().enumerate() {
                let got = engine.output(i, n).unwrap();
                let s = step(graph.outputs[i]);
                for (g, e) in got.iter().zip(w) {
                    let tol = if precision == Precision::Int8 {
                        s * 1.0001
                    } else {
                        1e-5 * e.abs().max(1.0)
                    };
                    assert!(
                        (g - e).abs() <= tol,
                        "{what} output {i}: {g} vs {e} (tolerance {tol})"
                    );
                }
            }
            // The policy reads the metadata and accepts the matching encoder only.
            let opts = |hash: &str| PolicyOptions {
                device_encoder_hash: Some(hash.into()),
                ..PolicyOptions::default()
            };
            let mut p = Policy::load(&bytes, &opts(&mlp.meta.encoder_hash)).unwrap();
            let m = p.metadata().unwrap().clone();
            assert_eq!((m.features, m.action_names.len()), (f, a), "{what}");
            assert_eq!(m.model_version, mlp.meta.model_version);
            assert!(p.has_value());
            let d = p.act(&input[..f], &[true; 11]).unwrap();
            assert!(d.value.unwrap().abs() <= 1.0);
            assert!(Policy::load(&bytes, &opts("another-encoder")).is_err());
        }
    }
}

#[test]
fn check_judges_files_against_the_float_network() {
    let (f, a, n) = (24, 7, 300);
    let mlp = network(3, f, a, Activation::Relu);
    let x = rows(4, n, f);
    let legal: Vec<u8> = (0..n * a).map(|i| u8::from(i % 3 != 1)).collect();
    let float = mlp.forward_exact(&x, n);
    let reference = Reference {
        actions: a,
        features: &x,
        legal: &legal,
        logits: &float.logits,
        values: float.value.as_deref(),
    };
    let calib = rows(5, 200, f);
    for precision in [Precision::Float32, Precision::Int8] {
        let bytes = export(
            &mlp,
            &ExportOptions::new(precision).with_calibration(&calib),
        )
        .unwrap();
        let r = check(&bytes, &reference, Some("exported-test"), 10).unwrap();
        assert_eq!(r.metadata.unwrap().encoder_hash, "exported-test");
        assert_eq!(r.agreement.rows, n);
        let lat = r.latency.unwrap();
        assert_eq!(lat.decisions, 10);
        assert!(lat.p50_us > 0.0 && lat.p50_us <= lat.p99_us && lat.p99_us <= lat.max_us);
        if precision == Precision::Float32 {
            assert_eq!(r.agreement.top1, 1.0);
            assert!(r.agreement.max_abs_logit_error < 1e-4);
        } else {
            assert!(r.agreement.top1 > 0.8, "{:?}", r.agreement);
            assert!(r.agreement.max_abs_logit_error > 0.0);
        }
        assert!(r.agreement.max_abs_value_error.unwrap() < 0.1);
        assert!(check(&bytes, &reference, Some("another-encoder"), 1).is_err());
        assert!(check(&bytes, &reference, Some("another-encoder"), 0).is_err());
        assert!(check(&bytes, &reference, None, 0).is_ok());
    }
    // A reference that disagrees everywhere gives zero agreement.
    let flipped: Vec<f32> = float.logits.iter().map(|l| -l).collect();
    let wrong = Reference {
        logits: &flipped,
        ..reference
    };
    let bytes = export(&mlp, &ExportOptions::new(Precision::Float32)).unwrap();
    let r = check(&bytes, &wrong, None, 0).unwrap();
    let ties = (0..n)
        .filter(|&r| {
            let l = &float.logits[r * a..(r + 1) * a];
            let lg = &legal[r * a..(r + 1) * a];
            masked_argmax(l, |i| lg[i] != 0)
                == masked_argmax(&flipped[r * a..(r + 1) * a], |i| lg[i] != 0)
        })
        .count();
    assert_eq!(r.agreement.top1, ties as f64 / n as f64);
    assert!(r.latency.is_none());
}

#[test]
fn masked_argmax_takes_the_lowest_best_legal_index() {
    assert_eq!(masked_argmax(&[1.0, 3.0, 3.0], |_| true), Some(1));
    assert_eq!(masked_argmax(&[1.0, 3.0, 3.0], |i| i != 1), Some(2));
    assert_eq!(masked_argmax(&[f32::NAN, -5.0], |_| true), Some(1));
    assert_eq!(masked_argmax(&[f32::NAN], |_| true), Some(0));
    assert_eq!(masked_argmax(&[1.0, 2.0], |_| false), None);
}
