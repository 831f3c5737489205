//! One batch on one [`Workspace`]: the forward pass, the masked-softmax cross-entropy loss
//! (with the optional value head's squared error) and the backward pass that fills the
//! gradient of every parameter.

use super::spec::NetSpec;
use crate::config::Derivative;
use crate::kernel::{MatRef, Threads, matmul};

/// Loss terms and counts of one batch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchStats {
    /// Sum over examples of weight × (cross-entropy + value_weight × squared error).
    pub loss_sum: f64,
    /// Sum of sample weights.
    pub weight_sum: f64,
    /// Examples.
    pub n: usize,
    /// Examples whose top-1 action is the label.
    pub top1: usize,
    /// Examples whose label is among the top 3.
    pub top3: usize,
    /// Sum of |value - target|.
    pub value_abs_err: f64,
}

impl BatchStats {
    /// Adds `o`'s counts to these.
    pub fn add(&mut self, o: &BatchStats) {
        self.loss_sum += o.loss_sum;
        self.weight_sum += o.weight_sum;
        self.n += o.n;
        self.top1 += o.top1;
        self.top3 += o.top3;
        self.value_abs_err += o.value_abs_err;
    }
}

/// Every buffer one batch needs, allocated once for batches of up to `capacity` examples.
#[derive(Debug)]
pub struct Workspace {
    capacity: usize,
    /// The normalized inputs of the batch.
    pub x: Vec<f32>,
    /// Outputs of each layer (after the activation; the head's are raw).
    pub acts: Vec<Vec<f32>>,
    d_a: Vec<f32>,
    d_b: Vec<f32>,
    /// Gradient of the loss w.r.t. every parameter.
    pub grad: Vec<f32>,
}

impl Workspace {
    /// Buffers for `spec` and batches of up to `capacity` examples.
    pub fn new(spec: &NetSpec, capacity: usize) -> Self {
        let layers = spec.layers();
        let widest = layers.iter().map(|l| l.out.max(l.inp)).max().unwrap_or(1);
        Self {
            capacity,
            x: vec![0.0; capacity * spec.inputs],
            acts: layers.iter().map(|l| vec![0.0; capacity * l.out]).collect(),
            d_a: vec![0.0; capacity * widest],
            d_b: vec![0.0; capacity * widest],
            grad: vec![0.0; spec.param_count()],
        }
    }

    /// The largest batch these buffers hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

/// What the loss needs to know about each example of a batch.
pub struct Targets<'a> {
    /// Legal masks, `b × actions`.
    pub legal: &'a [u8],
    /// Labels.
    pub action: &'a [u32],
    /// Sample weights.
    pub weight: &'a [f32],
    /// Value targets.
    pub value: &'a [f32],
}

/// Runs the forward pass on the `b` examples in `ws.x`.
pub fn forward(spec: &NetSpec, params: &[f32], ws: &mut Workspace, b: usize, threads: Threads) {
    assert!(b <= ws.capacity, "batch larger than the workspace");
    let layers = spec.layers();
    let last = layers.len() - 1;
    for (i, l) in layers.iter().enumerate() {
        let (before, rest) = ws.acts.split_at_mut(i);
        let input: &[f32] = if i == 0 {
            &ws.x[..b * l.inp]
        } else {
            &before[i - 1][..b * l.inp]
        };
        let out = &mut rest[0][..b * l.out];
        let w = MatRef::row_major(&params[l.w..l.w + l.out * l.inp], l.out, l.inp);
        matmul(
            out,
            MatRef::row_major(input, b, l.inp),
            w.t(),
            false,
            threads,
        );
        let bias = &params[l.b..l.b + l.out];
        let act = spec.activation;
        for row in out.chunks_exact_mut(l.out) {
            if i == last {
                for (y, &bb) in row.iter_mut().zip(bias) {
                    *y += bb;
                }
            } else {
                for (y, &bb) in row.iter_mut().zip(bias) {
                    *y = act.apply(*y + bb);
                }
            }
        }
    }
}

/// Masked softmax of `logits` over `legal` into `probs` (0 for illegal actions); returns the
/// log of the normalizer and the masked maximum. With no legal action every prob is 0.
#[inline]
fn masked_softmax(logits: &[f32], legal: &[u8], probs: &mut [f32]) -> (f32, f32) {
    let mut max = f32::NEG_INFINITY;
    for (&z, &m) in logits.iter().zip(legal) {
        if m != 0 && z > max {
            max = z;
        }
    }
    let mut sum = 0f32;
    for ((p, &z), &m) in probs.iter_mut().zip(logits).zip(legal) {
        *p = if m != 0 { (z - max).exp() } else { 0.0 };
        sum += *p;
    }
    let inv = 1.0 / sum;
    for p in probs.iter_mut() {
        *p *= inv;
    }
    (sum.ln(), max)
}

/// The rank of the label among the legal actions' logits (0 = best; ties go to the lower
/// index, as at inference).
#[inline]
fn label_rank(logits: &[f32], legal: &[u8], label: usize) -> usize {
    let z = logits[label];
    logits
        .iter()
        .zip(legal)
        .enumerate()
        .filter(|&(j, (&x, &m))| m != 0 && j != label && (x > z || (x == z && j < label)))
        .count()
}

