//! The policy API on hand-built graphs and on official-converter fixtures.

mod common;

use common::{mlp, with_metadata};
use tactician_runtime::{Error, Policy, PolicyOptions};

const F: usize = 24;
const A: usize = 9;

fn opts() -> PolicyOptions {
    PolicyOptions {
        max_batch: 8,
        ..PolicyOptions::default()
    }
}

fn features(seed: u32) -> Vec<f32> {
    (0..F)
        .map(|i| ((i as u32 * 7919 + seed * 104_729) % 200) as f32 / 50.0 - 2.0)
        .collect()
}

#[test]
fn act_masks_and_normalizes() {
    let mut p = Policy::from_graph(&mlp(F, 16, A, 3, true), &opts()).unwrap();
    assert!(p.has_value());
    for seed in 0..20 {
        let legal: Vec<bool> = (0..A).map(|i| (i + seed as usize) % 3 != 0).collect();
        let d = p.act(&features(seed), &legal).unwrap();
        let sum: f32 = d.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-5, "sum {sum}");
        for (i, (&pr, &l)) in d.probabilities.iter().zip(&legal).enumerate() {
            if !l {
                assert_eq!(pr, 0.0, "illegal action {i} has probability");
            }
        }
        assert!(legal[d.action]);
        let best = d.probabilities.iter().cloned().fold(0.0, f32::max);
        assert_eq!(d.probabilities[d.action], best);
        let v = d.value.unwrap();
        assert!((-1.0..=1.0).contains(&v));
    }
}

#[test]
fn ties_go_to_the_lowest_legal_index() {
    // Zero weights in the last layer: all logits equal the (zero) bias.
    let mut g = mlp(F, 16, A, 5, false);
    for t in &mut g.tensors {
        if t.name == "w2" || t.name == "b2" {
            t.data = Some(vec![0; t.data.as_ref().unwrap().len()]);
        }
    }
    let mut p = Policy::from_graph(&g, &opts()).unwrap();
    for first in 0..A {
        let legal: Vec<bool> = (0..A).map(|i| i >= first).collect();
        let d = p.act(&features(1), &legal).unwrap();
        assert_eq!(d.action, first);
        assert!((d.probabilities[first] - 1.0 / (A - first) as f32).abs() < 1e-6);
    }
}

#[test]
fn bad_input_is_an_error() {
    let mut p = Policy::from_graph(&mlp(F, 16, A, 3, true), &opts()).unwrap();
    let legal = vec![true; A];
    assert!(matches!(
        p.act(&features(0)[..F - 1], &legal),
        Err(Error::InputLength { .. })
    ));
    assert!(matches!(
        p.act(&features(0), &legal[..A - 1]),
        Err(Error::InputLength { .. })
    ));
    assert!(matches!(
        p.act(&features(0), &[false; A]),
        Err(Error::NoLegalAction { row: 0 })
    ));
    let mut nan = features(0);
    nan[5] = f32::NAN;
    assert!(matches!(
        p.act(&nan, &legal),
        Err(Error::NonFinite { index: 5, .. })
    ));
    nan[5] = f32::INFINITY;
    assert!(matches!(
        p.act(&nan, &legal),
        Err(Error::NonFinite { index: 5, .. })
    ));
    let too_many = vec![0.0; 9 * F];
    assert!(matches!(
        p.act_batch(&too_many, &[true; 9 * A], 9),
        Err(Error::Batch { .. })
    ));
    // Still usable after errors.
    assert!(p.act(&features(0), &legal).is_ok());
}

