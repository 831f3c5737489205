//! Float32 products: the row-major kernel (tiles of 4 weight rows × 2 input rows with
//! horizontal sums) and the panel kernel on [`crate::kernels::PackedF32`]'s 8-row blocks, whose
//! outputs come out 8 at a time.

use std::arch::x86_64::*;

/// Horizontal sum of the eight lanes of `v`.
#[target_feature(enable = "avx2,fma")]
pub(super) fn hsum_ps(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

/// The horizontal sums of four float accumulators at once.
#[target_feature(enable = "avx2,fma")]
fn hsum4_ps(a: [__m256; 4]) -> [f32; 4] {
    let t0 = _mm256_hadd_ps(a[0], a[1]);
    let t1 = _mm256_hadd_ps(a[2], a[3]);
    let t2 = _mm256_hadd_ps(t0, t1);
    let s = _mm_add_ps(_mm256_castps256_ps128(t2), _mm256_extractf128_ps::<1>(t2));
    let mut out = [0f32; 4];
    out[0] = _mm_cvtss_f32(s);
    out[1] = _mm_cvtss_f32(_mm_shuffle_ps::<0b01_01_01_01>(s, s));
    out[2] = _mm_cvtss_f32(_mm_shuffle_ps::<0b10_10_10_10>(s, s));
    out[3] = _mm_cvtss_f32(_mm_shuffle_ps::<0b11_11_11_11>(s, s));
    out
}

/// One tile of `R` weight rows times `B` input rows in float32.
///
/// # Safety
/// The CPU supports AVX2 and FMA; `w` holds `rows * cols` values, `x` holds `batch * cols`,
/// `out` holds `batch * rows`, and `r0 + R <= rows`, `b0 + B <= batch`.
#[target_feature(enable = "avx2,fma")]
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
    let mut acc = [[_mm256_setzero_ps(); B]; R];
    let wp = w.as_ptr();
    let xp = x.as_ptr();
    let full = cols / 8 * 8;
    let mut c = 0;
    while c < full {
        let mut xv = [_mm256_setzero_ps(); B];
        for (j, v) in xv.iter_mut().enumerate() {
            // SAFETY: (b0 + j) * cols + c + 8 <= batch * cols because c + 8 <= full <= cols.
            *v = unsafe { _mm256_loadu_ps(xp.add((b0 + j) * cols + c)) };
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: (r0 + i) * cols + c + 8 <= rows * cols for the same reason.
            let wv = unsafe { _mm256_loadu_ps(wp.add((r0 + i) * cols + c)) };
            for (j, a) in row.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(wv, xv[j], *a);
            }
        }
        c += 8;
    }
    let mut sums = [[0f32; B]; R];
    if R == 4 {
        for j in 0..B {
            let s4 = hsum4_ps([acc[0][j], acc[1][j], acc[2][j], acc[3][j]]);
            for i in 0..4 {
                sums[i][j] = s4[i];
            }
        }
    } else {
        for i in 0..R {
            for j in 0..B {
                sums[i][j] = hsum_ps(acc[i][j]);
            }
        }
    }
    for i in 0..R {
        for j in 0..B {
            let mut s = sums[i][j];
            let wr = &w[(r0 + i) * cols..(r0 + i + 1) * cols];
            let xb = &x[(b0 + j) * cols..(b0 + j + 1) * cols];
            for k in full..cols {
                s += wr[k] * xb[k];
            }
            out[(b0 + j) * rows + r0 + i] = s;
        }
    }
}

/// AVX2+FMA version of [`crate::kernels::scalar::fc_f32`].
///
/// # Safety
/// The CPU supports AVX2 and FMA and the slices have the lengths `crate::kernels::Kernels::fc_f32`
/// checks.
#[target_feature(enable = "avx2,fma")]
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

