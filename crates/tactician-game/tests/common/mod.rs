//! Helpers shared by the property tests: random play, invariants, mirrored battles.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::Config;
use tactician_game::rules::{HEIGHT, MAX_ENERGY, TEAM_SIZE, WIDTH};
use tactician_game::{
    Action, Battle, GameConfig, NUM_ACTIONS, Setup, Snapshot, Terrain, UnitId, Victory,
};

/// Proptest settings: `cases` cases (or `PROPTEST_CASES` if set, to search longer), no
/// regression files written into the source tree.
pub fn config(cases: u32) -> Config {
    let defaults = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            defaults.cases
        } else {
            cases
        },
        failure_persistence: None,
        ..defaults
    }
}

/// Rules: the default ones most of the time, else a short or long round limit and any margin.
pub fn game_config() -> impl Strategy<Value = GameConfig> {
    prop_oneof![
        3 => Just(GameConfig::default()),
        1 => (1u16..=40, 0u8..=60).prop_map(|(max_rounds, points_margin_pct)| GameConfig {
            max_rounds,
            points_margin_pct,
        }),
    ]
}

/// Picks the legal action numbered `choice` modulo the number of legal actions.
pub fn pick(battle: &Battle, choice: u32) -> Action {
    let legal = battle.legal();
    legal.nth(choice % legal.count()).unwrap()
}

/// Like [`pick`], but three times in four an attack, skill on an enemy or bomb when one is
/// legal: random play rarely finishes a battle by elimination, this does.
pub fn pick_aggressive(battle: &Battle, choice: u32) -> Action {
    let legal = battle.legal();
    let offensive: Vec<Action> = legal.iter().filter(|a| a.targets_enemy()).collect();
    if !offensive.is_empty() && choice % 4 != 0 {
        offensive[(choice / 4) as usize % offensive.len()]
    } else {
        legal.nth(choice % legal.count()).unwrap()
    }
}

/// [`pick_aggressive`] when the top bit of `choice` is set, else [`pick`].
pub fn pick_mixed(battle: &Battle, choice: u32) -> Action {
    if choice >> 31 == 1 {
        pick_aggressive(battle, choice)
    } else {
        pick(battle, choice)
    }
}

/// Plays the legal actions chosen by `choices` (see [`pick_mixed`]) until they run out or the
/// battle ends; returns the actions played.
pub fn play(battle: &mut Battle, choices: &[u32]) -> Vec<Action> {
    let mut played = Vec::new();
    for &c in choices {
        if battle.is_over() {
            break;
        }
        let a = pick_mixed(battle, c);
        battle.step(a).unwrap();
        played.push(a);
    }
    played
}

/// A tiny generator for choosing actions in long random playouts.
pub struct Dice(pub u64);

impl Dice {
    /// Next pseudo-random number (SplitMix64).
    pub fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) as u32
    }
}

/// Side `side`'s remaining health and total maximum health.
pub fn health(b: &Battle, side: u8) -> (i64, i64) {
    UnitId::of_side(side).fold((0, 0), |(h, m), u| {
        let unit = b.unit(u);
        (h + i64::from(unit.hp), m + i64::from(unit.max_hp()))
    })
}

