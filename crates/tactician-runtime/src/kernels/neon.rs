//! aarch64 NEON kernels (NEON is part of the aarch64 baseline, so no run-time check is needed).
//!
//! The callers in `super` check every slice length before calling.

use std::arch::aarch64::*;

/// One tile of `R` weight rows times `B` input rows in float32.
///
/// # Safety
/// `w` holds `rows * cols` values, `x` holds `batch * cols`, `out` holds `batch * rows`, and
/// `r0 + R <= rows`, `b0 + B <= batch`.
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_f32<const R: usize, const B: usize>(
    w: &[f32],
    rows: usize,
    cols: usize,
    x: &[f32],
    out: &mut [f32],
    r0: usize,
    b0: usize,
) {
    let mut acc = [[vdupq_n_f32(0.0); B]; R];
    let wp = w.as_ptr();
    let xp = x.as_ptr();
    let full = cols / 4 * 4;
    let mut c = 0;
    while c < full {
        let mut xv = [vdupq_n_f32(0.0); B];
        for (j, v) in xv.iter_mut().enumerate() {
            // SAFETY: (b0 + j) * cols + c + 4 <= batch * cols since c + 4 <= full <= cols.
            *v = unsafe { vld1q_f32(xp.add((b0 + j) * cols + c)) };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: (r0 + i) * cols + c + 4 <= rows * cols for the same reason.
            let wv = unsafe { vld1q_f32(wp.add((r0 + i) * cols + c)) };
            for (j, a) in row.iter_mut().enumerate() {
                *a = vfmaq_f32(*a, wv, xv[j]);
            }
        }
        c += 4;
    }
    for i in 0..R {
        for j in 0..B {
            let mut s = vaddvq_f32(acc[i][j]);
            let wr = &w[(r0 + i) * cols..(r0 + i + 1) * cols];
            let xb = &x[(b0 + j) * cols..(b0 + j + 1) * cols];
            for k in full..cols {
                s += wr[k] * xb[k];
            }
            out[(b0 + j) * rows + r0 + i] = s;
        }
    }
}

/// NEON version of [`super::scalar::fc_f32`].
///
/// # Safety
/// The slices have the lengths `super::fc_f32` checks.
#[target_feature(enable = "neon")]
pub unsafe fn fc_f32(
    w: &[f32],
    rows: usize,
    cols: usize,
    x: &[f32],
    batch: usize,
    out: &mut [f32],
) {
    let mut b = 0;
    while b < batch {
        let nb = if batch - b >= 2 { 2 } else { 1 };
        let mut r = 0;
        while r + 4 <= rows {
            // SAFETY: r + 4 <= rows, b + nb <= batch; lengths checked by the caller.
            unsafe {
                if nb == 2 {
                    tile_f32::<4, 2>(w, rows, cols, x, out, r, b);
                } else {
                    tile_f32::<4, 1>(w, rows, cols, x, out, r, b);
                }
            }
            r += 4;
        }
        while r < rows {
            // SAFETY: r < rows, b + nb <= batch; lengths checked by the caller.
            unsafe {
                if nb == 2 {
                    tile_f32::<1, 2>(w, rows, cols, x, out, r, b);
                } else {
                    tile_f32::<1, 1>(w, rows, cols, x, out, r, b);
                }
            }
            r += 1;
        }
        b += nb;
    }
}

