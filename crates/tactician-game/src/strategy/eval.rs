//! The search player's evaluation: how good a position is for one side, in health points.
//!
//! - **Material.** Each living unit is worth a bonus for being alive plus its effective health
//!   (health + shield − poison and burn still to come) through a concave curve, so a point of
//!   damage on a weakened unit counts more: focus fire pays.
//! - **Exchange.** The material is blended with the material expected after a quick exchange:
//!   the next twelve decisions in turn order (two turns of every unit), each unit dealing its
//!   best expected blow to an enemy already in reach (its offensive skill when ready), or a
//!   cleric healing when that is worth more. This makes tempo, threats and healers visible
//!   beyond the searched plies: stepping into reach of an enemy who acts first costs, striking
//!   first pays, a cleric next to the front keeps it standing.
//! - **Position.** Costs for expected incoming damage (`danger`), for straying from the team
//!   (`cohesion`), for standing out of reach of the enemy while not comfortably ahead
//!   (`approach`: a draw is not a win), swamps; worth for forests, shields the enemy threatens.
//! - **Resources.** Energy, cooldowns, stuns, potions and bombs in hand. A potion in hand is
//!   worth more than most of what it heals, so potions go to units in real danger.
//!
//! The default [`Weights`] were tuned by coordinate search on win rates against the scripted
//! strategies (on battle seeds disjoint from the published table's).

use super::common::{
    attack_damage, dist, effective_hp, living, pending_damage, reach_at, skill_damage, threat_at,
};
use crate::rules::{Class, SkillKind, Terrain, UNITS};
use crate::state::{Battle, Outcome, UnitId};

/// The weights of the evaluation, in health points per unit of each term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// Bonus for each living unit.
    pub alive: f32,
    /// Extra worth of a health point on a unit near death, relative to one at full health.
    pub focus: f32,
    /// Share of the expected exchange of blows counted.
    pub exchange: f32,
    /// Decisions the exchange looks ahead (6 is one turn of every unit).
    pub exchange_turns: u8,
    /// Weight of heals in the exchange (0: clerics only strike).
    pub exchange_heal: f32,
    /// Worth of a shield point that the enemy threatens to hit.
    pub shield: f32,
    /// Worth of a shield point beyond what the enemy threatens.
    pub shield_idle: f32,
    /// Cost of a stunned turn.
    pub stun: f32,
    /// Worth of an energy point.
    pub energy: f32,
    /// Cost of a turn of skill cooldown.
    pub cooldown: f32,
    /// Worth of a potion in hand.
    pub potion: f32,
    /// Worth of a bomb in hand.
    pub bomb: f32,
    /// Worth of standing in a forest.
    pub forest: f32,
    /// Cost of standing in a swamp.
    pub swamp: f32,
    /// Cost per point of expected damage the enemy threatens against a unit (both sides).
    pub danger: f32,
    /// Cost per tile a unit stands further than two tiles from its nearest ally (both sides).
    pub cohesion: f32,
    /// Cost per tile an own unit stands beyond reach of its nearest enemy, while the own side
    /// does not lead by `comfort`: a draw is not a win, so the player must engage.
    pub approach: f32,
    /// The same cost once the own side leads comfortably: it may then hold good ground.
    pub approach_ahead: f32,
    /// Lead in remaining health share (as for a win on points) counted as comfortable.
    pub comfort: f32,
    /// Worth of a won battle (a lost one costs as much).
    pub win: f32,
    /// Cost of a drawn battle (a draw is not a win).
    pub draw: f32,
}

impl Default for Weights {
    fn default() -> Self {
        Self {
            alive: 30.0,
            focus: 1.0,
            exchange: 0.4,
            exchange_turns: 12,
            exchange_heal: 0.8,
            shield: 0.6,
            shield_idle: 0.1,
            stun: 8.0,
            energy: 0.1,
            cooldown: 1.5,
            potion: 45.0,
            bomb: 12.0,
            forest: 2.0,
            swamp: 5.0,
            danger: 0.3,
            cohesion: 3.0,
            approach: 10.0,
            approach_ahead: 2.0,
            comfort: 0.2,
            win: 2000.0,
            draw: 150.0,
        }
    }
}

