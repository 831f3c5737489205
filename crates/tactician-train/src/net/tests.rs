//! Tests of the network: the loss and gradients against a naive f64 computation, illegal
//! actions, the sharded step against one workspace and across thread counts, non-finite
//! gradients, and the sum of squares.

use super::sharded::sum_squares;
use super::*;
use crate::config::Activation;
use crate::kernel::Threads;
use crate::rng::Rng;
use proptest::prelude::*;

/// The loss of a batch computed independently, in f64, with naive loops.
fn naive_loss(
    spec: &NetSpec,
    params: &[f64],
    x: &[f64],
    t: &Targets<'_>,
    b: usize,
    vw: f64,
) -> f64 {
    let layers = spec.layers();
    let mut total = 0.0;
    for i in 0..b {
        let mut h: Vec<f64> = x[i * spec.inputs..(i + 1) * spec.inputs].to_vec();
        for (li, l) in layers.iter().enumerate() {
            let mut next = vec![0.0; l.out];
            for (o, y) in next.iter_mut().enumerate() {
                let mut acc = params[l.b + o];
                for (j, hj) in h.iter().enumerate() {
                    acc += params[l.w + o * l.inp + j] * hj;
                }
                *y = if li + 1 == layers.len() {
                    acc
                } else {
                    match spec.activation {
                        Activation::Relu => acc.max(0.0),
                        Activation::Relu6 => acc.clamp(0.0, 6.0),
                        Activation::Tanh => acc.tanh(),
                    }
                };
            }
            h = next;
        }
        let a = spec.actions;
        let legal = &t.legal[i * a..(i + 1) * a];
        let max = (0..a)
            .filter(|&j| legal[j] != 0)
            .map(|j| h[j])
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = (0..a)
            .filter(|&j| legal[j] != 0)
            .map(|j| (h[j] - max).exp())
            .sum();
        let label = t.action[i] as usize;
        let mut l = sum.ln() - (h[label] - max);
        if spec.value_head {
            let e = h[a].tanh() - f64::from(t.value[i]);
            l += vw * e * e;
        }
        total += f64::from(t.weight[i]) * l;
    }
    total / b as f64
}

#[allow(clippy::type_complexity)]
fn problem(
    seed: u64,
    f: usize,
    hidden: Vec<usize>,
    a: usize,
    b: usize,
    act: Activation,
    value_head: bool,
) -> (
    NetSpec,
    Vec<f32>,
    Vec<f32>,
    Vec<u8>,
    Vec<u32>,
    Vec<f32>,
    Vec<f32>,
) {
    let spec = NetSpec {
        inputs: f,
        hidden,
        activation: act,
        actions: a,
        value_head,
    };
    let mut rng = Rng::new(seed);
    let mut params = spec.init(&mut rng);
    for p in &mut params {
        *p += rng.uniform(-0.1, 0.1);
    }
    let x: Vec<f32> = (0..b * f).map(|_| rng.uniform(-2.0, 2.0)).collect();
    let mut legal = vec![0u8; b * a];
    let mut action = Vec::new();
    for i in 0..b {
        for m in &mut legal[i * a..(i + 1) * a] {
            *m = u8::from(rng.unit() < 0.6);
        }
        let l = rng.below(a as u64) as usize;
        legal[i * a + l] = 1;
        action.push(l as u32);
    }
    let weight = (0..b).map(|_| rng.uniform(0.2, 2.0)).collect();
    let value = (0..b)
        .map(|_| [-1.0, 0.0, 1.0][rng.below(3) as usize])
        .collect();
    (spec, params, x, legal, action, weight, value)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// Every gradient of the fused backward pass matches a central finite difference of
    /// an independent f64 implementation of the loss.
    #[test]
    fn gradients_match_finite_differences(
        seed in any::<u64>(),
        f in 1usize..7,
        hidden in proptest::collection::vec(1usize..6, 1..3),
        a in 1usize..6,
        b in 1usize..5,
        act in prop_oneof![Just(Activation::Relu), Just(Activation::Relu6), Just(Activation::Tanh)],
        value_head in any::<bool>(),
        threads in 1usize..3,
    ) {
        let (spec, params, x, legal, action, weight, value) = problem(seed, f, hidden, a, b, act, value_head);
        let t = Targets { legal: &legal, action: &action, weight: &weight, value: &value };
        let vw = 0.7f32;
        let mut ws = Workspace::new(&spec, b);
        ws.x[..b * f].copy_from_slice(&x);
        let th = if threads > 1 { Threads::Rayon(threads) } else { Threads::One };
        let stats = train_step_grad(&spec, &params, &mut ws, b, &t, vw, th);
        let p64: Vec<f64> = params.iter().map(|&p| f64::from(p)).collect();
        let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let l0 = naive_loss(&spec, &p64, &x64, &t, b, f64::from(vw));
        prop_assert!((stats.loss_sum / b as f64 - l0).abs() < 1e-4 * (1.0 + l0.abs()));
        let eps = 1e-6;
        for k in 0..params.len() {
            let mut plus = p64.clone();
            plus[k] += eps;
            let mut minus = p64.clone();
            minus[k] -= eps;
            let fd = (naive_loss(&spec, &plus, &x64, &t, b, f64::from(vw))
                - naive_loss(&spec, &minus, &x64, &t, b, f64::from(vw))) / (2.0 * eps);
            let g = f64::from(ws.grad[k]);
            // With eps = 1e-6, a random pre-activation within eps of a ReLU kink (where the
            // quotient would be meaningless) is vanishingly unlikely.
            prop_assert!((g - fd).abs() <= 2e-4 + 1e-3 * fd.abs(), "param {k}: analytic {g} vs numeric {fd}");
        }
    }
}

