//! Helpers shared by the scripted strategies: expected damage, threats, tiles and paths.
//!
//! Every helper reads only the visible state of a battle (never its generator), so the
//! strategies built on them are deterministic functions of what a player can see.

use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::rules::{
    BASE_HIT, BOMB_DAMAGE, BOMB_SPLASH, BURN_DAMAGE, BURN_DAMAGE_HEAT, FOREST_EVASION, HEIGHT,
    POISON_DAMAGE, SkillKind, TILES, Terrain, WEATHER_MISS, WIDTH, Weather,
};
use crate::state::{Battle, Unit, UnitId};

/// The four moves, in action-index order.
pub(crate) const MOVES: [Action; 4] = [
    Action::MoveForward,
    Action::MoveBack,
    Action::MoveNorth,
    Action::MoveSouth,
];

/// Distance marking an unreachable tile in a [`distance_field`].
pub(crate) const FAR: u8 = u8::MAX;

/// Manhattan distance between two tiles.
pub(crate) const fn dist(ax: u8, ay: u8, bx: u8, by: u8) -> u8 {
    ax.abs_diff(bx) + ay.abs_diff(by)
}

/// Living units of `side`.
pub(crate) fn living(b: &Battle, side: u8) -> impl Iterator<Item = UnitId> + '_ {
    UnitId::of_side(side).filter(move |&u| b.unit(u).alive())
}

/// Damage per tick of the statuses `u` carries, times their remaining turns: what it will
/// lose without anyone acting (capped so that it never exceeds its health).
pub(crate) fn pending_damage(b: &Battle, u: &Unit) -> i16 {
    let burn = if b.weather() == Weather::Heat {
        BURN_DAMAGE_HEAT
    } else {
        BURN_DAMAGE
    };
    let dot = i16::from(u.poison) * POISON_DAMAGE + i16::from(u.burn) * burn;
    dot.min(u.hp)
}

/// Health a unit effectively has left: health plus shield minus pending poison and burn.
pub(crate) fn effective_hp(b: &Battle, u: &Unit) -> f32 {
    if !u.alive() {
        return 0.0;
    }
    let shield = if u.shield_turns > 0 { u.shield } else { 0 };
    f32::from(u.hp - pending_damage(b, u)) + f32::from(shield)
}

/// Chance in `[0, 1]` that a basic attack from `(ax, ay)` hits a unit on `(tx, ty)`.
pub(crate) fn hit_chance_at(b: &Battle, ax: u8, ay: u8, tx: u8, ty: u8) -> f32 {
    let mut p = BASE_HIT;
    if b.terrain(tx, ty) == Terrain::Forest {
        p -= FOREST_EVASION;
    }
    if dist(ax, ay, tx, ty) >= 2 && matches!(b.weather(), Weather::Rain | Weather::Fog) {
        p -= WEATHER_MISS;
    }
    f32::from(p) / 100.0
}

/// Expected damage of a basic attack by `a` standing on `(ax, ay)` on `t`, after the
/// target's terrain, hit chance and critical hits (before shields).
pub(crate) fn attack_damage_from(b: &Battle, a: &Unit, ax: u8, ay: u8, t: &Unit) -> f32 {
    let st = a.class.stats();
    let mut dmg = f32::from(st.attack) * (1.0 + 0.5 * f32::from(st.crit) / 100.0);
    if b.terrain(t.x, t.y) == Terrain::Forest {
        dmg *= 0.75;
    }
    hit_chance_at(b, ax, ay, t.x, t.y) * dmg
}

/// [`attack_damage_from`] with the attacker on its own tile.
pub(crate) fn attack_damage(b: &Battle, a: &Unit, t: &Unit) -> f32 {
    attack_damage_from(b, a, a.x, a.y, t)
}

