//! What every operator's translation shares: resolving tensor indices, turning activation
//! tensors into planned [`Value`]s (recording each one's liveness as it is read), reading
//! constant tensors and per-tensor quantization, and the error naming the refused operator.

use crate::error::{Error, Result};
use crate::graph::{DType, Graph, Op, Tensor};
use crate::kernels::Kernels;

use super::plan::Value;

/// An operator the engine refuses, with the reason.
pub(super) fn unsupported(op_index: usize, op: &str, reason: impl Into<String>) -> Error {
    Error::UnsupportedOp {
        op_index,
        op: op.to_string(),
        reason: reason.into(),
    }
}

/// Builder state shared by the per-operator translations.
pub(super) struct Builder<'g> {
    pub(super) g: &'g Graph,
    pub(super) kernels: Kernels,
    pub(super) batched: bool,
    /// Value id of each activation tensor, once written (or a graph input).
    pub(super) value_of: Vec<Option<usize>>,
    pub(super) values: Vec<Value>,
    pub(super) probabilities: Vec<bool>,
}

fn elements(shape: &[i32]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
    })
}

/// The contents of a constant float32 tensor.
pub(super) fn const_f32(t: &Tensor) -> Option<Vec<f32>> {
    let d = t.data.as_ref()?;
    Some(
        d.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// The contents of a constant int32 tensor.
pub(super) fn const_i32(t: &Tensor) -> Option<Vec<i32>> {
    let d = t.data.as_ref()?;
    Some(
        d.chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

/// The contents of a constant int8 tensor.
pub(super) fn const_i8(t: &Tensor) -> Option<Vec<i8>> {
    Some(t.data.as_ref()?.iter().map(|&b| b as i8).collect())
}

/// Per-tensor quantization (scale, zero point), checked to be usable.
fn per_tensor(t: &Tensor) -> std::result::Result<(f32, i32), String> {
    let q = t
        .quant
        .as_ref()
        .ok_or_else(|| format!("int8 tensor '{}' has no quantization parameters", t.name))?;
    if q.scale.len() != 1 || q.zero_point.len() > 1 {
        return Err(format!(
            "tensor '{}' needs per-tensor quantization, has {} scales",
            t.name,
            q.scale.len()
        ));
    }
    let scale = q.scale[0];
    if !(scale.is_finite() && scale > 0.0) {
        return Err(format!(
            "tensor '{}' has quantization scale {scale}",
            t.name
        ));
    }
    let zp = q.zero_point.first().copied().unwrap_or(0);
    if !(-128..=127).contains(&zp) {
        return Err(format!("tensor '{}' has int8 zero point {zp}", t.name));
    }
    Ok((scale, zp as i32))
}

/// Quantization of an int8 activation, as an error naming the op when unusable.
pub(super) fn act_q(oi: usize, op: &str, t: &Tensor) -> Result<(f32, i32)> {
    per_tensor(t).map_err(|e| unsupported(oi, op, e))
}

/// Checks that operator `oi` (`op`, named `name`) has at least `n_in` inputs and exactly
/// `n_out` outputs.
pub(super) fn arity(oi: usize, name: &str, op: &Op, n_in: usize, n_out: usize) -> Result<()> {
    if op.inputs.len() < n_in || op.outputs.len() != n_out {
        return Err(unsupported(
            oi,
            name,
            format!("expected {n_in} inputs and {n_out} outputs"),
        ));
    }
    Ok(())
}

/// The input and output of a one-in, one-out operator, planned: their tensors and values.
pub(in crate::engine) struct UnaryIo<'g> {
    /// The input tensor.
    pub(in crate::engine) xt: &'g Tensor,
    /// The output tensor.
    pub(in crate::engine) yt: &'g Tensor,
    /// The input's value.
    pub(in crate::engine) x: usize,
    /// The output's value.
    pub(in crate::engine) y: usize,
}

impl<'g> Builder<'g> {
    /// Resolves and plans the first input and the output of operator `oi` (`op`, named
    /// `name`), read and written at step `oi`. With `same_layout`, refuses an output whose type
    /// or size per batch row differs from the input's, saying `why` it must not.
    pub(super) fn unary(
        &mut self,
        oi: usize,
        name: &str,
        op: &Op,
        same_layout: Option<&str>,
    ) -> Result<UnaryIo<'g>> {
        let xt = self.tensor(oi, name, op.inputs[0])?;
        let yt = self.tensor(oi, name, op.outputs[0])?;
        let x = self.read(oi, name, op.inputs[0], oi)?;
        let y = self.write(oi, name, op.outputs[0], oi)?;
        if let Some(why) = same_layout
            && (self.values[x].row_bytes != self.values[y].row_bytes || xt.dtype != yt.dtype)
        {
            return Err(unsupported(oi, name, why));
        }
        Ok(UnaryIo { xt, yt, x, y })
    }

    /// Tensor `idx` of the graph.
    pub(super) fn tensor(&self, op_index: usize, op: &str, idx: i32) -> Result<&'g Tensor> {
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.g.tensors.get(i))
            .ok_or_else(|| unsupported(op_index, op, format!("tensor index {idx} out of range")))
    }

    /// Values per batch row of an activation tensor.
    fn row_of(&self, t: &Tensor) -> Option<usize> {
        if self.batched {
            elements(t.shape.get(1..)?)
        } else {
            elements(&t.shape)
        }
    }

    /// The value id of an activation input (must have been written).
    pub(super) fn read(
        &mut self,
        op_index: usize,
        op: &str,
        idx: i32,
        step: usize,
    ) -> Result<usize> {
        let t = self.tensor(op_index, op, idx)?;
        if t.data.is_some() {
            return Err(unsupported(
                op_index,
                op,
                format!(
                    "constant tensor '{}' where an activation is expected",
                    t.name
                ),
            ));
        }
        let v = self.value_of[idx as usize].ok_or_else(|| {
            unsupported(
                op_index,
                op,
                format!("tensor '{}' is read before it is written", t.name),
            )
        })?;
        self.values[v].last = self.values[v].last.max(step);
        Ok(v)
    }

    /// Creates the value of an activation output.
    pub(super) fn write(
        &mut self,
        op_index: usize,
        op: &str,
        idx: i32,
        step: usize,
    ) -> Result<usize> {
        let t = self.tensor(op_index, op, idx)?;
        if t.data.is_some() || self.value_of[idx as usize].is_some() {
            return Err(unsupported(
                op_index,
                op,
                format!("output tensor '{}' is constant or written twice", t.name),
            ));
        }
        let row = self.row_of(t).ok_or_else(|| {
            unsupported(
                op_index,
                op,
                format!("tensor '{}' has shape {:?}", t.name, t.shape),
            )
        })?;
        let size = match t.dtype {
            DType::F32 | DType::I32 => 4,
            DType::I8 => 1,
            DType::Other(ref n) => {
                return Err(unsupported(
                    op_index,
                    op,
                    format!("tensor type {n} is not supported"),
                ));
            }
        };
        let v = self.scratch(row * size, step);
        self.value_of[idx as usize] = Some(v);
        Ok(v)
    }

    /// Creates a scratch buffer of `row_bytes` per batch row, live for `step` only.
    pub(super) fn scratch(&mut self, row_bytes: usize, step: usize) -> usize {
        self.values.push(Value {
            row_bytes,
            first: step,
            last: step,
        });
        self.probabilities.push(false);
        self.values.len() - 1
    }
}
