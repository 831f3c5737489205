//! FULLY_CONNECTED: the checks on weights, bias and shapes, the weights packed for the
//! selected kernels, and the three forms it runs in: float32, hybrid (int8 weights on float32
//! activations, each batch row quantized on the fly) and int8 (integer requantization).

use crate::engine::Stats;
use crate::engine::arena::{as_f32, as_f32_mut, as_i8, as_i8_mut, as_i32_mut, disjoint, internal};
use crate::engine::builder::{Builder, act_q, const_f32, const_i8, const_i32, unsupported};
use crate::engine::plan::Reg;
use crate::error::Result;
use crate::graph::{DType, Op, Quantization, Tensor};
use crate::kernels::{Kernels, PackedF32, PackedI8};
use crate::quant::{self, Activation};

/// A fully-connected layer with its weights packed for the kernels.
#[derive(Debug, Clone)]
pub(in crate::engine) enum Step {
    /// Float32 weights and activations.
    F32 {
        x: usize,
        y: usize,
        k: usize,
        w: PackedF32,
        bias: Vec<f32>,
        rows: usize,
        act: Activation,
    },
    /// Int8 weights on float32 activations, quantized per batch row on the fly.
    Hybrid {
        x: usize,
        y: usize,
        xq: usize,
        acc: usize,
        sc: usize,
        k: usize,
        w: PackedI8,
        row_sums: Vec<i32>,
        chan_scale: Vec<f32>,
        bias: Vec<f32>,
        rows: usize,
        cols: usize,
        act: Activation,
        asym: bool,
    },
    /// Int8 weights and activations (TFLite's integer requantization).
    I8 {
        x: usize,
        y: usize,
        acc: usize,
        k: usize,
        w: PackedI8,
        /// `bias - x_zp · Σw + cols · w_zp · x_zp`, added to every accumulator.
        bias_adj: Vec<i32>,
        mult: Vec<i32>,
        shift: Vec<i32>,
        wzp: i32,
        yzp: i32,
        lo: i32,
        hi: i32,
        rows: usize,
        cols: usize,
    },
}

/// Per-output-channel scales of a weight tensor `[rows, cols]` (one scale broadcast to all
/// rows for per-tensor quantization) and its zero point.
fn channel_scales(t: &Tensor, rows: usize) -> std::result::Result<(Vec<f32>, i32), String> {
    let q: &Quantization = t
        .quant
        .as_ref()
        .ok_or_else(|| format!("int8 weights '{}' have no quantization parameters", t.name))?;
    let scales = if q.scale.len() == 1 {
        vec![q.scale[0]; rows]
    } else if q.scale.len() == rows && q.axis == 0 {
        q.scale.clone()
    } else {
        return Err(format!(
            "weights '{}': {} scales on axis {} for {rows} output channels",
            t.name,
            q.scale.len(),
            q.axis
        ));
    };
    if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(format!("weights '{}' have a non-positive scale", t.name));
    }
    let zp = match q.zero_point.as_slice() {
        [] => 0,
        [z, rest @ ..] if rest.iter().all(|r| r == z) => *z,
        _ => return Err(format!("weights '{}' have differing zero points", t.name)),
    };
    if !(-128..=127).contains(&zp) || (q.scale.len() > 1 && zp != 0) {
        return Err(format!("weights '{}' have zero point {zp}", t.name));
    }
    Ok((scales, zp as i32))
}

