//! Battle state: units, board, weather, items, turn order, and its serializable snapshot.

use crate::rng::SplitMix64;

use crate::rules::{
    Class, GameConfig, HEIGHT, MAX_BURN, MAX_ENERGY, MAX_POISON, MAX_SHIELD, MAX_SHIELD_TURNS,
    MAX_STUN, START_BOMBS, START_POTIONS, TEAM_SIZE, TILES, Terrain, UNITS, WIDTH, Weather,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A unit: `side * 3 + slot`. Serialized as `[side, slot]`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitId(pub u8);

impl UnitId {
    /// The unit in `slot` of `side`.
    pub const fn new(side: u8, slot: u8) -> Self {
        Self(side * TEAM_SIZE as u8 + slot)
    }
    /// Its side (0 or 1).
    pub const fn side(self) -> u8 {
        self.0 / TEAM_SIZE as u8
    }
    /// Its team slot (0..3).
    pub const fn slot(self) -> u8 {
        self.0 % TEAM_SIZE as u8
    }
    /// Index into [`Battle::units`].
    pub const fn index(self) -> usize {
        self.0 as usize
    }
    /// All six units.
    pub fn all() -> impl Iterator<Item = UnitId> {
        (0..UNITS as u8).map(UnitId)
    }
    /// The three units of `side`.
    pub fn of_side(side: u8) -> impl Iterator<Item = UnitId> {
        (0..TEAM_SIZE as u8).map(move |s| UnitId::new(side, s))
    }
}

impl fmt::Debug for UnitId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U{}.{}", self.side(), self.slot())
    }
}

impl Serialize for UnitId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.side(), self.slot()].serialize(s)
    }
}

impl<'de> Deserialize<'de> for UnitId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let [side, slot] = <[u8; 2]>::deserialize(d)?;
        if side > 1 || slot as usize >= TEAM_SIZE {
            return Err(serde::de::Error::custom(format!(
                "unit [{side}, {slot}] does not exist"
            )));
        }
        Ok(UnitId::new(side, slot))
    }
}

fn is_zero(v: &u8) -> bool {
    *v == 0
}

/// One unit's state. A unit with `hp == 0` is knocked out and off the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Unit {
    /// Its class.
    pub class: Class,
    /// Column (0 = west edge).
    pub x: u8,
    /// Row (0 = north edge).
    pub y: u8,
    /// Health, 0 when knocked out.
    pub hp: i16,
    /// Energy, 0..=100.
    pub energy: u8,
    /// Poison turns left.
    pub poison: u8,
    /// Burn turns left.
    pub burn: u8,
    /// Stunned own turns left.
    pub stun: u8,
    /// Shield amount left.
    pub shield: u8,
    /// Own turn starts before the shield expires.
    pub shield_turns: u8,
    /// Own turns before the offensive skill is ready.
    pub cd_offense: u8,
    /// Own turns before the support skill is ready.
    pub cd_support: u8,
    /// Tie-breaker among units of equal speed (higher acts first), distinct per unit.
    pub initiative: u8,
}

/// The changing part of a unit, as a [`Snapshot`] records it (its class and initiative never
/// change and live in the [`Setup`]). In JSON, status, shield and cooldown fields that are
/// zero are left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UnitState {
    /// Column (0 = west edge).
    pub x: u8,
    /// Row (0 = north edge).
    pub y: u8,
    /// Health, 0 when knocked out.
    pub hp: i16,
    /// Energy, 0..=100.
    pub energy: u8,
    /// Poison turns left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poison: u8,
    /// Burn turns left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub burn: u8,
    /// Stunned own turns left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stun: u8,
    /// Shield amount left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield: u8,
    /// Own turn starts before the shield expires.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shield_turns: u8,
    /// Own turns before the offensive skill is ready.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cd_offense: u8,
    /// Own turns before the support skill is ready.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cd_support: u8,
}

