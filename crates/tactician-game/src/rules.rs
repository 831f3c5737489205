//! The numbers of the game: board, classes, skills, statuses, items, weather.
//!
//! `docs/game.md` states the same rules in prose; a change here is a rules change and bumps
//! [`GAME_VERSION`].

use serde::{Deserialize, Serialize};

/// Name of the game in battle logs.
pub const GAME_NAME: &str = "tactician-skirmish";
/// Rules version in battle logs.
pub const GAME_VERSION: &str = "1.0.0";

/// Board width (columns, `x`). Side 0 starts on the west edge, side 1 on the east edge.
pub const WIDTH: usize = 8;
/// Board height (rows, `y`; row 0 is the north edge).
pub const HEIGHT: usize = 6;
/// Number of tiles.
pub const TILES: usize = WIDTH * HEIGHT;
/// Units per side.
pub const TEAM_SIZE: usize = 3;
/// Units in a battle.
pub const UNITS: usize = 2 * TEAM_SIZE;
/// Default number of rounds before the battle is decided on points or drawn.
pub const DEFAULT_MAX_ROUNDS: u16 = 30;

/// Longest poison the rules apply (poison arrow).
pub const MAX_POISON: u8 = 3;
/// Longest burn the rules apply (fireball).
pub const MAX_BURN: u8 = 2;
/// Longest stun the rules apply (bash).
pub const MAX_STUN: u8 = 1;
/// Largest shield the rules give (guard).
pub const MAX_SHIELD: u8 = 25;
/// Longest shield the rules give, in own turn starts (guard).
pub const MAX_SHIELD_TURNS: u8 = 2;

/// Maximum energy.
pub const MAX_ENERGY: u8 = 100;
/// Energy each unit starts with.
pub const START_ENERGY: u8 = 50;
/// Energy regained at the start of each own turn.
pub const ENERGY_REGEN: u8 = 10;
/// Energy regained at the start of each own turn in a heatwave.
pub const ENERGY_REGEN_HEAT: u8 = 5;
/// Extra energy for waiting.
pub const WAIT_ENERGY: u8 = 15;

/// Base hit chance of a basic attack, in percent.
pub const BASE_HIT: u8 = 90;
/// Hit-chance penalty against a unit standing in a forest.
pub const FOREST_EVASION: u8 = 10;
/// Hit-chance penalty for basic attacks at distance 2 or more in rain or fog.
pub const WEATHER_MISS: u8 = 10;
/// Chance that a shield bash stuns, in percent.
pub const STUN_CHANCE: u8 = 75;

/// Poison damage per tick.
pub const POISON_DAMAGE: i16 = 5;
/// Burn damage per tick.
pub const BURN_DAMAGE: i16 = 7;
/// Burn damage per tick in a heatwave.
pub const BURN_DAMAGE_HEAT: i16 = 10;
/// Poison turns given by standing on a swamp at the start of a turn.
pub const SWAMP_POISON: u8 = 2;

/// Potions per side at the start.
pub const START_POTIONS: u8 = 2;
/// Bombs per side at the start.
pub const START_BOMBS: u8 = 1;
/// Hit points a potion restores (it also cures poison).
pub const POTION_HEAL: i16 = 35;
/// Reach of a potion (self or an adjacent ally).
pub const POTION_RANGE: u8 = 1;
/// Bomb damage to its target.
pub const BOMB_DAMAGE: i16 = 20;
/// Bomb damage to enemies adjacent to its target.
pub const BOMB_SPLASH: i16 = 10;
/// Reach of a bomb.
pub const BOMB_RANGE: u8 = 3;

/// Rounds between weather changes.
pub const WEATHER_PERIOD: u16 = 8;

/// A unit class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Melee tank: bash (stun) and guard (shield).
    Knight,
    /// Long-range damage: poison arrow.
    Archer,
    /// Mid-range burst: fireball (burn, splash).
    Mage,
    /// Support: heal (cleanses) and smite (strips shields).
    Cleric,
}

impl Class {
    /// All classes, in feature order.
    pub const ALL: [Class; 4] = [Class::Knight, Class::Archer, Class::Mage, Class::Cleric];

    /// The class's numbers.
    pub const fn stats(self) -> &'static ClassStats {
        match self {
            Class::Knight => &KNIGHT,
            Class::Archer => &ARCHER,
            Class::Mage => &MAGE,
            Class::Cleric => &CLERIC,
        }
    }

    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Class::Knight => "knight",
            Class::Archer => "archer",
            Class::Mage => "mage",
            Class::Cleric => "cleric",
        }
    }

    /// Index in [`Class::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What a skill does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillKind {
    /// Damage and a chance to stun.
    Bash,
    /// Damage and poison.
    PoisonArrow,
    /// Damage and burn on the target, splash damage around it.
    Fireball,
    /// Damage that removes the target's shield first.
    Smite,
    /// Shield an ally.
    Guard,
    /// Heal an ally and cure poison and burn.
    Heal,
}

/// A skill's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skill {
    /// What it does.
    pub kind: SkillKind,
    /// Energy cost.
    pub cost: u8,
    /// Own turns before it can be used again.
    pub cooldown: u8,
    /// Reach (Manhattan distance).
    pub range: u8,
    /// Damage, healing or shield amount.
    pub power: i16,
    /// Status turns applied (stun, poison, burn, shield duration).
    pub status_turns: u8,
}

