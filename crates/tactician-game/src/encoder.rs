//! The feature encoder: the acting unit's view of the battle as a fixed-length vector.
//!
//! Every feature is defined once, in [`layout`], with its name, description, range and value,
//! so the [`FeatureSpec`] and the vector cannot drift apart. Positions are in the acting side's
//! frame (`x` grows towards the enemy's edge), so both sides see the same picture; slots follow
//! the team slots the actions target. All values lie in `[0, 1]` or `[-1, 1]`.
//!
//! The last block describes every action by its legality and its one-ply value: the search
//! player's evaluation of the expected position right after it (see `docs/game.md`), so a policy
//! can judge actions by what they do. The game's symmetries on these vectors are in
//! [`crate::symmetry`].

use crate::action::{ACTION_NAMES, Action, Legal};
use crate::rules::{Class, MAX_ENERGY, START_BOMBS, START_POTIONS, Terrain, WIDTH, Weather};
use crate::state::{Battle, UnitId};
use crate::strategy::Search;
use std::sync::OnceLock;
use tactician_battle::{Encoder, FeatureDef, FeatureSpec};

/// Name of this encoder in specs and logs. The spec hash covers feature names, order and
/// ranges; a change that keeps those but changes what a value means (a new scale, say) must
/// bump this name, so models trained on the old meaning are refused.
pub const ENCODER_NAME: &str = "skirmish-v3";

// Scales are powers of two where the quantity allows: the features are then exact binary
// fractions with short decimal forms, which keeps battle logs small and quick to read.
/// Scale of columns and column offsets (the board is 8 wide).
const X_SCALE: f32 = 8.0;
/// Scale of rows and row offsets (6 rows; 8 keeps it a power of two).
pub(crate) const Y_SCALE: f32 = 8.0;
/// Scale of distances (at most 12 on this board).
const DIST_SCALE: f32 = 16.0;
/// Scale of absolute health (the largest maximum is 120).
const HP_SCALE: f32 = 128.0;
/// Scale of small counts: units (3), poison turns (3), cooldowns (3), threats (3).
const COUNT_SCALE: f32 = 4.0;
const SHIELD_SCALE: f32 = 25.0;
/// Scale of an action's one-ply value relative to waiting, in health points.
const VALUE_SCALE: f32 = 64.0;
/// Scale of an action's one-ply shortfall from the best action, in health points.
const GAP_SCALE: f32 = 32.0;
/// One-ply values within this many health points of the best count as the best.
const BEST_TIE: f32 = 0.01;

/// The built-in game's encoder.
#[derive(Debug, Clone, Copy, Default)]
pub struct SkirmishEncoder;

impl SkirmishEncoder {
    /// The encoder's spec (built once).
    pub fn feature_spec() -> &'static FeatureSpec {
        static SPEC: OnceLock<FeatureSpec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let battle = Battle::new(0, Default::default());
            let mut names = Names(Vec::new());
            layout(&battle, UnitId(0), battle.legal(), &mut names);
            FeatureSpec::new(
                ENCODER_NAME,
                names.0,
                crate::action::ACTION_NAMES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            )
            .expect("the built-in layout is valid")
        })
    }

    /// Number of features.
    pub fn num_features() -> usize {
        Self::feature_spec().num_features()
    }

    /// Writes the view of `unit` into `out` (length [`Self::num_features`]). `legal` is that
    /// unit's legal-action set (pass [`Battle::legal`] for the actor).
    pub fn encode_unit(battle: &Battle, unit: UnitId, legal: Legal, out: &mut [f32]) {
        let mut w = Values { out, pos: 0 };
        layout(battle, unit, legal, &mut w);
        debug_assert_eq!(w.pos, w.out.len());
    }
}

impl Encoder for SkirmishEncoder {
    type State = Battle;

    fn spec(&self) -> &FeatureSpec {
        Self::feature_spec()
    }

