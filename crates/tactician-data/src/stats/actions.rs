//! Action frequency by strategy, and the most frequent sequences of 2 and 3 consecutive
//! decisions of one side in one battle.

use super::battle::{Actions, BattleView, Players};
use super::model::{Sequence, Share, StrategyActions};
use std::collections::HashMap;

/// One strategy's counts.
#[derive(Debug, Default, Clone)]
struct PlayerTally {
    decisions: u64,
    counts: Vec<u64>,
    pairs: HashMap<[u32; 2], u64>,
    triples: HashMap<[u32; 3], u64>,
    pair_count: u64,
    triple_count: u64,
}

/// Action counts per strategy.
#[derive(Debug, Default, Clone)]
pub(crate) struct ActionTally {
    players: Vec<PlayerTally>,
}

impl ActionTally {
    /// Counts one battle's decisions.
    pub fn add(&mut self, b: &BattleView) {
        // The last two actions of each side, most recent last.
        let mut recent: [[Option<u32>; 2]; 2] = [[None; 2]; 2];
        for d in &b.rows {
            let p = d.player as usize;
            if self.players.len() <= p {
                self.players.resize_with(p + 1, PlayerTally::default);
            }
            let t = &mut self.players[p];
            t.decisions += 1;
            let a = d.action as usize;
            if t.counts.len() <= a {
                t.counts.resize(a + 1, 0);
            }
            t.counts[a] += 1;
            let r = &mut recent[usize::from(d.side & 1)];
            if let Some(prev) = r[1] {
                *t.pairs.entry([prev, d.action]).or_default() += 1;
                t.pair_count += 1;
                if let Some(first) = r[0] {
                    *t.triples.entry([first, prev, d.action]).or_default() += 1;
                    t.triple_count += 1;
                }
            }
            *r = [r[1], Some(d.action)];
        }
    }

    /// The per-strategy tables, sequences cut to the `top` most frequent.
    pub fn finish(self, players: &Players, actions: &Actions, top: usize) -> Vec<StrategyActions> {
        self.players
            .into_iter()
            .enumerate()
            .filter(|(_, t)| t.decisions > 0)
            .map(|(p, t)| {
                let total = t.decisions as f64;
                let mut types = vec![0u64; actions.types.len()];
                for (a, &n) in t.counts.iter().enumerate() {
                    if let Some(slot) = types.get_mut(actions.type_of(a as u32)) {
                        *slot += n;
                    }
                }
                let names = shares(
                    t.counts
                        .iter()
                        .enumerate()
                        .map(|(a, &n)| (actions.name(a as u32).to_string(), n)),
                    total,
                );
                let types = shares(
                    types
                        .iter()
                        .zip(&actions.types)
                        .map(|(&n, name)| (name.clone(), n)),
                    total,
                );
                StrategyActions {
                    strategy: players.name(p as u32).to_string(),
                    decisions: t.decisions,
                    names,
                    types,
                    pair_count: t.pair_count,
                    pairs: ranked(t.pairs, t.pair_count, actions, top),
                    triple_count: t.triple_count,
                    triples: ranked(t.triples, t.triple_count, actions, top),
                }
            })
            .collect()
    }
}

/// Non-zero counts with their shares of `total`, most frequent first (ties by name).
fn shares(counts: impl Iterator<Item = (String, u64)>, total: f64) -> Vec<Share> {
    let mut out: Vec<Share> = counts
        .filter(|(_, n)| *n > 0)
        .map(|(name, count)| Share {
            name,
            count,
            share: count as f64 / total,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    out
}

/// The `top` most frequent sequences (ties by action indices, so the order is stable).
fn ranked<const N: usize>(
    counts: HashMap<[u32; N], u64>,
    total: u64,
    actions: &Actions,
    top: usize,
) -> Vec<Sequence> {
    let mut all: Vec<([u32; N], u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.into_iter()
        .take(top)
        .map(|(seq, count)| Sequence {
            actions: seq.iter().map(|&a| actions.name(a).to_string()).collect(),
            count,
            share: count as f64 / total.max(1) as f64,
        })
        .collect()
}