/// Loss of the batch after [`forward`]; with `grad_out`, also writes the gradient of the
/// batch-mean loss w.r.t. the head's outputs there (`b × head_out`).
pub fn loss(
    spec: &NetSpec,
    ws: &Workspace,
    b: usize,
    t: &Targets<'_>,
    value_weight: f32,
    grad_out: Option<&mut [f32]>,
) -> BatchStats {
    loss_of_part(spec, ws, b, t, value_weight, grad_out, b)
}

/// [`loss`] of `b` examples that are part of a batch of `batch` examples: the gradient is that
/// of the whole batch's mean loss (divided by `batch`, not `b`).
fn loss_of_part(
    spec: &NetSpec,
    ws: &Workspace,
    b: usize,
    t: &Targets<'_>,
    value_weight: f32,
    mut grad_out: Option<&mut [f32]>,
    batch: usize,
) -> BatchStats {
    let a = spec.actions;
    let o = spec.head_out();
    let out = &ws.acts[ws.acts.len() - 1][..b * o];
    let inv_b = 1.0 / batch as f32;
    let mut stats = BatchStats {
        n: b,
        ..Default::default()
    };
    let mut probs_local = vec![0f32; if grad_out.is_some() { 0 } else { a }];
    for i in 0..b {
        let row = &out[i * o..(i + 1) * o];
        let legal = &t.legal[i * a..(i + 1) * a];
        let label = t.action[i] as usize;
        let w = t.weight[i];
        let probs: &mut [f32] = match grad_out.as_deref_mut() {
            Some(g) => &mut g[i * o..i * o + a],
            None => &mut probs_local,
        };
        let (log_sum, max) = masked_softmax(&row[..a], legal, probs);
        let ce = log_sum - (row[label] - max);
        let mut l = ce;
        let rank = label_rank(&row[..a], legal, label);
        stats.top1 += usize::from(rank == 0);
        stats.top3 += usize::from(rank < 3);
        let mut dv = 0.0;
        if spec.value_head {
            let v = row[a].tanh();
            let err = v - t.value[i];
            l += value_weight * err * err;
            stats.value_abs_err += f64::from(err.abs());
            dv = w * inv_b * value_weight * 2.0 * err * (1.0 - v * v);
        }
        stats.loss_sum += f64::from(w * l);
        stats.weight_sum += f64::from(w);
        if let Some(g) = grad_out.as_deref_mut() {
            let g = &mut g[i * o..(i + 1) * o];
            let scale = w * inv_b;
            for p in &mut g[..a] {
                *p *= scale;
            }
            g[label] -= scale;
            if spec.value_head {
                g[a] = dv;
            }
        }
    }
    stats
}

/// Forward, loss and backward of one batch: fills `ws.grad` with the gradient of the
/// batch-mean loss `Σ w_i (CE_i + value_weight·(v_i - t_i)²) / b` and returns the stats.
pub fn train_step_grad(
    spec: &NetSpec,
    params: &[f32],
    ws: &mut Workspace,
    b: usize,
    t: &Targets<'_>,
    value_weight: f32,
    threads: Threads,
) -> BatchStats {
    step_grad_of_part(spec, params, ws, b, t, value_weight, threads, b)
}

/// [`train_step_grad`] on `b` examples that are part of a batch of `batch`: `ws.grad` receives
/// this part's share of the gradient of the whole batch's mean loss.
#[allow(clippy::too_many_arguments)]
pub(super) fn step_grad_of_part(
    spec: &NetSpec,
    params: &[f32],
    ws: &mut Workspace,
    b: usize,
    t: &Targets<'_>,
    value_weight: f32,
    threads: Threads,
    batch: usize,
) -> BatchStats {
    forward(spec, params, ws, b, threads);
    let layers = spec.layers();
    let o = spec.head_out();
    let mut d_cur = std::mem::take(&mut ws.d_a);
    let mut d_next = std::mem::take(&mut ws.d_b);
    let stats = loss_of_part(
        spec,
        ws,
        b,
        t,
        value_weight,
        Some(&mut d_cur[..b * o]),
        batch,
    );
    for (i, l) in layers.iter().enumerate().rev() {
        let is_head = i + 1 == layers.len();
        let dz = &mut d_cur[..b * l.out];
        if !is_head {
            let act = spec.activation;
            for (d, &y) in dz.iter_mut().zip(&ws.acts[i][..b * l.out]) {
                *d *= act.derivative_from_output(y);
            }
        }
        let input: &[f32] = if i == 0 {
            &ws.x[..b * l.inp]
        } else {
            &ws.acts[i - 1][..b * l.inp]
        };
        let dzm = MatRef::row_major(dz, b, l.out);
        matmul(
            &mut ws.grad[l.w..l.w + l.out * l.inp],
            dzm.t(),
            MatRef::row_major(input, b, l.inp),
            false,
            threads,
        );
        let db = &mut ws.grad[l.b..l.b + l.out];
        db.fill(0.0);
        for row in dz.chunks_exact(l.out) {
            for (g, &d) in db.iter_mut().zip(row) {
                *g += d;
            }
        }
        if i > 0 {
            let w = MatRef::row_major(&params[l.w..l.w + l.out * l.inp], l.out, l.inp);
            matmul(&mut d_next[..b * l.inp], dzm, w, false, threads);
            std::mem::swap(&mut d_cur, &mut d_next);
        }
    }
    ws.d_a = d_cur;
    ws.d_b = d_next;
    stats
}
