//! QUANTIZE (float32 to int8) and DEQUANTIZE (int8 to float32) with per-tensor quantization.
//! A conversion keeps the probabilities mark of its input.

use crate::engine::arena::{as_f32, as_f32_mut, as_i8, as_i8_mut, disjoint};
use crate::engine::builder::{Builder, UnaryIo, act_q, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{DType, Op, OpKind};
use crate::kernels::Kernels;
use crate::quant;

/// A conversion between float32 and int8 with per-tensor quantization.
#[derive(Debug, Clone)]
pub(in crate::engine) enum Step {
    /// QUANTIZE: float32 to int8.
    Quantize {
        x: usize,
        y: usize,
        row: usize,
        scale: f32,
        zp: i32,
    },
    /// DEQUANTIZE: int8 to float32.
    Dequantize {
        x: usize,
        y: usize,
        row: usize,
        scale: f32,
        zp: i32,
    },
}

impl Step {
    /// Translates QUANTIZE or DEQUANTIZE operator `oi` (`name`).
    pub(in crate::engine) fn translate(
        b: &mut Builder<'_>,
        oi: usize,
        name: &str,
        op: &Op,
    ) -> Result<Step> {
        let UnaryIo { xt, yt, x, y } = b.unary(oi, name, op, None)?;
        let quantize = op.kind == OpKind::Quantize;
        let (from, to, qt) = if quantize {
            (DType::F32, DType::I8, yt)
        } else {
            (DType::I8, DType::F32, xt)
        };
        if xt.dtype != from || yt.dtype != to {
            return Err(unsupported(
                oi,
                name,
                format!(
                    "{} to {} (supported: {} to {})",
                    xt.dtype.name(),
                    yt.dtype.name(),
                    from.name(),
                    to.name()
                ),
            ));
        }
        let (scale, zp) = act_q(oi, name, qt)?;
        let row = b.values[if quantize { y } else { x }].row_bytes;
        if b.values[if quantize { x } else { y }].row_bytes != row * 4 {
            return Err(unsupported(oi, name, "input and output differ in size"));
        }
        b.probabilities[y] = b.probabilities[x];
        Ok(if quantize {
            Step::Quantize {
                x,
                y,
                row,
                scale,
                zp,
            }
        } else {
            Step::Dequantize {
                x,
                y,
                row,
                scale,
                zp,
            }
        })
    }

    /// Converts `n` batch rows.
    #[inline]
    pub(in crate::engine) fn exec(
        &self,
        kernels: &Kernels,
        regs: &[Reg],
        arena: &mut [u8],
        n: usize,
    ) -> Result<()> {
        let r = |v: usize| regs[v].range(n);
        match self {
            Step::Quantize {
                x,
                y,
                row,
                scale,
                zp,
            } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_f32(xb)?, as_i8_mut(yb));
                kernels.quantize_i8(xs, *scale, *zp, &mut ys[..row * n]);
            }
            Step::Dequantize {
                x,
                y,
                row,
                scale,
                zp,
            } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_i8(xb), as_f32_mut(yb)?);
                for (v, &q) in ys.iter_mut().zip(&xs[..row * n]) {
                    *v = quant::dequantize_i8(q, *scale, *zp);
                }
            }
        }
        Ok(())
    }
}
