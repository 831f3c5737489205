//! x86-64 AVX2 + FMA kernels, selected at run time by [`super::Isa::detect`].
//!
//! Every function here is `unsafe` only because it is compiled with `#[target_feature]`; the
//! callers in `super` check the CPU features once and check every slice length before calling.

use std::arch::x86_64::*;

/// Horizontal sum of the eight lanes of `v`.
#[target_feature(enable = "avx2,fma")]
fn hsum_ps(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
    _mm_cvtss_f32(s)
}

/// Horizontal sum of the eight int32 lanes of `v`.
#[target_feature(enable = "avx2,fma")]
fn hsum_epi32(v: __m256i) -> i32 {
    let lo = _mm256_castsi256_si128(v);
    let hi = _mm256_extracti128_si256::<1>(v);
    let s = _mm_add_epi32(lo, hi);
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
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

/// AVX2+FMA version of [`super::scalar::fc_f32`].
///
/// # Safety
/// The CPU supports AVX2 and FMA and the slices have the lengths `super::fc_f32` checks.
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
/// in the panel layout of [`super::PackedF32`]: for each column in turn, the panel's `RB`
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

/// [`super::scalar::fc_f32`] on weights packed in panels of 8-row blocks (see
/// [`panel_f32_1`]): one input row at a time, or two sharing each weight load.
///
/// # Safety
/// The CPU supports AVX2 and FMA, `w` is laid out as `super::PackedF32`'s panels of `rows` ×
/// `cols`, and the slices have the lengths `super::Kernels::fc_packed` checks.
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
        let nb = (blocks - rb).min(super::PANEL_BLOCKS);
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

/// One tile of `R` int8 weight rows times `B` int8 input rows with int32 accumulation.
///
/// # Safety
/// As [`tile_f32`], with int8 slices.
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

/// AVX2 version of [`super::scalar::matmul_i8`].
///
/// # Safety
/// The CPU supports AVX2 and the slices have the lengths `super::matmul_i8` checks.
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

/// Peak float32 multiply-accumulate probe: `iters` rounds of 10 independent 8-lane FMA chains
/// (80 MACs per round), enough chains to cover the FMA latency.
#[target_feature(enable = "avx2,fma")]
pub fn fma_peak(iters: usize, seed: f32) -> f32 {
    let m = _mm256_set1_ps(0.999_999);
    let mut acc = [_mm256_set1_ps(seed); 10];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = _mm256_add_ps(*a, _mm256_set1_ps(i as f32));
    }
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = _mm256_fmadd_ps(*a, m, m);
        }
    }
    let mut s = _mm256_setzero_ps();
    for a in acc {
        s = _mm256_add_ps(s, a);
    }
    hsum_ps(s)
}

/// Peak int8 multiply-accumulate probe with the instructions the int8 kernel uses
/// (`vpmaddwd` on sign-extended bytes: 16 MACs each), 10 chains, 160 MACs per round.
#[target_feature(enable = "avx2,fma")]
pub fn i8_peak(iters: usize, seed: i16) -> i32 {
    // The operand changes every round so that no product can be hoisted out of the loop.
    let one = _mm256_set1_epi16(1);
    let mut m = _mm256_set1_epi16(seed);
    let mut acc = [_mm256_setzero_si256(); 10];
    for _ in 0..iters {
        m = _mm256_add_epi16(m, one);
        for (i, a) in acc.iter_mut().enumerate() {
            let k = _mm256_set1_epi16(i as i16 + 1);
            *a = _mm256_add_epi32(*a, _mm256_madd_epi16(m, k));
        }
    }
    let mut s = _mm256_setzero_si256();
    for a in acc {
        s = _mm256_add_epi32(s, a);
    }
    hsum_epi32(s)
}

/// Sums a buffer with 4 × 8-lane accumulators: a read-bandwidth probe.
///
/// # Safety
/// The CPU supports AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn read_sum(buf: &[f32]) -> f32 {
    let mut acc = [_mm256_setzero_ps(); 4];
    let chunks = buf.chunks_exact(32);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (j, a) in acc.iter_mut().enumerate() {
            // SAFETY: `c` has 32 values, so offsets 8j..8j+8 (j < 4) are inside it.
            let v = unsafe { _mm256_loadu_ps(c.as_ptr().add(8 * j)) };
            *a = _mm256_add_ps(*a, v);
        }
    }
    let s = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
    hsum_ps(s) + tail
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