/// Worth of a unit of `class` with effective health `h`.
fn unit_worth(w: &Weights, class: Class, h: f32) -> f32 {
    if h <= 0.0 {
        return 0.0;
    }
    let max = f32::from(class.stats().max_hp);
    let x = (h / max).min(1.5);
    w.alive + max * (x + w.focus * (x - 0.5 * x * x))
}

/// How good `b` is for `side`: positive when `side` is ahead.
///
/// The per-unit terms are `f32`, summed in `f64`: the sum of a few `f32` values is then exact,
/// so the result does not depend on the order of the units, and symmetric positions (slots
/// permuted, rows mirrored) get bit-identical values.
pub(crate) fn evaluate(b: &Battle, side: u8, w: &Weights) -> f32 {
    if let Some(o) = b.outcome() {
        return terminal(o, side, w);
    }
    let mut hp = [0.0f32; UNITS];
    for id in UnitId::all() {
        hp[id.index()] = effective_hp(b, b.unit(id));
    }
    let before = material(b, side, w, &hp);
    exchange(b, w, &mut hp);
    let after = material(b, side, w, &hp);
    let mut score = f64::from(1.0 - w.exchange) * before + f64::from(w.exchange) * after;
    let lead = b.health_fraction(side) - b.health_fraction(1 - side);
    let approach = if lead >= w.comfort {
        w.approach_ahead
    } else {
        w.approach
    };
    for id in UnitId::all() {
        let u = b.unit(id);
        if !u.alive() {
            continue;
        }
        let sign = if id.side() == side { 1.0 } else { -1.0 };
        score += sign * f64::from(extras(b, id, w));
        if id.side() == side {
            score -= f64::from(approach * f32::from(gap(b, id)));
        }
    }
    for s in [side, 1 - side] {
        let sign = if s == side { 1.0 } else { -1.0 };
        score +=
            sign * f64::from(w.potion * f32::from(b.potions(s)) + w.bomb * f32::from(b.bombs(s)));
    }
    score as f32
}

fn terminal(o: Outcome, side: u8, w: &Weights) -> f32 {
    match o.winner {
        Some(s) if s == side => w.win,
        Some(_) => -w.win,
        None => -w.draw,
    }
}

/// Sum of own unit worths minus enemy unit worths for effective healths `hp` (in `f64`: exact,
/// whatever the order).
fn material(b: &Battle, side: u8, w: &Weights, hp: &[f32; UNITS]) -> f64 {
    UnitId::all()
        .map(|id| {
            let v = f64::from(unit_worth(w, b.unit(id).class, hp[id.index()]));
            if id.side() == side { v } else { -v }
        })
        .sum()
}

/// Readiness, statuses and terrain of one living unit.
fn extras(b: &Battle, id: UnitId, w: &Weights) -> f32 {
    let u = b.unit(id);
    let shield = f32::from(if u.shield_turns > 0 { u.shield } else { 0 });
    // Effective health already counts the shield at full value. A shield only helps against
    // blows that come: the part the enemy threatens keeps `w.shield` of its worth, the rest
    // `w.shield_idle`.
    let threatened = if shield > 0.0 {
        shield.min(threat_at(b, id.side(), u.x, u.y, u))
    } else {
        0.0
    };
    let mut s = (w.shield - 1.0) * threatened + (w.shield_idle - 1.0) * (shield - threatened);
    s -= w.stun * f32::from(u.stun);
    s += w.energy * f32::from(u.energy);
    s -= w.cooldown * f32::from(u.cd_offense + u.cd_support);
    match b.terrain(u.x, u.y) {
        Terrain::Forest => s += w.forest,
        Terrain::Swamp => s -= w.swamp,
        _ => {}
    }
    if w.danger != 0.0 {
        s -= w.danger * threat_at(b, id.side(), u.x, u.y, u);
    }
    if w.cohesion != 0.0 {
        let nearest = living(b, id.side())
            .filter(|&a| a != id)
            .map(|a| dist(u.x, u.y, b.unit(a).x, b.unit(a).y))
            .min()
            .unwrap_or(0);
        s -= w.cohesion * f32::from(nearest.saturating_sub(2));
    }
    s
}