    /// The acting unit's view; once the battle is over, side 0 slot 0's view with no legal
    /// actions.
    fn encode_into(&self, state: &Battle, out: &mut [f32]) {
        let unit = state.actor().unwrap_or(UnitId(0));
        Self::encode_unit(state, unit, state.legal(), out);
    }
}

trait Sink {
    fn f(&mut self, name: &dyn Fn() -> String, desc: &str, min: f32, max: f32, value: f32);
}

struct Names(Vec<FeatureDef>);
impl Sink for Names {
    fn f(&mut self, name: &dyn Fn() -> String, desc: &str, min: f32, max: f32, _value: f32) {
        self.0.push(FeatureDef::new(name(), desc, min, max));
    }
}

struct Values<'a> {
    out: &'a mut [f32],
    pos: usize,
}
impl Sink for Values<'_> {
    #[inline(always)]
    fn f(&mut self, _name: &dyn Fn() -> String, _desc: &str, _min: f32, _max: f32, value: f32) {
        self.out[self.pos] = value;
        self.pos += 1;
    }
}

fn b(v: bool) -> f32 {
    f32::from(u8::from(v))
}

/// Number of enemies (of `side`) that could attack tile `(x, y)` on their next turn, moving at
/// most one tile first.
fn threat_at(battle: &Battle, side: u8, x: u8, y: u8) -> f32 {
    let mut n = 0;
    for e in UnitId::of_side(1 - side) {
        let u = battle.unit(e);
        if u.alive() {
            let d = u.x.abs_diff(x) + u.y.abs_diff(y);
            let reach = battle.reach(u.class.stats().range, u.x, u.y);
            if d <= reach + 1 {
                n += 1;
            }
        }
    }
    n as f32 / COUNT_SCALE
}