/// A class's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassStats {
    /// Maximum (and starting) health.
    pub max_hp: i16,
    /// Basic attack damage.
    pub attack: i16,
    /// Basic attack reach.
    pub range: u8,
    /// Initiative: faster units act earlier in a round.
    pub speed: u8,
    /// Critical-hit chance of basic attacks, percent (a critical deals 3/2 damage).
    pub crit: u8,
    /// Skill used on an enemy, if any.
    pub offense: Option<Skill>,
    /// Skill used on an ally (or self), if any.
    pub support: Option<Skill>,
}

impl ClassStats {
    /// Whether this class attacks from a distance (range 2 or more): fog shortens its reach and
    /// hills lengthen it.
    pub const fn is_ranged(&self) -> bool {
        self.range >= 2
    }
}

const KNIGHT: ClassStats = ClassStats {
    max_hp: 120,
    attack: 16,
    range: 1,
    speed: 2,
    crit: 10,
    offense: Some(Skill {
        kind: SkillKind::Bash,
        cost: 30,
        cooldown: 3,
        range: 1,
        power: 12,
        status_turns: 1,
    }),
    support: Some(Skill {
        kind: SkillKind::Guard,
        cost: 20,
        cooldown: 3,
        range: 1,
        power: 25,
        status_turns: 2,
    }),
};

const ARCHER: ClassStats = ClassStats {
    max_hp: 80,
    attack: 13,
    range: 4,
    speed: 4,
    crit: 20,
    offense: Some(Skill {
        kind: SkillKind::PoisonArrow,
        cost: 25,
        cooldown: 2,
        range: 4,
        power: 6,
        status_turns: 3,
    }),
    support: None,
};

const MAGE: ClassStats = ClassStats {
    max_hp: 70,
    attack: 9,
    range: 3,
    speed: 3,
    crit: 10,
    offense: Some(Skill {
        kind: SkillKind::Fireball,
        cost: 40,
        cooldown: 3,
        range: 3,
        power: 20,
        status_turns: 2,
    }),
    support: None,
};

const CLERIC: ClassStats = ClassStats {
    max_hp: 90,
    attack: 8,
    range: 2,
    speed: 1,
    crit: 5,
    offense: Some(Skill {
        kind: SkillKind::Smite,
        cost: 15,
        cooldown: 2,
        range: 2,
        power: 10,
        status_turns: 0,
    }),
    support: Some(Skill {
        kind: SkillKind::Heal,
        cost: 25,
        cooldown: 2,
        range: 3,
        power: 30,
        status_turns: 0,
    }),
};

/// A board tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Terrain {
    /// No effect.
    #[default]
    Plain,
    /// Units here take 3/4 damage from attacks and skills and are harder to hit.
    Forest,
    /// Ranged units here reach one tile further.
    Hill,
    /// A unit starting its turn here is poisoned.
    Swamp,
    /// Impassable.
    Rock,
}

impl Terrain {
    /// One character per tile in map strings: `.` plain, `F` forest, `H` hill, `S` swamp,
    /// `#` rock.
    pub const fn symbol(self) -> char {
        match self {
            Terrain::Plain => '.',
            Terrain::Forest => 'F',
            Terrain::Hill => 'H',
            Terrain::Swamp => 'S',
            Terrain::Rock => '#',
        }
    }

    /// The terrain a map character stands for.
    pub const fn from_symbol(c: char) -> Option<Self> {
        match c {
            '.' => Some(Terrain::Plain),
            'F' => Some(Terrain::Forest),
            'H' => Some(Terrain::Hill),
            'S' => Some(Terrain::Swamp),
            '#' => Some(Terrain::Rock),
            _ => None,
        }
    }
}

/// The weather, which changes every [`WEATHER_PERIOD`] rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Weather {
    /// No effect.
    #[default]
    Clear,
    /// Burn cannot be applied; ranged basic attacks miss more.
    Rain,
    /// Ranged units reach one tile less; ranged basic attacks miss more.
    Fog,
    /// Burn hurts more; energy regenerates slower.
    Heat,
}

impl Weather {
    /// All weathers, in feature order.
    pub const ALL: [Weather; 4] = [Weather::Clear, Weather::Rain, Weather::Fog, Weather::Heat];

    /// Draws a weather: clear 40%, rain, fog and heat 20% each.
    pub(crate) fn from_roll(roll: u32) -> Self {
        match roll {
            0..=3 => Weather::Clear,
            4 | 5 => Weather::Rain,
            6 | 7 => Weather::Fog,
            _ => Weather::Heat,
        }
    }
}

/// Rules that a battle can be configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GameConfig {
    /// Rounds before the battle is decided on points (or drawn); 0 plays one round like 1.
    pub max_rounds: u16,
    /// Minimum lead in remaining health fraction to win on points at the round limit.
    pub points_margin_pct: u8,
}

impl Default for GameConfig {
    fn default() -> Self {
        Self {
            max_rounds: DEFAULT_MAX_ROUNDS,
            points_margin_pct: 10,
        }
    }
}