/// One panel of `RB` blocks of 8 float32 weight rows (from block `rb0`) times one input row,
/// in the panel layout of [`crate::kernels::PackedF32`]: for each column in turn, the panel's `RB`
/// vectors of 8 rows lie side by side, so the panel is one sequential stream and each
/// broadcast input value meets 8 rows per FMA; a block's 8 outputs come out as one vector.
/// Every output is one FMA chain over the columns in order, as in [`panel_f32_2`], so a row
/// gives the same bits alone or in a batch.
///
/// # Safety
/// The CPU supports AVX2 and FMA; `panel` holds `cols * RB * 8` floats, `x` holds `cols`,
/// `out` holds `rows`, and `8 * rb0 < rows`.
#[target_feature(enable = "avx2,fma")]
unsafe fn panel_f32_1<const RB: usize>(
    panel: &[f32],
    cols: usize,
    x: &[f32],
    out: &mut [f32],
    rb0: usize,
) {
    let mut acc = [_mm256_setzero_ps(); RB];
    let (wp, xp) = (panel.as_ptr(), x.as_ptr());
    for c in 0..cols {
        // SAFETY: c < cols = x.len(); (c * RB + i) * 8 + 8 <= cols * RB * 8.
        unsafe {
            let xv = _mm256_set1_ps(*xp.add(c));
            for (i, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(_mm256_loadu_ps(wp.add((c * RB + i) * 8)), xv, *a);
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        store_f32x8(*a, out, (rb0 + i) * 8);
    }
}

/// [`panel_f32_1`] for two input rows `x0`, `x1` (outputs `out0`, `out1`): each weight
/// vector is loaded once for both.
///
/// # Safety
/// As [`panel_f32_1`], for both rows.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn panel_f32_2<const RB: usize>(
    panel: &[f32],
    cols: usize,
    x0: &[f32],
    x1: &[f32],
    out0: &mut [f32],
    out1: &mut [f32],
    rb0: usize,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; RB];
    let wp = panel.as_ptr();
    for c in 0..cols {
        // SAFETY: c < cols = x0.len() = x1.len(); (c * RB + i) * 8 + 8 <= cols * RB * 8.
        unsafe {
            let (b0, b1) = (
                _mm256_set1_ps(*x0.as_ptr().add(c)),
                _mm256_set1_ps(*x1.as_ptr().add(c)),
            );
            for (i, a) in acc.iter_mut().enumerate() {
                let w = _mm256_loadu_ps(wp.add((c * RB + i) * 8));
                a[0] = _mm256_fmadd_ps(w, b0, a[0]);
                a[1] = _mm256_fmadd_ps(w, b1, a[1]);
            }
        }
    }
    for (i, a) in acc.iter().enumerate() {
        store_f32x8(a[0], out0, (rb0 + i) * 8);
        store_f32x8(a[1], out1, (rb0 + i) * 8);
    }
}

/// Stores the 8 lanes of `v` at `out[r..r + 8]`, or as many as `out` has room for.
#[target_feature(enable = "avx2,fma")]
fn store_f32x8(v: __m256, out: &mut [f32], r: usize) {
    if r + 8 <= out.len() {
        // SAFETY: r + 8 <= out.len().
        unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(r), v) };
    } else if r < out.len() {
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds 8 floats.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
        let n = out.len() - r;
        out[r..].copy_from_slice(&lanes[..n]);
    }
}

/// [`crate::kernels::scalar::fc_f32`] on weights packed in panels of 8-row blocks (see
/// [`panel_f32_1`]): one input row at a time, or two sharing each weight load.
///
/// # Safety
/// The CPU supports AVX2 and FMA, `w` is laid out as `crate::kernels::PackedF32`'s panels of `rows`
/// × `cols`, and the slices have the lengths `crate::kernels::Kernels::fc_packed` checks.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn fc_panels(
    w: &[f32],
    rows: usize,
    cols: usize,
    x: &[f32],
    batch: usize,
    out: &mut [f32],
) {
    let blocks = rows.div_ceil(8);
    let mut rb = 0;
    while rb < blocks {
        let nb = (blocks - rb).min(crate::kernels::PANEL_BLOCKS);
        let p = &w[rb * cols * 8..(rb + nb) * cols * 8];
        let mut b = 0;
        while b + 2 <= batch {
            let (x0, x1) = (
                &x[b * cols..(b + 1) * cols],
                &x[(b + 1) * cols..(b + 2) * cols],
            );
            let (o0, o1) = out[b * rows..(b + 2) * rows].split_at_mut(rows);
            // SAFETY: `p` is this panel (nb blocks), 8rb < rows, and each input and output
            // row has its full length.
            unsafe {
                match nb {
                    4 => panel_f32_2::<4>(p, cols, x0, x1, o0, o1, rb),
                    3 => panel_f32_2::<3>(p, cols, x0, x1, o0, o1, rb),
                    2 => panel_f32_2::<2>(p, cols, x0, x1, o0, o1, rb),
                    _ => panel_f32_2::<1>(p, cols, x0, x1, o0, o1, rb),
                }
            }
            b += 2;
        }
        if b < batch {
            let (xr, o) = (
                &x[b * cols..(b + 1) * cols],
                &mut out[b * rows..(b + 1) * rows],
            );
            // SAFETY: as above, for one row.
            unsafe {
                match nb {
                    4 => panel_f32_1::<4>(p, cols, xr, o, rb),
                    3 => panel_f32_1::<3>(p, cols, xr, o, rb),
                    2 => panel_f32_1::<2>(p, cols, xr, o, rb),
                    _ => panel_f32_1::<1>(p, cols, xr, o, rb),
                }
            }
        }
        rb += nb;
    }
}
