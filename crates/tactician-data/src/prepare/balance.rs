//! Balancing the training split across players (strategies) and, optionally, actions.

use super::rows::Rows;
use super::{BalanceMethod, BalanceReport, Distribution, PrepareConfig};

use tactician_game::SplitMix64;

/// The distribution of `rows`, weighted.
pub fn distribution(rows: &Rows, players: &[String], actions: &[String]) -> Distribution {
    let mut by_player = vec![0f64; players.len()];
    let mut by_action = vec![0f64; actions.len()];
    for i in 0..rows.len() {
        let w = f64::from(rows.weight[i]);
        by_player[rows.group[i] as usize] += w;
        by_action[rows.action[i] as usize] += w;
    }
    let named = |names: &[String], v: Vec<f64>| {
        names
            .iter()
            .zip(v)
            .filter(|(_, x)| *x > 0.0)
            .map(|(n, x)| (n.clone(), (x * 1000.0).round() / 1000.0))
            .collect()
    };
    Distribution {
        by_player: named(players, by_player),
        by_action: named(actions, by_action),
    }
}

/// Balances `rows` (the training split) in place as `config` says.
pub fn balance(
    rows: &mut Rows,
    config: &PrepareConfig,
    players: &[String],
    actions: &[String],
) -> BalanceReport {
    let before = distribution(rows, players, actions);
    let rows_before = rows.len() as u64;
    match config.balance {
        BalanceMethod::None => {}
        BalanceMethod::Weights => weights(rows, config, players.len()),
        BalanceMethod::Resample => *rows = resample(rows, config.seed, players.len()),
    }
    let (lo, hi) = rows
        .weight
        .iter()
        .fold((f32::INFINITY, 0f32), |(l, h), &w| (l.min(w), h.max(w)));
    BalanceReport {
        method: config.balance,
        actions: config.balance_actions,
        rows_before,
        rows_after: rows.len() as u64,
        before,
        after: distribution(rows, players, actions),
        weight_range: [if lo.is_finite() { lo } else { 0.0 }, hi],
    }
}

/// Every player gets the same total weight (and, with `balance_actions`, every action of a
/// player the same share of it); weights are scaled to mean 1 and capped at `max_weight`.
fn weights(rows: &mut Rows, config: &PrepareConfig, num_players: usize) {
    let n = rows.len();
    if n == 0 {
        return;
    }
    let na = rows.na;
    let mut cell = vec![0u64; num_players * na];
    for i in 0..n {
        cell[rows.group[i] as usize * na + rows.action[i] as usize] += 1;
    }
    let per_group: Vec<u64> = cell.chunks(na).map(|c| c.iter().sum()).collect();
    let actions_in: Vec<u64> = cell
        .chunks(na)
        .map(|c| c.iter().filter(|&&x| x > 0).count() as u64)
        .collect();
    let groups = per_group.iter().filter(|&&x| x > 0).count() as f64;
    for i in 0..n {
        let g = rows.group[i] as usize;
        let w = if config.balance_actions {
            let c = cell[g * na + rows.action[i] as usize];
            n as f64 / (groups * actions_in[g] as f64 * c as f64)
        } else {
            n as f64 / (groups * per_group[g] as f64)
        };
        rows.weight[i] = w as f32;
    }
    // Scale to mean 1 and cap, until the cap holds after scaling (capping lowers the mean,
    // so a few rounds are needed when many rows are capped).
    for _ in 0..32 {
        let mean = rows.weight.iter().map(|&w| f64::from(w)).sum::<f64>() / n as f64;
        let mut capped = false;
        for w in &mut rows.weight {
            *w = (f64::from(*w) / mean) as f32;
            if *w > config.max_weight {
                *w = config.max_weight;
                capped = true;
            }
        }
        if !capped {
            break;
        }
    }
}

/// Every player's rows are sub- or over-sampled (seeded) to the mean group size; the kept
/// rows stay in their original order.
fn resample(rows: &Rows, seed: u64, num_players: usize) -> Rows {
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); num_players];
    for i in 0..rows.len() {
        members[rows.group[i] as usize].push(i);
    }
    let groups = members.iter().filter(|m| !m.is_empty()).count().max(1);
    let target = (rows.len() as f64 / groups as f64).round() as usize;
    let mut picked = Vec::with_capacity(rows.len());
    for (g, m) in members.iter_mut().enumerate() {
        if m.is_empty() {
            continue;
        }
        let mut rng = SplitMix64::derive(seed, 0x7ba1_0000 + g as u64);
        let mut draw = |n: usize| (rng.next_u64() % n as u64) as usize;
        if m.len() >= target {
            for k in 0..target {
                let j = k + draw(m.len() - k);
                m.swap(k, j);
            }
            picked.extend_from_slice(&m[..target]);
        } else {
            let extra: Vec<usize> = (m.len()..target).map(|_| m[draw(m.len())]).collect();
            picked.extend_from_slice(m);
            picked.extend(extra);
        }
    }
    picked.sort_unstable();
    let mut out = rows.gather(&picked);
    out.weight.iter_mut().for_each(|w| *w = 1.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(groups: &[(u32, i32, usize)]) -> Rows {
        let mut r = Rows::new(1, 3);
        for &(g, a, n) in groups {
            for _ in 0..n {
                r.features.extend_from_slice(&0f32.to_le_bytes());
                r.legal.extend_from_slice(&[1, 1, 1]);
                r.action.push(a);
                r.value.push(0.0);
                r.weight.push(1.0);
                r.group.push(g);
            }
        }
        r
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn weights_equalize_players() {
        let mut r = rows(&[(0, 0, 90), (1, 1, 10)]);
        let c = PrepareConfig {
            players: vec![],
            ..Default::default()
        };
        let rep = balance(&mut r, &c, &names(2), &names(3));
        assert_eq!(rep.before.by_player["n0"], 90.0);
        let a = rep.after.by_player["n0"];
        let b = rep.after.by_player["n1"];
        assert!(
            (a - b).abs() < 1e-3 && (a + b - 100.0).abs() < 1e-3,
            "{a} {b}"
        );
    }

    #[test]
    fn action_weights_are_capped() {
        let mut r = rows(&[(0, 0, 999), (0, 1, 1)]);
        let c = PrepareConfig {
            balance_actions: true,
            max_weight: 5.0,
            ..Default::default()
        };
        balance(&mut r, &c, &names(1), &names(3));
        let mean = r.weight.iter().sum::<f32>() / r.len() as f32;
        assert!((mean - 1.0).abs() < 1e-3, "{mean}");
        assert!(
            r.weight[999] > 4.9 && r.weight[999] <= 5.0,
            "{}",
            r.weight[999]
        );
    }

    #[test]
    fn resampling_is_seeded_and_even() {
        let r = rows(&[(0, 0, 70), (1, 1, 30)]);
        let c = PrepareConfig {
            balance: BalanceMethod::Resample,
            ..Default::default()
        };
        let mut a = r.clone();
        let rep = balance(&mut a, &c, &names(2), &names(3));
        assert_eq!(rep.after.by_player["n0"], 50.0);
        assert_eq!(rep.after.by_player["n1"], 50.0);
        let mut b = r.clone();
        balance(&mut b, &c, &names(2), &names(3));
        assert_eq!(a, b);
    }
}
