//! Int8 products on weights packed in panels of 8 × 4 blocks (`vpmaddubsw` + `vpmaddwd`): each
//! block's 8 outputs come out as one vector, with no horizontal sums.

use std::arch::x86_64::*;

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
/// times `B` int8 input rows (from `b0`), in the panel layout of [`crate::kernels::PackedI8`]: for
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

/// [`crate::kernels::scalar::matmul_i8`] on weights packed in panels of 8 × 4 blocks (see
/// [`panel`]), for one input row at a time or two (each panel read once for both).
///
/// # Safety
/// The CPU supports AVX2, `w` is laid out as `crate::kernels::PackedI8`'s panels of `rows` × `cols`
/// (checked by `crate::kernels::Kernels::matmul_packed` with the slice lengths), and no weight is
/// -128.
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
        let nb = (blocks - rb).min(crate::kernels::PANEL_BLOCKS);
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
