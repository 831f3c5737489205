//! One full training step (forward, masked cross-entropy + value loss, backward, Adam/AdamW)
//! cross-checked against the independent numpy implementation in bench/peer/reference_step.py.
//!
//! Python: $TACTICIAN_PYTHON (set by `./scripts/test`), else `python3` from `PATH`; it needs
//! numpy and safetensors. Under CI=true a missing Python or package fails the test.

use std::path::{Path, PathBuf};
use tactician_formats::tensors::{self, Tensor};
use tactician_train::config::{Activation, OptimizerKind};
use tactician_train::net::{Batch, NetSpec, Sharded, Targets, train_step_sharded};
use tactician_train::optim::{Adam, AdamParams};
use tactician_train::rng::Rng;

fn python() -> PathBuf {
    std::env::var_os("TACTICIAN_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/peer/reference_step.py")
}

/// Whether the reference can run here; under CI it must.
fn reference_available() -> bool {
    let ok = std::process::Command::new(python())
        .args(["-c", "import numpy, safetensors.numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI: {} lacks numpy/safetensors needed by the reference step",
            python().display()
        );
        eprintln!(
            "note: skipping the numpy cross-check: {} lacks numpy or safetensors",
            python().display()
        );
    }
    ok
}

fn raw(name: &str, shape: Vec<usize>, data: &[f32]) -> Tensor {
    Tensor::f32(name, shape, data)
}

fn check(act: Activation, kind: OptimizerKind, value_head: bool, seed: u64) {
    // 300 examples: three shards of the data-parallel step (128 + 128 + 44).
    let (f, a, b) = (9, 7, 300);
    let spec = NetSpec {
        inputs: f,
        hidden: vec![11, 8],
        activation: act,
        actions: a,
        value_head,
    };
    let mut rng = Rng::new(seed);
    let params = spec.init(&mut rng);
    let x: Vec<f32> = (0..b * f).map(|_| rng.normal() as f32).collect();
    let mut legal = vec![0u8; b * a];
    let mut action = Vec::new();
    for i in 0..b {
        for m in &mut legal[i * a..(i + 1) * a] {
            *m = u8::from(rng.unit() < 0.5);
        }
        let l = rng.below(a as u64) as usize;
        legal[i * a + l] = 1;
        action.push(l as u32);
    }
    let weight: Vec<f32> = (0..b).map(|_| rng.uniform(0.1, 2.0)).collect();
    let value: Vec<f32> = (0..b)
        .map(|_| [-1.0, 0.0, 1.0][rng.below(3) as usize])
        .collect();
    // Adam state as after a few steps.
    let mut adam = Adam::new(params.len());
    for (m, v) in adam.m.iter_mut().zip(&mut adam.v) {
        *m = rng.uniform(-0.01, 0.01);
        *v = rng.uniform(0.0, 1e-4);
    }
    adam.t = 3;
    let h = AdamParams {
        kind,
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-7,
        weight_decay: 0.05,
    };
    let vw = 0.4f32;

    let mut tensors_in = Vec::new();
    for t in spec.tensors() {
        let r = t.offset..t.offset + t.len();
        tensors_in.push(raw(&t.name, t.shape.clone(), &params[r.clone()]));
        tensors_in.push(raw(
            &format!("m.{}", t.name),
            t.shape.clone(),
            &adam.m[r.clone()],
        ));
        tensors_in.push(raw(&format!("v.{}", t.name), t.shape.clone(), &adam.v[r]));
    }
    tensors_in.push(raw("x", vec![b, f], &x));
    tensors_in.push(raw(
        "legal",
        vec![b, a],
        &legal.iter().map(|&m| f32::from(m)).collect::<Vec<_>>(),
    ));
    tensors_in.push(raw(
        "action",
        vec![b],
        &action.iter().map(|&l| l as f32).collect::<Vec<_>>(),
    ));
    tensors_in.push(raw("weight", vec![b], &weight));
    tensors_in.push(raw("value", vec![b], &value));
    let cfg = serde_json::json!({
        "activation": act.name(), "value_head": value_head, "value_weight": vw,
        "optimizer": if kind == OptimizerKind::Adam { "adam" } else { "adamw" },
        "lr": h.lr, "beta1": h.beta1, "beta2": h.beta2, "eps": h.eps, "weight_decay": h.weight_decay, "t": adam.t,
    });
    let tmp = tempfile::tempdir().unwrap();
    let inp = tmp.path().join("in.safetensors");
    let outp = tmp.path().join("out.safetensors");
    let bytes = tensors::serialize(&inp, &tensors_in, Some(("config", &cfg.to_string()))).unwrap();
    std::fs::write(&inp, bytes).unwrap();
    let status = std::process::Command::new(python())
        .arg(script())
        .arg(&inp)
        .arg(&outp)
        .status()
        .unwrap();
    assert!(status.success(), "reference_step.py failed");

    // Our step.
    let mut sh = Sharded::new(&spec, b);
    let rows: Vec<u32> = (0..b as u32).collect();
    let (mean, scale) = (vec![0.0; f], vec![1.0; f]);
    let batch = Batch {
        features: &x,
        f,
        rows: &rows,
        mean: &mean,
        scale: &scale,
        targets: Targets {
            legal: &legal,
            action: &action,
            weight: &weight,
            value: &value,
        },
    };
    let (stats, norm) = train_step_sharded(&spec, &params, &mut sh, &batch, vw);
    assert!(norm.is_finite() && norm > 0.0);
    let mut new_params = params.clone();
    adam.step(&mut new_params, sh.grad(), &h);

    let ref_bytes = std::fs::read(&outp).unwrap();
    let st = tensors::File::parse(&outp, &ref_bytes).unwrap();
    let (loss, _) = st.f32s("loss").unwrap();
    let ours = (stats.loss_sum / b as f64) as f32;
    assert!(
        (ours - loss[0]).abs() <= 1e-5 * (1.0 + loss[0].abs()),
        "loss {ours} vs {}",
        loss[0]
    );
    let mut worst = (0f32, String::new());
    for tn in spec.tensors() {
        let r = tn.offset..tn.offset + tn.len();
        let (g, _) = st.f32s(&format!("grad.{}", tn.name)).unwrap();
        let (p, _) = st.f32s(&format!("param.{}", tn.name)).unwrap();
        for (k, (ours, theirs)) in sh.grad()[r.clone()]
            .iter()
            .zip(&g)
            .chain(new_params[r].iter().zip(&p))
            .enumerate()
        {
            let d = (ours - theirs).abs() / (1.0 + theirs.abs());
            if d > worst.0 {
                worst = (d, format!("{} [{k}]: {ours} vs {theirs}", tn.name));
            }
        }
    }
    assert!(
        worst.0 <= 1e-5,
        "largest difference {:e} at {}",
        worst.0,
        worst.1
    );
}

#[test]
fn one_step_matches_the_numpy_reference() {
    if !reference_available() {
        return;
    }
    check(Activation::Relu, OptimizerKind::Adamw, true, 1);
    check(Activation::Tanh, OptimizerKind::Adam, true, 2);
    check(Activation::Relu6, OptimizerKind::Adamw, false, 3);
}
