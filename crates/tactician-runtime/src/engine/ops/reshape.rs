//! RESHAPE: the same bytes per batch row under another shape (and the same type and
//! quantization), run as a copy into the output's region. It keeps the probabilities mark of
//! its input.

use crate::engine::arena::disjoint;
use crate::engine::builder::{Builder, UnaryIo, act_q, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{DType, Op};

/// A copy of an activation into the output's region.
#[derive(Debug, Clone)]
pub(in crate::engine) struct Step {
    x: usize,
    y: usize,
}

impl Step {
    /// Translates RESHAPE operator `oi` (`name`).
    pub(in crate::engine) fn translate(
        b: &mut Builder<'_>,
        oi: usize,
        name: &str,
        op: &Op,
    ) -> Result<Step> {
        let UnaryIo { xt, yt, x, y } = b.unary(
            oi,
            name,
            op,
            Some("reshape changes the size per batch row or the type"),
        )?;
        if xt.dtype == DType::I8 {
            let (q1, q2) = (act_q(oi, name, xt)?, act_q(oi, name, yt)?);
            if q1 != q2 {
                return Err(unsupported(oi, name, "reshape changes quantization"));
            }
        }
        b.probabilities[y] = b.probabilities[x];
        Ok(Step { x, y })
    }

    /// Copies `n` batch rows.
    #[inline]
    pub(in crate::engine) fn exec(&self, regs: &[Reg], arena: &mut [u8], n: usize) -> Result<()> {
        let r = |v: usize| regs[v].range(n);
        let Step { x, y } = self;
        let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
        yb.copy_from_slice(xb);
        Ok(())
    }
}
