//! ADD and MUL with a fused activation, on float32 or int8 values: each operand is another
//! activation (with as many values per row as the output, or one broadcast to all) or a
//! constant, and int8 operands are computed in float32 and requantized.

use crate::engine::arena::{disjoint, internal};
use crate::engine::builder::{Builder, act_q, const_f32, const_i8, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{DType, Op, OpKind};
use crate::quant::{self, Activation};

/// A binary operand: another activation (per-row length 1 or the output's) or a constant.
#[derive(Debug, Clone)]
enum Operand {
    Act {
        v: usize,
        row: usize,
        scale: f32,
        zp: i32,
    },
    Const(Vec<f32>),
}

/// An element-wise sum or product.
#[derive(Debug, Clone)]
pub(in crate::engine) struct Step {
    a: Operand,
    b: Operand,
    y: usize,
    row: usize,
    mul: bool,
    act: Activation,
    /// Output quantization for an int8 result, `None` for float32.
    yq: Option<(f32, i32)>,
}

impl Step {
    /// Translates ADD or MUL operator `oi` (`name`) with its fused `activation`.
    pub(in crate::engine) fn translate(
        b: &mut Builder<'_>,
        oi: usize,
        name: &str,
        op: &Op,
        activation: Activation,
    ) -> Result<Step> {
        let step = oi;
        let yt = b.tensor(oi, name, op.outputs[0])?;
        let is_i8 = match yt.dtype {
            DType::F32 => false,
            DType::I8 => true,
            ref t => return Err(unsupported(oi, name, format!("{} tensors", t.name()))),
        };
        let mut operand = |idx: i32| -> Result<Operand> {
            let t = b.tensor(oi, name, idx)?;
            if t.dtype != yt.dtype {
                return Err(unsupported(oi, name, "operands of different types"));
            }
            let (scale, zp) = if is_i8 { act_q(oi, name, t)? } else { (1.0, 0) };
            if t.data.is_some() {
                let vals = if is_i8 {
                    const_i8(t)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|q| quant::dequantize_i8(q, scale, zp))
                        .collect()
                } else {
                    const_f32(t).unwrap_or_default()
                };
                Ok(Operand::Const(vals))
            } else {
                let v = b.read(oi, name, idx, step)?;
                let row = b.values[v].row_bytes / if is_i8 { 1 } else { 4 };
                Ok(Operand::Act { v, row, scale, zp })
            }
        };
        let a = operand(op.inputs[0])?;
        let c = operand(op.inputs[1])?;
        let y = b.write(oi, name, op.outputs[0], step)?;
        let row = b.values[y].row_bytes / if is_i8 { 1 } else { 4 };
        for o in [&a, &c] {
            let n = match o {
                Operand::Act { row, .. } => *row,
                Operand::Const(v) => v.len(),
            };
            if n != row && n != 1 {
                return Err(unsupported(
                    oi,
                    name,
                    format!("broadcasting {n} values per row onto {row} is not supported"),
                ));
            }
        }
        let yq = if is_i8 {
            Some(act_q(oi, name, yt)?)
        } else {
            None
        };
        Ok(Step {
            a,
            b: c,
            y,
            row,
            mul: matches!(op.kind, OpKind::Mul { .. }),
            act: activation,
            yq,
        })
    }

    /// Computes `n` batch rows.
    #[inline]
    pub(in crate::engine) fn exec(&self, regs: &[Reg], arena: &mut [u8], n: usize) -> Result<()> {
        let r = |v: usize| regs[v].range(n);
        let Step {
            a,
            b,
            y,
            row,
            mul,
            act,
            yq,
        } = self;
        let act_of = |o: &Operand| match o {
            Operand::Act { v, .. } => Some(*v),
            Operand::Const(_) => None,
        };
        let ry = r(*y);
        let empty: &[u8] = &[];
        let (ab, bb, yb): (&[u8], &[u8], &mut [u8]) = match (act_of(a), act_of(b)) {
            (Some(va), Some(vb)) if va == vb => {
                // The same activation feeds both operands: borrow it once.
                let [abuf, ybuf] = disjoint(arena, [r(va), ry])?;
                (&*abuf, &*abuf, ybuf)
            }
            (Some(va), Some(vb)) => {
                let [abuf, bbuf, ybuf] = disjoint(arena, [r(va), r(vb), ry])?;
                (&*abuf, &*bbuf, ybuf)
            }
            (Some(va), None) => {
                let [abuf, ybuf] = disjoint(arena, [r(va), ry])?;
                (&*abuf, empty, ybuf)
            }
            (None, Some(vb)) => {
                let [bbuf, ybuf] = disjoint(arena, [r(vb), ry])?;
                (empty, &*bbuf, ybuf)
            }
            (None, None) => {
                let ybuf = arena
                    .get_mut(ry)
                    .ok_or_else(|| internal("output outside the arena"))?;
                (empty, empty, ybuf)
            }
        };
        let get = |o: &Operand, buf: &[u8], bi: usize, i: usize| -> f32 {
            match o {
                Operand::Const(c) => {
                    if c.len() == 1 {
                        c[0]
                    } else {
                        c[i]
                    }
                }
                Operand::Act {
                    row: orow,
                    scale,
                    zp,
                    ..
                } => {
                    let j = bi * orow + if *orow == 1 { 0 } else { i };
                    if yq.is_some() {
                        quant::dequantize_i8(buf[j] as i8, *scale, *zp)
                    } else {
                        let o = j * 4;
                        f32::from_le_bytes([buf[o], buf[o + 1], buf[o + 2], buf[o + 3]])
                    }
                }
            }
        };
        for bi in 0..n {
            for i in 0..*row {
                let (va, vb) = (get(a, ab, bi, i), get(b, bb, bi, i));
                let mut v = if *mul { va * vb } else { va + vb };
                act.apply_f32(std::slice::from_mut(&mut v));
                let j = bi * row + i;
                match yq {
                    Some((s, zp)) => yb[j] = quant::quantize_i8(v, *s, *zp) as u8,
                    None => yb[j * 4..j * 4 + 4].copy_from_slice(&v.to_le_bytes()),
                }
            }
        }
        Ok(())
    }
}
