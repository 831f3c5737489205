//! The defensive player: hold good ground, protect, strike only what comes close.

use super::Strategy;
use super::common::{
    FAR, MOVES, distance_field, effective_hp, focus_score, living, pick_best, step_down, strikes,
    threat_at, tile,
};
use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::rules::{SkillKind, Terrain, WIDTH};
use crate::state::{Battle, UnitId};

/// Holds back in good terrain and lets the enemy come.
///
/// In order: a unit in a swamp steps out; a unit below 40% health drinks a potion, heals
/// itself or steps to the neighbouring tile the enemy threatens least; a cleric heals (and
/// cleanses) any ally below 60% health or carrying poison or burn; a knight guards the most
/// threatened unshielded ally next to it; then any enemy already in reach is struck (knock-outs
/// and the weakest first). Otherwise units walk to a free forest in their own half (a ranged
/// unit without one takes a hill) and hold it, waiting to bank energy. It never advances past
/// the middle of the board.
#[derive(Debug, Clone)]
pub struct Defensive {
    rng: SplitMix64,
}

impl Defensive {
    /// A defensive player; `seed` only breaks exact ties.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
        }
    }
}

impl Strategy for Defensive {
    fn name(&self) -> &'static str {
        "defensive"
    }

    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action {
        choose(battle, legal, &mut self.rng).unwrap_or(Action::Wait)
    }
}

/// Column `x` in `side`'s frame (0 = own edge).
fn own_col(side: u8, x: u8) -> u8 {
    if side == 0 { x } else { WIDTH as u8 - 1 - x }
}

/// The safest tile reachable in one step (or staying), scored by threat, terrain and depth.
fn safest_step(b: &Battle, legal: Legal, me: UnitId, rng: &mut SplitMix64) -> Option<Action> {
    let u = b.unit(me);
    let score = |x: u8, y: u8| {
        let terrain = match b.terrain(x, y) {
            Terrain::Forest => 4.0,
            Terrain::Swamp => -8.0,
            _ => 0.0,
        };
        terrain - threat_at(b, me.side(), x, y, u) - 0.5 * f32::from(own_col(me.side(), x))
    };
    let stay = score(u.x, u.y);
    let moves = MOVES
        .into_iter()
        .filter(|&m| legal.contains(m))
        .filter_map(|m| {
            let (x, y) = b.move_target(me, m)?;
            let s = score(x, y);
            (s > stay).then_some((m, s))
        });
    pick_best(rng, moves)
}

fn choose(b: &Battle, legal: Legal, rng: &mut SplitMix64) -> Option<Action> {
    let me = b.actor()?;
    let side = me.side();
    let u = b.unit(me);
    if legal.count() <= 1 {
        return Some(Action::Wait);
    }
    let class = u.class.stats();
    if b.terrain(u.x, u.y) == Terrain::Swamp
        && let Some(m) = safest_step(b, legal, me, rng)
    {
        return Some(m);
    }
    if u.hp * 10 < u.max_hp() * 4 {
        let slot = me.slot();
        let heals = class.support.map(|s| s.kind) == Some(SkillKind::Heal);
        if legal.contains(Action::Potion(slot)) {
            return Some(Action::Potion(slot));
        }
        if heals && legal.contains(Action::SkillAlly(slot)) {
            return Some(Action::SkillAlly(slot));
        }
        if threat_at(b, side, u.x, u.y, u) > 0.0
            && let Some(m) = safest_step(b, legal, me, rng)
        {
            return Some(m);
        }
    }
    match class.support.map(|s| s.kind) {
        Some(SkillKind::Heal) => {
            let care = living(b, side).filter_map(|a| {
                let au = b.unit(a);
                let needs = au.hp * 10 < au.max_hp() * 6 || au.poison > 0 || au.burn > 0;
                let act = Action::SkillAlly(a.slot());
                (needs && legal.contains(act))
                    .then(|| (act, -f32::from(au.hp) / f32::from(au.max_hp())))
            });
            if let Some(a) = pick_best(rng, care) {
                return Some(a);
            }
        }
        Some(SkillKind::Guard) => {
            let guard = living(b, side).filter_map(|a| {
                let au = b.unit(a);
                let act = Action::SkillAlly(a.slot());
                let threat = threat_at(b, side, au.x, au.y, au);
                (au.shield == 0 && threat > 0.0 && legal.contains(act)).then_some((act, threat))
            });
            if let Some(a) = pick_best(rng, guard) {
                return Some(a);
            }
        }
        _ => {}
    }
    let strike = pick_best(
        rng,
        strikes(b, legal).map(|(a, t)| (a, focus_score(b, a, t))),
    );
    if strike.is_some() {
        return strike;
    }
    let potion = living(b, side).filter_map(|a| {
        let au = b.unit(a);
        let act = Action::Potion(a.slot());
        (au.hp * 10 < au.max_hp() * 4 && legal.contains(act)).then(|| (act, -effective_hp(b, au)))
    });
    if let Some(a) = pick_best(rng, potion) {
        return Some(a);
    }
    hold_ground(b, legal, me, rng)
}

/// Walks to (or stays on) a free forest in the own half; ranged units settle for a hill.
fn hold_ground(b: &Battle, legal: Legal, me: UnitId, rng: &mut SplitMix64) -> Option<Action> {
    let u = b.unit(me);
    let side = me.side();
    let half = WIDTH as u8 / 2;
    let ranged = u.class.stats().is_ranged();
    let good =
        |kind: Terrain| move |x: u8, y: u8| own_col(side, x) < half && b.terrain(x, y) == kind;
    for kind in [Terrain::Forest, Terrain::Hill] {
        if kind == Terrain::Hill && !ranged {
            break;
        }
        let field = distance_field(b, me, good(kind));
        let here = field[tile(u.x, u.y)];
        if here == 0 {
            return Some(Action::Wait);
        }
        if here != FAR
            && let Some(m) = step_down(b, legal, &field, rng)
        {
            return Some(m);
        }
    }
    Some(Action::Wait)
}
