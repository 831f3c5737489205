//! Action patterns that go with winning: what winners' decisions hold more (or less) often
//! than losers', and how sides that used items fared.

use super::battle::{Actions, BattleView, Players};
use super::model::{ItemUse, Pattern, Patterns, SideOutcomes, StrategyPatterns};
use std::collections::HashMap;

/// Won and lost counts of one thing.
type Wl = [u64; 2];

/// Outcome counts (win, draw, loss) of sides that used an item type and of those that did not.
type ItemCounts = [[u64; 3]; 2];

/// The tallies.
#[derive(Debug, Clone)]
pub(crate) struct PatternTally {
    actions: Vec<Wl>,
    totals: Wl,
    /// Per player, per action type.
    players: Vec<(Wl, Vec<Wl>)>,
    pairs: HashMap<[u32; 2], Wl>,
    pair_totals: Wl,
    /// Per action type, then `any item` last.
    items: Vec<ItemCounts>,
    /// Whether a use of the type ever spent an item.
    item_types: Vec<bool>,
    /// Scratch: per side, which types spent items in the current battle (+ any, last).
    used: [Vec<bool>; 2],
}

impl PatternTally {
    /// Empty tallies for `actions`.
    pub fn new(actions: &Actions) -> Self {
        let nt = actions.types.len();
        Self {
            actions: vec![[0; 2]; actions.names.len()],
            totals: [0; 2],
            players: Vec::new(),
            pairs: HashMap::new(),
            pair_totals: [0; 2],
            items: vec![[[0; 3]; 2]; nt + 1],
            item_types: vec![false; nt],
            used: [vec![false; nt + 1], vec![false; nt + 1]],
        }
    }

    /// Adds one battle.
    pub fn add(&mut self, b: &BattleView, actions: &Actions) {
        let nt = actions.types.len();
        for u in &mut self.used {
            u.iter_mut().for_each(|x| *x = false);
        }
        let mut last_type: [Option<u32>; 2] = [None; 2];
        for d in &b.rows {
            let side = usize::from(d.side & 1);
            let t = actions.type_of(d.action);
            if d.effects.items.is_some_and(|n| n > 0) {
                self.used[side][t] = true;
                self.used[side][nt] = true;
                self.item_types[t] = true;
            }
            let outcome = b.outcome(d.side);
            let w = match outcome {
                1 => 0,
                -1 => 1,
                _ => continue,
            };
            self.actions[d.action as usize][w] += 1;
            self.totals[w] += 1;
            let p = d.player as usize;
            if self.players.len() <= p {
                self.players
                    .resize_with(p + 1, || ([0; 2], vec![[0; 2]; nt]));
            }
            self.players[p].0[w] += 1;
            self.players[p].1[t][w] += 1;
            if let Some(prev) = last_type[side] {
                self.pairs.entry([prev, t as u32]).or_default()[w] += 1;
                self.pair_totals[w] += 1;
            }
            last_type[side] = Some(t as u32);
        }
        for side in 0..2u8 {
            if b.players[usize::from(side)].is_none() {
                continue;
            }
            let o = (1 - b.outcome(side)) as usize; // 0 win, 1 draw, 2 loss
            for (t, counts) in self.items.iter_mut().enumerate() {
                let used = usize::from(!self.used[usize::from(side)][t]);
                counts[used][o] += 1;
            }
        }
    }

