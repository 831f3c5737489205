//! TFLite's quantization arithmetic, re-derived from its reference kernels (`common.h`,
//! `reference/fully_connected.h`, `tensor_utils`): integer requantization with a fixed-point
//! multiplier, per-row input quantization of the hybrid kernels, and activation ranges.

/// `round` as TFLite's `TfLiteRound`: half away from zero.
#[inline]
pub fn round(x: f32) -> f32 {
    x.round()
}

/// `round(x)` (half away from zero) as `i32`, clamped to ±2^30 (NaN → 0), branch-free and
/// without a libm call: the baseline x86-64 target has no rounding instruction, `f32::round`
/// is a function call, and this loop body vectorizes. Every caller clamps to int8 afterwards.
#[inline(always)]
pub fn round_i32(x: f32) -> i32 {
    const LIMIT: f32 = (1 << 30) as f32;
    let x = x.clamp(-LIMIT, LIMIT);
    // Truncation is a single instruction; values this large are integral already.
    let t = x as i32;
    let frac = x - t as f32;
    t + i32::from(frac >= 0.5) - i32::from(frac <= -0.5)
}

// The fixed-point arithmetic is the format's: one definition for the exporter and the engine.
pub use tactician_tflite::quant::{
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_double_rounding,
    quantize_multiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};

/// Minimum and maximum of `values` (NaN ignored; ±∞ for an empty slice), lane `i` of 8
/// taking elements `8k + i` (`lane = if v < lane { v } else { lane }`, and the same for the
/// maximum) before the lanes and then the tail are folded with `f32::min` / `f32::max`: the
/// SIMD builds must follow this order exactly (it decides the sign of a zero result).
#[inline(always)]
pub fn min_max(values: &[f32]) -> (f32, f32) {
    let mut lo = [f32::INFINITY; 8];
    let mut hi = [f32::NEG_INFINITY; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            lo[i] = if c[i] < lo[i] { c[i] } else { lo[i] };
            hi[i] = if c[i] > hi[i] { c[i] } else { hi[i] };
        }
    }
    fold_min_max(lo, hi, tail)
}

/// The end of [`min_max`]: folds the 8 lanes, then the tail.
#[inline(always)]
pub fn fold_min_max(lo: [f32; 8], hi: [f32; 8], tail: &[f32]) -> (f32, f32) {
    let mut min = lo.iter().fold(f32::INFINITY, |a, &b| a.min(b));
    let mut max = hi.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    for &v in tail {
        min = min.min(v);
        max = max.max(v);
    }
    (min, max)
}

/// `out[i] = clamp(round_i32(zp + values[i] · inv), lo, hi)`: the affine step of the hybrid
/// kernels' input quantization (a product then a sum, never fused).
#[inline(always)]
pub fn affine(values: &[f32], inv: f32, zp: f32, lo: i32, hi: i32, out: &mut [i8]) {
    for (q, &v) in out.iter_mut().zip(values) {
        *q = round_i32(zp + v * inv).clamp(lo, hi) as i8;
    }
}

/// Symmetric per-row input quantization of TFLite's hybrid kernels
/// (`SymmetricQuantizeFloats`): returns the scaling factor.
///
/// [`crate::kernels::Kernels::symmetric_quantize`] runs the same steps with SIMD builds of
/// [`min_max`] and [`affine`].
#[inline(always)]
pub fn symmetric_quantize(values: &[f32], out: &mut [i8]) -> f32 {
    symmetric_quantize_with(values, out, min_max, affine)
}

/// [`symmetric_quantize`] with given builds of [`min_max`] and [`affine`].
#[inline(always)]
pub fn symmetric_quantize_with(
    values: &[f32],
    out: &mut [i8],
    min_max: impl FnOnce(&[f32]) -> (f32, f32),
    affine: impl FnOnce(&[f32], f32, f32, i32, i32, &mut [i8]),
) -> f32 {
    let (min, max) = min_max(values);
    let range = min.abs().max(max.abs());
    if values.is_empty() || range == 0.0 {
        out.iter_mut().for_each(|q| *q = 0);
        return 1.0;
    }
    // `v · inv + 0` is `v · inv` up to the sign of a zero, which rounds to 0 either way.
    affine(values, 127.0 / range, 0.0, -127, 127, out);
    range / 127.0
}

