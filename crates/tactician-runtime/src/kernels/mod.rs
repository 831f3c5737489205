//! Matrix kernels: the only module of the crate allowed to use `unsafe` (SIMD intrinsics).
//!
//! [`scalar`] is the safe reference. The fast paths (x86-64 AVX2+FMA chosen at run time,
//! aarch64 NEON always) are checked against it by property tests on random shapes. Every entry
//! point checks slice lengths before any `unsafe` call, so a wrong length is a panic-free
//! [`KernelError`], never an out-of-bounds access.
#![allow(unsafe_code)]

pub mod scalar;

#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "x86_64")]
mod x86;

/// The instruction set a [`Kernels`] value dispatches to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Portable scalar code (the reference).
    Scalar,
    /// x86-64 AVX2 + FMA.
    Avx2Fma,
    /// aarch64 Advanced SIMD.
    Neon,
}

impl Isa {
    /// The fastest instruction set this CPU supports.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Isa::Avx2Fma;
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            return Isa::Neon;
        }
        #[allow(unreachable_code)]
        Isa::Scalar
    }

    /// A short lower-case name ("scalar", "avx2+fma", "neon").
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2Fma => "avx2+fma",
            Isa::Neon => "neon",
        }
    }
}

/// A kernel call whose slices do not match the shape it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("kernel operands do not match shape {rows}x{cols} (batch {batch})")]
pub struct KernelError {
    /// Weight rows (output features).
    pub rows: usize,
    /// Weight columns (input features).
    pub cols: usize,
    /// Input rows.
    pub batch: usize,
}

/// Matrix kernels bound to one instruction set.
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    isa: Isa,
}

impl Default for Kernels {
    fn default() -> Self {
        Kernels::new(Isa::detect())
    }
}

fn check(
    w: usize,
    x: usize,
    out: usize,
    rows: usize,
    cols: usize,
    batch: usize,
) -> Result<(), KernelError> {
    let err = KernelError { rows, cols, batch };
    let wn = rows.checked_mul(cols).ok_or(err)?;
    let xn = batch.checked_mul(cols).ok_or(err)?;
    let on = batch.checked_mul(rows).ok_or(err)?;
    if w < wn || x < xn || out < on {
        return Err(err);
    }
    Ok(())
}

impl Kernels {
    /// Kernels for `isa`; an instruction set this CPU lacks falls back to the scalar reference.
    pub fn new(isa: Isa) -> Kernels {
        let supported = match isa {
            Isa::Scalar => true,
            Isa::Avx2Fma => Isa::detect() == Isa::Avx2Fma,
            Isa::Neon => cfg!(target_arch = "aarch64"),
        };
        Kernels {
            isa: if supported { isa } else { Isa::Scalar },
        }
    }

    /// The instruction set in use.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// `out[b*rows + r] = Σ_c w[r*cols + c] · x[b*cols + c]` in float32 (row-major weights,
    /// TFLite's FULLY_CONNECTED layout `[out, in]`).
    pub fn fc_f32(
        &self,
        w: &[f32],
        rows: usize,
        cols: usize,
        x: &[f32],
        batch: usize,
        out: &mut [f32],
    ) -> Result<(), KernelError> {
        check(w.len(), x.len(), out.len(), rows, cols, batch)?;
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernels::new` only selects Avx2Fma when the CPU reports AVX2 and FMA;
            // `check` proved the slice lengths the kernel indexes up to.
            Isa::Avx2Fma => unsafe { x86::fc_f32(w, rows, cols, x, batch, out) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is baseline on aarch64; `check` proved the slice lengths.
            Isa::Neon => unsafe { neon::fc_f32(w, rows, cols, x, batch, out) },
            _ => scalar::fc_f32(w, rows, cols, x, batch, out),
        }
        Ok(())
    }

    /// `out[b*rows + r] = Σ_c w[r*cols + c] · x[b*cols + c]` with int8 operands and exact
    /// int32 accumulation.
    pub fn matmul_i8(
        &self,
        w: &[i8],
        rows: usize,
        cols: usize,
        x: &[i8],
        batch: usize,
        out: &mut [i32],
    ) -> Result<(), KernelError> {
        check(w.len(), x.len(), out.len(), rows, cols, batch)?;
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kernels::new` only selects Avx2Fma when the CPU reports AVX2;
            // `check` proved the slice lengths the kernel indexes up to.
            Isa::Avx2Fma => unsafe { x86::matmul_i8(w, rows, cols, x, batch, out) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is baseline on aarch64; `check` proved the slice lengths.
            Isa::Neon => unsafe { neon::matmul_i8(w, rows, cols, x, batch, out) },
            _ => scalar::matmul_i8(w, rows, cols, x, batch, out),
        }
        Ok(())
    }
}