impl Step {
    /// Translates FULLY_CONNECTED operator `oi` (`name`) with its fused `activation` and
    /// hybrid input quantization (`asymmetric_quantize_inputs`).
    pub(in crate::engine) fn translate(
        b: &mut Builder<'_>,
        oi: usize,
        name: &str,
        op: &Op,
        activation: Activation,
        asymmetric_quantize_inputs: bool,
        stats: &mut Stats,
    ) -> Result<Step> {
        let step = oi;
        let xt = b.tensor(oi, name, op.inputs[0])?;
        let wt = b.tensor(oi, name, op.inputs[1])?;
        let bt = match op.inputs.get(2) {
            Some(&i) if i >= 0 => Some(b.tensor(oi, name, i)?),
            _ => None,
        };
        let yt = b.tensor(oi, name, op.outputs[0])?;
        if wt.data.is_none() || wt.shape.len() != 2 {
            return Err(unsupported(
                oi,
                name,
                "weights must be a constant 2-D tensor",
            ));
        }
        if bt.is_some_and(|t| t.data.is_none()) {
            return Err(unsupported(oi, name, "bias must be constant"));
        }
        let rows = usize::try_from(wt.shape[0]).unwrap_or(0);
        let cols = usize::try_from(wt.shape[1]).unwrap_or(0);
        if rows == 0 || cols == 0 {
            return Err(unsupported(
                oi,
                name,
                format!("weights of shape {:?}", wt.shape),
            ));
        }
        let x = b.read(oi, name, op.inputs[0], step)?;
        let xrow = b.values[x].row_bytes / if xt.dtype == DType::I8 { 1 } else { 4 };
        if xrow % cols != 0 {
            return Err(unsupported(
                oi,
                name,
                format!("input rows of {xrow} values do not split into {cols} columns"),
            ));
        }
        let k = xrow / cols;
        let y = b.write(oi, name, op.outputs[0], step)?;
        let yrow = b.values[y].row_bytes / if yt.dtype == DType::I8 { 1 } else { 4 };
        if yrow != k * rows {
            return Err(unsupported(
                oi,
                name,
                format!("output holds {yrow} values per row, expected {}", k * rows),
            ));
        }
        let bias_len_ok = |n: usize| n == rows;
        match (&xt.dtype, &wt.dtype, &yt.dtype) {
            (DType::F32, DType::F32, DType::F32) => {
                let w = const_f32(wt).filter(|w| w.len() == rows * cols);
                let w =
                    w.ok_or_else(|| unsupported(oi, name, "weights buffer has the wrong size"))?;
                let bias = match bt {
                    Some(t) if t.dtype == DType::F32 => const_f32(t).unwrap_or_default(),
                    Some(t) => {
                        return Err(unsupported(oi, name, format!("{} bias", t.dtype.name())));
                    }
                    None => vec![0.0; rows],
                };
                if !bias_len_ok(bias.len()) {
                    return Err(unsupported(oi, name, "bias has the wrong size"));
                }
                let w = b
                    .kernels
                    .pack_f32(&w, rows, cols)
                    .map_err(|e| unsupported(oi, name, e.to_string()))?;
                stats.weight_bytes += w.bytes();
                stats.macs_per_row += k * rows * cols;
                // The official float kernel clamps to the activation's range, and a fused
                // TANH has no range: it is ignored there, so it is here.
                let act = if activation == Activation::Tanh {
                    Activation::None
                } else {
                    activation
                };
                Ok(Step::F32 {
                    x,
                    y,
                    k,
                    w,
                    bias,
                    rows,
                    act,
                })
            }
            (DType::F32, DType::I8, DType::F32) => {
                let w = const_i8(wt).filter(|w| w.len() == rows * cols);
                let w =
                    w.ok_or_else(|| unsupported(oi, name, "weights buffer has the wrong size"))?;
                let (chan_scale, wzp) =
                    channel_scales(wt, rows).map_err(|e| unsupported(oi, name, e))?;
                if wzp != 0 {
                    return Err(unsupported(oi, name, "hybrid weights must be symmetric"));
                }
                let bias = match bt {
                    Some(t) if t.dtype == DType::F32 => const_f32(t).unwrap_or_default(),
                    Some(t) => {
                        return Err(unsupported(oi, name, format!("{} bias", t.dtype.name())));
                    }
                    None => vec![0.0; rows],
                };
                if !bias_len_ok(bias.len()) {
                    return Err(unsupported(oi, name, "bias has the wrong size"));
                }
                let row_sums = w
                    .chunks_exact(cols)
                    .map(|r| r.iter().map(|&v| i32::from(v)).sum())
                    .collect();
                let xq = b.scratch(k * cols, step);
                let w = b
                    .kernels
                    .pack_i8(&w, rows, cols)
                    .map_err(|e| unsupported(oi, name, e.to_string()))?;
                let acc = b.scratch(k * rows * 4, step);
                let sc = b.scratch(k * 8, step);
                stats.weight_bytes += w.bytes();
                stats.int8_macs = true;
                stats.macs_per_row += k * rows * cols;
                Ok(Step::Hybrid {
                    x,
                    y,
                    xq,
                    acc,
                    sc,
                    k,
                    w,
                    row_sums,
                    chan_scale,
                    bias,
                    rows,
                    cols,
                    act: activation,
                    asym: asymmetric_quantize_inputs,
                })
            }
            (DType::I8, DType::I8, DType::I8) => {
                let w = const_i8(wt).filter(|w| w.len() == rows * cols);
                let w =
                    w.ok_or_else(|| unsupported(oi, name, "weights buffer has the wrong size"))?;
                let (xs, xzp) = act_q(oi, name, xt)?;
                let (ys, yzp) = act_q(oi, name, yt)?;
                let (ws, wzp) = channel_scales(wt, rows).map_err(|e| unsupported(oi, name, e))?;
                let bias = match bt {
                    Some(t) if t.dtype == DType::I32 => const_i32(t).unwrap_or_default(),
                    Some(t) => {
                        return Err(unsupported(
                            oi,
                            name,
                            format!("{} bias on int8", t.dtype.name()),
                        ));
                    }
                    None => vec![0; rows],
                };
                if !bias_len_ok(bias.len()) {
                    return Err(unsupported(oi, name, "bias has the wrong size"));
                }
                let (lo, hi) = activation
                    .range_i8(ys, yzp)
                    .ok_or_else(|| unsupported(oi, name, "fused TANH on int8"))?;
                let (mult, shift) = ws
                    .iter()
                    .map(|&s| {
                        quant::quantize_multiplier(f64::from(xs) * f64::from(s) / f64::from(ys))
                    })
                    .unzip();
                let cross = (cols as i32).wrapping_mul(wzp.wrapping_mul(xzp));
                let bias_adj = w
                    .chunks_exact(cols)
                    .zip(&bias)
                    .map(|(r, &b)| {
                        let sum: i32 = r.iter().map(|&v| i32::from(v)).sum();
                        b.wrapping_sub(xzp.wrapping_mul(sum)).wrapping_add(cross)
                    })
                    .collect();
                let acc = b.scratch(k * rows * 4, step);
                let w = b
                    .kernels
                    .pack_i8(&w, rows, cols)
                    .map_err(|e| unsupported(oi, name, e.to_string()))?;
                stats.weight_bytes += w.bytes();
                stats.int8_macs = true;
                stats.macs_per_row += k * rows * cols;
                Ok(Step::I8 {
                    x,
                    y,
                    acc,
                    k,
                    w,
                    bias_adj,
                    mult,
                    shift,
                    wzp,
                    yzp,
                    lo,
                    hi,
                    rows,
                    cols,
                })
            }
            (a, w, o) => Err(unsupported(
                oi,
                name,
                format!(
                    "input {}, weights {}, output {}: supported are float32, hybrid \
                     (float32 with int8 weights) and int8",
                    a.name(),
                    w.name(),
                    o.name()
                ),
            )),
        }
    }

