//! Probes of the core's physical limits for the benchmarks: peak float32 and int8
//! multiply-accumulate rates and read bandwidth.

use std::arch::x86_64::*;

use super::float::hsum_ps;
use super::int8::hsum_epi32;

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