/// Float32 weights `[rows, cols]` in the layout the selected kernels read fastest.
#[derive(Debug, Clone)]
pub struct PackedF32 {
    rows: usize,
    cols: usize,
    /// Row-major (scalar, NEON), or AVX2's panels of 8-row blocks (rows padded to a multiple
    /// of 8 with zeros; a panel of up to [`PANEL_BLOCKS`] blocks holds, for each column in
    /// turn, its blocks' 8 values side by side: see `panel_offset`).
    data: Vec<f32>,
    panels: bool,
}

impl PackedF32 {
    /// Rows (output features).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (input features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes the kernel streams per product.
    pub fn bytes(&self) -> usize {
        self.data.len() * 4
    }
}

impl Kernels {
    /// Packs row-major float32 weights for [`Kernels::fc_packed`].
    pub fn pack_f32(&self, w: &[f32], rows: usize, cols: usize) -> Result<PackedF32, KernelError> {
        let w = weights(w, rows, cols)?;
        let panels = self.isa == Isa::Avx2Fma;
        let data = if panels {
            to_panels(w, rows, cols, 1)
        } else {
            w.to_vec()
        };
        Ok(PackedF32 {
            rows,
            cols,
            data,
            panels,
        })
    }

    /// [`Kernels::fc_f32`] on packed weights.
    pub fn fc_packed(
        &self,
        w: &PackedF32,
        x: &[f32],
        batch: usize,
        out: &mut [f32],
    ) -> Result<(), KernelError> {
        let (rows, cols) = (w.rows, w.cols);
        if !w.panels {
            return self.fc_f32(&w.data, rows, cols, x, batch, out);
        }
        check(w.data.len(), x.len(), out.len(), rows, cols, batch)?;
        if (rows.div_ceil(8) * 8).checked_mul(cols) != Some(w.data.len()) {
            return Err(KernelError { rows, cols, batch });
        }
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx2Fma {
            // SAFETY: panels are only packed for Avx2Fma (CPU has AVX2 and FMA); the lengths
            // were checked just above.
            unsafe { x86::fc_panels(&w.data, rows, cols, x, batch, out) };
            return Ok(());
        }
        for b in 0..batch {
            for r in 0..rows {
                out[b * rows + r] = (0..cols)
                    .map(|c| w.data[panel_offset(r, c, rows, cols, 1)] * x[b * cols + c])
                    .sum();
            }
        }
        Ok(())
    }
}

/// Int8 weights `[rows, cols]` in the layout the selected kernels read fastest.
#[derive(Debug, Clone)]
pub struct PackedI8 {
    rows: usize,
    cols: usize,
    data: Packed,
}

#[derive(Debug, Clone)]
enum Packed {
    /// Row-major int8 (scalar, NEON).
    I8(Vec<i8>),
    /// Int8 without -128 for AVX2's `vpmaddubsw` kernel, in blocks of 8 rows × 4 columns
    /// (32 bytes, row-major inside; rows padded to a multiple of 8 and columns to a multiple
    /// of 4 with zeros) grouped in panels of up to [`PANEL_BLOCKS`] blocks: a panel holds, for
    /// each group of 4 columns in turn, its blocks side by side (see `panel_offset`).
    I8Blocks(Vec<i8>),
    /// Row-major, widened to int16 once at load (AVX2's `vpmaddwd` then needs no widening).
    I16(Vec<i16>),
}

impl PackedI8 {
    /// Rows (output features).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (input features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes the kernel streams per product.
    pub fn bytes(&self) -> usize {
        match &self.data {
            Packed::I8(v) | Packed::I8Blocks(v) => v.len(),
            Packed::I16(v) => v.len() * 2,
        }
    }
}

/// Blocks (of 8 rows) per panel of `Packed::I8Blocks`.
const PANEL_BLOCKS: usize = 4;