impl UnitState {
    /// The changing part of `unit`.
    pub const fn of(u: &Unit) -> Self {
        Self {
            x: u.x,
            y: u.y,
            hp: u.hp,
            energy: u.energy,
            poison: u.poison,
            burn: u.burn,
            stun: u.stun,
            shield: u.shield,
            shield_turns: u.shield_turns,
            cd_offense: u.cd_offense,
            cd_support: u.cd_support,
        }
    }

    /// A whole unit from this state and the fixed facts of its slot.
    pub const fn with(self, class: Class, initiative: u8) -> Unit {
        Unit {
            class,
            x: self.x,
            y: self.y,
            hp: self.hp,
            energy: self.energy,
            poison: self.poison,
            burn: self.burn,
            stun: self.stun,
            shield: self.shield,
            shield_turns: self.shield_turns,
            cd_offense: self.cd_offense,
            cd_support: self.cd_support,
            initiative,
        }
    }

    /// Whether the unit is still in the battle.
    pub const fn alive(&self) -> bool {
        self.hp > 0
    }
}

impl Unit {
    /// Whether the unit is still in the battle.
    pub const fn alive(&self) -> bool {
        self.hp > 0
    }
    /// Its maximum health.
    pub const fn max_hp(&self) -> i16 {
        self.class.stats().max_hp
    }
    /// Manhattan distance to another unit.
    pub const fn dist(&self, other: &Unit) -> u8 {
        self.x.abs_diff(other.x) + self.y.abs_diff(other.y)
    }
}

/// How a battle ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Victory {
    /// Every unit of the loser was knocked out.
    Elimination,
    /// At the round limit, the winner kept a larger share of its health.
    Points,
    /// At the round limit, neither side led by enough: a draw.
    Timeout,
}

impl Victory {
    /// Lower-case name, as in battle logs.
    pub const fn name(self) -> &'static str {
        match self {
            Victory::Elimination => "elimination",
            Victory::Points => "points",
            Victory::Timeout => "timeout",
        }
    }
}

/// The result of a finished battle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Outcome {
    /// The winning side, `None` for a draw.
    pub winner: Option<u8>,
    /// How it was decided.
    pub victory: Victory,
}

impl Outcome {
    /// +1 if `side` won, -1 if it lost, 0 for a draw.
    pub fn value_for(&self, side: u8) -> f32 {
        match self.winner {
            None => 0.0,
            Some(w) if w == side => 1.0,
            Some(_) => -1.0,
        }
    }
}

/// The complete state of a battle. Small and `Copy`: search clones it freely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Battle {
    pub(crate) config: GameConfig,
    pub(crate) terrain: [Terrain; TILES],
    pub(crate) units: [Unit; UNITS],
    pub(crate) weather: Weather,
    pub(crate) potions: [u8; 2],
    pub(crate) bombs: [u8; 2],
    pub(crate) round: u16,
    pub(crate) turn: u32,
    pub(crate) order: [u8; UNITS],
    pub(crate) order_len: u8,
    pub(crate) order_pos: u8,
    pub(crate) actor: u8,
    pub(crate) rng: SplitMix64,
    pub(crate) outcome: Option<Outcome>,
}

