//! The network: dense layers with one flat parameter buffer, and a workspace holding every
//! activation and gradient buffer for one batch size, allocated once.
//!
//! Parameters live in one `Vec<f32>` so the optimizer is one fused loop. The policy and value
//! heads share one matrix (`policy.weight` rows, then the `value.weight` row), so both heads
//! are one matrix product.

use crate::config::Activation;
use crate::kernel::{MatRef, Threads, matmul};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// The shape of a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetSpec {
    /// Input features.
    pub inputs: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Hidden activation.
    pub activation: Activation,
    /// Actions (policy logits).
    pub actions: usize,
    /// Whether there is a value head.
    pub value_head: bool,
}

/// Where one dense layer's weight `[out, in]` and bias `[out]` sit in the parameter buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dense {
    /// Inputs.
    pub inp: usize,
    /// Outputs.
    pub out: usize,
    /// Offset of the weight.
    pub w: usize,
    /// Offset of the bias.
    pub b: usize,
}

/// A named tensor of the parameter buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tensor {
    /// Name in model.safetensors.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Offset in the parameter buffer.
    pub offset: usize,
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl NetSpec {
    /// Outputs of the head: the logits, plus one for the value.
    pub fn head_out(&self) -> usize {
        self.actions + usize::from(self.value_head)
    }

    /// The dense layers, hidden ones first, the head last.
    pub fn layers(&self) -> Vec<Dense> {
        let mut layers = Vec::with_capacity(self.hidden.len() + 1);
        let mut inp = self.inputs;
        let mut at = 0;
        for &out in self.hidden.iter().chain(std::iter::once(&self.head_out())) {
            layers.push(Dense {
                inp,
                out,
                w: at,
                b: at + inp * out,
            });
            at += inp * out + out;
            inp = out;
        }
        layers
    }

    /// Total parameters.
    pub fn param_count(&self) -> usize {
        self.layers().last().map_or(0, |l| l.b + l.out)
    }

    /// Multiply-adds of one example's forward pass.
    pub fn macs_per_example(&self) -> usize {
        self.layers().iter().map(|l| l.inp * l.out).sum()
    }

    /// The named tensors (model.safetensors names) in buffer order.
    pub fn tensors(&self) -> Vec<Tensor> {
        let layers = self.layers();
        let mut out = Vec::new();
        let (head, hidden) = layers.split_last().expect("a network has a head");
        for (i, l) in hidden.iter().enumerate() {
            out.push(Tensor {
                name: format!("dense.{i}.weight"),
                shape: vec![l.out, l.inp],
                offset: l.w,
            });
            out.push(Tensor {
                name: format!("dense.{i}.bias"),
                shape: vec![l.out],
                offset: l.b,
            });
        }
        let a = self.actions;
        out.push(Tensor {
            name: "policy.weight".into(),
            shape: vec![a, head.inp],
            offset: head.w,
        });
        if self.value_head {
            out.push(Tensor {
                name: "value.weight".into(),
                shape: vec![1, head.inp],
                offset: head.w + a * head.inp,
            });
        }
        out.push(Tensor {
            name: "policy.bias".into(),
            shape: vec![a],
            offset: head.b,
        });
        if self.value_head {
            out.push(Tensor {
                name: "value.bias".into(),
                shape: vec![1],
                offset: head.b + a,
            });
        }
        out
    }

    /// Glorot-uniform weights and zero biases (Keras's defaults), from `rng`.
    pub fn init(&self, rng: &mut Rng) -> Vec<f32> {
        let mut p = vec![0f32; self.param_count()];
        let layers = self.layers();
        for (i, l) in layers.iter().enumerate() {
            let is_head = i + 1 == layers.len();
            if is_head {
                // Policy rows and the value row are separate Keras layers: separate limits.
                let lim_p = (6.0 / (l.inp + self.actions) as f64).sqrt() as f32;
                for x in &mut p[l.w..l.w + self.actions * l.inp] {
                    *x = rng.uniform(-lim_p, lim_p);
                }
                let lim_v = (6.0 / (l.inp + 1) as f64).sqrt() as f32;
                for x in &mut p[l.w + self.actions * l.inp..l.w + l.out * l.inp] {
                    *x = rng.uniform(-lim_v, lim_v);
                }
            } else {
                let lim = (6.0 / (l.inp + l.out) as f64).sqrt() as f32;
                for x in &mut p[l.w..l.w + l.out * l.inp] {
                    *x = rng.uniform(-lim, lim);
                }
            }
        }
        p
    }
}

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
fn step_grad_of_part(
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

/// Examples per shard of a data-parallel step (see [`Sharded`]).
pub const SHARD_ROWS: usize = 128;

/// Elements per task when the shards' gradients are summed (fixed, so the f64 norm is summed
/// in the same order whatever the thread count).
const REDUCE_CHUNK: usize = 4096;

/// Buffers of a data-parallel training step.
///
/// A batch is cut into shards of [`SHARD_ROWS`] examples. Their number depends on the batch
/// size only, never on the thread count: each shard runs forward, loss and backward on its own
/// [`Workspace`] with single-threaded matrix products (rayon spreads the shards over the
/// threads), then the shards' gradients are summed in shard order. The same seed therefore
/// gives the same weights with 1 thread or 8, and small products avoid `gemm`'s per-call
/// thread synchronisation, which cost more than it gained on these matrix sizes.
#[derive(Debug)]
pub struct Sharded {
    shards: Vec<Workspace>,
}

impl Sharded {
    /// Buffers for `spec` and batches of up to `batch` examples.
    pub fn new(spec: &NetSpec, batch: usize) -> Self {
        let batch = batch.max(1);
        Self {
            shards: (0..batch.div_ceil(SHARD_ROWS))
                .map(|_| Workspace::new(spec, SHARD_ROWS.min(batch)))
                .collect(),
        }
    }

    /// The largest batch these buffers hold.
    pub fn capacity(&self) -> usize {
        self.shards.iter().map(Workspace::capacity).sum()
    }

    /// The summed gradient of the last [`train_step_sharded`].
    pub fn grad(&self) -> &[f32] {
        &self.shards[0].grad
    }
}

/// One batch for [`train_step_sharded`] and [`eval_sharded`]: rows of a feature matrix, the
/// normalization to apply, and the examples' targets (in the order of `rows`).
pub struct Batch<'a> {
    /// Row-major features, `f` per row.
    pub features: &'a [f32],
    /// Features per row.
    pub f: usize,
    /// The rows of this batch.
    pub rows: &'a [u32],
    /// Per-feature mean.
    pub mean: &'a [f32],
    /// Per-feature scale.
    pub scale: &'a [f32],
    /// Targets of the batch's examples.
    pub targets: Targets<'a>,
}