/// Where row `r`, column `c` of `[rows, cols]` weights lies in the panel layout of
/// [`PackedF32`] (`g = 1`) and `Packed::I8Blocks` (`g = 4`): blocks of 8 rows × `g` columns
/// (`8g` values, row-major inside), grouped in panels of up to [`PANEL_BLOCKS`] blocks that
/// hold, for each group of `g` columns in turn, their blocks side by side.
fn panel_offset(r: usize, c: usize, rows: usize, cols: usize, g: usize) -> usize {
    let (groups, blocks, block) = (cols.div_ceil(g), rows.div_ceil(8), 8 * g);
    let rb = r / 8;
    let first = rb / PANEL_BLOCKS * PANEL_BLOCKS;
    let nb = (blocks - first).min(PANEL_BLOCKS);
    first * groups * block + ((c / g) * nb + (rb - first)) * block + (r % 8) * g + c % g
}

/// Row-major `w [rows, cols]` in the panel layout of [`panel_offset`] (padding is zero).
fn to_panels<T: Copy + Default>(w: &[T], rows: usize, cols: usize, g: usize) -> Vec<T> {
    let mut out = vec![T::default(); rows.div_ceil(8) * cols.div_ceil(g) * 8 * g];
    for r in 0..rows {
        for c in 0..cols {
            out[panel_offset(r, c, rows, cols, g)] = w[r * cols + c];
        }
    }
    out
}

/// The `rows * cols` row-major weights at the start of `w`, or an error if it is shorter.
fn weights<T>(w: &[T], rows: usize, cols: usize) -> Result<&[T], KernelError> {
    let err = KernelError {
        rows,
        cols,
        batch: 0,
    };
    w.get(..rows.checked_mul(cols).ok_or(err)?).ok_or(err)
}

impl Kernels {
    /// Packs row-major int8 weights for [`Kernels::matmul_packed`].
    pub fn pack_i8(&self, w: &[i8], rows: usize, cols: usize) -> Result<PackedI8, KernelError> {
        let w = weights(w, rows, cols)?;
        let data = match self.isa {
            // `vpmaddubsw` is exact only without -128 (TFLite's symmetric weights never hold it).
            Isa::Avx2Fma if !w.contains(&i8::MIN) => Packed::I8Blocks(to_panels(w, rows, cols, 4)),
            Isa::Avx2Fma => Packed::I16(w.iter().map(|&v| i16::from(v)).collect()),
            _ => Packed::I8(w.to_vec()),
        };
        Ok(PackedI8 { rows, cols, data })
    }

    /// [`Kernels::matmul_i8`] on packed weights.
    pub fn matmul_packed(
        &self,
        w: &PackedI8,
        x: &[i8],
        batch: usize,
        out: &mut [i32],
    ) -> Result<(), KernelError> {
        let (rows, cols) = (w.rows, w.cols);
        match &w.data {
            Packed::I8(v) => self.matmul_i8(v, rows, cols, x, batch, out),
            Packed::I8Blocks(v) => {
                check(v.len(), x.len(), out.len(), rows, cols, batch)?;
                let padded = (rows.div_ceil(8) * 32).checked_mul(cols.div_ceil(4));
                if padded != Some(v.len()) {
                    return Err(KernelError { rows, cols, batch });
                }
                #[cfg(target_arch = "x86_64")]
                if self.isa == Isa::Avx2Fma {
                    // SAFETY: block packing is only chosen for Avx2Fma (CPU has AVX2) and only
                    // for weights without -128; the lengths were checked just above.
                    unsafe { x86::matmul_blocks(v, rows, cols, x, batch, out) };
                    return Ok(());
                }
                for b in 0..batch {
                    for r in 0..rows {
                        out[b * rows + r] = (0..cols)
                            .map(|c| {
                                let k = panel_offset(r, c, rows, cols, 4);
                                i32::from(v[k]) * i32::from(x[b * cols + c])
                            })
                            .sum();
                    }
                }
                Ok(())
            }
            Packed::I16(v) => {
                check(v.len(), x.len(), out.len(), rows, cols, batch)?;
                #[cfg(target_arch = "x86_64")]
                if self.isa == Isa::Avx2Fma {
                    // SAFETY: I16 packing is only chosen for Avx2Fma, which `Kernels::new` only
                    // selects when the CPU has AVX2; `check` proved the slice lengths.
                    unsafe { x86::matmul_w16(v, rows, cols, x, batch, out) };
                    return Ok(());
                }
                for b in 0..batch {
                    let xb = &x[b * cols..(b + 1) * cols];
                    for r in 0..rows {
                        let wr = &v[r * cols..(r + 1) * cols];
                        out[b * rows + r] = wr
                            .iter()
                            .zip(xb)
                            .map(|(&a, &c)| i32::from(a) * i32::from(c))
                            .sum();
                    }
                }
                Ok(())
            }
        }
    }
}