/// [`super::scalar::matmul_i8`] with int8 weights pre-widened to int16 (one load and one
/// `vpmaddwd` per 16 multiply-accumulates, no per-call widening of the weights).
///
/// # Safety
/// The CPU supports AVX2 and the slices have the lengths `super::Kernels::matmul_packed`
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

/// Four input bytes `x[4g..4g + 4]` as one little-endian int32 (zero past the end of `x`).
#[inline(always)]
fn group(x: &[i8], g: usize) -> i32 {
    let mut b = [0u8; 4];
    for (k, v) in b.iter_mut().enumerate() {
        if let Some(&e) = x.get(4 * g + k) {
            *v = e as u8;
        }
    }
    i32::from_le_bytes(b)
}

/// One panel of `RB` blocks of 8 weight rows (from block `rb0`, so rows `8rb0..8(rb0 + RB)`)
/// times `B` int8 input rows (from `b0`), in the panel layout of [`super::PackedI8`]: for
/// each group of 4 columns, the panel's `RB` vectors of 32 bytes lie side by side, each
/// holding those 4 columns of 8 rows, so the kernel reads the panel as one sequential stream.
/// 4 input bytes broadcast to every 32-bit lane meet their 8 rows' weights, and one
/// `vpmaddubsw` + `vpmaddwd` pair leaves each row's 4-column sum in its own int32 lane: a
/// block's 8 outputs come out as one vector, with no horizontal sums.
///
/// `vpmaddubsw` multiplies unsigned by signed bytes: `|x| · (w · sign(x))` equals `x · w`;
/// `|x| <= 128` and `|w| <= 127` (weights must not hold -128), so its int16 pair sums
/// (`<= 2 · 128 · 127 = 32512`) never saturate: exact.
///
/// # Safety
/// The CPU supports AVX2; `panel` is the panel's `groups(cols) * RB * 32` bytes, `x` holds
/// `batch * cols`, `out` holds `batch * rows`, `8 * rb0 < rows`, `b0 + B <= batch`, and no
/// weight is -128.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn panel<const RB: usize, const B: usize>(
    panel: &[i8],
    rows: usize,
    cols: usize,
    x: &[i8],
    out: &mut [i32],
    rb0: usize,
    b0: usize,
) {
    let ones = _mm256_set1_epi16(1);
    let mut acc = [[_mm256_setzero_si256(); B]; RB];
    let xr: [&[i8]; B] = std::array::from_fn(|j| &x[(b0 + j) * cols..(b0 + j + 1) * cols]);
    let wp = panel.as_ptr();
    // One step: the 4 columns of group `g`, given as B little-endian int32.
    let mut step = |g: usize, xv: [i32; B]| {
        let mut xs = [_mm256_setzero_si256(); B];
        let mut xa = [_mm256_setzero_si256(); B];
        for j in 0..B {
            xs[j] = _mm256_set1_epi32(xv[j]);
            xa[j] = _mm256_abs_epi8(xs[j]);
        }
        for (i, row) in acc.iter_mut().enumerate() {
            // SAFETY: (g * RB + i) * 32 + 32 <= groups * RB * 32 = panel.len() because
            // g < groups and i < RB.
            let wv = unsafe { _mm256_loadu_si256(wp.add((g * RB + i) * 32).cast()) };
            for (j, a) in row.iter_mut().enumerate() {
                let p16 = _mm256_maddubs_epi16(xa[j], _mm256_sign_epi8(wv, xs[j]));
                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(p16, ones));
            }
        }
    };
    let full = cols / 4;
    for g in 0..full {
        // SAFETY: 4g + 4 <= cols, the length of each input row.
        let xv = std::array::from_fn(|j| unsafe {
            xr[j].as_ptr().add(4 * g).cast::<i32>().read_unaligned()
        });
        step(g, xv);
    }
    if full * 4 < cols {
        step(full, std::array::from_fn(|j| group(xr[j], full)));
    }
    for (i, row) in acc.iter().enumerate() {
        let r = (rb0 + i) * 8;
        for (j, a) in row.iter().enumerate() {
            let o = &mut out[(b0 + j) * rows..(b0 + j + 1) * rows];
            if r + 8 <= rows {
                // SAFETY: r + 8 <= rows = o.len().
                unsafe { _mm256_storeu_si256(o.as_mut_ptr().add(r).cast(), *a) };
            } else if r < rows {
                let mut lanes = [0i32; 8];
                // SAFETY: `lanes` holds 8 int32.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *a) };
                o[r..].copy_from_slice(&lanes[..rows - r]);
            }
        }
    }
}

