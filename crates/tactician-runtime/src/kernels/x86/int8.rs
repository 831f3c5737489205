//! Int8 products on row-major weights, kept as int8 or widened to int16 once at load: tiles of
//! 4 weight rows × 2 input rows, `vpmaddwd` into int32 lanes, and horizontal sums.

use std::arch::x86_64::*;

/// Horizontal sum of the eight int32 lanes of `v`.
#[target_feature(enable = "avx2,fma")]
pub(super) fn hsum_epi32(v: __m256i) -> i32 {
    let lo = _mm256_castsi256_si128(v);
    let hi = _mm256_extracti128_si256::<1>(v);
    let s = _mm_add_epi32(lo, hi);
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// One tile of `R` int8 weight rows times `B` int8 input rows with int32 accumulation.
///
/// # Safety
/// As `super::float::tile_f32`, with int8 slices.
#[target_feature(enable = "avx2,fma")]
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
    let mut acc = [[_mm256_setzero_si256(); B]; R];
    let wp = w.as_ptr();
    let xp = x.as_ptr();
    let full = cols / 16 * 16;
    let mut c = 0;
    while c < full {
        let mut xv = [_mm256_setzero_si256(); B];
        for (j, v) in xv.iter_mut().enumerate() {
            // SAFETY: (b0 + j) * cols + c + 16 <= batch * cols since c + 16 <= full <= cols.
            let raw = unsafe { _mm_loadu_si128(xp.add((b0 + j) * cols + c).cast()) };
            *v = _mm256_cvtepi8_epi16(raw);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: (r0 + i) * cols + c + 16 <= rows * cols for the same reason.
            let raw = unsafe { _mm_loadu_si128(wp.add((r0 + i) * cols + c).cast()) };
            let wv = _mm256_cvtepi8_epi16(raw);
            for (j, a) in row.iter_mut().enumerate() {
                // int8·int8 products fit in int16 lanes; madd sums pairs exactly into int32.
                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(wv, xv[j]));
            }
        }
        c += 16;
    }
    for i in 0..R {
        for j in 0..B {
            let mut s = hsum_epi32(acc[i][j]);
            let wr = &w[(r0 + i) * cols..(r0 + i + 1) * cols];
            let xb = &x[(b0 + j) * cols..(b0 + j + 1) * cols];
            for k in full..cols {
                s += i32::from(wr[k]) * i32::from(xb[k]);
            }
            out[(b0 + j) * rows + r0 + i] = s;
        }
    }
}

/// AVX2 version of [`crate::kernels::scalar::matmul_i8`].
///
/// # Safety
/// The CPU supports AVX2 and the slices have the lengths `crate::kernels::Kernels::matmul_i8`
/// checks.
#[target_feature(enable = "avx2,fma")]
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

/// One tile of `R` weight rows (int8 values pre-widened to int16) times `B` int8 input rows.
///
/// # Safety
/// The CPU supports AVX2; `w` holds `rows * cols` values, `x` holds `batch * cols`, `out`
/// holds `batch * rows`, and `r0 + R <= rows`, `b0 + B <= batch`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile_w16<const R: usize, const B: usize>(
    w: &[i16],
    rows: usize,
    cols: usize,
    x: &[i8],
    out: &mut [i32],
    r0: usize,
    b0: usize,
) {
    let mut acc = [[_mm256_setzero_si256(); B]; R];
    let wp = w.as_ptr();
    let xp = x.as_ptr();
    let full = cols / 16 * 16;
    let mut c = 0;
    while c < full {
        let mut xv = [_mm256_setzero_si256(); B];
        for (j, v) in xv.iter_mut().enumerate() {
            // SAFETY: (b0 + j) * cols + c + 16 <= batch * cols since c + 16 <= full <= cols.
            let raw = unsafe { _mm_loadu_si128(xp.add((b0 + j) * cols + c).cast()) };
            *v = _mm256_cvtepi8_epi16(raw);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: (r0 + i) * cols + c + 16 <= rows * cols for the same reason.
            let wv = unsafe { _mm256_loadu_si256(wp.add((r0 + i) * cols + c).cast()) };
            for (j, a) in row.iter_mut().enumerate() {
                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(wv, xv[j]));
            }
        }
        c += 16;
    }
    for i in 0..R {
        for j in 0..B {
            let mut s = hsum_epi32(acc[i][j]);
            let wr = &w[(r0 + i) * cols..(r0 + i + 1) * cols];
            let xb = &x[(b0 + j) * cols..(b0 + j + 1) * cols];
            for k in full..cols {
                s += i32::from(wr[k]) * i32::from(xb[k]);
            }
            out[(b0 + j) * rows + r0 + i] = s;
        }
    }
}

/// [`crate::kernels::scalar::matmul_i8`] with int8 weights pre-widened to int16 (one load and one
/// `vpmaddwd` per 16 multiply-accumulates, no per-call widening of the weights).
///
/// # Safety
/// The CPU supports AVX2 and the slices have the lengths `crate::kernels::Kernels::matmul_packed`
/// checks.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn matmul_w16(
    w: &[i16],
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
                    tile_w16::<4, 2>(w, rows, cols, x, out, r, b);
                } else {
                    tile_w16::<4, 1>(w, rows, cols, x, out, r, b);
                }
            }
            r += 4;
        }
        while r < rows {
            // SAFETY: r < rows, b + nb <= batch; lengths checked by the caller.
            unsafe {
                if nb == 2 {
                    tile_w16::<1, 2>(w, rows, cols, x, out, r, b);
                } else {
                    tile_w16::<1, 1>(w, rows, cols, x, out, r, b);
                }
            }
            r += 1;
        }
        b += nb;
    }
}