/// Asymmetric per-row input quantization of TFLite's hybrid kernels
/// (`AsymmetricQuantizeFloats`): returns `(scaling factor, zero point)`.
///
/// [`crate::kernels::Kernels::asymmetric_quantize`] runs the same steps with SIMD builds of
/// [`min_max`] and [`affine`].
#[inline(always)]
pub fn asymmetric_quantize(values: &[f32], out: &mut [i8]) -> (f32, i32) {
    asymmetric_quantize_with(values, out, min_max, affine)
}

/// [`asymmetric_quantize`] with given builds of [`min_max`] and [`affine`].
#[inline(always)]
pub fn asymmetric_quantize_with(
    values: &[f32],
    out: &mut [i8],
    min_max: impl FnOnce(&[f32]) -> (f32, f32),
    affine: impl FnOnce(&[f32], f32, f32, i32, i32, &mut [i8]),
) -> (f32, i32) {
    let (min, max) = min_max(values);
    let rmin = f64::from(min.min(0.0));
    let rmax = f64::from(max.max(0.0));
    if values.is_empty() || rmin == rmax {
        out.iter_mut().for_each(|q| *q = 0);
        return (1.0, 0);
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = (rmax - rmin) / (qmax - qmin);
    let zp_from_min = qmin - rmin / scale;
    let zp_from_max = qmax - rmax / scale;
    let err_min = qmin.abs() + (rmin / scale).abs();
    let err_max = qmax.abs() + (rmax / scale).abs();
    let zp_double = if err_min < err_max {
        zp_from_min
    } else {
        zp_from_max
    };
    let zp = if zp_double <= qmin {
        qmin as i32
    } else if zp_double >= qmax {
        qmax as i32
    } else {
        zp_double.round() as i32
    };
    affine(values, (1.0 / scale) as f32, zp as f32, -128, 127, out);
    (scale as f32, zp)
}

/// Float → int8 as TFLite's `AffineQuantize`.
#[inline(always)]
pub fn quantize_i8(v: f32, scale: f32, zero_point: i32) -> i8 {
    // NaN maps to the zero point (`as` saturates and NaN casts to 0).
    round_i32(v / scale)
        .saturating_add(zero_point)
        .clamp(-128, 127) as i8
}

/// int8 → float as TFLite's `Dequantize`.
#[inline]
pub fn dequantize_i8(q: i8, scale: f32, zero_point: i32) -> f32 {
    scale * (i32::from(q) - zero_point) as f32
}

/// A fused activation of TFLite's builtin options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// None.
    None,
    /// max(0, x).
    Relu,
    /// clamp(x, -1, 1).
    ReluN1To1,
    /// clamp(x, 0, 6).
    Relu6,
    /// tanh(x).
    Tanh,
}

impl Activation {
    /// Applies the activation to float values in place.
    #[inline]
    pub fn apply_f32(self, v: &mut [f32]) {
        match self {
            Activation::None => {}
            Activation::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::ReluN1To1 => v.iter_mut().for_each(|x| *x = x.clamp(-1.0, 1.0)),
            Activation::Relu6 => v.iter_mut().for_each(|x| *x = x.clamp(0.0, 6.0)),
            Activation::Tanh => v.iter_mut().for_each(|x| *x = x.tanh()),
        }
    }

