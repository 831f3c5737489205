//! The only module with `unsafe`: matrix products through the `gemm` crate.
//!
//! [`matmul`] checks every shape and stride against the slices it is given before it hands raw
//! pointers to `gemm`, so callers stay in safe code. [`matmul_naive`] is the safe reference the
//! tests compare it with.
#![allow(unsafe_code)]

/// A read-only matrix view: `rows × cols` elements of `data`, element `(r, c)` at
/// `r * row_stride + c * col_stride`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix over `data` (which must hold at least `rows * cols`
    /// elements).
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (a view: nothing is copied).
    pub fn t(self) -> Self {
        Self {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
        }
    }

    /// Element `(r, c)`.
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[r * self.row_stride + c * self.col_stride]
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last = (self.rows - 1).checked_mul(self.row_stride).and_then(|a| {
            (self.cols - 1)
                .checked_mul(self.col_stride)
                .and_then(|b| a.checked_add(b))
        });
        last.is_some_and(|last| last < self.data.len())
            && isize::try_from(self.row_stride).is_ok()
            && isize::try_from(self.col_stride).is_ok()
    }
}

/// How many threads a product may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// The calling thread only.
    One,
    /// Up to this many threads of the current rayon pool.
    Rayon(usize),
}

/// `dst = a × b` (or `dst += a × b` with `accumulate`), `dst` row-major `a.rows × b.cols`.
///
/// # Panics
/// When the shapes disagree or a view reaches past its slice: a bug in the caller, never a
/// consequence of input data (the network's shapes are fixed when it is built).
pub fn matmul(dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool, threads: Threads) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ");
    assert_eq!(dst.len(), m * n, "destination has the wrong size");
    assert!(
        a.in_bounds() && b.in_bounds(),
        "a view reaches past its slice"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    let parallelism = match threads {
        Threads::One | Threads::Rayon(0 | 1) => gemm::Parallelism::None,
        Threads::Rayon(t) => gemm::Parallelism::Rayon(t),
    };
    // The strides fit in isize: checked by `in_bounds` (and `n` is at most dst.len()).
    let s = |x: usize| x as isize;
    // SAFETY: `dst` holds exactly m*n elements written at r*n + c (row stride n, column stride
    // 1) for r < m, c < n, and it is borrowed mutably so nothing else aliases it. `a` and `b`
    // were checked by `in_bounds`: their largest offsets (rows-1)*row_stride +
    // (cols-1)*col_stride lie inside their slices, which are borrowed immutably for the call
    // and cannot overlap `dst` (a live `&mut` excludes other borrows). gemm reads only those
    // elements (m×k of a, k×n of b) and writes only the m×n of dst; with `accumulate` false it
    // does not read dst (read_dst = false), so stale contents are harmless.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            s(n),
            accumulate,
            a.data.as_ptr(),
            s(a.col_stride),
            s(a.row_stride),
            b.data.as_ptr(),
            s(b.col_stride),
            s(b.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// The safe reference for [`matmul`]: the textbook triple loop, accumulated in f64.
pub fn matmul_naive(dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions differ");
    assert_eq!(dst.len(), m * n, "destination has the wrong size");
    for r in 0..m {
        for c in 0..n {
            let mut acc = 0.0f64;
            for i in 0..k {
                acc += f64::from(a.at(r, i)) * f64::from(b.at(i, c));
            }
            let out = &mut dst[r * n + c];
            *out = if accumulate {
                (f64::from(*out) + acc) as f32
            } else {
                acc as f32
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fill(len: usize, seed: u64) -> Vec<f32> {
        let mut rng = crate::rng::Rng::new(seed);
        (0..len).map(|_| rng.uniform(-1.0, 1.0)).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn gemm_matches_the_naive_product(
            m in 1usize..40, k in 1usize..40, n in 1usize..40,
            ta in any::<bool>(), tb in any::<bool>(), acc in any::<bool>(),
            threads in 1usize..3, seed in any::<u64>(),
        ) {
            let a_data = fill(m * k, seed);
            let b_data = fill(k * n, seed ^ 1);
            let a = if ta { MatRef::row_major(&a_data, k, m).t() } else { MatRef::row_major(&a_data, m, k) };
            let b = if tb { MatRef::row_major(&b_data, n, k).t() } else { MatRef::row_major(&b_data, k, n) };
            let start = fill(m * n, seed ^ 2);
            let mut fast = start.clone();
            let mut slow = start;
            matmul(&mut fast, a, b, acc, Threads::Rayon(threads));
            matmul_naive(&mut slow, a, b, acc);
            for (x, y) in fast.iter().zip(&slow) {
                prop_assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
            }
        }
    }

    #[test]
    fn large_product_matches_with_two_threads() {
        let (m, k, n) = (300, 257, 129);
        let a_data = fill(m * k, 7);
        let b_data = fill(k * n, 8);
        let a = MatRef::row_major(&a_data, m, k);
        let b = MatRef::row_major(&b_data, n, k).t();
        let mut fast = vec![0.0; m * n];
        let mut slow = vec![0.0; m * n];
        matmul(&mut fast, a, b, false, Threads::Rayon(2));
        matmul_naive(&mut slow, a, b, false);
        let worst = fast
            .iter()
            .zip(&slow)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "worst difference {worst}");
    }

    #[test]
    #[should_panic(expected = "past its slice")]
    fn a_short_slice_is_refused_before_gemm_runs() {
        let a_data = vec![0.0; 5];
        let b_data = vec![0.0; 6];
        let mut dst = vec![0.0; 4];
        matmul(
            &mut dst,
            MatRef::row_major(&a_data, 2, 3),
            MatRef::row_major(&b_data, 3, 2),
            false,
            Threads::One,
        );
    }
}