/// Expected worth, in health points, of `a`'s offensive skill on `t`: direct damage plus
/// the poison or burn it adds, the splash on `t`'s neighbours, the shield a smite strips and
/// the turn a stun takes away. Ignores whether the skill is ready.
pub(crate) fn skill_damage(b: &Battle, a: &Unit, target: UnitId) -> f32 {
    let t = b.unit(target);
    let Some(skill) = a.class.stats().offense else {
        return 0.0;
    };
    let forest = b.terrain(t.x, t.y) == Terrain::Forest;
    let direct = if forest {
        f32::from(skill.power * 3 / 4)
    } else {
        f32::from(skill.power)
    };
    let extra = match skill.kind {
        SkillKind::Bash => 0.75 * 10.0,
        SkillKind::PoisonArrow if t.shield == 0 => {
            f32::from(skill.status_turns.saturating_sub(t.poison)) * f32::from(POISON_DAMAGE)
        }
        SkillKind::Fireball => {
            let burn = if b.weather() == Weather::Rain {
                0.0
            } else {
                let tick = if b.weather() == Weather::Heat {
                    BURN_DAMAGE_HEAT
                } else {
                    BURN_DAMAGE
                };
                f32::from(skill.status_turns.saturating_sub(t.burn)) * f32::from(tick)
            };
            let splash = living(b, target.side())
                .map(|v| b.unit(v))
                .filter(|v| dist(v.x, v.y, t.x, t.y) == 1)
                .count() as f32
                * f32::from(skill.power / 2);
            burn + splash
        }
        SkillKind::Smite => f32::from(t.shield).min(20.0),
        _ => 0.0,
    };
    direct + extra
}

/// Basic-attack reach of `u` if it stood on `(x, y)`.
pub(crate) fn reach_at(b: &Battle, u: &Unit, x: u8, y: u8) -> u8 {
    b.reach(u.class.stats().range, x, y)
}

/// Expected damage the living enemies of `side` could deal to a unit of `side` standing on
/// `(x, y)` on their next turns: every enemy within its reach plus one step counts, the
/// closer ones in full, the ones that must step first at half (the step costs them a turn).
pub(crate) fn threat_at(b: &Battle, side: u8, x: u8, y: u8, victim: &Unit) -> f32 {
    let mut t = *victim;
    t.x = x;
    t.y = y;
    // Summed in f64, exactly: the result does not depend on the enemies' slot order.
    let mut total = 0.0f64;
    for e in living(b, 1 - side) {
        let eu = b.unit(e);
        if eu.stun > 0 {
            continue;
        }
        let d = dist(eu.x, eu.y, x, y);
        let reach = reach_at(b, eu, eu.x, eu.y);
        if d <= reach {
            total += f64::from(attack_damage_from(b, eu, eu.x, eu.y, &t));
        } else if d == reach + 1 {
            total += f64::from(0.5 * attack_damage_from(b, eu, eu.x, eu.y, &t));
        }
    }
    total as f32
}

/// Breadth-first step counts from every tile to the nearest tile where `goal` holds, moving
/// through tiles that are neither rock nor occupied (the tile of `mover` counts as free).
pub(crate) fn distance_field(
    b: &Battle,
    mover: UnitId,
    goal: impl Fn(u8, u8) -> bool,
) -> [u8; TILES] {
    let me = b.unit(mover);
    let free = |x: u8, y: u8| (x == me.x && y == me.y) || b.can_enter(x, y);
    let mut field = [FAR; TILES];
    let mut queue = [0u8; TILES];
    let (mut head, mut tail) = (0, 0);
    for y in 0..HEIGHT as u8 {
        for x in 0..WIDTH as u8 {
            if free(x, y) && goal(x, y) {
                field[tile(x, y)] = 0;
                queue[tail] = tile(x, y) as u8;
                tail += 1;
            }
        }
    }
    while head < tail {
        let t = queue[head] as usize;
        head += 1;
        let (x, y) = ((t % WIDTH) as u8, (t / WIDTH) as u8);
        for (nx, ny) in neighbours(x, y) {
            let n = tile(nx, ny);
            if field[n] == FAR && free(nx, ny) {
                field[n] = field[t] + 1;
                queue[tail] = n as u8;
                tail += 1;
            }
        }
    }
    field
}