/// Tiles `id` stands beyond its reach from the nearest enemy.
fn gap(b: &Battle, id: UnitId) -> u8 {
    let u = b.unit(id);
    let reach = reach_at(b, u, u.x, u.y);
    living(b, 1 - id.side())
        .map(|e| {
            let e = b.unit(e);
            dist(u.x, u.y, e.x, e.y).saturating_sub(reach)
        })
        .min()
        .unwrap_or(0)
}

/// The next units to act: the actor, the rest of this round, then next round's order.
fn next_actors(b: &Battle, turns: usize) -> impl Iterator<Item = UnitId> + '_ {
    let mut round: Vec<UnitId> = UnitId::all().filter(|&u| b.unit(u).alive()).collect();
    round.sort_by_key(|&u| {
        let x = b.unit(u);
        std::cmp::Reverse((x.class.stats().speed, x.initiative))
    });
    let later = round.clone();
    b.actor()
        .into_iter()
        .chain(b.queue())
        .chain(round)
        .chain(later)
        .take(turns)
}

/// Whether a candidate scoring `a` beats the best so far scoring `b`: the larger score, and
/// on an exact tie the unit with the higher initiative. Initiative travels with its unit under
/// every symmetry, slot order does not: breaking ties by slot would make symmetric positions
/// evaluate differently.
fn before(a: (f32, &crate::state::Unit), b: (f32, &crate::state::Unit)) -> bool {
    a.0 > b.0 || (a.0 == b.0 && a.1.initiative > b.1.initiative)
}

/// Plays the quick exchange on `hp`: each of the next units to act deals its best expected
/// blow (basic attack, or its offensive skill when ready) to an enemy in reach, choosing the
/// blow that costs the enemy the most worth.
fn exchange(b: &Battle, w: &Weights, hp: &mut [f32; UNITS]) {
    let mut acted = 0u8;
    for id in next_actors(b, usize::from(w.exchange_turns)) {
        let first = acted >> id.0 & 1 == 0;
        acted |= 1 << id.0;
        let u = b.unit(id);
        if hp[id.index()] <= 0.0 || (first && u.stun > 0) {
            continue;
        }
        let reach = reach_at(b, u, u.x, u.y);
        let skill_ready = first
            && u.class
                .stats()
                .offense
                .is_some_and(|s| u.cd_offense == 0 && u.energy >= s.cost);
        let mut best: Option<(usize, f32, f32)> = None;
        for e in living(b, 1 - id.side()) {
            let t = b.unit(e);
            let h = hp[e.index()];
            let d = dist(u.x, u.y, t.x, t.y);
            if h <= 0.0 || d > reach {
                continue;
            }
            let mut dmg = attack_damage(b, u, t);
            if skill_ready {
                let skill_reach = b.reach(u.class.stats().offense.map_or(0, |s| s.range), u.x, u.y);
                if d <= skill_reach {
                    dmg = dmg.max(skill_damage(b, u, e));
                }
            }
            let loss = unit_worth(w, t.class, h) - unit_worth(w, t.class, h - dmg);
            if best.is_none_or(|(i, _, l)| before((loss, t), (l, &b.units()[i]))) {
                best = Some((e.index(), dmg, loss));
            }
        }
        let heal = if first && w.exchange_heal > 0.0 {
            best_heal(b, w, id, hp)
        } else {
            None
        };
        match (best, heal) {
            (_, Some((a, amount, gain))) if best.is_none_or(|(_, _, l)| gain > l) => {
                hp[a] += amount;
            }
            (Some((t, dmg, _)), _) => hp[t] -= dmg,
            _ => {}
        }
    }
}

