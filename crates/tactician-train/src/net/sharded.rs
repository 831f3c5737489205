//! Data-parallel training and evaluation steps: a batch cut into shards of [`SHARD_ROWS`]
//! examples, each run on its own [`Workspace`], their gradients summed in a fixed order so the
//! result does not depend on the thread count.

use super::pass::{BatchStats, Targets, Workspace, forward, loss, step_grad_of_part};
use super::spec::NetSpec;
use crate::kernel::Threads;

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
