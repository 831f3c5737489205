//! SOFTMAX over the last dimension, on float32 or int8 values. Its output is marked as
//! probabilities, which the policy API relies on.

use crate::engine::arena::{as_f32, as_f32_mut, as_i8, as_i8_mut, disjoint};
use crate::engine::builder::{Builder, UnaryIo, act_q, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{DType, Op};
use crate::quant;

/// A softmax over the last dimension.
#[derive(Debug, Clone)]
pub(in crate::engine) enum Step {
    /// On float32 values.
    F32 {
        x: usize,
        y: usize,
        row: usize,
        depth: usize,
        beta: f32,
    },
    /// On int8 values (dequantized, computed in float32, requantized).
    I8 {
        x: usize,
        y: usize,
        row: usize,
        depth: usize,
        beta: f32,
        xs: f32,
        ys: f32,
        yzp: i32,
    },
}

impl Step {
    /// Translates SOFTMAX operator `oi` (`name`) with its `beta`.
    pub(in crate::engine) fn translate(
        b: &mut Builder<'_>,
        oi: usize,
        name: &str,
        op: &Op,
        beta: f32,
    ) -> Result<Step> {
        let depth = b
            .tensor(oi, name, op.inputs[0])?
            .shape
            .last()
            .and_then(|&d| usize::try_from(d).ok())
            .filter(|&d| d > 0)
            .ok_or_else(|| unsupported(oi, name, "input without a last dimension"))?;
        let UnaryIo { xt, yt, x, y } = b.unary(
            oi,
            name,
            op,
            Some("input and output differ in size or type"),
        )?;
        b.probabilities[y] = true;
        match xt.dtype {
            DType::F32 => {
                let row = b.values[x].row_bytes / 4;
                if row % depth != 0 {
                    return Err(unsupported(
                        oi,
                        name,
                        "rows do not split by the last dimension",
                    ));
                }
                Ok(Step::F32 {
                    x,
                    y,
                    row,
                    depth,
                    beta,
                })
            }
            DType::I8 => {
                let (xs, _) = act_q(oi, name, xt)?;
                let (ys, yzp) = act_q(oi, name, yt)?;
                let row = b.values[x].row_bytes;
                if row % depth != 0 {
                    return Err(unsupported(
                        oi,
                        name,
                        "rows do not split by the last dimension",
                    ));
                }
                Ok(Step::I8 {
                    x,
                    y,
                    row,
                    depth,
                    beta,
                    xs,
                    ys,
                    yzp,
                })
            }
            ref t => Err(unsupported(oi, name, format!("{} tensors", t.name()))),
        }
    }

    /// Computes the softmax of `n` batch rows.
    #[inline]
    pub(in crate::engine) fn exec(&self, regs: &[Reg], arena: &mut [u8], n: usize) -> Result<()> {
        let r = |v: usize| regs[v].range(n);
        match self {
            Step::F32 {
                x,
                y,
                row,
                depth,
                beta,
            } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_f32(xb)?, as_f32_mut(yb)?);
                for (xr, yr) in xs[..row * n]
                    .chunks_exact(*depth)
                    .zip(ys.chunks_exact_mut(*depth))
                {
                    softmax(xr.iter().copied(), *beta, yr);
                }
            }
            Step::I8 {
                x,
                y,
                row,
                depth,
                beta,
                xs: xscale,
                ys: yscale,
                yzp,
            } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_i8(xb), as_i8_mut(yb));
                for (xr, yr) in xs[..row * n]
                    .chunks_exact(*depth)
                    .zip(ys.chunks_exact_mut(*depth))
                {
                    let max = i32::from(xr.iter().copied().max().unwrap_or(0));
                    let mut total = 0.0f32;
                    for &q in xr {
                        total += (beta * xscale * (i32::from(q) - max) as f32).exp();
                    }
                    for (o, &q) in yr.iter_mut().zip(xr) {
                        let p = (beta * xscale * (i32::from(q) - max) as f32).exp() / total;
                        *o = quant::quantize_i8(p, *yscale, *yzp);
                    }
                }
            }
        }
        Ok(())
    }
}

/// `out = softmax(beta · x)` in float32.
#[inline]
fn softmax(x: impl Iterator<Item = f32> + Clone, beta: f32, out: &mut [f32]) {
    let max = x.clone().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (o, v) in out.iter_mut().zip(x) {
        *o = ((v - max) * beta).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}
