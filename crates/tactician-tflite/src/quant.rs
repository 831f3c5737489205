//! Quantization arithmetic, following the rules of TFLite's reference kernels: affine
//! parameters from a calibrated range, symmetric per-channel weights, int32 biases, and the
//! fixed-point multiplier/shift decomposition with its two rounding steps.

use crate::schema::Activation;

/// Rounds half away from zero (`TfLiteRound`, C's `round`).
#[inline]
pub fn round_half_away(x: f64) -> f64 {
    x.round()
}

/// Decomposes a positive real multiplier `m` into a Q31 fixed-point multiplier and a power of
/// two: `m ≈ multiplier · 2^(shift − 31)`, with `multiplier` in [2^30, 2^31). Multipliers too
/// small to represent give `(0, 0)`; zero or non-finite input gives `(0, 0)`.
pub fn quantize_multiplier(m: f64) -> (i32, i32) {
    if !(m.is_finite() && m > 0.0) {
        return (0, 0);
    }
    let (q, mut shift) = frexp(m);
    let mut q_fixed = round_half_away(q * (1u64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    if shift > 30 {
        // Beyond what the kernels accept; saturate (the exporter never produces this).
        return (i32::MAX, 30);
    }
    (q_fixed as i32, shift)
}

/// `m = q · 2^e` with `q` in [0.5, 1), for positive finite normal or subnormal `m`.
fn frexp(m: f64) -> (f64, i32) {
    let mut x = m;
    let mut adj = 0;
    if x < f64::MIN_POSITIVE {
        x *= 2f64.powi(64);
        adj = -64;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32 - 1022;
    let q = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (q, exp + adj)
}

/// `(a · b · 2) >> 32` rounded to nearest, saturating the single overflow case
/// (gemmlowp's SaturatingRoundingDoublingHighMul).
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge = if ab >= 0 {
        1i64 << 30
    } else {
        1 - (1i64 << 30)
    };
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero (gemmlowp's RoundingDivideByPOT).
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    debug_assert!((0..=31).contains(&exponent));
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// `x · multiplier · 2^(shift − 31)`, rounded once, ties toward +∞: TFLite's
/// `MultiplyByQuantizedMultiplier` as the official LiteRT builds compile it
/// (`TFLITE_SINGLE_ROUNDING`). Measured: ai-edge-litert 2.x reference and XNNPACK int8
/// FULLY_CONNECTED outputs match this bit for bit, and differ from the double-rounding form
/// ([`multiply_by_quantized_multiplier_double_rounding`]) on about 0.05% of values.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let shift = shift.clamp(-31, 30);
    let total = 31 - shift;
    let round = 1i64 << (total - 1);
    let r = (i64::from(x) * i64::from(multiplier) + round) >> total;
    r.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// `x · multiplier · 2^(shift − 31)` with gemmlowp's double rounding (TFLite builds without
/// `TFLITE_SINGLE_ROUNDING`, e.g. older TFLite Micro).
pub fn multiply_by_quantized_multiplier_double_rounding(
    x: i32,
    multiplier: i32,
    shift: i32,
) -> i32 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    let scaled = x.wrapping_mul(1i32.wrapping_shl(left as u32));
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(scaled, multiplier),
        right,
    )
}

/// Affine int8 parameters for a real range (asymmetric, per tensor): the range is widened to
/// include 0 so that 0 is exact, `scale = (max − min)/255`, and the zero point is the nudged
/// integer that maps `min` near −128. `None` for an empty (`min == max == 0`) or non-finite range.
pub fn choose_int8_params(min: f32, max: f32) -> Option<(f32, i32)> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return None;
    }
    let rmin = f64::from(min.min(0.0));
    let rmax = f64::from(max.max(0.0));
    if rmax - rmin <= 0.0 {
        return None;
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = ((rmax - rmin) / (qmax - qmin)) as f32;
    if !(scale.is_finite() && scale > 0.0) {
        return None;
    }
    let s = f64::from(scale);
    let zp_from_min = qmin - rmin / s;
    let zp_from_max = qmax - rmax / s;
    let err_min = qmin.abs() + (rmin / s).abs();
    let err_max = qmax.abs() + (rmax / s).abs();
    let zp = if err_min < err_max {
        zp_from_min
    } else {
        zp_from_max
    };
    let zp = round_half_away(zp).clamp(qmin, qmax) as i32;
    Some((scale, zp))
}

/// The symmetric int8 scale of a set of weights: `max|w| / 127`, or 1 when all are zero.
pub fn symmetric_scale(values: &[f32]) -> f32 {
    let m = values.iter().fold(0f32, |a, v| a.max(v.abs()));
    if m > 0.0 && m.is_finite() {
        m / 127.0
    } else {
        1.0
    }
}

/// Quantizes `x` with `scale` and `zero_point` to int8 (round half away, clamp).
#[inline]
pub fn quantize_f32(x: f32, scale: f32, zero_point: i32) -> i8 {
    let q = round_half_away(f64::from(x / scale)) + f64::from(zero_point);
    q.clamp(-128.0, 127.0) as i8
}

/// Quantizes a weight symmetrically to [−127, 127].
#[inline]
pub fn quantize_symmetric(x: f32, scale: f32) -> i8 {
    round_half_away(f64::from(x / scale)).clamp(-127.0, 127.0) as i8
}

/// Quantizes a bias to int32 with scale `input_scale · weight_scale` and zero point 0.
pub fn quantize_bias(b: f32, input_scale: f32, weight_scale: f32) -> i32 {
    let s = f64::from(input_scale) * f64::from(weight_scale);
    round_half_away(f64::from(b) / s).clamp(i32::MIN as f64, i32::MAX as f64) as i32
}

/// `scale · (q − zero_point)`.
pub fn dequantize(q: i32, scale: f32, zero_point: i32) -> f32 {
    (f64::from(scale) * f64::from(q - zero_point)) as f32
}

/// The int8 output clamp of a fused activation (CalculateActivationRangeQuantized).
pub fn activation_range(act: Activation, scale: f32, zero_point: i32) -> (i32, i32) {
    let q = |x: f32| zero_point + round_half_away(f64::from(x / scale)) as i32;
    let (lo, hi) = (-128, 127);
    match act {
        Activation::Relu => (lo.max(q(0.0)), hi),
        Activation::Relu6 => (lo.max(q(0.0)), hi.min(q(6.0))),
        Activation::ReluN1To1 => (lo.max(q(-1.0)), hi.min(q(1.0))),
        _ => (lo, hi),
    }
}

/// The 256-entry int8 lookup table of an elementwise function `f` (how the official kernels
/// evaluate int8 TANH and LOGISTIC): entry `q + 128` is
/// `clamp(round(f(in_scale·(q − in_zp)) / out_scale) + out_zp)`, computed in f32.
pub fn int8_lut(
    f: impl Fn(f32) -> f32,
    in_scale: f32,
    in_zp: i32,
    out_scale: f32,
    out_zp: i32,
) -> [i8; 256] {
    let mut t = [0i8; 256];
    let inv = 1.0f32 / out_scale;
    for (i, slot) in t.iter_mut().enumerate() {
        let q = i as i32 - 128;
        let x = in_scale * (q - in_zp) as f32;
        let y = f(x);
        let r = (y * inv).round() as i32 + out_zp;
        *slot = r.clamp(-128, 127) as i8;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Added after `cargo mutants` found these paths untested (the rounding carry, both shift
    // limits, the subnormal branch of frexp, and the guard against non-positive input).
    #[test]
    fn multiplier_edges() {
        // Rounding carries into 2^31: halve and bump the shift.
        assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-40)), (1 << 30, 1));
        // The smallest shift kept, and the first one dropped.
        assert_eq!(quantize_multiplier(2f64.powi(-32)), (1 << 30, -31));
        assert_eq!(quantize_multiplier(2f64.powi(-33)), (0, 0));
        // The largest shift kept, and the first one saturated.
        assert_eq!(quantize_multiplier(2f64.powi(29)), (1 << 30, 30));
        assert_eq!(quantize_multiplier(2f64.powi(30)), (i32::MAX, 30));
        for bad in [0.0, -0.5, f64::NAN, f64::INFINITY, f64::MIN_POSITIVE / 4.0] {
            assert_eq!(quantize_multiplier(bad), (0, 0), "{bad}");
        }
    }

    #[test]
    fn frexp_handles_subnormals_exactly() {
        for x in [
            f64::MIN_POSITIVE,
            f64::MIN_POSITIVE / 2.0,
            f64::MIN_POSITIVE * 0.75,
            5e-324,
            1e-310,
            0.5,
            1.0,
            3.0,
            1e300,
        ] {
            let (q, e) = frexp(x);
            assert!((0.5..1.0).contains(&q), "{x}: q = {q}");
            // q · 2^e == x exactly (split the power to stay in range).
            let back = q * 2f64.powi(e / 2) * 2f64.powi(e - e / 2);
            assert_eq!(back, x, "{x}: {q} · 2^{e}");
        }
    }

    proptest! {
        #[test]
        fn multiplier_reconstructs_the_real(mantissa in 0.5f64..1.0, exp in -31i32..=30) {
            let m = mantissa * 2f64.powi(exp);
            let (q, shift) = quantize_multiplier(m);
            prop_assert!((1 << 30..=i32::MAX).contains(&q), "{m}: {q}");
            let back = f64::from(q) * 2f64.powi(shift - 31);
            prop_assert!((back - m).abs() <= m * 2f64.powi(-30), "{m}: {q} · 2^({shift} − 31) = {back}");
        }
    }

    #[test]
    fn multiplier_examples() {
        assert_eq!(quantize_multiplier(0.5), (1 << 30, 0));
        assert_eq!(quantize_multiplier(1.0), (1 << 30, 1));
        assert_eq!(quantize_multiplier(0.25), (1 << 30, -1));
        assert_eq!(quantize_multiplier(0.0), (0, 0));
        let double = multiply_by_quantized_multiplier_double_rounding;
        assert_eq!(double(100, 1 << 30, 0), 50);
        assert_eq!(double(101, 1 << 30, 0), 51); // 50.5 → 51
        // Ties round up in the doubling high multiply: -50.5 → -50, as gemmlowp does.
        assert_eq!(double(-101, 1 << 30, 0), -50);
        assert_eq!(double(-103, 1 << 30, 0), -51);
        assert_eq!(multiply_by_quantized_multiplier(101, 1 << 30, 0), 51);
        assert_eq!(multiply_by_quantized_multiplier(-101, 1 << 30, 0), -50);
        assert_eq!(multiply_by_quantized_multiplier(-103, 1 << 30, 0), -51);
        // 3 · 0.25 = 0.75 → 1; -3 · 0.25 = -0.75 → -1; 2 · 0.25 = 0.5 → 1 (ties up).
        assert_eq!(multiply_by_quantized_multiplier(3, 1 << 30, -1), 1);
        assert_eq!(multiply_by_quantized_multiplier(-3, 1 << 30, -1), -1);
        assert_eq!(multiply_by_quantized_multiplier(2, 1 << 30, -1), 1);
        assert_eq!(multiply_by_quantized_multiplier(-2, 1 << 30, -1), 0);
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-4, 1), -2);
    }

    #[test]
    fn activation_ranges() {
        assert_eq!(activation_range(Activation::Relu, 0.1, -128), (-128, 127));
        assert_eq!(activation_range(Activation::Relu, 0.1, -10), (-10, 127));
        assert_eq!(activation_range(Activation::Relu6, 0.1, -128), (-128, -68));
        assert_eq!(activation_range(Activation::None, 0.1, 3), (-128, 127));
    }

    proptest! {
        #[test]
        fn multiplier_reconstructs(m in 1e-9f64..1e3) {
            let (q, shift) = quantize_multiplier(m);
            prop_assert!((1 << 30..=i32::MAX).contains(&q));
            let back = q as f64 * 2f64.powi(shift - 31);
            prop_assert!(((back - m) / m).abs() <= 2f64.powi(-30), "{m} -> {q} {shift} -> {back}");
        }

        #[test]
        fn fixed_point_product_is_rounded_product(x in -(1i32 << 24)..(1i32 << 24), m in 1e-4f64..0.999) {
            let (q, shift) = quantize_multiplier(m);
            let got = multiply_by_quantized_multiplier_double_rounding(x, q, shift) as f64;
            let exact = x as f64 * q as f64 * 2f64.powi(shift - 31);
            // Two roundings: at most one unit away from the exact product.
            prop_assert!((got - exact).abs() <= 1.0, "{x}*{m}: {got} vs {exact}");
        }

        #[test]
        fn single_rounding_is_the_exact_rounded_product(x in any::<i32>(), m in 1e-6f64..0.999) {
            let (q, shift) = quantize_multiplier(m);
            let got = multiply_by_quantized_multiplier(x, q, shift);
            // Exact rational x·q/2^(31−shift), rounded half up, in 128-bit arithmetic.
            let num = i128::from(x) * i128::from(q);
            let den = 1i128 << (31 - shift);
            let want = (2 * num + den).div_euclid(2 * den);
            prop_assert_eq!(i128::from(got), want);
            let d = multiply_by_quantized_multiplier_double_rounding(x, q, shift);
            prop_assert!((i64::from(d) - i64::from(got)).abs() <= 1);
        }

        #[test]
        fn divide_by_pot_rounds_half_away(x in any::<i32>(), e in 0i32..31) {
            let exact = x as f64 / 2f64.powi(e);
            prop_assert_eq!(rounding_divide_by_pot(x, e) as f64, exact.round());
        }

        #[test]
        fn int8_params_cover_range(a in -100f32..100.0, b in -100f32..100.0) {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            prop_assume!(hi.max(0.0) - lo.min(0.0) > 1e-3);
            let (scale, zp) = choose_int8_params(lo, hi).unwrap();
            prop_assert!((-128..=127).contains(&zp));
            // Zero is exact, and both ends are within half a step (plus the nudge) of the grid.
            prop_assert_eq!(dequantize(quantize_f32(0.0, scale, zp) as i32, scale, zp), 0.0);
            for x in [lo, hi] {
                let back = dequantize(quantize_f32(x, scale, zp) as i32, scale, zp);
                prop_assert!((back - x).abs() <= scale * 1.01, "{x} -> {back} (scale {scale})");
            }
        }

        #[test]
        fn symmetric_quantization_error_is_half_a_step(w in proptest::collection::vec(-10f32..10.0, 1..64)) {
            let s = symmetric_scale(&w);
            for &x in &w {
                let q = quantize_symmetric(x, s);
                prop_assert!(q >= -127);
                prop_assert!((q as f32 * s - x).abs() <= s * 0.5001);
            }
        }

        #[test]
        fn bias_quantization_is_exact_to_half_a_step(b in -50f32..50.0, si in 1e-4f32..1.0, sw in 1e-4f32..1.0) {
            let q = quantize_bias(b, si, sw);
            let step = f64::from(si) * f64::from(sw);
            prop_assert!((q as f64 * step - f64::from(b)).abs() <= step * 0.5 + 1e-9);
        }
    }
}
