//! Turning points: the decisions after which side 0's material advantage moved most.

use super::battle::{Actions, BattleView, Players};
use super::model::{TurningPoint, TurningPoints};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A kept swing. Ordered by size, then earlier battles and turns first, so the pick is
/// deterministic.
#[derive(Debug, Clone, PartialEq)]
struct Ranked {
    size: f64,
    battle: u64,
    turn: u32,
    point: TurningPoint,
    /// Player numbers of the actor and its opponent (named at the end).
    players: (u32, Option<u32>),
    action: u32,
}

impl Ranked {
    fn key_cmp(size: f64, battle: u64, turn: u32, other: &Ranked) -> Ordering {
        size.total_cmp(&other.size)
            .then_with(|| other.battle.cmp(&battle))
            .then_with(|| other.turn.cmp(&turn))
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        Ranked::key_cmp(self.size, self.battle, self.turn, other)
    }
}

/// The largest swings seen so far (at most `top`) and per-battle counts.
#[derive(Debug, Clone)]
pub(crate) struct TurningTally {
    top: usize,
    kept: BinaryHeap<Reverse<Ranked>>,
    battles_measured: u64,
    decisive: u64,
    decisive_won: u64,
}

impl TurningTally {
    /// Keeps the `top` largest swings.
    pub fn new(top: usize) -> Self {
        Self {
            top,
            kept: BinaryHeap::with_capacity(top + 1),
            battles_measured: 0,
            decisive: 0,
            decisive_won: 0,
        }
    }

    /// Adds the swings of battle number `ordinal` (its position in the dataset).
    pub fn add(&mut self, b: &BattleView, ordinal: u64) {
        let mut largest: Option<(f64, f64)> = None; // (size, swing)
        for (i, swing) in b.swing.iter().enumerate() {
            let Some(swing) = *swing else { continue };
            let size = swing.abs();
            if !size.is_finite() {
                continue;
            }
            if largest.is_none_or(|(s, _)| size > s) {
                largest = Some((size, swing));
            }
            let d = &b.rows[i];
            if self.top == 0 {
                continue;
            }
            if self.kept.len() >= self.top
                && let Some(Reverse(worst)) = self.kept.peek()
                && Ranked::key_cmp(size, ordinal, d.turn, worst) != Ordering::Greater
            {
                continue;
            }
            let before = d.advantage0().unwrap_or(0.0);
            self.kept.push(Reverse(Ranked {
                size,
                battle: ordinal,
                turn: d.turn,
                point: TurningPoint {
                    battle_id: b.id.clone(),
                    source: None,
                    turn: d.turn,
                    side: d.side,
                    player: String::new(),
                    opponent: String::new(),
                    action: String::new(),
                    before,
                    after: before + swing,
                    swing,
                    winner: b.winner,
                },
                players: (d.player, b.players[usize::from(1 - (d.side & 1))]),
                action: d.action,
            }));
            if self.kept.len() > self.top {
                self.kept.pop();
            }
        }
        if let Some((size, swing)) = largest {
            self.battles_measured += 1;
            if let Some(w) = b.winner
                && size > 0.0
            {
                self.decisive += 1;
                let gainer = if swing > 0.0 { 0 } else { 1 };
                if gainer == w {
                    self.decisive_won += 1;
                }
            }
        }
    }

    /// The kept swings, largest first, with names filled in (the sources are looked up later).
    pub fn finish(self, players: &Players, actions: &Actions) -> TurningPoints {
        let mut kept: Vec<Ranked> = self.kept.into_iter().map(|Reverse(r)| r).collect();
        kept.sort_by(|a, b| b.cmp(a));
        TurningPoints {
            battles_measured: self.battles_measured,
            decisive: self.decisive,
            decisive_won_by_largest_gainer: self.decisive_won,
            points: kept
                .into_iter()
                .map(|r| TurningPoint {
                    player: players.name(r.players.0).to_string(),
                    opponent: r
                        .players
                        .1
                        .map_or(String::new(), |p| players.name(p).to_string()),
                    action: actions.name(r.action).to_string(),
                    ..r.point
                })
                .collect(),
        }
    }
}