    /// Runs the layer on `n` batch rows.
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
            Step::F32 {
                x,
                y,
                k,
                w,
                bias,
                rows,
                act,
            } => {
                let [xb, yb] = disjoint(arena, [r(*x), r(*y)])?;
                let (xs, ys) = (as_f32(xb)?, as_f32_mut(yb)?);
                let nb = n * k;
                kernels.fc_packed(w, xs, nb, ys).map_err(internal)?;
                for out in ys.chunks_exact_mut(*rows) {
                    for (o, bv) in out.iter_mut().zip(bias) {
                        *o += bv;
                    }
                    act.apply_f32(out);
                }
            }
            Step::Hybrid {
                x,
                y,
                xq,
                acc,
                sc,
                k,
                w,
                row_sums,
                chan_scale,
                bias,
                rows,
                cols,
                act,
                asym,
            } => {
                let [xb, yb, qb, ab, sb] =
                    disjoint(arena, [r(*x), r(*y), r(*xq), r(*acc), r(*sc)])?;
                let (xs, ys, qs, accs) =
                    (as_f32(xb)?, as_f32_mut(yb)?, as_i8_mut(qb), as_i32_mut(ab)?);
                let scs = as_f32_mut(sb)?;
                let nb = n * k;
                for bi in 0..nb {
                    let xr = &xs[bi * cols..(bi + 1) * cols];
                    let qr = &mut qs[bi * cols..(bi + 1) * cols];
                    let (s, zp) = if *asym {
                        kernels.asymmetric_quantize(xr, qr)
                    } else {
                        (kernels.symmetric_quantize(xr, qr), 0)
                    };
                    scs[2 * bi] = s;
                    scs[2 * bi + 1] = f32::from_bits(zp as u32);
                }
                kernels.matmul_packed(w, qs, nb, accs).map_err(internal)?;
                for bi in 0..nb {
                    let s = scs[2 * bi];
                    let zp = scs[2 * bi + 1].to_bits() as i32;
                    let out = &mut ys[bi * rows..(bi + 1) * rows];
                    let a = &accs[bi * rows..(bi + 1) * rows];
                    for r in 0..*rows {
                        let dot = a[r].wrapping_sub(zp.wrapping_mul(row_sums[r]));
                        out[r] = bias[r] + dot as f32 * (s * chan_scale[r]);
                    }
                    act.apply_f32(out);
                }
            }
            Step::I8 {
                x,
                y,
                acc,
                k,
                w,
                bias_adj,
                mult,
                shift,
                wzp,
                yzp,
                lo,
                hi,
                rows,
                cols,
            } => {
                let [xb, yb, ab] = disjoint(arena, [r(*x), r(*y), r(*acc)])?;
                let (xs, ys, accs) = (as_i8(xb), as_i8_mut(yb), as_i32_mut(ab)?);
                let nb = n * k;
                kernels.matmul_packed(w, xs, nb, accs).map_err(internal)?;
                for bi in 0..nb {
                    // Σx is only needed for weights with a zero point (never per-channel ones).
                    let sum_x: i32 = if *wzp != 0 {
                        xs[bi * cols..(bi + 1) * cols]
                            .iter()
                            .map(|&v| i32::from(v))
                            .sum()
                    } else {
                        0
                    };
                    let base = wzp.wrapping_mul(sum_x);
                    let a = &mut accs[bi * rows..(bi + 1) * rows];
                    for (v, &adj) in a.iter_mut().zip(bias_adj) {
                        *v = v.wrapping_add(adj).wrapping_sub(base);
                    }
                    let out = &mut ys[bi * rows..(bi + 1) * rows];
                    kernels
                        .requantize(a, mult, shift, *yzp, *lo, *hi, out)
                        .map_err(internal)?;
                }
            }
        }
        Ok(())
    }
}