impl Battle {
    /// The rules this battle is played with.
    pub fn config(&self) -> &GameConfig {
        &self.config
    }
    /// All six units, side 0 first.
    pub fn units(&self) -> &[Unit; UNITS] {
        &self.units
    }
    /// One unit.
    pub fn unit(&self, id: UnitId) -> &Unit {
        &self.units[id.index()]
    }
    /// The terrain at `(x, y)`.
    pub fn terrain(&self, x: u8, y: u8) -> Terrain {
        self.terrain[y as usize * WIDTH + x as usize]
    }
    /// The current weather.
    pub fn weather(&self) -> Weather {
        self.weather
    }
    /// Potions left to `side`.
    pub fn potions(&self, side: u8) -> u8 {
        self.potions[side as usize]
    }
    /// Bombs left to `side`.
    pub fn bombs(&self, side: u8) -> u8 {
        self.bombs[side as usize]
    }
    /// The current round, from 0.
    pub fn round(&self) -> u16 {
        self.round
    }
    /// Decisions taken so far.
    pub fn turn(&self) -> u32 {
        self.turn
    }
    /// The unit to act, or `None` once the battle is over.
    pub fn actor(&self) -> Option<UnitId> {
        self.outcome.is_none().then_some(UnitId(self.actor))
    }
    /// The result, once the battle is over.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }
    /// Whether the battle is over.
    pub fn is_over(&self) -> bool {
        self.outcome.is_some()
    }
    /// Units still to act this round after the current actor, in order.
    pub fn queue(&self) -> impl Iterator<Item = UnitId> + '_ {
        self.order[self.order_pos as usize..self.order_len as usize]
            .iter()
            .map(|&i| UnitId(i))
            .filter(|&u| self.units[u.index()].alive())
    }
    /// The unit on `(x, y)`, if any.
    pub fn unit_at(&self, x: u8, y: u8) -> Option<UnitId> {
        UnitId::all().find(|&u| {
            let unit = &self.units[u.index()];
            unit.alive() && unit.x == x && unit.y == y
        })
    }
    /// Living units of `side`.
    pub fn alive_count(&self, side: u8) -> usize {
        UnitId::of_side(side)
            .filter(|&u| self.units[u.index()].alive())
            .count()
    }
    /// Remaining health of `side` as a fraction of its total maximum health.
    pub fn health_fraction(&self, side: u8) -> f32 {
        let (hp, max) = UnitId::of_side(side).fold((0i32, 0i32), |(h, m), u| {
            let unit = &self.units[u.index()];
            (h + i32::from(unit.hp), m + i32::from(unit.max_hp()))
        });
        hp as f32 / max as f32
    }
    /// The map as one string per row, north first (see [`Terrain::symbol`]).
    pub fn map_rows(&self) -> Vec<String> {
        (0..HEIGHT)
            .map(|y| {
                (0..WIDTH)
                    .map(|x| self.terrain[y * WIDTH + x].symbol())
                    .collect()
            })
            .collect()
    }
}

/// The fixed part of a battle: rules and map. Written once per battle record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    /// Rules.
    pub config: GameConfig,
    /// Map rows, north first.
    pub map: Vec<String>,
    /// Classes of each side's slots.
    pub teams: [[Class; TEAM_SIZE]; 2],
    /// Initiative of each side's slots: the tie-breaker among units of equal speed (higher
    /// acts first); the six values are 0..6 in some order.
    pub initiative: [[u8; TEAM_SIZE]; 2],
}

/// The changing part of a battle, as recorded before every decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Round, from 0.
    pub round: u16,
    /// Decisions taken so far.
    pub turn: u32,
    /// The unit to act (`null` once over).
    pub actor: Option<UnitId>,
    /// Units still to act this round, in order, after the actor.
    pub queue: Vec<UnitId>,
    /// The weather.
    pub weather: Weather,
    /// Potions left per side.
    pub potions: [u8; 2],
    /// Bombs left per side.
    pub bombs: [u8; 2],
    /// The six units, side 0 slot 0 first (their classes and initiatives are in the setup).
    pub units: Vec<UnitState>,
    /// The result, once over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The random generator's state, so a battle can continue from a snapshot.
    pub rng: u64,
}

