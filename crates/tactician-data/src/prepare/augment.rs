//! Augmenting the training split with the game's symmetries.
//!
//! Each training row gets `copies` symmetric copies (a seeded choice of distinct symmetries
//! per row; all of them when `copies` is 0), appended after the original rows. A copy maps the
//! features, the legal mask and the action together and keeps the value (a symmetry does not
//! change who wins) and the weight.

use super::PrepareError;
use super::rows::Rows;
use rayon::prelude::*;

use tactician_battle::symmetry::FeatureSymmetry;
use tactician_game::SplitMix64;

/// Rows per parallel block (fixed, so the output does not depend on the thread count).
const BLOCK: usize = 4096;

/// Selects the symmetries named in `wanted` (all when empty) among a game's declared ones
/// (which [`GameSpec`](tactician_battle::GameSpec) has checked against its spec).
pub fn select(
    all: &[FeatureSymmetry],
    wanted: &[String],
) -> Result<Vec<FeatureSymmetry>, PrepareError> {
    if wanted.is_empty() {
        return Ok(all.to_vec());
    }
    wanted
        .iter()
        .map(|w| {
            all.iter().find(|s| s.name() == w).cloned().ok_or_else(|| {
                PrepareError::Symmetry(format!(
                    "the encoder has no symmetry {w:?} (it has {})",
                    if all.is_empty() {
                        "none".to_string()
                    } else {
                        all.iter()
                            .take(8)
                            .map(|s| s.name().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                            + if all.len() > 8 { ", ..." } else { "" }
                    }
                ))
            })
        })
        .collect()
}

/// The copies per row that [`augment`] adds with `available` symmetries when asked for
/// `requested` (0: one per symmetry).
pub fn copies_per_row(available: usize, requested: usize) -> usize {
    if requested == 0 {
        available
    } else {
        requested.min(available)
    }
}

/// Appends `copies` symmetric copies of every row of `rows` (all symmetries when `copies` is
/// 0 or at least their number), choosing them per row from `seed` and the row's position.
pub fn augment(rows: &mut Rows, syms: &[FeatureSymmetry], copies: usize, seed: u64) -> usize {
    if syms.is_empty() || rows.is_empty() {
        return 0;
    }
    let copies = copies_per_row(syms.len(), copies);
    let (nf, na) = (rows.nf, rows.na);
    let fw = 4 * nf;
    let n = rows.len();
    // The tensors are filled block by block in place, at their final size: the features
    // tensor as the scan left it when it made room for the copies after the rows
    // (`read::scan`), or else allocated zeroed (the kernel maps zero pages that the writers
    // below fault in, on every thread) with the original rows copied first.
    let total = n * (1 + copies) * fw;
    let mut features = if rows.features.len() == total {
        std::mem::take(&mut rows.features)
    } else {
        let mut f = vec![0u8; total];
        f[..n * fw]
            .par_chunks_mut(BLOCK * fw)
            .zip(rows.features[..n * fw].par_chunks(BLOCK * fw))
            .for_each(|(to, from)| to.copy_from_slice(from));
        f
    };
    let mut legal = vec![0u8; n * (1 + copies) * na];
    let (original, added) = features.split_at_mut(n * fw);
    let original: &[u8] = original;
    let (original_legal, added_legal) = legal.split_at_mut(n * na);
    original_legal.copy_from_slice(&rows.legal);
    let columns: Vec<(Vec<i32>, Vec<u32>)> = added
        .par_chunks_mut(BLOCK * copies * fw)
        .zip(added_legal.par_chunks_mut(BLOCK * copies * na))
        .enumerate()
        .map(|(b, (out_features, out_legal))| {
            let rows_here = BLOCK.min(n - b * BLOCK) * copies;
            let mut action = Vec::with_capacity(rows_here);
            let mut group = Vec::with_capacity(rows_here);
            let mut input = vec![0f32; nf];
            let mut order: Vec<usize> = (0..syms.len()).collect();
            let mut out_rows = out_features
                .chunks_exact_mut(fw)
                .zip(out_legal.chunks_exact_mut(na));
            for i in b * BLOCK..((b + 1) * BLOCK).min(n) {
                let row = &original[i * fw..(i + 1) * fw];
                for (x, b) in input.iter_mut().zip(row.chunks_exact(4)) {
                    *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
                let mask = rows.row_legal(i);
                let mut rng = SplitMix64::derive(seed ^ 0xa06e_0000_0000_0000, i as u64);
                if copies < syms.len() {
                    for k in 0..copies {
                        let j = k + (rng.next_u64() % (syms.len() - k) as u64) as usize;
                        order.swap(k, j);
                    }
                }
                for &si in &order[..copies] {
                    let s = &syms[si];
                    let Some((f, l)) = out_rows.next() else {
                        unreachable!("each block's slices hold `copies` rows per input row")
                    };
                    // The symmetry's features, written straight as bytes.
                    for (o, m) in f.chunks_exact_mut(4).zip(s.feature_maps()) {
                        o.copy_from_slice(&m.apply(&input).to_le_bytes());
                    }
                    for (a, &bit) in mask.iter().enumerate() {
                        l[s.apply_action(a)] = bit;
                    }
                    action.push(s.apply_action(rows.action[i] as usize) as i32);
                    group.push(rows.group[i]);
                }
                if copies < syms.len() {
                    order.iter_mut().enumerate().for_each(|(k, o)| *o = k);
                }
            }
            (action, group)
        })
        .collect();
    // Copies keep the value and weight of their row: the originals' columns, `copies` times
    // each, in row order.
    let repeat = |v: &[f32]| -> Vec<f32> {
        v.iter()
            .flat_map(|&x| std::iter::repeat_n(x, copies))
            .collect()
    };
    let value = repeat(&rows.value);
    let weight = repeat(&rows.weight);
    rows.features = features;
    rows.legal = legal;
    rows.value.extend(value);
    rows.weight.extend(weight);
    for (action, group) in columns {
        rows.action.extend(action);
        rows.group.extend(group);
    }
    copies
}

#[cfg(test)]
mod tests {
    use super::*;
    use tactician_battle::FeatureSpec;
    use tactician_battle::symmetry::FeatureMap;

    fn mirror() -> FeatureSymmetry {
        FeatureSymmetry::new(
            "mirror",
            vec![FeatureMap::affine(0, -1.0, 1.0), FeatureMap::copy(1)],
            vec![0, 2, 1],
        )
        .unwrap()
    }

    #[test]
    fn copies_map_features_mask_and_action_together() {
        let mut r = Rows::new(2, 3);
        for (x, a) in [(0.25f32, 1), (0.5, 2)] {
            r.features.extend_from_slice(&x.to_le_bytes());
            r.features.extend_from_slice(&0.5f32.to_le_bytes());
            r.legal
                .extend_from_slice(if a == 1 { &[1, 1, 0] } else { &[0, 0, 1] });
            r.action.push(a);
            r.value.push(1.0);
            r.weight.push(2.0);
            r.group.push(0);
        }
        assert_eq!(augment(&mut r, &[mirror()], 1, 0), 1);
        assert_eq!(r.len(), 4);
        assert_eq!(r.row_features(2), vec![0.75, 0.5]);
        assert_eq!(r.row_legal(2), &[1, 0, 1]);
        assert_eq!(r.action[2], 2);
        assert_eq!(r.row_legal(3), &[0, 1, 0]);
        assert_eq!(r.action[3], 1);
        assert_eq!((r.value[3], r.weight[3]), (1.0, 2.0));
        for i in 0..r.len() {
            assert_eq!(r.row_legal(i)[r.action[i] as usize], 1);
        }
    }

    #[test]
    fn every_symmetry_when_asked_for_none_and_the_room_left_by_the_scan_gives_the_same_rows() {
        let swap = FeatureSymmetry::new(
            "swap",
            vec![FeatureMap::copy(1), FeatureMap::copy(0)],
            vec![0, 1, 2],
        )
        .unwrap();
        let syms = [mirror(), swap];
        assert_eq!(copies_per_row(2, 0), 2);
        assert_eq!(copies_per_row(2, 1), 1);
        assert_eq!(copies_per_row(2, 5), 2);
        let mut rows = Rows::new(2, 3);
        for (i, x) in [0.25f32, 0.5, 0.125].into_iter().enumerate() {
            rows.features.extend_from_slice(&x.to_le_bytes());
            rows.features.extend_from_slice(&(i as f32).to_le_bytes());
            rows.legal.extend_from_slice(&[1, 1, 0]);
            rows.action.push(1);
            rows.value.push(-1.0);
            rows.weight.push(i as f32);
            rows.group.push(i as u32);
        }
        let mut plain = rows.clone();
        assert_eq!(augment(&mut plain, &syms, 0, 7), 2);
        assert_eq!(plain.len(), 9);
        // Row 1's copies, after the three rows: its mirror, then its swap.
        assert_eq!(plain.row_features(5), vec![0.5, 1.0]);
        assert_eq!((plain.action[5], plain.row_legal(5)), (2, &[1, 0, 1][..]));
        assert_eq!(plain.row_features(6), vec![1.0, 0.5]);
        assert_eq!((plain.action[6], plain.row_legal(6)), (1, &[1, 1, 0][..]));
        assert_eq!(
            (plain.weight[6], plain.group[6], plain.value[6]),
            (1.0, 1, -1.0)
        );
        // The scan leaves room for the copies after the rows: filled in place, whatever it
        // held, to the same rows.
        let mut roomy = rows.clone();
        roomy.features.resize(rows.features.len() * 3, 0xab);
        assert_eq!(augment(&mut roomy, &syms, 0, 7), 2);
        assert_eq!(roomy, plain);
    }

    #[test]
    fn unknown_or_misfit_symmetries_are_refused() {
        let spec = FeatureSpec::new(
            "t",
            vec![
                tactician_battle::FeatureDef::new("a", "", 0.0, 1.0),
                tactician_battle::FeatureDef::new("b", "", 0.0, 1.0),
            ],
            vec!["x".into(), "y".into(), "z".into()],
        )
        .unwrap();
        assert!(select(&[mirror()], &["nope".into()]).is_err());
        assert_eq!(select(&[mirror()], &[]).unwrap().len(), 1);
        assert!(
            tactician_battle::GameSpec::new(spec)
                .with_symmetries(vec![mirror()])
                .is_ok()
        );
        let one = FeatureSpec::new(
            "u",
            vec![tactician_battle::FeatureDef::new("a", "", 0.0, 1.0)],
            vec!["x".into()],
        )
        .unwrap();
        // A symmetry that does not fit the spec never reaches prepare: the game refuses it.
        assert!(
            tactician_battle::GameSpec::new(one)
                .with_symmetries(vec![mirror()])
                .is_err()
        );
    }
}
