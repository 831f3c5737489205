//! The activation arena's plan: every activation and scratch buffer is a [`Value`] live from
//! the step that writes it to its last reader, and [`plan`] places them all once, at fixed
//! offsets of one arena sized for the largest batch ([`Reg`]).

use std::ops::Range;

use crate::error::{Error, Result};

/// Alignment of every arena region (a cache line).
const ALIGN: usize = 64;

/// A planned arena region: byte offset and bytes per batch row.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Reg {
    off: usize,
    row_bytes: usize,
}

impl Reg {
    /// The region's bytes for a batch of `n` rows.
    #[inline]
    pub(super) fn range(&self, n: usize) -> Range<usize> {
        self.off..self.off + self.row_bytes * n
    }
}

/// A buffer the planner places: its size per batch row and the steps it is live for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Value {
    /// Bytes per batch row.
    pub(super) row_bytes: usize,
    /// The step that writes it.
    pub(super) first: usize,
    /// The last step that reads it.
    pub(super) last: usize,
}

/// Greedy-by-size placement: the largest buffers first, each at the lowest aligned offset not
/// overlapping any already placed buffer whose lifetime intersects its own.
pub(super) fn plan(values: &[Value], max_batch: usize) -> Result<(Vec<Reg>, usize)> {
    let size = |v: &Value| -> Result<usize> {
        v.row_bytes
            .checked_mul(max_batch)
            .map(|s| s.div_ceil(ALIGN) * ALIGN)
            .ok_or_else(|| Error::Unsupported("tensor sizes overflow".into()))
    };
    let mut order: Vec<usize> = (0..values.len()).collect();
    let sizes = values.iter().map(size).collect::<Result<Vec<_>>>()?;
    order.sort_by_key(|&i| (std::cmp::Reverse(sizes[i]), i));
    let mut placed: Vec<(usize, usize, usize)> = Vec::new(); // (value, start, end)
    let mut regs = vec![Reg::default(); values.len()];
    let mut total = 0usize;
    for &i in &order {
        let v = values[i];
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&(j, _, _)| values[j].first <= v.last && v.first <= values[j].last)
            .map(|&(_, s, e)| (s, e))
            .collect();
        busy.sort_unstable();
        let mut off = 0usize;
        for (s, e) in busy {
            if off + sizes[i] <= s {
                break;
            }
            off = off.max(e);
        }
        placed.push((i, off, off + sizes[i]));
        regs[i] = Reg {
            off,
            row_bytes: v.row_bytes,
        };
        total = total.max(off + sizes[i]);
    }
    if total > (1usize << 31) {
        return Err(Error::Unsupported(format!(
            "the model needs {total} bytes of activations"
        )));
    }
    Ok((regs, total))
}
