//! Adam and AdamW as one fused pass over the flat parameter buffer.

use crate::config::OptimizerKind;

/// Optimizer state: first and second moments and the step count.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// First moments.
    pub m: Vec<f32>,
    /// Second moments.
    pub v: Vec<f32>,
    /// Steps taken.
    pub t: u64,
}

/// Hyper-parameters of one step.
#[derive(Debug, Clone, Copy)]
pub struct AdamParams {
    /// Adam or AdamW.
    pub kind: OptimizerKind,
    /// Learning rate of this step.
    pub lr: f64,
    /// beta1.
    pub beta1: f64,
    /// beta2.
    pub beta2: f64,
    /// epsilon.
    pub eps: f64,
    /// Weight decay.
    pub weight_decay: f64,
}

impl Adam {
    /// Zero state for `n` parameters.
    pub fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step: updates `params` from `grad`, in parallel over fixed chunks (each element's
    /// update depends on that element only, so the thread count changes nothing).
    ///
    /// Adam: `g += wd·p`; AdamW: `p -= lr·wd·p` before the moment update (as PyTorch does).
    /// Then `m = β1 m + (1-β1) g`, `v = β2 v + (1-β2) g²`,
    /// `p -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)`.
    pub fn step(&mut self, params: &mut [f32], grad: &[f32], h: &AdamParams) {
        use rayon::prelude::*;
        const CHUNK: usize = 4096;
        assert_eq!(params.len(), grad.len());
        assert_eq!(params.len(), self.m.len());
        self.t += 1;
        let t = self.t.min(i32::MAX as u64) as i32;
        let bc1 = (1.0 / (1.0 - h.beta1.powi(t))) as f32;
        let bc2 = (1.0 / (1.0 - h.beta2.powi(t))) as f32;
        let (b1, b2) = (h.beta1 as f32, h.beta2 as f32);
        let (lr, eps) = (h.lr as f32, h.eps as f32);
        let l2 = if h.kind == OptimizerKind::Adam {
            h.weight_decay as f32
        } else {
            0.0
        };
        let decay = if h.kind == OptimizerKind::Adamw {
            1.0 - (h.lr * h.weight_decay) as f32
        } else {
            1.0
        };
        params
            .par_chunks_mut(CHUNK)
            .zip(grad.par_chunks(CHUNK))
            .zip(self.m.par_chunks_mut(CHUNK))
            .zip(self.v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| {
                for (((p, &g0), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                    let g = g0 + l2 * *p;
                    *p *= decay;
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    let mhat = *m * bc1;
                    let vhat = *v * bc2;
                    *p -= lr * mhat / (vhat.sqrt() + eps);
                }
            });
    }
}
