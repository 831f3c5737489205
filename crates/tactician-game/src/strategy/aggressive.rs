//! The aggressive player: close in and focus fire.

use super::Strategy;
use super::common::{
    dist, distance_field, focus_score, living, pick_best, reach_at, step_down, strikes,
};
use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::rules::SkillKind;
use crate::state::Battle;

/// Charges the enemy and focuses fire.
///
/// Every unit strikes whenever it can: among all legal attacks, offensive skills and bomb
/// throws it picks a likely knock-out first, else the enemy with the least effective health
/// (health plus shield minus pending poison and burn), else the most expected damage, so
/// skills and the bomb go out as soon as they are the strongest blow. With nothing in reach
/// it takes the shortest path to a tile from which an enemy is in reach. It heals or drinks a
/// potion only in an emergency (below a quarter of its health) and never guards. Exact ties
/// are drawn from its seed.
#[derive(Debug, Clone)]
pub struct Aggressive {
    rng: SplitMix64,
}

impl Aggressive {
    /// An aggressive player; `seed` only breaks exact ties.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
        }
    }
}

impl Strategy for Aggressive {
    fn name(&self) -> &'static str {
        "aggressive"
    }

    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action {
        choose(battle, legal, &mut self.rng).unwrap_or(Action::Wait)
    }
}

fn choose(b: &Battle, legal: Legal, rng: &mut SplitMix64) -> Option<Action> {
    let me = b.actor()?;
    let u = b.unit(me);
    if legal.count() <= 1 {
        return Some(Action::Wait);
    }
    let strike = pick_best(
        rng,
        strikes(b, legal).map(|(a, t)| (a, focus_score(b, a, t))),
    );
    if strike.is_some() {
        return strike;
    }
    // Emergency care only: a unit below a quarter of its health patches itself up.
    if u.hp * 4 < u.max_hp() {
        let slot = me.slot();
        let heals = u.class.stats().support.map(|s| s.kind) == Some(SkillKind::Heal);
        for a in [Action::SkillAlly(slot), Action::Potion(slot)] {
            if legal.contains(a) && (heals || matches!(a, Action::Potion(_))) {
                return Some(a);
            }
        }
    }
    let foe = 1 - me.side();
    let field = distance_field(b, me, |x, y| {
        living(b, foe).any(|e| {
            let e = b.unit(e);
            dist(x, y, e.x, e.y) <= reach_at(b, u, x, y)
        })
    });
    step_down(b, legal, &field, rng).or(Some(Action::Wait))
}