/// Why a setup and snapshot do not describe a valid battle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The map has the wrong size.
    #[error("map must have {HEIGHT} rows of {WIDTH} tiles")]
    MapSize,
    /// The map holds an unknown tile character.
    #[error("map holds unknown tile {0:?}")]
    MapTile(char),
    /// The snapshot lists a number of units other than six.
    #[error("snapshot lists {0} units, expected {UNITS}")]
    UnitCount(usize),
    /// The setup's initiatives are not 0..6 each once.
    #[error("the setup's initiatives must be 0, 1, 2, 3, 4, 5, each once")]
    BadInitiative,
    /// A unit's numbers are out of their range.
    #[error("unit {0:?}: {1}")]
    BadUnit(UnitId, &'static str),
    /// Two living units share a tile.
    #[error("units {0:?} and {1:?} share a tile")]
    Overlap(UnitId, UnitId),
    /// The actor is knocked out, or missing while the battle goes on.
    #[error("the actor is missing or knocked out")]
    BadActor,
    /// The turn queue lists a unit twice, a knocked-out unit, the actor, or no unit at all.
    #[error("the turn queue is invalid")]
    BadQueue,
    /// More items than a side starts with.
    #[error("more potions or bombs than a side starts with")]
    BadItems,
    /// The round is past the limit or the turn counter is larger than the rounds allow.
    #[error("round or turn counter out of range")]
    BadClock,
    /// The outcome does not match the units (e.g. an elimination win with the loser alive).
    #[error("the outcome does not match the units")]
    BadOutcome,
    /// A side has no living units but the battle is not over.
    #[error("side {0} has no living units but the battle is not over")]
    NoUnits(u8),
}

impl Battle {
    /// The fixed part of this battle.
    pub fn setup(&self) -> Setup {
        let mut teams = [[Class::Knight; TEAM_SIZE]; 2];
        let mut initiative = [[0u8; TEAM_SIZE]; 2];
        for u in UnitId::all() {
            let unit = &self.units[u.index()];
            teams[u.side() as usize][u.slot() as usize] = unit.class;
            initiative[u.side() as usize][u.slot() as usize] = unit.initiative;
        }
        Setup {
            config: self.config,
            map: self.map_rows(),
            teams,
            initiative,
        }
    }

    /// The changing part of this battle.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            round: self.round,
            turn: self.turn,
            actor: self.actor(),
            queue: self.queue().collect(),
            weather: self.weather,
            potions: self.potions,
            bombs: self.bombs,
            units: self.units.iter().map(UnitState::of).collect(),
            outcome: self.outcome,
            rng: self.rng.state(),
        }
    }

    /// Rebuilds a battle from its setup and a snapshot, checking that they describe a position
    /// the game can reach: every number within the range the rules produce, units on the board,
    /// a living actor, a queue of distinct living units, and an outcome that matches the units.
    pub fn from_snapshot(setup: &Setup, snap: &Snapshot) -> Result<Self, StateError> {
        let config = setup.config;
        if setup.map.len() != HEIGHT || setup.map.iter().any(|r| r.chars().count() != WIDTH) {
            return Err(StateError::MapSize);
        }
        let mut terrain = [Terrain::Plain; TILES];
        for (y, row) in setup.map.iter().enumerate() {
            for (x, c) in row.chars().enumerate() {
                terrain[y * WIDTH + x] = Terrain::from_symbol(c).ok_or(StateError::MapTile(c))?;
            }
        }
        if snap.units.len() != UNITS {
            return Err(StateError::UnitCount(snap.units.len()));
        }
        let mut initiatives: Vec<u8> = setup.initiative.iter().flatten().copied().collect();
        initiatives.sort_unstable();
        if initiatives != [0, 1, 2, 3, 4, 5] {
            return Err(StateError::BadInitiative);
        }
        let units: [Unit; UNITS] = std::array::from_fn(|i| {
            let id = UnitId(i as u8);
            let (side, slot) = (id.side() as usize, id.slot() as usize);
            snap.units[i].with(setup.teams[side][slot], setup.initiative[side][slot])
        });
        for id in UnitId::all() {
            check_unit(id, &units[id.index()], &terrain)?;
            for other in UnitId::all().filter(|o| o.0 < id.0) {
                let (u, o) = (&units[id.index()], &units[other.index()]);
                if u.alive() && o.alive() && u.x == o.x && u.y == o.y {
                    return Err(StateError::Overlap(other, id));
                }
            }
        }
        if snap.potions.iter().any(|&p| p > START_POTIONS)
            || snap.bombs.iter().any(|&b| b > START_BOMBS)
        {
            return Err(StateError::BadItems);
        }
        let valid_living = |u: UnitId| u.index() < UNITS && units[u.index()].alive();
        let mut seen = 0u8;
        for &q in &snap.queue {
            if !valid_living(q) || seen >> q.0 & 1 == 1 || Some(q) == snap.actor {
                return Err(StateError::BadQueue);
            }
            seen |= 1 << q.0;
        }
        // Decisions so far: at most six per finished round, and in the current round at most
        // the units that already acted (six minus the actor and those still queued).
        let queued = snap.queue.len() as u32;
        let this_round = if snap.outcome.is_some() {
            6 - queued.min(6)
        } else {
            5u32.saturating_sub(queued)
        };
        if snap.round >= config.max_rounds.max(1)
            || snap.turn > u32::from(snap.round) * UNITS as u32 + this_round
        {
            return Err(StateError::BadClock);
        }
        let alive = |side: u8| UnitId::of_side(side).any(|u| units[u.index()].alive());
        match (snap.actor, snap.outcome) {
            (Some(a), None) if valid_living(a) => {
                for side in 0..2 {
                    if !alive(side) {
                        return Err(StateError::NoUnits(side));
                    }
                }
            }
            (None, Some(o)) => {
                let consistent = match (o.victory, o.winner) {
                    (Victory::Elimination, Some(w)) if w < 2 => alive(w) && !alive(1 - w),
                    (Victory::Points | Victory::Timeout, _) => {
                        let last_round = snap.round + 1 >= config.max_rounds.max(1);
                        last_round && crate::engine::round_limit_outcome(&config, &units) == o
                    }
                    _ => false,
                };
                if !consistent {
                    return Err(StateError::BadOutcome);
                }
            }
            _ => return Err(StateError::BadActor),
        }
        let mut order = [0u8; UNITS];
        let (actor, first) = match snap.actor {
            Some(a) => {
                order[0] = a.0;
                (a.0, 1)
            }
            None => (0, 0),
        };
        for (i, q) in snap.queue.iter().enumerate() {
            order[first + i] = q.0;
        }
        Ok(Battle {
            config,
            terrain,
            units,
            weather: snap.weather,
            potions: snap.potions,
            bombs: snap.bombs,
            round: snap.round,
            turn: snap.turn,
            order,
            order_len: (first + snap.queue.len()) as u8,
            order_pos: first as u8,
            actor,
            rng: SplitMix64::new(snap.rng),
            outcome: snap.outcome,
        })
    }
}