/// One tile of `R` int8 weight rows times `B` int8 input rows with int32 accumulation.
///
/// # Safety
/// As [`tile_f32`], with int8 slices.
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_i8<const R: usize, const B: usize>(
    w: &[i8],
    rows: usize,
    cols: usize,
    x: &[i8],
    out: &mut [i32],
    r0: usize,
    b0: usize,
) {
    let mut acc = [[vdupq_n_s32(0); B]; R];
    let wp = w.as_ptr();
    let xp = x.as_ptr();
    let full = cols / 16 * 16;
    let mut c = 0;
    while c < full {
        let mut xv = [vdupq_n_s8(0); B];
        for (j, v) in xv.iter_mut().enumerate() {
            // SAFETY: (b0 + j) * cols + c + 16 <= batch * cols since c + 16 <= full <= cols.
            *v = unsafe { vld1q_s8(xp.add((b0 + j) * cols + c)) };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: (r0 + i) * cols + c + 16 <= rows * cols for the same reason.
            let wv = unsafe { vld1q_s8(wp.add((r0 + i) * cols + c)) };
            for (j, a) in row.iter_mut().enumerate() {
                // Each int8·int8 product fits in int16; pairs are widened into int32 exactly.
                let lo = vmull_s8(vget_low_s8(wv), vget_low_s8(xv[j]));
                let hi = vmull_high_s8(wv, xv[j]);
                *a = vpadalq_s16(vpadalq_s16(*a, lo), hi);
            }
        }
        c += 16;
    }
    for i in 0..R {
        for j in 0..B {
            let mut s = vaddvq_s32(acc[i][j]);
            let wr = &w[(r0 + i) * cols..(r0 + i + 1) * cols];
            let xb = &x[(b0 + j) * cols..(b0 + j + 1) * cols];
            for k in full..cols {
                s += i32::from(wr[k]) * i32::from(xb[k]);
            }
            out[(b0 + j) * rows + r0 + i] = s;
        }
    }
}

/// NEON version of [`super::scalar::matmul_i8`].
///
/// # Safety
/// The slices have the lengths `super::matmul_i8` checks.
#[target_feature(enable = "neon")]
pub unsafe fn matmul_i8(
    w: &[i8],
    rows: usize,
    cols: usize,
    x: &[i8],
    batch: usize,
    out: &mut [i32],
) {
    let mut b = 0;
    while b < batch {
        let nb = if batch - b >= 2 { 2 } else { 1 };
        let mut r = 0;
        while r + 4 <= rows {
            // SAFETY: r + 4 <= rows, b + nb <= batch; lengths checked by the caller.
            unsafe {
                if nb == 2 {
                    tile_i8::<4, 2>(w, rows, cols, x, out, r, b);
                } else {
                    tile_i8::<4, 1>(w, rows, cols, x, out, r, b);
                }
            }
            r += 4;
        }
        while r < rows {
            // SAFETY: r < rows, b + nb <= batch; lengths checked by the caller.
            unsafe {
                if nb == 2 {
                    tile_i8::<1, 2>(w, rows, cols, x, out, r, b);
                } else {
                    tile_i8::<1, 1>(w, rows, cols, x, out, r, b);
                }
            }
            r += 1;
        }
        b += nb;
    }
}

/// Peak float32 multiply-accumulate probe: `iters` rounds of 10 independent 4-lane FMA chains
/// (40 MACs per round).
#[target_feature(enable = "neon")]
pub fn fma_peak(iters: usize, seed: f32) -> f32 {
    let m = vdupq_n_f32(0.999_999);
    let mut acc = [vdupq_n_f32(seed); 10];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = vaddq_f32(*a, vdupq_n_f32(i as f32));
    }
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = vfmaq_f32(m, *a, m);
        }
    }
    acc.iter().map(|a| vaddvq_f32(*a)).sum()
}

/// Peak int8 multiply-accumulate probe with the int8 kernel's instructions (`smull` +
/// `sadalp`: 16 MACs per pair), 10 chains, 160 MACs per round.
#[target_feature(enable = "neon")]
pub fn i8_peak(iters: usize, seed: i8) -> i32 {
    // The operand changes every round so that no product can be hoisted out of the loop.
    let one = vdupq_n_s8(1);
    let mut m = vdupq_n_s8(seed);
    let mut acc = [vdupq_n_s32(0); 10];
    for _ in 0..iters {
        m = vaddq_s8(m, one);
        for (i, a) in acc.iter_mut().enumerate() {
            let k = vdupq_n_s8(i as i8 + 1);
            let lo = vmull_s8(vget_low_s8(m), vget_low_s8(k));
            let hi = vmull_high_s8(m, k);
            *a = vpadalq_s16(vpadalq_s16(*a, lo), hi);
        }
    }
    acc.iter()
        .map(|a| vaddvq_s32(*a))
        .fold(0i32, i32::wrapping_add)
}

