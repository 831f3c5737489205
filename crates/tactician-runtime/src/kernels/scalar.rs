//! Safe scalar reference kernels: the definition every fast kernel is tested against.

/// `out[b * rows + r] = dot(w[r * cols ..], x[b * cols ..])` in float32, summing in column order.
pub fn fc_f32(w: &[f32], rows: usize, cols: usize, x: &[f32], batch: usize, out: &mut [f32]) {
    for b in 0..batch {
        let xb = &x[b * cols..(b + 1) * cols];
        for r in 0..rows {
            let wr = &w[r * cols..(r + 1) * cols];
            let mut acc = 0.0f32;
            for (a, v) in wr.iter().zip(xb) {
                acc += a * v;
            }
            out[b * rows + r] = acc;
        }
    }
}

/// `out[b * rows + r] = Σ w[r, c] · x[b, c]` with int8 operands and exact int32 accumulation.
pub fn matmul_i8(w: &[i8], rows: usize, cols: usize, x: &[i8], batch: usize, out: &mut [i32]) {
    for b in 0..batch {
        let xb = &x[b * cols..(b + 1) * cols];
        for r in 0..rows {
            let wr = &w[r * cols..(r + 1) * cols];
            let mut acc = 0i32;
            for (&a, &v) in wr.iter().zip(xb) {
                acc += i32::from(a) * i32::from(v);
            }
            out[b * rows + r] = acc;
        }
    }
}

/// TFLite's int8 output stage: `out[i] = clamp(MultiplyByQuantizedMultiplier(acc[i], mult[i],
/// shift[i]) + zp, lo, hi)` with single rounding ([`crate::quant`]), zero point added with
/// saturation. All slices have the same length (the caller checks).
pub fn requantize(
    acc: &[i32],
    mult: &[i32],
    shift: &[i32],
    zp: i32,
    lo: i32,
    hi: i32,
    out: &mut [i8],
) {
    for (((o, &a), &m), &s) in out.iter_mut().zip(acc).zip(mult).zip(shift) {
        let v = crate::quant::multiply_by_quantized_multiplier(a, m, s);
        *o = v.saturating_add(zp).clamp(lo, hi) as i8;
    }
}
