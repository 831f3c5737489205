//! Activations: RELU, RELU6, TANH and LOGISTIC, computed directly on float32 values and
//! through a 256-entry lookup table (built once from the same function) on int8 values.

use crate::engine::arena::{as_f32, as_f32_mut, as_i8, as_i8_mut, disjoint};
use crate::engine::builder::{Builder, UnaryIo, act_q, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{DType, Op, OpKind};
use crate::quant;

/// The function of an activation operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::engine) enum Unary {
    Relu,
    Relu6,
    Tanh,
    Logistic,
}

impl Unary {
    #[inline]
    fn f(self, x: f32) -> f32 {
        match self {
            Unary::Relu => x.max(0.0),
            Unary::Relu6 => x.clamp(0.0, 6.0),
            Unary::Tanh => x.tanh(),
            Unary::Logistic => 1.0 / (1.0 + (-x).exp()),
        }
    }
}

/// An activation applied element by element.
#[derive(Debug, Clone)]
pub(in crate::engine) enum Step {
    /// On float32 values.
    F32 {
        x: usize,
        y: usize,
        row: usize,
        f: Unary,
    },
    /// On int8 values, through a table of the 256 results.
    Lut {
        x: usize,
        y: usize,
        row: usize,
        lut: Box<[i8; 256]>,
    },
}

/// The table of `f` from int8 quantized with `xq` to int8 quantized with `yq`.
fn lut(xq: (f32, i32), yq: (f32, i32), f: impl Fn(f32) -> f32) -> Box<[i8; 256]> {
    let mut t = Box::new([0i8; 256]);
    for (i, slot) in t.iter_mut().enumerate() {
        let q = i as i32 - 128;
        let x = quant::dequantize_i8(q as i8, xq.0, xq.1);
        *slot = quant::quantize_i8(f(x), yq.0, yq.1);
    }
    t
}

impl Step {
    /// Translates activation operator `oi` (`name`).
    pub(in crate::engine) fn translate(
        b: &mut Builder<'_>,
        oi: usize,
        name: &str,
        op: &Op,
    ) -> Result<Step> {
        let f = match op.kind {
            OpKind::Relu => Unary::Relu,
            OpKind::Relu6 => Unary::Relu6,
            OpKind::Tanh => Unary::Tanh,
            _ => Unary::Logistic,
        };
        let UnaryIo { xt, yt, x, y } = b.unary(
            oi,
            name,
            op,
            Some("input and output differ in size or type"),
        )?;
        match xt.dtype {
            DType::F32 => Ok(Step::F32 {
                x,
                y,
                row: b.values[x].row_bytes / 4,
                f,
            }),
            DType::I8 => {
                let xq = act_q(oi, name, xt)?;
                let yq = act_q(oi, name, yt)?;
                Ok(Step::Lut {
                    x,
                    y,
                    row: b.values[x].row_bytes,
                    lut: lut(xq, yq, |v| f.f(v)),
                })
            }
            ref t => Err(unsupported(oi, name, format!("{} tensors", t.name()))),
        }
    }

    /// Applies the activation to `n` batch rows.
    #[inline]
    pub(in crate::engine) fn exec(&self, regs: &[Reg], arena: &mut [u8], n: usize) -> Result<()> {
        let r = |v: usize| regs[v].range(n);
        match self {
            Step::F32 { x, y, row, f } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_f32(xb)?, as_f32_mut(yb)?);
                for (o, &v) in ys[..row * n].iter_mut().zip(xs) {
                    *o = f.f(v);
                }
            }
            Step::Lut { x, y, row, lut } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_i8(xb), as_i8_mut(yb));
                for (o, &q) in ys[..row * n].iter_mut().zip(xs) {
                    *o = lut[(i32::from(q) + 128) as usize];
                }
            }
        }
        Ok(())
    }
}