/// Checks every state invariant of `b` on its own.
pub fn check_state(b: &Battle) -> Result<(), String> {
    let units = b.units();
    for id in UnitId::all() {
        let u = &units[id.index()];
        if u.hp < 0 || u.hp > u.max_hp() {
            return Err(format!("{id:?} hp {} outside 0..={}", u.hp, u.max_hp()));
        }
        if u.energy > MAX_ENERGY {
            return Err(format!("{id:?} energy {}", u.energy));
        }
        if u.alive() {
            if u.x as usize >= WIDTH || u.y as usize >= HEIGHT {
                return Err(format!("{id:?} off the board at ({}, {})", u.x, u.y));
            }
            if b.terrain(u.x, u.y) == Terrain::Rock {
                return Err(format!("{id:?} on rock at ({}, {})", u.x, u.y));
            }
        } else if u.poison + u.burn + u.stun + u.shield + u.shield_turns > 0 {
            return Err(format!("knocked-out {id:?} keeps a status: {u:?}"));
        }
        // The documented maxima, which the encoder's ranges rely on.
        if u.poison > 3 || u.burn > 2 || u.stun > 1 || u.shield > 25 || u.shield_turns > 2 {
            return Err(format!("{id:?} status above its maximum: {u:?}"));
        }
        if u.cd_offense > 3 || u.cd_support > 3 {
            return Err(format!("{id:?} cooldown above 3: {u:?}"));
        }
        if (u.shield > 0) != (u.shield_turns > 0) {
            return Err(format!(
                "{id:?} has a shield without turns or turns without a shield: {u:?}"
            ));
        }
        for other in UnitId::all().filter(|o| o.0 < id.0) {
            let o = &units[other.index()];
            if u.alive() && o.alive() && (u.x, u.y) == (o.x, o.y) {
                return Err(format!("{other:?} and {id:?} share ({}, {})", u.x, u.y));
            }
        }
    }
    let max_rounds = b.config().max_rounds.max(1);
    if b.round() >= max_rounds {
        return Err(format!(
            "round {} reached the limit {max_rounds}",
            b.round()
        ));
    }
    if b.turn() > 6 * u32::from(max_rounds) {
        return Err(format!("turn {} after {max_rounds} rounds", b.turn()));
    }
    if b.potions(0) > 2 || b.potions(1) > 2 || b.bombs(0) > 1 || b.bombs(1) > 1 {
        return Err("more items than a side starts with".into());
    }
    match b.outcome() {
        None => {
            let actor = b.actor().ok_or("no actor in a running battle")?;
            if !b.unit(actor).alive() {
                return Err(format!("actor {actor:?} is knocked out"));
            }
            if b.legal().is_empty() || !b.legal().contains(Action::Wait) {
                return Err("waiting is not legal".into());
            }
            if b.legal().0 >> NUM_ACTIONS != 0 {
                return Err("legal set has bits beyond the action space".into());
            }
            for side in 0..2 {
                if b.alive_count(side) == 0 {
                    return Err(format!("side {side} is wiped out but the battle goes on"));
                }
            }
            if b.queue().any(|q| q == actor || !b.unit(q).alive()) {
                return Err("the queue holds the actor or a knocked-out unit".into());
            }
        }
        Some(o) => {
            if b.actor().is_some() || !b.legal().is_empty() {
                return Err("a finished battle still has an actor or legal actions".into());
            }
            check_outcome(b, o.winner, o.victory)?;
        }
    }
    Ok(())
}

/// Checks that an outcome agrees with the final state.
pub fn check_outcome(b: &Battle, winner: Option<u8>, victory: Victory) -> Result<(), String> {
    let margin = i128::from(b.config().points_margin_pct);
    // Exact lead of side 0 in hundredths of a percent, times the two denominators.
    let (h0, m0) = health(b, 0);
    let (h1, m1) = health(b, 1);
    let num = i128::from(h0 * m1 - h1 * m0) * 10_000;
    let den = i128::from(m0 * m1);
    // The engine rounds the lead to 1/10000; allow that much.
    let tolerance = den;
    let need = margin * 100 * den;
    match victory {
        Victory::Elimination => {
            let w = winner.ok_or("elimination without a winner")?;
            if b.alive_count(1 - w) != 0 || b.alive_count(w) == 0 {
                return Err(format!(
                    "elimination won by {w} but counts are {}/{}",
                    b.alive_count(0),
                    b.alive_count(1)
                ));
            }
        }
        Victory::Points => {
            let w = winner.ok_or("points without a winner")?;
            let lead = if w == 0 { num } else { -num };
            if lead + tolerance < need || lead <= 0 {
                return Err(format!(
                    "points win by {w} with lead {num}/{den} under margin {margin}%"
                ));
            }
            check_at_limit(b)?;
        }
        Victory::Timeout => {
            if winner.is_some() {
                return Err("timeout with a winner".into());
            }
            if num.abs() > need + tolerance && num != 0 {
                return Err(format!(
                    "timeout with lead {num}/{den} over margin {margin}%"
                ));
            }
            check_at_limit(b)?;
        }
    }
    Ok(())
}