/// Sums a buffer with 4 × 4-lane accumulators: a read-bandwidth probe.
///
/// # Safety
/// None beyond NEON (baseline on aarch64); kept `unsafe` for symmetry with x86.
#[target_feature(enable = "neon")]
pub unsafe fn read_sum(buf: &[f32]) -> f32 {
    let mut acc = [vdupq_n_f32(0.0); 4];
    let chunks = buf.chunks_exact(16);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (j, a) in acc.iter_mut().enumerate() {
            // SAFETY: `c` has 16 values, so offsets 4j..4j+4 (j < 4) are inside it.
            let v = unsafe { vld1q_f32(c.as_ptr().add(4 * j)) };
            *a = vaddq_f32(*a, v);
        }
    }
    acc.iter().map(|a| vaddvq_f32(*a)).sum::<f32>() + tail
}

/// TFLite's single-rounding `MultiplyByQuantizedMultiplier` on 4 lanes, then `+ zp` and a clamp
/// to `[lo, hi]`, written as int8: `vmull_s32` forms the exact 64-bit product, `vrshlq_s64` by
/// `−(31 − shift)` is the rounding (ties toward +∞) arithmetic shift, `vqmovn_s64` saturates to
/// int32 and `vqaddq_s32` adds the zero point with saturation: the scalar definition step by step.
///
/// # Safety
/// `acc`, `mult`, `shift` and `out` have the same length.
#[target_feature(enable = "neon")]
#[allow(clippy::too_many_arguments)]
pub unsafe fn requantize(
    acc: &[i32],
    mult: &[i32],
    shift: &[i32],
    zp: i32,
    lo: i32,
    hi: i32,
    out: &mut [i8],
) {
    let n = acc.len();
    let full = n / 4 * 4;
    let (s_min, s_max, k31) = (vdupq_n_s32(-31), vdupq_n_s32(30), vdupq_n_s32(31));
    let (vzp, vlo, vhi) = (vdupq_n_s32(zp), vdupq_n_s32(lo), vdupq_n_s32(hi));
    let mut i = 0;
    while i < full {
        // SAFETY: i + 4 <= full <= n, and all slices have length n.
        let (x, m, s) = unsafe {
            (
                vld1q_s32(acc.as_ptr().add(i)),
                vld1q_s32(mult.as_ptr().add(i)),
                vld1q_s32(shift.as_ptr().add(i)),
            )
        };
        // −total = shift − 31, in [−62, −1].
        let neg_t = vsubq_s32(vminq_s32(vmaxq_s32(s, s_min), s_max), k31);
        let p0 = vmull_s32(vget_low_s32(x), vget_low_s32(m));
        let p1 = vmull_s32(vget_high_s32(x), vget_high_s32(m));
        let r0 = vrshlq_s64(p0, vmovl_s32(vget_low_s32(neg_t)));
        let r1 = vrshlq_s64(p1, vmovl_s32(vget_high_s32(neg_t)));
        let q = vcombine_s32(vqmovn_s64(r0), vqmovn_s64(r1));
        let q = vminq_s32(vmaxq_s32(vqaddq_s32(q, vzp), vlo), vhi);
        let mut lanes = [0i32; 4];
        // SAFETY: `lanes` holds 4 int32.
        unsafe { vst1q_s32(lanes.as_mut_ptr(), q) };
        for (o, v) in out[i..i + 4].iter_mut().zip(lanes) {
            *o = v as i8;
        }
        i += 4;
    }
    super::scalar::requantize(
        &acc[full..],
        &mult[full..],
        &shift[full..],
        zp,
        lo,
        hi,
        &mut out[full..],
    );
}