impl Kernels {
    /// TFLite's int8 output stage: `out[i] = clamp(MultiplyByQuantizedMultiplier(acc[i],
    /// mult[i], shift[i]) + zp, lo, hi)`, bit-exact with [`crate::quant`]'s scalar definition.
    #[allow(clippy::too_many_arguments)]
    pub fn requantize(
        &self,
        acc: &[i32],
        mult: &[i32],
        shift: &[i32],
        zp: i32,
        lo: i32,
        hi: i32,
        out: &mut [i8],
    ) -> Result<(), KernelError> {
        let n = acc.len();
        if mult.len() != n || shift.len() != n || out.len() != n {
            return Err(KernelError {
                rows: n,
                cols: 1,
                batch: 1,
            });
        }
        match self.isa {
            // The AVX2 path clamps the 64-bit result to ±2^16 before adding the zero point:
            // exact for int8 bounds and zero points within ±2^15 (always so in TFLite files).
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma
                if (-128..=127).contains(&lo)
                    && (-128..=127).contains(&hi)
                    && zp.unsigned_abs() <= 1 << 15 =>
            {
                // SAFETY: `Kernels::new` only selects Avx2Fma when the CPU has AVX2; the four
                // slices were checked to have the same length.
                unsafe { x86::requantize(acc, mult, shift, zp, lo, hi, out) }
            }
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is baseline on aarch64; the slices have the same length.
            Isa::Neon => unsafe { neon::requantize(acc, mult, shift, zp, lo, hi, out) },
            _ => scalar::requantize(acc, mult, shift, zp, lo, hi, out),
        }
        Ok(())
    }
}

/// Input quantization of the hybrid and int8 operators. On x86-64 the crate is built for the
/// baseline (SSE2); these run the same safe code from [`crate::quant`] compiled for AVX2.
impl Kernels {
    /// [`crate::quant::symmetric_quantize`] on this CPU's vector unit.
    pub fn symmetric_quantize(&self, values: &[f32], out: &mut [i8]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx2Fma {
            // SAFETY: `Kernels::new` only selects Avx2Fma when the CPU has AVX2; the function
            // is safe code otherwise (zipped iterators, no indexing past either slice).
            return unsafe { x86::symmetric_quantize(values, out) };
        }
        crate::quant::symmetric_quantize(values, out)
    }

    /// [`crate::quant::asymmetric_quantize`] on this CPU's vector unit.
    pub fn asymmetric_quantize(&self, values: &[f32], out: &mut [i8]) -> (f32, i32) {
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx2Fma {
            // SAFETY: as in `symmetric_quantize`.
            return unsafe { x86::asymmetric_quantize(values, out) };
        }
        crate::quant::asymmetric_quantize(values, out)
    }

    /// `out[i] = quantize_i8(values[i], scale, zp)` ([`crate::quant::quantize_i8`]).
    pub fn quantize_i8(&self, values: &[f32], scale: f32, zp: i32, out: &mut [i8]) {
        #[cfg(target_arch = "x86_64")]
        if self.isa == Isa::Avx2Fma {
            // SAFETY: as in `symmetric_quantize`.
            return unsafe { x86::quantize_i8(values, scale, zp, out) };
        }
        for (q, &v) in out.iter_mut().zip(values) {
            *q = crate::quant::quantize_i8(v, scale, zp);
        }
    }
}