fn check_at_limit(b: &Battle) -> Result<(), String> {
    if b.alive_count(0) == 0 || b.alive_count(1) == 0 {
        return Err("decided at the limit although a side was wiped out".into());
    }
    if b.round() + 1 != b.config().max_rounds.max(1) {
        return Err(format!("decided at the limit in round {}", b.round()));
    }
    Ok(())
}

/// Checks what must hold between the states before and after one step.
pub fn check_step(before: &Battle, after: &Battle) -> Result<(), String> {
    check_state(after)?;
    if after.turn() != before.turn() + 1 {
        return Err(format!(
            "turn went from {} to {}",
            before.turn(),
            after.turn()
        ));
    }
    if after.round() < before.round() || after.round() > before.round() + 1 {
        return Err(format!(
            "round went from {} to {}",
            before.round(),
            after.round()
        ));
    }
    if after.config() != before.config() || after.map_rows() != before.map_rows() {
        return Err("rules or map changed".into());
    }
    for side in 0..2 {
        if after.potions(side) > before.potions(side) || after.bombs(side) > before.bombs(side) {
            return Err("items came back".into());
        }
    }
    for id in UnitId::all() {
        let (u, v) = (before.unit(id), after.unit(id));
        if u.class != v.class || u.initiative != v.initiative {
            return Err(format!("{id:?} changed class or initiative"));
        }
        if !u.alive() && v.alive() {
            return Err(format!("{id:?} came back to life"));
        }
    }
    Ok(())
}

/// The same battle seen from the other side: sides swapped, columns mirrored (`x → 7 - x`).
pub fn mirror(setup: &Setup, snap: &Snapshot) -> (Setup, Snapshot) {
    let flip = |id: UnitId| UnitId::new(1 - id.side(), id.slot());
    let map = setup
        .map
        .iter()
        .map(|row| row.chars().rev().collect())
        .collect();
    let setup = Setup {
        config: setup.config,
        map,
        teams: [setup.teams[1], setup.teams[0]],
        initiative: [setup.initiative[1], setup.initiative[0]],
    };
    let mut units = snap.units.clone();
    for id in UnitId::all() {
        let mut u = snap.units[id.index()];
        u.x = WIDTH as u8 - 1 - u.x;
        units[flip(id).index()] = u;
    }
    let snap = Snapshot {
        round: snap.round,
        turn: snap.turn,
        actor: snap.actor.map(flip),
        queue: snap.queue.iter().copied().map(flip).collect(),
        weather: snap.weather,
        potions: [snap.potions[1], snap.potions[0]],
        bombs: [snap.bombs[1], snap.bombs[0]],
        units,
        outcome: snap.outcome.map(|mut o| {
            o.winner = o.winner.map(|w| 1 - w);
            o
        }),
        rng: snap.rng,
    };
    (setup, snap)
}

/// The mirrored battle (see [`mirror`]).
pub fn mirrored(b: &Battle) -> Battle {
    let (setup, snap) = mirror(&b.setup(), &b.snapshot());
    Battle::from_snapshot(&setup, &snap).unwrap()
}

/// Every slot-carrying action with every out-of-range slot, and a few actions per slot kind.
pub fn bad_slot_actions() -> impl Iterator<Item = Action> {
    (TEAM_SIZE as u8..=u8::MAX).flat_map(|s| {
        [
            Action::Attack(s),
            Action::SkillEnemy(s),
            Action::SkillAlly(s),
            Action::Potion(s),
            Action::Bomb(s),
        ]
    })
}
