//! Files written by our own exporter (`tactician-tflite`): the policy loads them with their
//! "tactician" metadata and the engine agrees with the exporter's reference evaluator.

use tactician_runtime::graph::OpKind;
use tactician_runtime::{Engine, Policy, PolicyOptions, load};
use tactician_tflite::mlp::SplitMix64;
use tactician_tflite::{ExportOptions, HiddenActivation, Mlp, Model, Precision, export, reference};

fn rows(seed: u64, n: usize, f: usize) -> Vec<f32> {
    let mut r = SplitMix64(seed);
    (0..n * f)
        .map(|_| (r.uniform() * 4.0 - 2.0) as f32)
        .collect()
}

#[test]
fn exported_models_match_the_reference_evaluator() {
    let (f, a, n) = (40, 11, 6);
    let calib = rows(1, 64, f);
    let input = rows(2, n, f);
    for (k, act) in [
        HiddenActivation::Relu,
        HiddenActivation::Relu6,
        HiddenActivation::Tanh,
    ]
    .into_iter()
    .enumerate()
    {
        let mlp = Mlp::random(10 + k as u64, f, &[48, 32], a, act, true);
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
            let mut p = Policy::load(&bytes, &opts(&mlp.encoder_hash)).unwrap();
            let m = p.metadata().unwrap().clone();
            assert_eq!((m.features, m.action_names.len()), (f, a), "{what}");
            assert_eq!(m.model_version, mlp.model_version);
            assert!(p.has_value());
            let d = p.act(&input[..f], &[true; 11]).unwrap();
            assert!(d.value.unwrap().abs() <= 1.0);
            assert!(Policy::load(&bytes, &opts("another-encoder")).is_err());
        }
    }
}
