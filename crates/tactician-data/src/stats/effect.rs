//! What each action type achieves per use, and how strategies spend energy and items over the
//! phases of a battle.

use super::battle::{Actions, BattleView, Players};
use super::model::{Effectiveness, PhaseResources, Resources};

/// Sums over the uses of one action.
#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    uses: u64,
    measured: u64,
    damage: i64,
    healing: i64,
    applied: u64,
    resisted: u64,
    knockouts: u64,
    energy: i64,
    items: u64,
    advantage: f64,
    advantage_n: u64,
}

impl Sums {
    fn merge(&mut self, o: &Sums) {
        self.uses += o.uses;
        self.measured += o.measured;
        self.damage += o.damage;
        self.healing += o.healing;
        self.applied += o.applied;
        self.resisted += o.resisted;
        self.knockouts += o.knockouts;
        self.energy += o.energy;
        self.items += o.items;
        self.advantage += o.advantage;
        self.advantage_n += o.advantage_n;
    }
}

/// One phase of one strategy.
#[derive(Debug, Default, Clone, Copy)]
struct Phase {
    decisions: u64,
    measured: u64,
    energy: i64,
    items: u64,
}

/// Effects per action and resources per strategy and phase.
#[derive(Debug, Clone)]
pub(crate) struct EffectTally {
    actions: Vec<Sums>,
    /// Per player: battle sides played, and the three phases.
    players: Vec<(u64, [Phase; 3])>,
}

/// The names of the phases.
pub(crate) const PHASES: [&str; 3] = ["early", "mid", "late"];

impl EffectTally {
    /// Empty tallies for `actions`.
    pub fn new(actions: &Actions) -> Self {
        Self {
            actions: vec![Sums::default(); actions.names.len()],
            players: Vec::new(),
        }
    }

    /// Adds one battle.
    pub fn add(&mut self, b: &BattleView) {
        for p in b.players.iter().flatten() {
            self.player(*p).0 += 1;
        }
        for (i, d) in b.rows.iter().enumerate() {
            let fx = &d.effects;
            let measured = fx.damage.is_some();
            if let Some(s) = self.actions.get_mut(d.action as usize) {
                s.uses += 1;
                if measured {
                    s.measured += 1;
                    s.damage += i64::from(fx.damage.unwrap_or(0));
                    s.healing += i64::from(fx.healing.unwrap_or(0));
                    s.applied += u64::from(fx.applied.unwrap_or(0));
                    s.resisted += u64::from(fx.resisted.unwrap_or(0));
                    s.knockouts += u64::from(fx.knockouts.unwrap_or(0));
                    s.energy += i64::from(fx.energy.unwrap_or(0));
                    s.items += u64::from(fx.items.unwrap_or(0));
                }
                if let Some(Some(swing)) = b.swing.get(i) {
                    s.advantage += if d.side == 0 { *swing } else { -*swing };
                    s.advantage_n += 1;
                }
            }
            let phase = &mut self.player(d.player).1[b.phase(i)];
            phase.decisions += 1;
            if measured {
                phase.measured += 1;
                phase.energy += i64::from(fx.energy.unwrap_or(0));
                phase.items += u64::from(fx.items.unwrap_or(0));
            }
        }
    }

    fn player(&mut self, p: u32) -> &mut (u64, [Phase; 3]) {
        let p = p as usize;
        if self.players.len() <= p {
            self.players.resize(p + 1, Default::default());
        }
        &mut self.players[p]
    }

    /// Effectiveness per action type, in the action space's type order.
    pub fn effectiveness(&self, actions: &Actions) -> Vec<Effectiveness> {
        let mut by_type = vec![Sums::default(); actions.types.len()];
        for (a, s) in self.actions.iter().enumerate() {
            if let Some(t) = by_type.get_mut(actions.type_of(a as u32)) {
                t.merge(s);
            }
        }
        by_type
            .iter()
            .zip(&actions.types)
            .filter(|(s, _)| s.uses > 0)
            .map(|(s, name)| {
                let per = |x: f64| ratio(x, s.measured);
                let attempts = s.applied + s.resisted;
                Effectiveness {
                    action_type: name.clone(),
                    uses: s.uses,
                    measured: s.measured,
                    damage_per_use: per(s.damage as f64),
                    healing_per_use: per(s.healing as f64),
                    statuses_per_use: per(s.applied as f64),
                    status_attempts: attempts,
                    status_success: ratio(s.applied as f64, attempts),
                    knockouts_per_use: per(s.knockouts as f64),
                    energy_per_use: per(s.energy as f64),
                    items_per_use: per(s.items as f64),
                    advantage_per_use: ratio(s.advantage, s.advantage_n),
                }
            })
            .collect()
    }

    /// Energy and items per strategy and phase.
    pub fn resources(&self, players: &Players) -> Vec<Resources> {
        self.players
            .iter()
            .enumerate()
            .filter(|(_, (sides, _))| *sides > 0)
            .map(|(p, (sides, phases))| Resources {
                strategy: players.name(p as u32).to_string(),
                sides: *sides,
                phases: phases
                    .iter()
                    .zip(PHASES)
                    .map(|(ph, name)| PhaseResources {
                        phase: name.to_string(),
                        decisions: ph.decisions,
                        energy_per_decision: ratio(ph.energy as f64, ph.measured),
                        items_per_battle: (ph.measured > 0 || ph.decisions == 0)
                            .then(|| ph.items as f64 / *sides as f64),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// `x / n`, or `None` when `n` is 0.
pub(crate) fn ratio(x: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| x / n as f64)
}