/// Checks one unit of a snapshot against the rules' ranges.
fn check_unit(id: UnitId, u: &Unit, terrain: &[Terrain; TILES]) -> Result<(), StateError> {
    let bad = |why| Err(StateError::BadUnit(id, why));
    let stats = u.class.stats();
    if u.hp < 0 || u.hp > stats.max_hp {
        return bad("health out of range");
    }
    if u.energy > MAX_ENERGY {
        return bad("energy above maximum");
    }
    if u.x as usize >= WIDTH || u.y as usize >= HEIGHT {
        return bad("off the board");
    }
    if u.alive() && terrain[u.y as usize * WIDTH + u.x as usize] == Terrain::Rock {
        return bad("standing on rock");
    }
    if u.poison > MAX_POISON || u.burn > MAX_BURN || u.stun > MAX_STUN {
        return bad("status longer than any the rules apply");
    }
    if u.shield > MAX_SHIELD
        || u.shield_turns > MAX_SHIELD_TURNS
        || (u.shield == 0) != (u.shield_turns == 0)
    {
        return bad("shield amount and duration out of range or inconsistent");
    }
    let max_cd = |s: Option<crate::rules::Skill>| s.map_or(0, |s| s.cooldown);
    if u.cd_offense > max_cd(stats.offense) || u.cd_support > max_cd(stats.support) {
        return bad("cooldown longer than the skill's");
    }
    if !u.alive() && (u.poison | u.burn | u.stun | u.shield | u.shield_turns) != 0 {
        return bad("knocked out but carrying statuses");
    }
    Ok(())
}