#[test]
fn illegal_actions_get_no_probability_and_no_gradient() {
    let (spec, params, x, legal, action, weight, value) =
        problem(5, 4, vec![5], 5, 3, Activation::Relu, true);
    let t = Targets {
        legal: &legal,
        action: &action,
        weight: &weight,
        value: &value,
    };
    let mut ws = Workspace::new(&spec, 3);
    ws.x[..12].copy_from_slice(&x);
    forward(&spec, &params, &mut ws, 3, Threads::One);
    let mut g = vec![0f32; 3 * spec.head_out()];
    loss(&spec, &ws, 3, &t, 1.0, Some(&mut g));
    for i in 0..3 {
        for j in 0..5 {
            if legal[i * 5 + j] == 0 {
                assert_eq!(g[i * spec.head_out() + j], 0.0);
            }
        }
    }
}

/// The sharded step on `threads` threads: (stats, norm, gradient).
fn sharded(
    spec: &NetSpec,
    params: &[f32],
    x: &[f32],
    t: &Targets<'_>,
    b: usize,
    threads: usize,
) -> (BatchStats, f64, Vec<f32>) {
    let f = spec.inputs;
    let rows: Vec<u32> = (0..b as u32).collect();
    let (mean, scale) = (vec![0.0; f], vec![1.0; f]);
    let batch = Batch {
        features: x,
        f,
        rows: &rows,
        mean: &mean,
        scale: &scale,
        targets: Targets { ..*t },
    };
    let mut sh = Sharded::new(spec, b);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let (s, n) = pool.install(|| train_step_sharded(spec, params, &mut sh, &batch, 0.5));
    (s, n, sh.grad().to_vec())
}

#[test]
fn sharded_step_matches_one_workspace_and_ignores_the_thread_count() {
    // 300 examples: shards of 128, 128 and 44.
    let b = 300;
    let (spec, params, x, legal, action, weight, value) =
        problem(11, 6, vec![10, 7], 5, b, Activation::Relu, true);
    let t = Targets {
        legal: &legal,
        action: &action,
        weight: &weight,
        value: &value,
    };
    let mut ws = Workspace::new(&spec, b);
    ws.x.copy_from_slice(&x);
    let whole = train_step_grad(&spec, &params, &mut ws, b, &t, 0.5, Threads::One);
    let (s1, n1, g1) = sharded(&spec, &params, &x, &t, b, 1);
    let (s2, n2, g2) = sharded(&spec, &params, &x, &t, b, 2);
    // Bit-identical whatever the thread count.
    assert_eq!(g1, g2);
    assert_eq!(n1.to_bits(), n2.to_bits());
    assert_eq!(s1.loss_sum.to_bits(), s2.loss_sum.to_bits());
    // The same gradient as one workspace over the whole batch (up to summation order).
    assert_eq!((s1.n, s1.top1, s1.top3), (whole.n, whole.top1, whole.top3));
    assert!((s1.loss_sum - whole.loss_sum).abs() <= 1e-9 * (1.0 + whole.loss_sum.abs()) * 1e3);
    for (k, (a, b)) in g1.iter().zip(&ws.grad).enumerate() {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + b.abs()),
            "grad {k}: {a} vs {b}"
        );
    }
    let norm: f64 = ws
        .grad
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum::<f64>()
        .sqrt();
    assert!((n1 - norm).abs() <= 1e-5 * norm);
}

#[test]
fn a_non_finite_gradient_gives_a_non_finite_norm() {
    let b = 130;
    let (spec, mut params, x, legal, action, weight, value) =
        problem(12, 4, vec![6], 3, b, Activation::Tanh, false);
    params[0] = f32::NAN;
    let t = Targets {
        legal: &legal,
        action: &action,
        weight: &weight,
        value: &value,
    };
    let (_, n, _) = sharded(&spec, &params, &x, &t, b, 2);
    assert!(!n.is_finite());
}

#[test]
fn sum_squares_matches_the_plain_sum() {
    for len in [0usize, 1, 3, 4, 5, 17, 4096] {
        let x: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
        let plain: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        assert!((sum_squares(&x) - plain).abs() <= 1e-12 * (1.0 + plain));
    }
}
