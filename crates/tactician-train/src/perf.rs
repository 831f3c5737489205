//! The physical limit the trainer is measured against: GFLOP/s of a large matrix product on
//! the same `gemm` kernels and threads.

use crate::kernel::{MatRef, Threads, matmul};
use std::time::Instant;

/// Best GFLOP/s of `reps` products of two `n × n` matrices with `threads` threads.
pub fn peak_gflops(threads: usize, n: usize, reps: usize) -> f64 {
    let a: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7919) % 1000) as f32 * 1e-3)
        .collect();
    let b: Vec<f32> = (0..n * n)
        .map(|i| ((i * 104_729) % 1000) as f32 * 1e-3)
        .collect();
    let mut c = vec![0f32; n * n];
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(p) => p,
        Err(_) => return 0.0,
    };
    let th = if threads > 1 {
        Threads::Rayon(threads)
    } else {
        Threads::One
    };
    pool.install(|| {
        let mut best = f64::INFINITY;
        for _ in 0..reps.max(1) + 1 {
            let t0 = Instant::now();
            matmul(
                &mut c,
                MatRef::row_major(&a, n, n),
                MatRef::row_major(&b, n, n),
                false,
                th,
            );
            best = best.min(t0.elapsed().as_secs_f64());
        }
        2.0 * (n as f64).powi(3) / best / 1e9
    })
}