    /// The clamping range of a fused activation on int8 values (TFLite's
    /// `CalculateActivationRangeQuantized`); `None` when the activation is not a clamp.
    pub fn range_i8(self, scale: f32, zero_point: i32) -> Option<(i32, i32)> {
        let q = |f: f32| zero_point + round(f / scale) as i32;
        let (lo, hi) = (-128, 127);
        match self {
            Activation::None => Some((lo, hi)),
            Activation::Relu => Some((lo.max(q(0.0)), hi)),
            Activation::Relu6 => Some((lo.max(q(0.0)), hi.min(q(6.0)))),
            Activation::ReluN1To1 => Some((lo.max(q(-1.0)), hi.min(q(1.0)))),
            Activation::Tanh => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fast_round_edge_cases() {
        for x in [
            0.5f32,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_97,
            -0.499_999_97,
            8388609.0,
            -8388609.0,
        ] {
            assert_eq!(round_i32(x), x.round() as i32, "{x}");
        }
        for x in [1e10f32, f32::INFINITY] {
            assert_eq!(round_i32(x), 1 << 30);
            assert_eq!(round_i32(-x), -(1 << 30));
        }
        assert_eq!(round_i32(f32::NAN), 0);
    }

    #[test]
    fn multiplier_round_trips() {
        for m in [0.5, 0.25, 0.999_999, 1e-3, 3.7e-6, 0.75, 1.5, 12.0] {
            let (q, s) = quantize_multiplier(m);
            let back = f64::from(q) * 2f64.powi(s - 31);
            assert!((back - m).abs() / m < 1e-9, "{m}: {q} {s} -> {back}");
            assert!(q >= 1 << 30, "{m}: mantissa {q} not normalized");
        }
    }

    #[test]
    fn rounding_divide_rounds_half_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(rounding_divide_by_pot(6, 2), 2);
    }

    #[test]
    fn high_mul_saturates_only_at_min_times_min() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
    }

    proptest! {
        #[test]
        fn requantization_is_within_one_of_real_product(x in -(1i32 << 24)..(1i32 << 24), m in 1e-6f64..0.99) {
            let (q, s) = quantize_multiplier(m);
            let got = multiply_by_quantized_multiplier(x, q, s);
            let want = f64::from(x) * m;
            prop_assert!((f64::from(got) - want).abs() <= 1.0, "{x}·{m}: {got} vs {want}");
        }

        #[test]
        fn symmetric_quantization_bounds_error(v in proptest::collection::vec(-50f32..50.0, 1..64)) {
            let mut q = vec![0i8; v.len()];
            let s = symmetric_quantize(&v, &mut q);
            for (&x, &qq) in v.iter().zip(&q) {
                prop_assert!((-127..=127).contains(&i32::from(qq)));
                prop_assert!((f32::from(qq) * s - x).abs() <= s * 0.5 + 1e-4);
            }
        }

        #[test]
        fn asymmetric_quantization_bounds_error(v in proptest::collection::vec(-50f32..80.0, 1..64)) {
            let mut q = vec![0i8; v.len()];
            let (s, zp) = asymmetric_quantize(&v, &mut q);
            for (&x, &qq) in v.iter().zip(&q) {
                let back = (i32::from(qq) - zp) as f32 * s;
                prop_assert!((back - x).abs() <= s * 0.51 + 1e-4, "{x} -> {qq} -> {back} (s {s}, zp {zp})");
            }
        }

        #[test]
        fn fast_round_matches_libm(x in prop_oneof![-300f32..300.0, any::<f32>()]) {
            let limit = (1 << 30) as f32;
            let want = if x.is_nan() { 0 } else { x.round().clamp(-limit, limit) as i32 };
            prop_assert_eq!(round_i32(x), want, "{}", x);
        }

        #[test]
        fn quantize_dequantize_round_trip(x in -10f32..10.0, scale in 0.01f32..0.2, zp in -20i32..20) {
            let q = quantize_i8(x, scale, zp);
            let back = dequantize_i8(q, scale, zp);
            let lo = dequantize_i8(-128, scale, zp);
            let hi = dequantize_i8(127, scale, zp);
            let clamped = x.clamp(lo, hi);
            prop_assert!((back - clamped).abs() <= scale * 0.5 + 1e-5);
        }
    }
}