impl Batch<'_> {
    /// Examples `lo..hi` of the batch's targets.
    fn targets_of(&self, a: usize, lo: usize, hi: usize) -> Targets<'_> {
        let t = &self.targets;
        Targets {
            legal: &t.legal[lo * a..hi * a],
            action: &t.action[lo..hi],
            weight: &t.weight[lo..hi],
            value: t.value.get(lo..hi).unwrap_or(&[]),
        }
    }
}

/// Gathers each shard's rows of `batch` (normalized) into its workspace and runs
/// `work(workspace, rows, targets)` on every shard that holds examples, in parallel; returns
/// the sum of the shards' stats and how many shards worked.
fn for_shards(
    sh: &mut Sharded,
    batch: &Batch<'_>,
    actions: usize,
    work: impl Fn(&mut Workspace, usize, &Targets<'_>) -> BatchStats + Sync + Send,
) -> (BatchStats, usize) {
    use rayon::prelude::*;
    let b = batch.rows.len();
    assert!(b <= sh.capacity(), "batch larger than the workspace");
    let parts: Vec<BatchStats> = sh
        .shards
        .par_iter_mut()
        .enumerate()
        .take(b.div_ceil(SHARD_ROWS))
        .map(|(k, ws)| {
            let lo = k * SHARD_ROWS;
            let hi = (lo + SHARD_ROWS).min(b);
            let rows = &batch.rows[lo..hi];
            gather_normalized(ws, batch.features, batch.f, rows, batch.mean, batch.scale);
            work(ws, hi - lo, &batch.targets_of(actions, lo, hi))
        })
        .collect();
    let mut stats = BatchStats::default();
    for p in &parts {
        stats.add(p);
    }
    (stats, parts.len())
}

/// Forward, loss and backward of one batch, data-parallel over shards (see [`Sharded`]).
/// Leaves the gradient of the batch-mean loss in [`Sharded::grad`] and returns the stats and
/// the gradient's L2 norm (not finite when any gradient element is not).
pub fn train_step_sharded(
    spec: &NetSpec,
    params: &[f32],
    sh: &mut Sharded,
    batch: &Batch<'_>,
    value_weight: f32,
) -> (BatchStats, f64) {
    use rayon::prelude::*;
    let b = batch.rows.len();
    let (stats, parts) = for_shards(sh, batch, spec.actions, |ws, n, t| {
        step_grad_of_part(spec, params, ws, n, t, value_weight, Threads::One, b)
    });
    // Sum the shards' gradients into the first, in shard order, chunk by chunk in parallel.
    let (first, rest) = sh.shards.split_first_mut().expect("at least one shard");
    let rest = &rest[..parts - 1];
    let norms: Vec<f64> = first
        .grad
        .par_chunks_mut(REDUCE_CHUNK)
        .enumerate()
        .map(|(c, g)| {
            let (at, len) = (c * REDUCE_CHUNK, g.len());
            for other in rest {
                for (x, &y) in g.iter_mut().zip(&other.grad[at..at + len]) {
                    *x += y;
                }
            }
            sum_squares(g)
        })
        .collect();
    (stats, norms.iter().sum::<f64>().sqrt())
}

/// Σ x² in f64 with four independent accumulators (a fixed order: deterministic).
pub(crate) fn sum_squares(x: &[f32]) -> f64 {
    let mut acc = [0f64; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f64::from(v) * f64::from(v);
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Forward and loss (no gradient) of one batch, data-parallel over shards.
pub fn eval_sharded(
    spec: &NetSpec,
    params: &[f32],
    sh: &mut Sharded,
    batch: &Batch<'_>,
    value_weight: f32,
) -> BatchStats {
    for_shards(sh, batch, spec.actions, |ws, n, t| {
        forward(spec, params, ws, n, Threads::One);
        loss(spec, ws, n, t, value_weight, None)
    })
    .0
}

/// Writes the normalized rows `rows` of `features` (`f` per row) into `ws.x`.
pub fn gather_normalized(
    ws: &mut Workspace,
    features: &[f32],
    f: usize,
    rows: &[u32],
    mean: &[f32],
    scale: &[f32],
) {
    for (dst, &r) in ws.x.chunks_exact_mut(f).zip(rows) {
        let src = &features[r as usize * f..(r as usize + 1) * f];
        for (((d, &x), &m), &s) in dst.iter_mut().zip(src).zip(mean).zip(scale) {
            *d = (x - m) * s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
