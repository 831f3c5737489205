//! The operator table: which family translates each builtin operator, and the [`Step`] a
//! planned model runs, dispatched to its family without boxing.
//!
//! Each family module owns both halves of its operators: the translation from the graph's
//! operator (every check and error message) to a step with its constants in kernel-ready form,
//! and that step's execution on the arena.
//!
//! The `exec` methods, and the small helpers they call from other modules (arena views,
//! [`crate::quant::Activation::apply_f32`]), are `#[inline]`: the compiler then builds
//! `Engine::run` as one loop with every operator's code inlined, as if they were one module,
//! with no call per step.

mod activation;
mod binary;
mod fully_connected;
mod quantize;
mod reshape;
mod softmax;

use crate::engine::Stats;
use crate::engine::builder::{Builder, arity, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{Op, OpKind};
use crate::kernels::Kernels;

/// One operator of a planned model, ready to run.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// FULLY_CONNECTED.
    FullyConnected(fully_connected::Step),
    /// RELU, RELU6, TANH, LOGISTIC.
    Activation(activation::Step),
    /// SOFTMAX.
    Softmax(softmax::Step),
    /// QUANTIZE, DEQUANTIZE.
    Quantize(quantize::Step),
    /// RESHAPE.
    Reshape(reshape::Step),
    /// ADD, MUL.
    Binary(binary::Step),
}

/// Validates operator `oi` of the graph and translates it with its family, adding its figures
/// to `stats`.
pub(super) fn translate(
    b: &mut Builder<'_>,
    oi: usize,
    op: &Op,
    stats: &mut Stats,
) -> Result<Step> {
    let name = op.kind.name().to_string();
    let name = name.as_str();
    match &op.kind {
        OpKind::Unsupported { name } => Err(unsupported(
            oi,
            name,
            "this operator is not implemented by tactician-runtime (supported: FULLY_CONNECTED, \
             RELU, RELU6, TANH, LOGISTIC, SOFTMAX, QUANTIZE, DEQUANTIZE, RESHAPE, ADD, MUL)",
        )),
        OpKind::FullyConnected {
            activation,
            asymmetric_quantize_inputs,
            ..
        } => {
            arity(oi, name, op, 2, 1)?;
            let (act, asym) = (*activation, *asymmetric_quantize_inputs);
            fully_connected::Step::translate(b, oi, name, op, act, asym, stats)
                .map(Step::FullyConnected)
        }
        OpKind::Relu | OpKind::Relu6 | OpKind::Tanh | OpKind::Logistic => {
            arity(oi, name, op, 1, 1)?;
            activation::Step::translate(b, oi, name, op).map(Step::Activation)
        }
        OpKind::Softmax { beta } => {
            arity(oi, name, op, 1, 1)?;
            softmax::Step::translate(b, oi, name, op, *beta).map(Step::Softmax)
        }
        OpKind::Quantize | OpKind::Dequantize => {
            arity(oi, name, op, 1, 1)?;
            quantize::Step::translate(b, oi, name, op).map(Step::Quantize)
        }
        OpKind::Reshape => {
            arity(oi, name, op, 1, 1)?;
            reshape::Step::translate(b, oi, name, op).map(Step::Reshape)
        }
        OpKind::Add { activation } | OpKind::Mul { activation } => {
            arity(oi, name, op, 2, 1)?;
            binary::Step::translate(b, oi, name, op, *activation).map(Step::Binary)
        }
    }
}

impl Step {
    /// Runs the step on the first `n` rows of the arena's planned regions `regs`.
    #[inline]
    pub(super) fn exec(
        &self,
        kernels: &Kernels,
        regs: &[Reg],
        arena: &mut [u8],
        n: usize,
    ) -> Result<()> {
        match self {
            Step::FullyConnected(s) => s.exec(kernels, regs, arena, n),
            Step::Activation(s) => s.exec(regs, arena, n),
            Step::Softmax(s) => s.exec(regs, arena, n),
            Step::Quantize(s) => s.exec(kernels, regs, arena, n),
            Step::Reshape(s) => s.exec(regs, arena, n),
            Step::Binary(s) => s.exec(regs, arena, n),
        }
    }
}