/// Index of tile `(x, y)`.
pub(crate) const fn tile(x: u8, y: u8) -> usize {
    y as usize * WIDTH + x as usize
}

/// The on-board neighbours of `(x, y)`.
pub(crate) fn neighbours(x: u8, y: u8) -> impl Iterator<Item = (u8, u8)> {
    [(1i8, 0i8), (-1, 0), (0, 1), (0, -1)]
        .into_iter()
        .filter_map(move |(dx, dy)| {
            let nx = x as i8 + dx;
            let ny = y as i8 + dy;
            (nx >= 0 && ny >= 0 && (nx as usize) < WIDTH && (ny as usize) < HEIGHT)
                .then_some((nx as u8, ny as u8))
        })
}

/// The legal move that lowers `field` the most from the acting unit's tile, if any lowers it
/// (ties drawn by `rng`).
pub(crate) fn step_down(
    b: &Battle,
    legal: Legal,
    field: &[u8; TILES],
    rng: &mut SplitMix64,
) -> Option<Action> {
    let me = b.actor()?;
    let u = b.unit(me);
    let here = field[tile(u.x, u.y)];
    let options = MOVES.into_iter().filter_map(|m| {
        let (x, y) = b.move_target(me, m)?;
        let d = field[tile(x, y)];
        (legal.contains(m) && d < here).then_some((m, -f32::from(d)))
    });
    pick_best(rng, options)
}

/// Picks the highest-scoring of `candidates` (`None` when empty); exact ties go to the one
/// the strategy's own generator draws, so equal options are spread without favouring an index.
pub(crate) fn pick_best(
    rng: &mut SplitMix64,
    candidates: impl IntoIterator<Item = (Action, f32)>,
) -> Option<Action> {
    let mut best: Option<(Action, f32)> = None;
    let mut ties = 0u32;
    for (a, s) in candidates {
        match best {
            Some((_, bs)) if s < bs => {}
            Some((_, bs)) if s == bs => {
                ties += 1;
                // Reservoir sampling keeps every tied option equally likely.
                if rng.below(ties + 1) == 0 {
                    best = Some((a, s));
                }
            }
            _ => {
                best = Some((a, s));
                ties = 0;
            }
        }
    }
    best.map(|(a, _)| a)
}

/// Expected worth, in health points, of an enemy-targeting action (attack, skill or bomb) of
/// the acting unit; 0 for other actions.
pub(crate) fn strike_damage(b: &Battle, action: Action) -> f32 {
    let Some(me) = b.actor() else {
        return 0.0;
    };
    let u = b.unit(me);
    let foe = 1 - me.side();
    match action {
        Action::Attack(s) => attack_damage(b, u, b.unit(UnitId::new(foe, s))),
        Action::SkillEnemy(s) => skill_damage(b, u, UnitId::new(foe, s)),
        Action::Bomb(s) => {
            let t = b.unit(UnitId::new(foe, s));
            let splash = living(b, foe)
                .map(|v| b.unit(v))
                .filter(|v| dist(v.x, v.y, t.x, t.y) == 1)
                .count() as f32;
            f32::from(BOMB_DAMAGE) + splash * f32::from(BOMB_SPLASH)
        }
        _ => 0.0,
    }
}

/// The legal enemy-targeting actions of the acting unit with their target.
pub(crate) fn strikes(b: &Battle, legal: Legal) -> impl Iterator<Item = (Action, UnitId)> + '_ {
    let foe = b.actor().map_or(1, |a| 1 - a.side());
    legal
        .iter()
        .filter(|a| a.targets_enemy())
        .filter_map(move |a| Some((a, UnitId::new(foe, a.slot()?))))
}

/// Scores a strike for focus fire: a likely knock-out first, then the enemy with the least
/// effective health, then the most damage.
pub(crate) fn focus_score(b: &Battle, action: Action, target: UnitId) -> f32 {
    let dmg = strike_damage(b, action);
    let eff = effective_hp(b, b.unit(target));
    let kill = if dmg >= eff { 200.0 } else { 0.0 };
    kill + 2.0 * (150.0 - eff) + dmg
}