    /// The comparisons; ranked lists keep the `top` most typical of winners and of losers.
    pub fn finish(self, players: &Players, actions: &Actions, top: usize) -> Patterns {
        let [tw, tl] = self.totals;
        let mut by_type_counts = vec![[0u64; 2]; actions.types.len()];
        for (a, wl) in self.actions.iter().enumerate() {
            let t = &mut by_type_counts[actions.type_of(a as u32)];
            t[0] += wl[0];
            t[1] += wl[1];
        }
        let mut by_type: Vec<Pattern> = by_type_counts
            .iter()
            .zip(&actions.types)
            .filter(|(wl, _)| wl[0] + wl[1] > 0)
            .map(|(wl, name)| pattern(name.clone(), *wl, self.totals))
            .collect();
        sort_by_z(&mut by_type);
        let order: Vec<String> = by_type.iter().map(|p| p.pattern.clone()).collect();
        let by_action = extremes(
            self.actions
                .iter()
                .enumerate()
                .filter(|(_, wl)| wl[0] + wl[1] > 0)
                .map(|(a, wl)| pattern(actions.name(a as u32).to_string(), *wl, self.totals))
                .collect(),
            top,
        );
        let by_pair = extremes(
            self.pairs
                .iter()
                .map(|(&[x, y], wl)| {
                    let name = |t: u32| actions.types.get(t as usize).map_or("?", String::as_str);
                    pattern(format!("{} → {}", name(x), name(y)), *wl, self.pair_totals)
                })
                .collect(),
            top,
        );
        let by_strategy = self
            .players
            .iter()
            .enumerate()
            .filter(|(_, (wl, _))| wl[0] + wl[1] > 0)
            .map(|(p, (wl, types))| StrategyPatterns {
                strategy: players.name(p as u32).to_string(),
                winner_decisions: wl[0],
                loser_decisions: wl[1],
                by_type: order
                    .iter()
                    .filter_map(|name| {
                        let t = actions.types.iter().position(|x| x == name)?;
                        Some(pattern(name.clone(), types[t], *wl))
                    })
                    .collect(),
            })
            .collect();
        let nt = actions.types.len();
        let mut items = Vec::new();
        for (t, counts) in self.items.iter().enumerate() {
            if (t < nt && !self.item_types[t]) || (t == nt && !self.item_types.iter().any(|&x| x)) {
                continue;
            }
            let name = actions.types.get(t).map_or("any item", String::as_str);
            items.push(ItemUse {
                item: name.to_string(),
                used: outcomes(counts[0]),
                unused: outcomes(counts[1]),
            });
        }
        // `any item` first.
        let n = usize::from(!items.is_empty());
        items.rotate_right(n);
        Patterns {
            winner_decisions: tw,
            loser_decisions: tl,
            by_type,
            by_action,
            by_pair,
            by_strategy,
            items,
        }
    }
}

/// Side outcomes from (win, draw, loss) counts.
fn outcomes([wins, draws, losses]: [u64; 3]) -> SideOutcomes {
    let sides = wins + draws + losses;
    SideOutcomes {
        sides,
        wins,
        draws,
        losses,
        win_rate: (sides > 0).then(|| wins as f64 / sides as f64),
    }
}

/// Compares `[won, lost]` occurrences against `[won, lost]` totals.
pub(crate) fn pattern(name: String, [w, l]: Wl, [tw, tl]: Wl) -> Pattern {
    let share = |x: u64, n: u64| if n > 0 { x as f64 / n as f64 } else { 0.0 };
    let (p1, p2) = (share(w, tw), share(l, tl));
    let z = (tw > 0 && tl > 0)
        .then(|| {
            let p = (w + l) as f64 / (tw + tl) as f64;
            let se = (p * (1.0 - p) * (1.0 / tw as f64 + 1.0 / tl as f64)).sqrt();
            (se > 0.0).then(|| (p1 - p2) / se)
        })
        .flatten();
    Pattern {
        pattern: name,
        winners: w,
        losers: l,
        winner_share: p1,
        loser_share: p2,
        lift: (p2 > 0.0).then(|| p1 / p2),
        z,
    }
}

/// Sorts by z, largest first (unknown z last), ties by name.
fn sort_by_z(v: &mut [Pattern]) {
    v.sort_by(|a, b| {
        let z = |p: &Pattern| p.z.unwrap_or(f64::NEG_INFINITY);
        z(b).total_cmp(&z(a))
            .then_with(|| a.pattern.cmp(&b.pattern))
    });
}

/// The `top` patterns with the largest positive z and the `top` with the most negative,
/// sorted by z, largest first.
pub(crate) fn extremes(mut v: Vec<Pattern>, top: usize) -> Vec<Pattern> {
    v.retain(|p| p.z.is_some_and(|z| z != 0.0));
    sort_by_z(&mut v);
    let up = v
        .iter()
        .take_while(|p| p.z.is_some_and(|z| z > 0.0))
        .count();
    let down = v.len() - up;
    let mut out: Vec<Pattern> = v[..up.min(top)].to_vec();
    out.extend_from_slice(&v[up + down.saturating_sub(top)..]);
    out
}