/// The heal `id` could give now (if it heals and the skill is ready): the ally whose worth
/// grows most, the health restored (poison and burn cured included) and that gain.
fn best_heal(b: &Battle, w: &Weights, id: UnitId, hp: &[f32; UNITS]) -> Option<(usize, f32, f32)> {
    let u = b.unit(id);
    let skill = u.class.stats().support?;
    if skill.kind != SkillKind::Heal || u.cd_support > 0 || u.energy < skill.cost {
        return None;
    }
    let mut best: Option<(usize, f32, f32)> = None;
    for a in living(b, id.side()) {
        let au = b.unit(a);
        let h = hp[a.index()];
        if h <= 0.0 || dist(u.x, u.y, au.x, au.y) > skill.range {
            continue;
        }
        let cured = f32::from(pending_damage(b, au));
        let amount = (f32::from(skill.power) + cured).min(f32::from(au.max_hp()) + cured - h);
        let gain =
            w.exchange_heal * (unit_worth(w, au.class, h + amount) - unit_worth(w, au.class, h));
        if amount > 0.0 && best.is_none_or(|(i, _, g)| before((gain, au), (g, &b.units()[i]))) {
            best = Some((a.index(), amount, gain));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{GameConfig, Weather};

    /// A battle where only the actor acts in the exchange, with two enemy knights next to it
    /// (west and east, on plain ground, in clear weather) and the third enemy knocked out.
    /// The actor's skill is not ready, so it can only attack. Returns the battle and the two
    /// enemies' unit indices.
    fn two_targets(
        west_hp: i16,
        east_hp: i16,
        west_initiative_higher: bool,
    ) -> (Battle, [usize; 2]) {
        let mut b = Battle::new(3, GameConfig::default());
        b.weather = Weather::Clear;
        b.terrain = [Terrain::Plain; crate::rules::TILES];
        let me = b.actor().expect("a battle starts with an actor");
        let enemies: Vec<UnitId> = UnitId::of_side(1 - me.side()).collect();
        let (west, east, out) = (enemies[0].index(), enemies[1].index(), enemies[2].index());
        for (i, u) in b.units.iter_mut().enumerate() {
            if i != me.index() {
                // Park everyone else far away, in distinct tiles.
                u.x = (i % 2) as u8 * 7;
                u.y = (i / 2) as u8 * 2 + 1;
            }
        }
        let actor = &mut b.units[me.index()];
        actor.x = 3;
        actor.y = 0;
        actor.cd_offense = 9;
        actor.stun = 0;
        let (hi, lo) = (b.units[west].initiative, b.units[east].initiative);
        let (hi, lo) = (hi.max(lo), hi.min(lo));
        for (i, x, hp) in [(west, 2, west_hp), (east, 4, east_hp)] {
            let u = &mut b.units[i];
            u.class = Class::Knight;
            u.x = x;
            u.y = 0;
            u.hp = hp;
            u.shield = 0;
            u.shield_turns = 0;
            u.poison = 0;
            u.burn = 0;
            u.initiative = if (i == west) == west_initiative_higher {
                hi
            } else {
                lo
            };
        }
        b.units[out].hp = 0;
        (b, [west, east])
    }

    fn exchange_once(b: &Battle) -> [f32; UNITS] {
        let w = Weights {
            exchange_turns: 1,
            ..Weights::default()
        };
        let mut hp = [0.0f32; UNITS];
        for id in UnitId::all() {
            hp[id.index()] = effective_hp(b, b.unit(id));
        }
        exchange(b, &w, &mut hp);
        hp
    }

    #[test]
    fn the_exchange_strikes_where_it_costs_the_enemy_most() {
        // A weakened knight loses more worth to the same blow: it is struck, whichever side it
        // stands on and whatever the initiatives.
        for (west_hp, east_hp) in [(40, 120), (120, 40)] {
            for higher in [false, true] {
                let (b, [west, east]) = two_targets(west_hp, east_hp, higher);
                let hp = exchange_once(&b);
                let (hit, spared) = if west_hp < east_hp {
                    (west, east)
                } else {
                    (east, west)
                };
                assert!(hp[hit] < f32::from(b.units[hit].hp), "{west_hp}/{east_hp}");
                assert_eq!(
                    hp[spared],
                    f32::from(b.units[spared].hp),
                    "{west_hp}/{east_hp}"
                );
            }
        }
    }

    #[test]
    fn exact_ties_in_the_exchange_go_to_the_higher_initiative() {
        for higher in [false, true] {
            let (b, [west, east]) = two_targets(90, 90, higher);
            let hp = exchange_once(&b);
            let (hit, spared) = if higher { (west, east) } else { (east, west) };
            assert!(b.units[hit].initiative > b.units[spared].initiative);
            assert!(hp[hit] < 90.0, "the higher initiative is struck");
            assert_eq!(hp[spared], 90.0);
        }
    }
}
