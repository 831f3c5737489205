//! The support player: the team first.

use super::Strategy;
use super::common::{
    dist, distance_field, effective_hp, focus_score, living, pick_best, reach_at, step_down,
    strikes, threat_at,
};
use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::rules::{SkillKind, WIDTH};
use crate::state::{Battle, UnitId};

/// Keeps the team alive, then fights from inside the group.
///
/// Each ally gets a need score: missing health share, plus poison or burn, plus the damage the
/// enemy threatens against it relative to its effective health. In order: a cleric heals (and
/// cleanses) the neediest ally in range that is hurt below 75% or carries a status; a potion
/// goes to the neediest ally within reach below half health; a knight guards the neediest
/// threatened, unshielded ally next to it. Then it strikes (knock-outs and the weakest first).
/// Otherwise it moves towards the neediest other ally when that one is in danger, and else
/// advances with the group: never more than a column ahead of the team's average.
#[derive(Debug, Clone)]
pub struct Support {
    rng: SplitMix64,
}

impl Support {
    /// A support player; `seed` only breaks exact ties.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
        }
    }
}

impl Strategy for Support {
    fn name(&self) -> &'static str {
        "support"
    }

    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action {
        choose(battle, legal, &mut self.rng).unwrap_or(Action::Wait)
    }
}

/// How much an ally needs help now.
fn need(b: &Battle, a: UnitId) -> f32 {
    let u = b.unit(a);
    let missing = 1.0 - f32::from(u.hp) / f32::from(u.max_hp());
    let status = if u.poison > 0 || u.burn > 0 { 0.3 } else { 0.0 };
    let danger = threat_at(b, a.side(), u.x, u.y, u) / effective_hp(b, u).max(1.0);
    missing + status + danger
}

/// The neediest ally `act` can be legally used on, if it passes `wanted`.
fn care(
    b: &Battle,
    legal: Legal,
    rng: &mut SplitMix64,
    act: fn(u8) -> Action,
    wanted: impl Fn(UnitId) -> bool,
) -> Option<Action> {
    let side = b.actor()?.side();
    let options = living(b, side)
        .filter(|&a| legal.contains(act(a.slot())) && wanted(a))
        .map(|a| (act(a.slot()), need(b, a)));
    pick_best(rng, options)
}

fn choose(b: &Battle, legal: Legal, rng: &mut SplitMix64) -> Option<Action> {
    let me = b.actor()?;
    let side = me.side();
    let u = b.unit(me);
    if legal.count() <= 1 {
        return Some(Action::Wait);
    }
    let hurt = |pct: i16| move |a: UnitId| b.unit(a).hp * 100 < b.unit(a).max_hp() * pct;
    match u.class.stats().support.map(|s| s.kind) {
        Some(SkillKind::Heal) => {
            let wanted = |a: UnitId| {
                let au = b.unit(a);
                hurt(75)(a) || au.poison > 0 || au.burn > 0
            };
            if let Some(a) = care(b, legal, rng, Action::SkillAlly, wanted) {
                return Some(a);
            }
        }
        Some(SkillKind::Guard) => {
            let wanted = |a: UnitId| {
                let au = b.unit(a);
                au.shield == 0 && threat_at(b, side, au.x, au.y, au) > 0.0
            };
            if let Some(a) = care(b, legal, rng, Action::SkillAlly, wanted) {
                return Some(a);
            }
        }
        _ => {}
    }
    if let Some(a) = care(b, legal, rng, Action::Potion, hurt(50)) {
        return Some(a);
    }
    let strike = pick_best(
        rng,
        strikes(b, legal).map(|(a, t)| (a, focus_score(b, a, t))),
    );
    if strike.is_some() {
        return strike;
    }
    regroup(b, legal, me, rng)
}

/// Moves towards an ally in danger, or advances with the group.
fn regroup(b: &Battle, legal: Legal, me: UnitId, rng: &mut SplitMix64) -> Option<Action> {
    let side = me.side();
    let u = b.unit(me);
    let neediest = living(b, side)
        .filter(|&a| a != me)
        .map(|a| (a, need(b, a)))
        .max_by(|x, y| x.1.total_cmp(&y.1));
    if let Some((a, n)) = neediest
        && n > 0.5
    {
        let au = b.unit(a);
        // Close enough to heal, guard or hand over a potion.
        let want = u.class.stats().support.map_or(1, |s| s.range).clamp(1, 2);
        if dist(u.x, u.y, au.x, au.y) > want {
            let field = distance_field(b, me, |x, y| dist(x, y, au.x, au.y) <= want);
            if let Some(m) = step_down(b, legal, &field, rng) {
                return Some(m);
            }
        }
    }
    let col = |x: u8| if side == 0 { x } else { WIDTH as u8 - 1 - x };
    let n = living(b, side).count() as f32;
    let mean = living(b, side)
        .map(|a| f32::from(col(b.unit(a).x)))
        .sum::<f32>()
        / n;
    let foe = 1 - side;
    let field = distance_field(b, me, |x, y| {
        living(b, foe).any(|e| {
            let e = b.unit(e);
            dist(x, y, e.x, e.y) <= reach_at(b, u, x, y)
        })
    });
    let step = step_down(b, legal, &field, rng)?;
    let (x, _) = b.move_target(me, step)?;
    if step != Action::MoveForward || f32::from(col(x)) <= mean + 1.0 {
        Some(step)
    } else {
        Some(Action::Wait)
    }
}