#[test]
fn metadata_and_encoder_check() {
    let g = with_metadata(mlp(F, 16, A, 3, true), "enc-abc", A, F);
    let p = Policy::from_graph(&g, &opts()).unwrap();
    let m = p.metadata().unwrap();
    assert_eq!(m.encoder_hash, "enc-abc");
    assert_eq!(m.model_version, "test-1");
    assert_eq!(m.action_names.len(), A);
    let same = PolicyOptions {
        device_encoder_hash: Some("enc-abc".into()),
        ..opts()
    };
    assert!(Policy::from_graph(&g, &same).is_ok());
    let other = PolicyOptions {
        device_encoder_hash: Some("enc-xyz".into()),
        ..opts()
    };
    match Policy::from_graph(&g, &other) {
        Err(Error::EncoderMismatch { model, device }) => {
            assert_eq!((model.as_str(), device.as_str()), ("enc-abc", "enc-xyz"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // No metadata at all cannot be checked: refused too.
    assert!(matches!(
        Policy::from_graph(&mlp(F, 16, A, 3, true), &other),
        Err(Error::Metadata(_))
    ));
    // Metadata that contradicts the graph.
    let bad = with_metadata(mlp(F, 16, A, 3, true), "enc-abc", A, F + 1);
    assert!(matches!(
        Policy::from_graph(&bad, &opts()),
        Err(Error::Metadata(_))
    ));
}

#[test]
fn batch_matches_single_decisions() {
    let g = mlp(F, 16, A, 11, true);
    let mut p = Policy::from_graph(&g, &opts()).unwrap();
    let n = 7;
    let feats: Vec<f32> = (0..n as u32).flat_map(features).collect();
    let legal: Vec<bool> = (0..n * A).map(|i| i % 4 != 1).collect();
    let batch = p.act_batch(&feats, &legal, n).unwrap();
    let (actions, probs, values) = (
        batch.actions.to_vec(),
        batch.probabilities.to_vec(),
        batch.values.unwrap().to_vec(),
    );
    for r in 0..n {
        let d = p
            .act(&feats[r * F..(r + 1) * F], &legal[r * A..(r + 1) * A])
            .unwrap();
        assert_eq!(d.action, actions[r]);
        assert_eq!(d.probabilities, &probs[r * A..(r + 1) * A]);
        assert_eq!(d.value.unwrap(), values[r]);
    }
}

#[test]
fn cache_hits_misses_and_lru_eviction() {
    let g = mlp(F, 16, A, 3, true);
    let mut plain = Policy::from_graph(&g, &opts()).unwrap();
    let mut p = Policy::from_graph(
        &g,
        &PolicyOptions {
            cache_capacity: 2,
            ..opts()
        },
    )
    .unwrap();
    let legal = vec![true; A];
    let (a, b, c) = (features(1), features(2), features(3));
    let want = plain.act(&a, &legal).unwrap().probabilities.to_vec();
    let d = p.act(&a, &legal).unwrap();
    assert!(!d.cached);
    let d = p.act(&a, &legal).unwrap();
    assert!(d.cached);
    assert_eq!(d.probabilities, &want[..]);
    p.act(&b, &legal).unwrap();
    p.act(&a, &legal).unwrap(); // a is now the most recent
    p.act(&c, &legal).unwrap(); // evicts b
    assert!(p.act(&a, &legal).unwrap().cached);
    assert!(!p.act(&b, &legal).unwrap().cached);
    let s = p.cache_stats();
    assert_eq!((s.hits, s.misses, s.len, s.capacity), (3, 4, 2, 2));
    // The mask is part of the key.
    let mut other = legal.clone();
    other[0] = false;
    let d = p.act(&b, &other).unwrap();
    assert!(!d.cached);
    assert_eq!(d.probabilities[0], 0.0);
}

#[test]
fn seeded_sampling_is_reproducible_and_follows_probabilities() {
    let g = mlp(F, 16, A, 3, false);
    let sampled = |seed| PolicyOptions {
        sample_seed: Some(seed),
        ..opts()
    };
    let legal: Vec<bool> = (0..A).map(|i| i != 2).collect();
    let draw = |seed| {
        let mut p = Policy::from_graph(&g, &sampled(seed)).unwrap();
        (0..4000)
            .map(|_| p.act(&features(9), &legal).unwrap().action)
            .collect::<Vec<_>>()
    };
    let (x, y, z) = (draw(7), draw(7), draw(8));
    assert_eq!(x, y);
    assert_ne!(x, z);
    let mut p = Policy::from_graph(&g, &opts()).unwrap();
    let probs = p.act(&features(9), &legal).unwrap().probabilities.to_vec();
    let mut counts = [0usize; A];
    for &i in &x {
        counts[i] += 1;
    }
    assert_eq!(counts[2], 0, "an illegal action was sampled");
    for i in 0..A {
        let expected = probs[i] * x.len() as f32;
        let sd = (expected * (1.0 - probs[i])).sqrt().max(1.0);
        assert!(
            (counts[i] as f32 - expected).abs() < 5.0 * sd,
            "action {i}: {} draws, expected {expected}",
            counts[i]
        );
    }
}

#[test]
fn official_value_model_serves_through_the_policy() {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/value-int8.tflite"),
    )
    .unwrap();
    let mut p = Policy::load(&bytes, &opts()).unwrap();
    assert_eq!((p.features(), p.actions(), p.has_value()), (48, 12, true));
    let d = p.act(&[0.25; 48], &[true; 12]).unwrap();
    assert!(d.value.is_some());
}
