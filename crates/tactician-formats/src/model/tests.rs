use super::*;
use proptest::prelude::*;

fn meta(value_head: bool) -> ModelJson {
    ModelJson::new(
        5,
        vec![4, 3],
        Activation::Relu,
        3,
        value_head,
        "test-0123456789",
    )
}

#[test]
fn activations_round_trip_by_name() {
    for a in Activation::ALL {
        assert_eq!(Activation::from_name(a.name()), Some(a));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"{}\"", a.name()));
    }
    assert_eq!(Activation::from_name("gelu"), None);
    assert_eq!(Activation::Relu6.apply(7.5), 6.0);
    assert_eq!(Activation::Relu.apply(-1.0), 0.0);
}

#[test]
fn a_folder_round_trips_and_its_version_follows_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let mut mlp = Mlp::random(meta(true), 3);
    mlp.stamp_version().unwrap();
    assert!(
        mlp.meta.model_version.starts_with("test-012-"),
        "{}",
        mlp.meta.model_version
    );
    mlp.write(dir.path(), &[("metrics.jsonl", b"{}\n")])
        .unwrap();
    let back = Mlp::load(dir.path()).unwrap();
    assert_eq!(back, mlp);
    let bytes = std::fs::read(dir.path().join(MODEL_WEIGHTS)).unwrap();
    assert_eq!(
        version_for("test-0123456789", &bytes),
        mlp.meta.model_version
    );
    let mut other = Mlp::random(meta(true), 4);
    other.stamp_version().unwrap();
    assert_ne!(other.meta.model_version, mlp.meta.model_version);
    assert!(is_model_file("model.json") && !is_model_file("notes.txt"));
}

fn load_error(edit: impl FnOnce(&std::path::Path)) -> String {
    let dir = tempfile::tempdir().unwrap();
    Mlp::random(meta(true), 1).write(dir.path(), &[]).unwrap();
    edit(dir.path());
    match Mlp::load(dir.path()) {
        Err(e) => tactician_os::report(&e),
        Ok(_) => panic!("the edited folder loaded"),
    }
}

#[test]
fn broken_folders_are_refused_with_the_reason() {
    let e = load_error(|d| std::fs::remove_file(d.join(MODEL_WEIGHTS)).unwrap());
    assert!(
        e.contains("cannot read") && e.contains("model.safetensors"),
        "{e}"
    );
    let e = load_error(|d| std::fs::write(d.join(MODEL_JSON), "{").unwrap());
    assert!(e.contains("is not a valid model.json"), "{e}");
    let e = load_error(|d| {
        let text = std::fs::read_to_string(d.join(MODEL_JSON)).unwrap();
        std::fs::write(
            d.join(MODEL_JSON),
            text.replace("tactician-mlp/1", "other/9"),
        )
        .unwrap();
    });
    assert!(e.contains("format is \"other/9\""), "{e}");
    let e = load_error(|d| {
        let text = std::fs::read_to_string(d.join(MODEL_JSON)).unwrap();
        std::fs::write(
            d.join(MODEL_JSON),
            text.replace("\"value_head\": true", "\"value_head\": false"),
        )
        .unwrap();
    });
    assert!(e.contains("holds 8 tensors"), "{e}");
    let e = load_error(|d| {
        let mut m = Mlp::random(meta(true), 1);
        m.hidden[1].weight[2] = f32::NAN;
        let bytes = m.weights_bytes().unwrap();
        std::fs::write(d.join(MODEL_WEIGHTS), bytes).unwrap();
    });
    assert!(e.contains("non-finite"), "{e}");
    let e = load_error(|d| {
        let text = std::fs::read_to_string(d.join(MODEL_JSON)).unwrap();
        std::fs::write(d.join(MODEL_JSON), text.replacen("\"f1\",", "", 1)).unwrap();
    });
    assert!(e.contains("4 feature names for 5 inputs"), "{e}");
    let e = load_error(|d| std::fs::write(d.join(MODEL_WEIGHTS), b"junk").unwrap());
    assert!(e.contains("not a valid safetensors file"), "{e}");
}

#[test]
fn new_refuses_layers_that_do_not_chain() {
    let m = Mlp::random(meta(false), 1);
    let mut hidden = m.hidden.clone();
    hidden[1] = Dense::zeros(5, 3);
    let e = Mlp::new(m.meta.clone(), hidden, m.policy.clone(), None).unwrap_err();
    assert!(e.contains("layer dense.1 is 3x5, expected 3x4"), "{e}");
    let e = Mlp::new(
        m.meta.clone(),
        m.hidden.clone(),
        m.policy.clone(),
        Some(Dense::zeros(3, 1)),
    )
    .unwrap_err();
    assert!(e.contains("value head"), "{e}");
}

proptest! {
    /// The f32 forward pass stays within rounding of the f64 reference, and both give the
    /// value head's tanh in [-1, 1].
    #[test]
    fn forward_paths_agree(seed in any::<u64>(), x in proptest::collection::vec(-3f32..3.0, 5)) {
        let m = Mlp::random(meta(true), seed);
        let fast = m.forward(&x);
        let exact = m.forward_exact(&x, 1);
        for (a, b) in fast.logits.iter().zip(&exact.logits) {
            prop_assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{a} vs {b}");
        }
        let v = fast.value.unwrap();
        prop_assert!((-1.0..=1.0).contains(&v));
        prop_assert!((v - exact.value.unwrap()[0]).abs() < 1e-4);
        let mut seen = Vec::new();
        let (out, linear) = m.forward_visit(&x, |i, pre, post| {
            seen.push((i, pre.to_vec(), post.to_vec()));
        });
        prop_assert_eq!(seen.len(), 2);
        for (i, pre, post) in &seen {
            prop_assert_eq!(pre.len(), [4, 3][*i]);
            for (p, q) in pre.iter().zip(post) {
                prop_assert_eq!(*q, p.max(0.0));
            }
        }
        prop_assert_eq!(out, fast);
        prop_assert_eq!(linear.unwrap().tanh(), v);
    }
}

#[test]
fn forward_matches_a_hand_computation() {
    let mut meta = ModelJson::new(2, vec![2], Activation::Relu6, 2, true, "test");
    meta.feature_names = vec!["a".into(), "b".into()];
    let mut m = Mlp::random(meta, 1);
    m.hidden[0].weight = vec![1.0, 2.0, -1.0, 0.5];
    m.hidden[0].bias = vec![5.0, 0.0];
    m.policy.weight = vec![1.0, 0.0, 0.5, -1.0];
    m.policy.bias = vec![0.0, 1.0];
    m.value.as_mut().unwrap().weight = vec![0.1, 0.2];
    m.value.as_mut().unwrap().bias = vec![-0.5];
    let out = m.forward(&[1.0, 3.0]);
    // h = relu6([1+6+5, -1+1.5+0]) = [6, 0.5]
    assert_eq!(out.logits, vec![6.0, 0.5 * 6.0 - 0.5 + 1.0]);
    assert!((out.value.unwrap() - (0.6f32 + 0.1 - 0.5).tanh()).abs() < 1e-6);
    assert_eq!(m.forward_exact(&[1.0, 3.0], 1).logits, out.logits);
}
