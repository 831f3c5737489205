//! The kiting player: ranged units keep their distance, melee units screen them.

use super::Strategy;
use super::common::{
    MOVES, dist, distance_field, focus_score, living, pick_best, reach_at, step_down, strikes,
    threat_at,
};
use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::rules::SkillKind;
use crate::state::{Battle, UnitId};

/// Fights at arm's length.
///
/// A ranged unit (archer, mage, cleric) first steps out of reach of every enemy it out-ranges
/// that could hit it next turn, when one step suffices (preferring a tile from which it still
/// reaches someone); otherwise it strikes (knock-outs and the weakest first); otherwise it walks
/// to a tile at the edge of its reach that no out-ranged enemy covers. A cleric heals an ally
/// below half health before anything else. A knight screens: it guards a threatened ranged ally
/// next to it, strikes adjacent enemies (preferring the one closest to its ranged allies), and
/// otherwise intercepts the enemy nearest to its ranged allies.
#[derive(Debug, Clone)]
pub struct Kiting {
    rng: SplitMix64,
}

impl Kiting {
    /// A kiting player; `seed` only breaks exact ties.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
        }
    }
}

impl Strategy for Kiting {
    fn name(&self) -> &'static str {
        "kiting"
    }

    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action {
        let Some(me) = battle.actor() else {
            return Action::Wait;
        };
        if legal.count() <= 1 {
            return Action::Wait;
        }
        let choice = if battle.unit(me).class.stats().is_ranged() {
            ranged(battle, legal, me, &mut self.rng)
        } else {
            screen(battle, legal, me, &mut self.rng)
        };
        choice.unwrap_or(Action::Wait)
    }
}

/// Enemies with a shorter base reach than `me` that could hit tile `(x, y)` next turn.
fn chasers_covering(b: &Battle, me: UnitId, x: u8, y: u8) -> usize {
    let range = b.unit(me).class.stats().range;
    living(b, 1 - me.side())
        .map(|e| b.unit(e))
        .filter(|e| e.class.stats().range < range && e.stun == 0)
        .filter(|e| dist(e.x, e.y, x, y) <= reach_at(b, e, e.x, e.y))
        .count()
}

/// Whether some enemy is in `me`'s basic-attack reach from `(x, y)`.
fn reaches_someone(b: &Battle, me: UnitId, x: u8, y: u8) -> bool {
    let u = b.unit(me);
    let reach = reach_at(b, u, x, y);
    living(b, 1 - me.side()).any(|e| {
        let e = b.unit(e);
        dist(x, y, e.x, e.y) <= reach
    })
}

fn ranged(b: &Battle, legal: Legal, me: UnitId, rng: &mut SplitMix64) -> Option<Action> {
    let u = b.unit(me);
    let side = me.side();
    if u.class.stats().support.map(|s| s.kind) == Some(SkillKind::Heal) {
        let heal = living(b, side).filter_map(|a| {
            let au = b.unit(a);
            let act = Action::SkillAlly(a.slot());
            (au.hp * 2 < au.max_hp() && legal.contains(act))
                .then(|| (act, -f32::from(au.hp) / f32::from(au.max_hp())))
        });
        if let Some(a) = pick_best(rng, heal) {
            return Some(a);
        }
    }
    if chasers_covering(b, me, u.x, u.y) > 0 {
        let escapes = MOVES
            .into_iter()
            .filter(|&m| legal.contains(m))
            .filter_map(|m| {
                let (x, y) = b.move_target(me, m)?;
                let still = if reaches_someone(b, me, x, y) {
                    10.0
                } else {
                    0.0
                };
                (chasers_covering(b, me, x, y) == 0)
                    .then(|| (m, still - threat_at(b, side, x, y, u)))
            });
        if let Some(m) = pick_best(rng, escapes) {
            return Some(m);
        }
    }
    let strike = pick_best(
        rng,
        strikes(b, legal).map(|(a, t)| (a, focus_score(b, a, t))),
    );
    if strike.is_some() {
        return strike;
    }
    let safe_edge = distance_field(b, me, |x, y| {
        reaches_someone(b, me, x, y) && chasers_covering(b, me, x, y) == 0
    });
    if let Some(m) = step_down(b, legal, &safe_edge, rng) {
        return Some(m);
    }
    let any_edge = distance_field(b, me, |x, y| reaches_someone(b, me, x, y));
    step_down(b, legal, &any_edge, rng).or(Some(Action::Wait))
}

/// The enemy closest to one of `side`'s ranged units (or to any unit of `side`).
fn intruder(b: &Battle, side: u8) -> Option<UnitId> {
    let ranged: Vec<UnitId> = living(b, side)
        .filter(|&a| b.unit(a).class.stats().is_ranged())
        .collect();
    let guarded: Vec<UnitId> = if ranged.is_empty() {
        living(b, side).collect()
    } else {
        ranged
    };
    living(b, 1 - side).min_by_key(|&e| {
        let eu = b.unit(e);
        let d = guarded
            .iter()
            .map(|&a| dist(eu.x, eu.y, b.unit(a).x, b.unit(a).y))
            .min()
            .unwrap_or(u8::MAX);
        (d, e.0)
    })
}

fn screen(b: &Battle, legal: Legal, me: UnitId, rng: &mut SplitMix64) -> Option<Action> {
    let side = me.side();
    let guard = living(b, side).filter_map(|a| {
        let au = b.unit(a);
        let act = Action::SkillAlly(a.slot());
        let threat = threat_at(b, side, au.x, au.y, au);
        (a != me && au.class.stats().is_ranged() && au.shield == 0 && threat > 0.0)
            .then_some((act, threat))
            .filter(|_| legal.contains(act))
    });
    if let Some(a) = pick_best(rng, guard) {
        return Some(a);
    }
    let target = intruder(b, side);
    let strike = pick_best(
        rng,
        strikes(b, legal).map(|(a, t)| {
            let bonus = if Some(t) == target { 100.0 } else { 0.0 };
            (a, bonus + focus_score(b, a, t))
        }),
    );
    if strike.is_some() {
        return strike;
    }
    let t = b.unit(target?);
    let field = distance_field(b, me, |x, y| dist(x, y, t.x, t.y) == 1);
    step_down(b, legal, &field, rng).or(Some(Action::Wait))
}