fn layout(battle: &Battle, me: UnitId, legal: Legal, w: &mut impl Sink) {
    let side = me.side();
    let foe = 1 - side;
    let u = *battle.unit(me);
    let fx = |x: u8| if side == 0 { x } else { WIDTH as u8 - 1 - x };
    let n = |s: &'static str| move || s.to_string();

    // Global.
    let max_round = f32::from(battle.config().max_rounds.max(2) - 1);
    w.f(
        &n("round"),
        "round number / last round",
        0.0,
        1.0,
        f32::from(battle.round()) / max_round,
    );
    for wt in Weather::ALL {
        w.f(
            &|| format!("weather_{}", format!("{wt:?}").to_lowercase()),
            "1 if this is the current weather",
            0.0,
            1.0,
            b(battle.weather() == wt),
        );
    }
    w.f(
        &n("own_potions"),
        "potions left to the own side / 2",
        0.0,
        1.0,
        f32::from(battle.potions(side)) / f32::from(START_POTIONS),
    );
    w.f(
        &n("own_bombs"),
        "bombs left to the own side / 1",
        0.0,
        1.0,
        f32::from(battle.bombs(side)) / f32::from(START_BOMBS),
    );
    w.f(
        &n("enemy_potions"),
        "potions left to the enemy / 2",
        0.0,
        1.0,
        f32::from(battle.potions(foe)) / f32::from(START_POTIONS),
    );
    w.f(
        &n("enemy_bombs"),
        "bombs left to the enemy / 1",
        0.0,
        1.0,
        f32::from(battle.bombs(foe)) / f32::from(START_BOMBS),
    );
    w.f(
        &n("own_alive"),
        "living own units / 4",
        0.0,
        1.0,
        battle.alive_count(side) as f32 / COUNT_SCALE,
    );
    w.f(
        &n("enemy_alive"),
        "living enemy units / 4",
        0.0,
        1.0,
        battle.alive_count(foe) as f32 / COUNT_SCALE,
    );
    let (oh, eh) = (battle.health_fraction(side), battle.health_fraction(foe));
    w.f(
        &n("own_health"),
        "own remaining health / own total maximum",
        0.0,
        1.0,
        oh,
    );
    w.f(
        &n("enemy_health"),
        "enemy remaining health / enemy total maximum",
        0.0,
        1.0,
        eh,
    );
    w.f(
        &n("health_lead"),
        "own_health - enemy_health (points decide a timeout on it)",
        -1.0,
        1.0,
        oh - eh,
    );

    // The acting unit.
    let st = u.class.stats();
    for c in Class::ALL {
        w.f(
            &|| format!("self_class_{}", c.name()),
            "1 if the acting unit has this class",
            0.0,
            1.0,
            b(u.class == c),
        );
    }
    w.f(
        &n("self_hp"),
        "health / own maximum",
        0.0,
        1.0,
        f32::from(u.hp) / f32::from(u.max_hp()),
    );
    w.f(
        &n("self_hp_abs"),
        "health / 128 (the largest maximum is 120)",
        0.0,
        1.0,
        f32::from(u.hp) / HP_SCALE,
    );
    w.f(
        &n("self_energy"),
        "energy / 100",
        0.0,
        1.0,
        f32::from(u.energy) / f32::from(MAX_ENERGY),
    );
    w.f(
        &n("self_x"),
        "column in the own frame / 8 (0 = own edge)",
        0.0,
        1.0,
        f32::from(fx(u.x)) / X_SCALE,
    );
    w.f(
        &n("self_y"),
        "row / 8 (0 = north edge)",
        0.0,
        1.0,
        f32::from(u.y) / Y_SCALE,
    );
    w.f(
        &n("self_poison"),
        "poison turns / 4",
        0.0,
        1.0,
        f32::from(u.poison) / COUNT_SCALE,
    );
    w.f(
        &n("self_burn"),
        "burn turns / 2",
        0.0,
        1.0,
        f32::from(u.burn) / 2.0,
    );
    w.f(
        &n("self_stun"),
        "1 if stunned (only waiting is legal)",
        0.0,
        1.0,
        b(u.stun > 0),
    );
    w.f(
        &n("self_shield"),
        "shield / 25",
        0.0,
        1.0,
        f32::from(u.shield) / SHIELD_SCALE,
    );
    let ready =
        |cd: u8, s: Option<crate::rules::Skill>| s.is_some_and(|s| cd == 0 && u.energy >= s.cost);
    w.f(
        &n("self_offense_ready"),
        "1 if the offensive skill is off cooldown and affordable",
        0.0,
        1.0,
        b(ready(u.cd_offense, st.offense)),
    );
    w.f(
        &n("self_offense_cd"),
        "offensive skill cooldown / 4",
        0.0,
        1.0,
        f32::from(u.cd_offense) / COUNT_SCALE,
    );
    w.f(
        &n("self_support_ready"),
        "1 if the support skill is off cooldown and affordable",
        0.0,
        1.0,
        b(ready(u.cd_support, st.support)),
    );
    w.f(
        &n("self_support_cd"),
        "support skill cooldown / 4",
        0.0,
        1.0,
        f32::from(u.cd_support) / COUNT_SCALE,
    );
    w.f(
        &n("self_reach"),
        "basic attack reach here (terrain, weather) / 8",
        0.0,
        1.0,
        f32::from(battle.reach(st.range, u.x, u.y)) / 8.0,
    );
    let here = battle.terrain(u.x, u.y);
    w.f(
        &n("self_on_forest"),
        "1 if standing in a forest",
        0.0,
        1.0,
        b(here == Terrain::Forest),
    );
    w.f(
        &n("self_on_hill"),
        "1 if standing on a hill",
        0.0,
        1.0,
        b(here == Terrain::Hill),
    );
    w.f(
        &n("self_on_swamp"),
        "1 if standing in a swamp",
        0.0,
        1.0,
        b(here == Terrain::Swamp),
    );
    w.f(
        &n("self_threat"),
        "enemies able to attack this tile next turn / 4",
        0.0,
        1.0,
        threat_at(battle, side, u.x, u.y),
    );

    // The four neighbouring tiles, in the own frame.
    for (dir, action) in [
        ("forward", Action::MoveForward),
        ("back", Action::MoveBack),
        ("north", Action::MoveNorth),
        ("south", Action::MoveSouth),
    ] {
        let target = battle.move_target(me, action);
        let open = target.is_some_and(|(x, y)| battle.can_enter(x, y));
        let t = target.map(|(x, y)| battle.terrain(x, y));
        let name = |k: &str| format!("{dir}_{k}");
        w.f(
            &|| name("open"),
            "1 if the unit can step there",
            0.0,
            1.0,
            b(open),
        );
        w.f(
            &|| name("forest"),
            "1 if that tile is forest",
            0.0,
            1.0,
            b(t == Some(Terrain::Forest)),
        );
        w.f(
            &|| name("hill"),
            "1 if that tile is a hill",
            0.0,
            1.0,
            b(t == Some(Terrain::Hill)),
        );
        w.f(
            &|| name("swamp"),
            "1 if that tile is swamp",
            0.0,
            1.0,
            b(t == Some(Terrain::Swamp)),
        );
        let threat = target
            .filter(|_| open)
            .map_or(0.0, |(x, y)| threat_at(battle, side, x, y));
        w.f(
            &|| name("threat"),
            "enemies able to attack that tile next turn / 4 (0 if closed)",
            0.0,
            1.0,
            threat,
        );
    }

    let queued: u8 = battle.queue().fold(0, |m, q| m | 1 << q.0);

    // Allies by team slot (the acting unit included).
    for slot in 0..3u8 {
        let id = UnitId::new(side, slot);
        let a = battle.unit(id);
        let alive = a.alive();
        let name = |k: &str| format!("ally{slot}_{k}");
        let v = |x: f32| if alive { x } else { 0.0 };
        w.f(
            &|| name("alive"),
            "1 if this own slot is alive",
            0.0,
            1.0,
            b(alive),
        );
        w.f(
            &|| name("is_self"),
            "1 if this slot is the acting unit",
            0.0,
            1.0,
            b(id == me),
        );
        for c in Class::ALL {
            w.f(
                &|| name(&format!("class_{}", c.name())),
                "1 if the slot has this class",
                0.0,
                1.0,
                b(a.class == c),
            );
        }
        w.f(
            &|| name("hp"),
            "health / own maximum",
            0.0,
            1.0,
            f32::from(a.hp) / f32::from(a.max_hp()),
        );
        w.f(
            &|| name("energy"),
            "energy / 100",
            0.0,
            1.0,
            v(f32::from(a.energy) / 100.0),
        );
        let dx = (f32::from(fx(a.x)) - f32::from(fx(u.x))) / X_SCALE;
        let dy = (f32::from(a.y) - f32::from(u.y)) / Y_SCALE;
        w.f(
            &|| name("dx"),
            "column offset from the acting unit, own frame / 8",
            -1.0,
            1.0,
            v(dx),
        );
        w.f(
            &|| name("dy"),
            "row offset from the acting unit / 8",
            -1.0,
            1.0,
            v(dy),
        );
        w.f(
            &|| name("dist"),
            "distance from the acting unit / 16",
            0.0,
            1.0,
            v(f32::from(a.dist(&u)) / DIST_SCALE),
        );
        w.f(
            &|| name("poison"),
            "poison turns / 4",
            0.0,
            1.0,
            f32::from(a.poison) / COUNT_SCALE,
        );
        w.f(
            &|| name("burn"),
            "burn turns / 2",
            0.0,
            1.0,
            f32::from(a.burn) / 2.0,
        );
        w.f(&|| name("stun"), "1 if stunned", 0.0, 1.0, b(a.stun > 0));
        w.f(
            &|| name("shield"),
            "shield / 25",
            0.0,
            1.0,
            f32::from(a.shield) / SHIELD_SCALE,
        );
        w.f(
            &|| name("queued"),
            "1 if it still acts this round",
            0.0,
            1.0,
            b(queued >> id.0 & 1 == 1),
        );
        w.f(
            &|| name("support_ok"),
            "1 if the support skill on it is legal",
            0.0,
            1.0,
            b(legal.contains(Action::SkillAlly(slot))),
        );
        w.f(
            &|| name("potion_ok"),
            "1 if a potion on it is legal",
            0.0,
            1.0,
            b(legal.contains(Action::Potion(slot))),
        );
    }

    // Enemies by team slot.
    for slot in 0..3u8 {
        let id = UnitId::new(foe, slot);
        let e = battle.unit(id);
        let alive = e.alive();
        let name = |k: &str| format!("enemy{slot}_{k}");
        let v = |x: f32| if alive { x } else { 0.0 };
        w.f(
            &|| name("alive"),
            "1 if this enemy slot is alive",
            0.0,
            1.0,
            b(alive),
        );
        for c in Class::ALL {
            w.f(
                &|| name(&format!("class_{}", c.name())),
                "1 if the slot has this class",
                0.0,
                1.0,
                b(e.class == c),
            );
        }
        w.f(
            &|| name("hp"),
            "health / own maximum",
            0.0,
            1.0,
            f32::from(e.hp) / f32::from(e.max_hp()),
        );
        w.f(
            &|| name("hp_abs"),
            "health / 128",
            0.0,
            1.0,
            f32::from(e.hp) / HP_SCALE,
        );
        w.f(
            &|| name("energy"),
            "energy / 100",
            0.0,
            1.0,
            v(f32::from(e.energy) / 100.0),
        );
        let dx = (f32::from(fx(e.x)) - f32::from(fx(u.x))) / X_SCALE;
        let dy = (f32::from(e.y) - f32::from(u.y)) / Y_SCALE;
        w.f(
            &|| name("dx"),
            "column offset from the acting unit, own frame / 8",
            -1.0,
            1.0,
            v(dx),
        );
        w.f(
            &|| name("dy"),
            "row offset from the acting unit / 8",
            -1.0,
            1.0,
            v(dy),
        );
        let d = e.dist(&u);
        w.f(
            &|| name("dist"),
            "distance from the acting unit / 16",
            0.0,
            1.0,
            v(f32::from(d) / DIST_SCALE),
        );
        w.f(
            &|| name("poison"),
            "poison turns / 4",
            0.0,
            1.0,
            f32::from(e.poison) / COUNT_SCALE,
        );
        w.f(
            &|| name("burn"),
            "burn turns / 2",
            0.0,
            1.0,
            f32::from(e.burn) / 2.0,
        );
        w.f(&|| name("stun"), "1 if stunned", 0.0, 1.0, b(e.stun > 0));
        w.f(
            &|| name("shield"),
            "shield / 25",
            0.0,
            1.0,
            f32::from(e.shield) / SHIELD_SCALE,
        );
        w.f(
            &|| name("on_forest"),
            "1 if it stands in a forest",
            0.0,
            1.0,
            b(alive && battle.terrain(e.x, e.y) == Terrain::Forest),
        );
        w.f(
            &|| name("queued"),
            "1 if it still acts this round",
            0.0,
            1.0,
            b(queued >> id.0 & 1 == 1),
        );
        let attack_ok = legal.contains(Action::Attack(slot));
        w.f(
            &|| name("attack_ok"),
            "1 if a basic attack on it is legal",
            0.0,
            1.0,
            b(attack_ok),
        );
        w.f(
            &|| name("skill_ok"),
            "1 if the offensive skill on it is legal",
            0.0,
            1.0,
            b(legal.contains(Action::SkillEnemy(slot))),
        );
        w.f(
            &|| name("bomb_ok"),
            "1 if the bomb on it is legal",
            0.0,
            1.0,
            b(legal.contains(Action::Bomb(slot))),
        );
        let hit = if attack_ok {
            f32::from(battle.hit_chance(me, id)) / 100.0
        } else {
            0.0
        };
        w.f(
            &|| name("hit_chance"),
            "chance a basic attack on it hits (0 if not legal)",
            0.0,
            1.0,
            hit,
        );
        let exp_dmg = if attack_ok {
            let mut dmg = f32::from(st.attack) * (1.0 + 0.5 * f32::from(st.crit) / 100.0);
            if battle.terrain(e.x, e.y) == Terrain::Forest {
                dmg *= 0.75;
            }
            (hit * dmg / f32::from(e.hp.max(1))).min(1.0)
        } else {
            0.0
        };
        w.f(
            &|| name("attack_share"),
            "expected basic-attack damage / its health, capped at 1",
            0.0,
            1.0,
            exp_dmg,
        );
        let reach = battle.reach(e.class.stats().range, e.x, e.y);
        w.f(
            &|| name("threatens_self"),
            "1 if it can attack the acting unit next turn (moving one tile)",
            0.0,
            1.0,
            b(alive && d <= reach + 1),
        );
    }

    // Every action: legality and its one-ply value (the search player's evaluation of the
    // expected position right after it, over its roll outcomes, before any reply).
    let values = if battle.actor() == Some(me) && !legal.is_empty() {
        Search::new(0).one_ply_values(battle, legal)
    } else {
        Vec::new()
    };
    let value_of = |a: Action| values.iter().find(|v| v.0 == a).map(|v| v.1);
    let base = value_of(Action::Wait).unwrap_or(0.0);
    let best = values.iter().map(|v| v.1).fold(f32::NEG_INFINITY, f32::max);
    for (i, &action_name) in ACTION_NAMES.iter().enumerate() {
        let a = Action::from_index(i).unwrap_or(Action::Wait);
        let v = value_of(a);
        let name = |k: &str| format!("{action_name}_{k}");
        w.f(
            &|| name("legal"),
            "1 if the action is legal",
            0.0,
            1.0,
            b(legal.contains(a)),
        );
        w.f(
            &|| name("value"),
            "one-ply value minus that of waiting, in health points / 64, clipped (0 if illegal)",
            -1.0,
            1.0,
            v.map_or(0.0, |v| ((v - base) / VALUE_SCALE).clamp(-1.0, 1.0)),
        );
        w.f(
            &|| name("gap"),
            "best one-ply value minus this one, in health points / 32, clipped (1 if illegal)",
            0.0,
            1.0,
            v.map_or(1.0, |v| ((best - v) / GAP_SCALE).clamp(0.0, 1.0)),
        );
        w.f(
            &|| name("best"),
            "1 if its one-ply value is the best (within 0.01 health points)",
            0.0,
            1.0,
            b(v.is_some_and(|v| v >= best - BEST_TIE)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::GameConfig;

    #[test]
    fn spec_and_values_agree_and_stay_in_range() {
        let spec = SkirmishEncoder::feature_spec();
        assert!(spec.num_features() > 150, "{}", spec.num_features());
        let enc = SkirmishEncoder;
        for seed in 0..50 {
            let mut battle = Battle::new(seed, GameConfig::default());
            let mut rng = crate::rng::SplitMix64::new(seed);
            while !battle.is_over() {
                let v = enc.encode(&battle);
                for (x, f) in v.iter().zip(spec.features()) {
                    assert!(
                        x.is_finite() && *x >= f.min && *x <= f.max,
                        "{} = {x}",
                        f.name
                    );
                }
                let legal = battle.legal();
                let a = legal.nth(rng.below(legal.count())).unwrap();
                battle.step(a).unwrap();
            }
        }
    }
}
