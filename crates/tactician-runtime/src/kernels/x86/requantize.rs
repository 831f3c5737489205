//! TFLite's int8 output stage on 8 lanes: the single-rounding fixed-point multiply, the zero
//! point and the clamp.

use std::arch::x86_64::*;

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
    crate::kernels::scalar::requantize(
        &acc[full..],
        &mult[full..],
        &shift[full..],
        zp,
        lo,
        hi,
        &mut out[full..],
    );
}
