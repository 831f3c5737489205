//! Input quantization of the hybrid and int8 operators: `crate::quant`'s symmetric,
//! asymmetric and affine quantization with their loops on 8 lanes, bit-exact with the portable
//! code.

use std::arch::x86_64::*;

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