/// Probes of this core's physical limits, for benchmarks that report the distance to them.
impl Kernels {
    /// Runs a register-only float32 FMA loop; returns the multiply-accumulates performed
    /// (and a value to keep the work alive).
    pub fn fma_peak(&self, rounds: usize) -> (u64, f32) {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: Avx2Fma is only selected when the CPU has AVX2 and FMA.
            Isa::Avx2Fma => (rounds as u64 * 80, unsafe { x86::fma_peak(rounds, 0.5) }),
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is baseline on aarch64.
            Isa::Neon => (rounds as u64 * 40, unsafe { neon::fma_peak(rounds, 0.5) }),
            _ => {
                let mut acc = [0.5f32; 8];
                for _ in 0..rounds {
                    for a in acc.iter_mut() {
                        *a = a.mul_add(0.999_999, 0.999_999);
                    }
                }
                (rounds as u64 * 8, acc.iter().sum())
            }
        }
    }

    /// Runs a register-only loop of the int8 kernel's multiply-accumulate instructions;
    /// returns the int8 multiply-accumulates performed (and a value to keep the work alive).
    pub fn i8_peak(&self, rounds: usize) -> (u64, i32) {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: Avx2Fma is only selected when the CPU has AVX2.
            Isa::Avx2Fma => (rounds as u64 * 160, unsafe { x86::i8_peak(rounds, 3) }),
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is baseline on aarch64.
            Isa::Neon => (rounds as u64 * 160, unsafe { neon::i8_peak(rounds, 3) }),
            _ => {
                let mut acc = [0i32; 8];
                for r in 0..rounds {
                    for (i, a) in acc.iter_mut().enumerate() {
                        *a = a.wrapping_add((r as i32 ^ i as i32) & 0x7f);
                    }
                }
                (rounds as u64 * 8, acc.iter().fold(0, |s, v| s ^ v))
            }
        }
    }

    /// Sums `buf` as fast as this core reads it (a bandwidth probe).
    pub fn read_sum(&self, buf: &[f32]) -> f32 {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: Avx2Fma is only selected when the CPU has AVX2 and FMA; the kernel reads
            // only inside `buf`.
            Isa::Avx2Fma => unsafe { x86::read_sum(buf) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON is baseline on aarch64; the kernel reads only inside `buf`.
            Isa::Neon => unsafe { neon::read_sum(buf) },
            _ => buf.iter().sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shape() -> impl Strategy<Value = (usize, usize, usize)> {
        (1usize..40, 1usize..90, 1usize..7)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn fast_f32_matches_scalar((rows, cols, batch) in shape(), seed in any::<u64>()) {
            let mut s = seed | 1;
            let mut next = move || {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            };
            let w: Vec<f32> = (0..rows * cols).map(|_| next()).collect();
            let x: Vec<f32> = (0..batch * cols).map(|_| next() * 3.0).collect();
            let mut want = vec![0.0; rows * batch];
            scalar::fc_f32(&w, rows, cols, &x, batch, &mut want);
            let fast = Kernels::default();
            let mut got = vec![f32::NAN; rows * batch];
            fast.fc_f32(&w, rows, cols, &x, batch, &mut got).unwrap();
            let packed = fast.pack_f32(&w, rows, cols).unwrap();
            let mut got2 = vec![f32::NAN; rows * batch];
            fast.fc_packed(&packed, &x, batch, &mut got2).unwrap();
            // A row gives the same bits alone as in the batch.
            for b in 0..batch {
                let mut one = vec![f32::NAN; rows];
                fast.fc_packed(&packed, &x[b * cols..(b + 1) * cols], 1, &mut one).unwrap();
                prop_assert_eq!(&one[..], &got2[b * rows..(b + 1) * rows]);
            }
            // The same packed weights through the portable path (another `Kernels` value).
            let mut got3 = vec![f32::NAN; rows * batch];
            Kernels::new(Isa::Scalar).fc_packed(&packed, &x, batch, &mut got3).unwrap();
            for (got, name) in [(&got, "row-major"), (&got2, "packed"), (&got3, "packed, portable")] {
            for b in 0..batch {
                for r in 0..rows {
                    // Tolerance from the magnitude of the terms: only summation order differs.
                    let mag: f32 = (0..cols).map(|c| (w[r * cols + c] * x[b * cols + c]).abs()).sum();
                    let (g, e) = (got[b * rows + r], want[b * rows + r]);
                    prop_assert!((g - e).abs() <= 1e-5 * mag + 1e-6, "{name}: {g} vs {e} at {b},{r}");
                }
            }
            }
        }

        #[test]
        fn fast_i8_matches_scalar((rows, cols, batch) in shape(), seed in any::<u64>()) {
            let mut s = seed | 1;
            let mut next = move || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s >> 56) as u8 as i8 };
            let w: Vec<i8> = (0..rows * cols).map(|_| next()).collect();
            let x: Vec<i8> = (0..batch * cols).map(|_| next()).collect();
            let mut want = vec![0; rows * batch];
            scalar::matmul_i8(&w, rows, cols, &x, batch, &mut want);
            let mut got = vec![i32::MIN; rows * batch];
            Kernels::default().matmul_i8(&w, rows, cols, &x, batch, &mut got).unwrap();
            prop_assert_eq!(&got, &want);
            // Packed: with -128 among the weights (widening kernel) and without (maddubs).
            let k = Kernels::default();
            let portable = Kernels::new(Isa::Scalar);
            let packed = k.pack_i8(&w, rows, cols).unwrap();
            let mut got = vec![i32::MIN; rows * batch];
            k.matmul_packed(&packed, &x, batch, &mut got).unwrap();
            prop_assert_eq!(&got, &want);
            // The same packed weights through the portable path (another `Kernels` value).
            portable.matmul_packed(&packed, &x, batch, &mut got).unwrap();
            prop_assert_eq!(&got, &want);
            let w2: Vec<i8> = w.iter().map(|&v| v.max(-127)).collect();
            let mut want2 = vec![0; rows * batch];
            scalar::matmul_i8(&w2, rows, cols, &x, batch, &mut want2);
            let packed = k.pack_i8(&w2, rows, cols).unwrap();
            k.matmul_packed(&packed, &x, batch, &mut got).unwrap();
            prop_assert_eq!(&got, &want2);
            portable.matmul_packed(&packed, &x, batch, &mut got).unwrap();
            prop_assert_eq!(got, want2);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn fast_requantize_matches_scalar(
            acc in proptest::collection::vec(any::<i32>(), 1..40),
            reals in proptest::collection::vec(1e-9f64..4.0, 40),
            zp in -128i32..128,
            small in any::<bool>(),
        ) {
            let n = acc.len();
            // Realistic accumulators (small) and the full int32 range.
            let acc: Vec<i32> = acc.iter().map(|&a| if small { a >> 10 } else { a }).collect();
            let (mult, shift): (Vec<i32>, Vec<i32>) =
                reals[..n].iter().map(|&r| crate::quant::quantize_multiplier(r)).unzip();
            // The activation clamp of a fused RELU / RELU6 or none.
            let (lo, hi) = [(-128, 127), (zp.max(-128), 127), (zp.max(-128), (zp + 40).min(127))][n % 3];
            let mut want = vec![0i8; n];
            Kernels::new(Isa::Scalar).requantize(&acc, &mult, &shift, zp, lo, hi, &mut want).unwrap();
            let mut got = vec![0i8; n];
            Kernels::default().requantize(&acc, &mult, &shift, zp, lo, hi, &mut got).unwrap();
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        #[test]
        fn fast_requantize_matches_scalar_on_any_parameters(
            v in proptest::collection::vec((any::<i32>(), any::<i32>(), -40i32..40), 1..40),
            zp in -(1i32 << 15)..(1 << 15),
            bounds in (-128i32..128, -128i32..128),
        ) {
            let acc: Vec<i32> = v.iter().map(|t| t.0).collect();
            let mult: Vec<i32> = v.iter().map(|t| t.1).collect();
            let shift: Vec<i32> = v.iter().map(|t| t.2).collect();
            let (lo, hi) = (bounds.0.min(bounds.1), bounds.0.max(bounds.1));
            let mut want = vec![0i8; v.len()];
            Kernels::new(Isa::Scalar).requantize(&acc, &mult, &shift, zp, lo, hi, &mut want).unwrap();
            let mut got = vec![0i8; v.len()];
            Kernels::default().requantize(&acc, &mult, &shift, zp, lo, hi, &mut got).unwrap();
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        #[test]
        fn fast_input_quantization_matches_the_portable_code(
            v in proptest::collection::vec(
                prop_oneof![
                    -1e3f32..1e3,
                    Just(0.0),
                    Just(-0.0),
                    Just(f32::NAN),
                    -1.0f32..1.0,
                    // Exact halves, where the rounding direction matters.
                    (-600i32..600).prop_map(|h| h as f32 * 0.5),
                    Just(f32::INFINITY),
                    Just(f32::NEG_INFINITY),
                    -1e12f32..1e12,
                ],
                0..300,
            ),
            scale in prop_oneof![1e-3f32..1.0, Just(1.0), Just(0.5)],
            zp in prop_oneof![-128i32..128, any::<i32>()],
        ) {
            let k = Kernels::default();
            let (mut a, mut b) = (vec![0i8; v.len()], vec![0i8; v.len()]);
            let s1 = k.symmetric_quantize(&v, &mut a);
            let s2 = crate::quant::symmetric_quantize(&v, &mut b);
            prop_assert_eq!(s1.to_bits(), s2.to_bits());
            prop_assert_eq!(&a, &b);
            let p1 = k.asymmetric_quantize(&v, &mut a);
            let p2 = crate::quant::asymmetric_quantize(&v, &mut b);
            prop_assert_eq!((p1.0.to_bits(), p1.1), (p2.0.to_bits(), p2.1));
            prop_assert_eq!(&a, &b);
            k.quantize_i8(&v, scale, zp, &mut a);
            for (q, &x) in b.iter_mut().zip(&v) {
                *q = crate::quant::quantize_i8(x, scale, zp);
            }
            prop_assert_eq!(&a, &b);
        }
    }

    #[test]
    fn a_nan_after_a_lanes_extreme_does_not_erase_it() {
        // Lane 0 sees -5, then NaN, then 0: its minimum must stay -5 (NaN ignored).
        let mut v = vec![0.0f32; 24];
        v[0] = -5.0;
        v[8] = f32::NAN;
        v[9] = 2.0;
        v[17] = f32::NAN;
        let k = Kernels::default();
        let (mut a, mut b) = (vec![0i8; v.len()], vec![0i8; v.len()]);
        let s = k.symmetric_quantize(&v, &mut a);
        assert_eq!(s, 5.0 / 127.0);
        assert_eq!(s, crate::quant::symmetric_quantize(&v, &mut b));
        assert_eq!(a, b);
        assert_eq!(a[0], -127);
        let p = k.asymmetric_quantize(&v, &mut a);
        assert_eq!(p, crate::quant::asymmetric_quantize(&v, &mut b));
        assert_eq!(p.0, 7.0 / 255.0);
        assert_eq!(a, b);
    }

    #[test]
    fn extreme_int8_values_are_exact() {
        // -128 · -128 summed over many columns must not saturate any intermediate lane.
        let (rows, cols, batch) = (5, 257, 3);
        let w = vec![-128i8; rows * cols];
        let x = vec![-128i8; batch * cols];
        let mut got = vec![0; rows * batch];
        Kernels::default()
            .matmul_i8(&w, rows, cols, &x, batch, &mut got)
            .unwrap();
        assert!(got.iter().all(|&v| v == 16384 * cols as i32));
        // The maddubs kernel's worst case: |x| = 128 against |w| = 127, both signs.
        let k = Kernels::default();
        for (wv, xv) in [(127i8, -128i8), (-127, -128), (127, 127), (-127, 127)] {
            let w = vec![wv; rows * cols];
            let x = vec![xv; batch * cols];
            let packed = k.pack_i8(&w, rows, cols).unwrap();
            k.matmul_packed(&packed, &x, batch, &mut got).unwrap();
            let want = i32::from(wv) * i32::from(xv) * cols as i32;
            assert!(got.iter().all(|&v| v == want), "{wv}·{xv}: {got:?}");
        }
    }

    #[test]
    fn short_slices_are_an_error_not_a_read() {
        let k = Kernels::default();
        let mut out = vec![0.0; 4];
        assert!(k.fc_f32(&[0.0; 7], 2, 4, &[0.0; 8], 2, &mut out).is_err());
        let mut out = vec![0; 4];
        assert!(k.matmul_i8(&[0; 8], 2, 4, &[0; 7], 2, &mut out).is_err());
        assert!(
            k.matmul_i8(&[0; 8], 2, 4, &[0; 8], 2, &mut out[..3])
                .is_err()
        );
        assert!(k.matmul_i8(&[], usize::MAX, 2, &[], 1, &mut []).is_err());
    }

    #[test]
    fn probes_compute_what_they_claim() {
        let k = Kernels::default();
        let buf: Vec<f32> = (0..1000).map(|i| (i % 10) as f32).collect();
        assert_eq!(k.read_sum(&buf), 4500.0);
        assert_eq!(k.read_sum(&buf[..37]), buf[..37].iter().sum::<f32>());
        let (macs, v) = k.fma_peak(100);
        assert!(macs >= 800 && v.is_finite());
        let (macs, _) = k.i8_peak(100);
        assert!(macs >= 800);
    }
}
