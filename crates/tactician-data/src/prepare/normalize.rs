//! Per-feature normalization statistics of the training split.

use super::Normalization;
use super::rows::Rows;
use rayon::prelude::*;

/// Rows per partial sum (fixed, so the result does not depend on the thread count).
const BLOCK: usize = 8192;

struct Partial {
    sum: Vec<f64>,
    sq: Vec<f64>,
    min: Vec<f32>,
    max: Vec<f32>,
}

/// The statistics of `rows`, unweighted, accumulated in `f64` around the first row's values.
pub fn compute(rows: &Rows, names: &[String], std_floor: f32, near_constant: f32) -> Normalization {
    let nf = rows.nf;
    let n = rows.len();
    let shift: Vec<f64> = if n > 0 {
        (0..nf).map(|j| f64::from(rows.feature(0, j))).collect()
    } else {
        vec![0.0; nf]
    };
    let partials: Vec<Partial> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut p = Partial {
                sum: vec![0.0; nf],
                sq: vec![0.0; nf],
                min: vec![f32::INFINITY; nf],
                max: vec![f32::NEG_INFINITY; nf],
            };
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                let row = &rows.features[i * nf * 4..(i + 1) * nf * 4];
                // Zipped, without indexing, so that the compiler drops the bounds checks and
                // vectorizes across features.
                let stats = p.sum.iter_mut().zip(&mut p.sq).zip(&shift);
                let range = p.min.iter_mut().zip(&mut p.max);
                for ((x, ((sum, sq), shift)), (min, max)) in
                    row.chunks_exact(4).zip(stats).zip(range)
                {
                    let v = f32::from_le_bytes([x[0], x[1], x[2], x[3]]);
                    let d = f64::from(v) - shift;
                    *sum += d;
                    *sq += d * d;
                    *min = min.min(v);
                    *max = max.max(v);
                }
            }
            p
        })
        .collect();
    let mut sum = vec![0f64; nf];
    let mut sq = vec![0f64; nf];
    let mut min = vec![f32::INFINITY; nf];
    let mut max = vec![f32::NEG_INFINITY; nf];
    for p in &partials {
        for j in 0..nf {
            sum[j] += p.sum[j];
            sq[j] += p.sq[j];
            min[j] = min[j].min(p.min[j]);
            max[j] = max[j].max(p.max[j]);
        }
    }
    let mut out = Normalization {
        mean: Vec::with_capacity(nf),
        std: Vec::with_capacity(nf),
        std_floor,
        constant_features: Vec::new(),
        near_constant_features: Vec::new(),
        rows: n as u64,
    };
    let count = n.max(1) as f64;
    for j in 0..nf {
        let m = sum[j] / count;
        let var = (sq[j] / count - m * m).max(0.0);
        let sd = var.sqrt() as f32;
        out.mean.push((shift[j] + m) as f32);
        if n == 0 || min[j] == max[j] {
            out.std.push(1.0);
            out.constant_features.push(names[j].clone());
        } else {
            if sd < near_constant {
                out.near_constant_features.push(names[j].clone());
            }
            out.std.push(sd.max(std_floor));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_and_constants() {
        let mut r = Rows::new(3, 1);
        for (a, b) in [(1.0f32, 0.0f32), (3.0, 0.0), (5.0, 0.0), (7.0, 1e-4)] {
            for x in [a, 2.0, b] {
                r.features.extend_from_slice(&x.to_le_bytes());
            }
            r.action.push(0);
        }
        let names: Vec<String> = ["a", "c", "n"].iter().map(|s| s.to_string()).collect();
        let n = compute(&r, &names, 1e-3, 1e-2);
        assert!((n.mean[0] - 4.0).abs() < 1e-6);
        assert!((n.std[0] - 5f32.sqrt()).abs() < 1e-5);
        assert_eq!((n.mean[1], n.std[1]), (2.0, 1.0));
        assert_eq!(n.constant_features, vec!["c".to_string()]);
        assert_eq!(n.near_constant_features, vec!["n".to_string()]);
        assert_eq!(n.std[2], 1e-3);
    }
}