/// Runs [`panel`] on one panel of `nb` (1 to 4) blocks for `B` input rows.
///
/// # Safety
/// As [`panel`], with `RB = nb`.
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn panel_of<const B: usize>(
    nb: usize,
    w: &[i8],
    rows: usize,
    cols: usize,
    x: &[i8],
    out: &mut [i32],
    rb0: usize,
    b0: usize,
) {
    // SAFETY: the caller's guarantees, with RB = nb.
    unsafe {
        match nb {
            4 => panel::<4, B>(w, rows, cols, x, out, rb0, b0),
            3 => panel::<3, B>(w, rows, cols, x, out, rb0, b0),
            2 => panel::<2, B>(w, rows, cols, x, out, rb0, b0),
            _ => panel::<1, B>(w, rows, cols, x, out, rb0, b0),
        }
    }
}

/// [`super::scalar::matmul_i8`] on weights packed in panels of 8 × 4 blocks (see [`panel`]),
/// for one input row at a time or two (each panel read once for both).
///
/// # Safety
/// The CPU supports AVX2, `w` is laid out as `super::PackedI8`'s panels of `rows` × `cols`
/// (checked by `super::Kernels::matmul_packed` with the slice lengths), and no weight is -128.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn matmul_blocks(
    w: &[i8],
    rows: usize,
    cols: usize,
    x: &[i8],
    batch: usize,
    out: &mut [i32],
) {
    let blocks = rows.div_ceil(8);
    let groups = cols.div_ceil(4);
    let mut rb = 0;
    while rb < blocks {
        let nb = (blocks - rb).min(super::PANEL_BLOCKS);
        let p = &w[rb * groups * 32..(rb + nb) * groups * 32];
        let mut b = 0;
        // SAFETY (both calls): `p` is this panel's bytes, 8rb < rows, and b + B <= batch by
        // the loop bounds; the rest is the caller's guarantee.
        while b + 2 <= batch {
            unsafe { panel_of::<2>(nb, p, rows, cols, x, out, rb, b) };
            b += 2;
        }
        if b < batch {
            unsafe { panel_of::<1>(nb, p, rows, cols, x, out, rb, b) };
        }
        rb += nb;
    }
}

/// TFLite's single-rounding `MultiplyByQuantizedMultiplier` (`crate::quant`'s scalar
/// definition: `(x·m + 2^(t−1)) >> t` with `t = 31 − shift`, in 64 bits) on 8 lanes, then
/// `+ zp` and a clamp to `[lo, hi]`, written as int8.
///
/// AVX2 has no 64-bit arithmetic right shift, so it is done as `((p ^ s) >>> t) ^ s` with `s`
/// the sign mask. The 64-bit result is clamped to ±2^16 before the zero point is added: with
/// `[lo, hi]` inside int8 and `|zp| <= 2^15` (the caller checks), that gives the same int8 as
/// the scalar saturating path.
///
/// # Safety
/// The CPU supports AVX2; `acc`, `mult`, `shift` and `out` have the same length.
#[target_feature(enable = "avx2,fma")]
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
    let full = n / 8 * 8;
    let zero = _mm256_setzero_si256();
    let one64 = _mm256_set1_epi64x(1);
    let low32 = _mm256_set1_epi64x(0xffff_ffff);
    let (cap_hi, cap_lo) = (_mm256_set1_epi64x(1 << 16), _mm256_set1_epi64x(-(1 << 16)));
    let (s_min, s_max, k31) = (
        _mm256_set1_epi32(-31),
        _mm256_set1_epi32(30),
        _mm256_set1_epi32(31),
    );
    let (vzp, vlo, vhi) = (
        _mm256_set1_epi32(zp),
        _mm256_set1_epi32(lo),
        _mm256_set1_epi32(hi),
    );
    // One 64-bit lane group: product, rounding, arithmetic shift, clamp to ±2^16.
    let lanes64 = |p: __m256i, t: __m256i| {
        let p = _mm256_add_epi64(p, _mm256_sllv_epi64(one64, _mm256_sub_epi64(t, one64)));
        let sign = _mm256_cmpgt_epi64(zero, p);
        let r = _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(p, sign), t), sign);
        let r = _mm256_blendv_epi8(r, cap_hi, _mm256_cmpgt_epi64(r, cap_hi));
        _mm256_blendv_epi8(r, cap_lo, _mm256_cmpgt_epi64(cap_lo, r))
    };
    let mut i = 0;
    while i < full {
        // SAFETY: i + 8 <= full <= n, and all slices have length n.
        let (x, m, s) = unsafe {
            (
                _mm256_loadu_si256(acc.as_ptr().add(i).cast()),
                _mm256_loadu_si256(mult.as_ptr().add(i).cast()),
                _mm256_loadu_si256(shift.as_ptr().add(i).cast()),
            )
        };
        let t = _mm256_sub_epi32(k31, _mm256_min_epi32(_mm256_max_epi32(s, s_min), s_max));
        // Even lanes' 64-bit products and totals, then the odd lanes'.
        let even = lanes64(_mm256_mul_epi32(x, m), _mm256_and_si256(t, low32));
        let odd = lanes64(
            _mm256_mul_epi32(_mm256_srli_epi64::<32>(x), _mm256_srli_epi64::<32>(m)),
            _mm256_srli_epi64::<32>(t),
        );
        let q = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
        let q = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(q, vzp), vlo), vhi);
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` holds 8 int32.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), q) };
        for (o, v) in out[i..i + 8].iter_mut().zip(lanes) {
            *o = v as i8;
        }
        i += 8;
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

/// [`crate::quant::min_max`] in 8 AVX lanes: `vminps(v, lane)` returns `lane` when `v` is NaN
/// or both are zeros, exactly as the portable `if v < lane { v } else { lane }`.
#[target_feature(enable = "avx2,fma")]
fn min_max(values: &[f32]) -> (f32, f32) {
    let mut lo = _mm256_set1_ps(f32::INFINITY);
    let mut hi = _mm256_set1_ps(f32::NEG_INFINITY);
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        // SAFETY: `c` holds 8 floats.
        let v = unsafe { _mm256_loadu_ps(c.as_ptr()) };
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
    }
    let (mut l, mut h) = ([0f32; 8], [0f32; 8]);
    // SAFETY: both arrays hold 8 floats.
    unsafe {
        _mm256_storeu_ps(l.as_mut_ptr(), lo);
        _mm256_storeu_ps(h.as_mut_ptr(), hi);
    }
    crate::quant::fold_min_max(l, h, tail)
}

/// [`crate::quant::round_i32`] on 8 lanes: NaN → 0, clamp to ±2^30, truncate, then step away
/// from zero when the fraction reaches ±0.5.
#[target_feature(enable = "avx2,fma")]
fn round_i32x8(x: __m256) -> __m256i {
    const LIMIT: f32 = (1 << 30) as f32;
    let nan = _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x);
    let x = _mm256_andnot_ps(nan, x);
    let x = _mm256_min_ps(
        _mm256_max_ps(x, _mm256_set1_ps(-LIMIT)),
        _mm256_set1_ps(LIMIT),
    );
    let t = _mm256_cvttps_epi32(x);
    let frac = _mm256_sub_ps(x, _mm256_cvtepi32_ps(t));
    // The comparisons give -1 where true.
    let up = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_GE_OQ>(frac, _mm256_set1_ps(0.5)));
    let down = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LE_OQ>(frac, _mm256_set1_ps(-0.5)));
    _mm256_add_epi32(_mm256_sub_epi32(t, up), down)
}

/// Clamps 8 int32 lanes to `[lo, hi]` (inside int8) and stores them as 8 bytes at `out[0..8]`.
#[target_feature(enable = "avx2,fma")]
fn store_i8x8(r: __m256i, lo: __m256i, hi: __m256i, out: &mut [i8]) {
    let r = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
    // Packing works within 128-bit halves: bytes 0..4 of each half are its 4 values.
    let p = _mm256_packs_epi16(_mm256_packs_epi32(r, r), _mm256_setzero_si256());
    let a = _mm_cvtsi128_si32(_mm256_castsi256_si128(p)).to_le_bytes();
    let b = _mm_cvtsi128_si32(_mm256_extracti128_si256::<1>(p)).to_le_bytes();
    for (o, v) in out[..8].iter_mut().zip(a.into_iter().chain(b)) {
        *o = v as i8;
    }
}

/// [`crate::quant::affine`] on 8 lanes (`lo`, `hi` inside int8).
#[target_feature(enable = "avx2,fma")]
fn affine(values: &[f32], inv: f32, zp: f32, lo: i32, hi: i32, out: &mut [i8]) {
    let n = values.len().min(out.len());
    let full = n / 8 * 8;
    let (vinv, vzp) = (_mm256_set1_ps(inv), _mm256_set1_ps(zp));
    let (qlo, qhi) = (_mm256_set1_epi32(lo), _mm256_set1_epi32(hi));
    let mut i = 0;
    while i < full {
        // SAFETY: i + 8 <= full <= values.len().
        let v = unsafe { _mm256_loadu_ps(values.as_ptr().add(i)) };
        let r = round_i32x8(_mm256_add_ps(vzp, _mm256_mul_ps(v, vinv)));
        store_i8x8(r, qlo, qhi, &mut out[i..i + 8]);
        i += 8;
    }
    crate::quant::affine(&values[full..n], inv, zp, lo, hi, &mut out[full..n]);
}

/// [`crate::quant::symmetric_quantize`] with AVX2 builds of its loops.
///
/// # Safety
/// The CPU supports AVX2.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn symmetric_quantize(values: &[f32], out: &mut [i8]) -> f32 {
    crate::quant::symmetric_quantize_with(
        values,
        out,
        |v| min_max(v),
        |v, i, z, l, h, o| affine(v, i, z, l, h, o),
    )
}

/// [`crate::quant::asymmetric_quantize`] with AVX2 builds of its loops.
///
/// # Safety
/// The CPU supports AVX2.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn asymmetric_quantize(values: &[f32], out: &mut [i8]) -> (f32, i32) {
    crate::quant::asymmetric_quantize_with(
        values,
        out,
        |v| min_max(v),
        |v, i, z, l, h, o| affine(v, i, z, l, h, o),
    )
}

/// TFLite's `AffineQuantize` of a whole slice ([`crate::quant::quantize_i8`]) on 8 lanes: a
/// true division, the rounding of [`round_i32x8`], then `+ zp` (which cannot overflow for
/// `|zp| <= 2^20`; other zero points take the portable, saturating path) and the int8 clamp.
///
/// # Safety
/// The CPU supports AVX2.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn quantize_i8(values: &[f32], scale: f32, zp: i32, out: &mut [i8]) {
    let n = values.len().min(out.len());
    let full = if zp.unsigned_abs() <= 1 << 20 {
        n / 8 * 8
    } else {
        0
    };
    let (vscale, vzp) = (_mm256_set1_ps(scale), _mm256_set1_epi32(zp));
    let (qlo, qhi) = (_mm256_set1_epi32(-128), _mm256_set1_epi32(127));
    let mut i = 0;
    while i < full {
        // SAFETY: i + 8 <= full <= values.len().
        let v = unsafe { _mm256_loadu_ps(values.as_ptr().add(i)) };
        let r = _mm256_add_epi32(round_i32x8(_mm256_div_ps(v, vscale)), vzp);
        store_i8x8(r, qlo, qhi, &mut out[i..i + 8]);
        i += 8;
    }
    for (q, &v) in out[full..n].iter_mut().zip(&values[full..n]) {
        *q = crate::quant::quantize_i8(v, scale, zp);
    }
}
