//! What happens in a battle, as a stream of events.
//!
//! The engine reports every effect of a step (and of the start-of-turn effects that follow it)
//! to an [`EventSink`]. Simulation and search pass `()`, which discards them at no cost; the
//! recorder passes a `Vec<Event>`.

use crate::rules::{SkillKind, Weather};
use crate::state::UnitId;
use serde::{Deserialize, Serialize};

/// A status effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Damage at the start of each own turn.
    Poison,
    /// Damage at the start of each own turn, more in a heatwave.
    Burn,
    /// Only waiting is legal on the next own turn.
    Stun,
    /// Absorbs damage from attacks, skills and bombs; blocks poison from arrows.
    Shield,
}

/// Why a status did not take hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resisted {
    /// The roll failed (stun).
    Chance,
    /// Rain puts out burns.
    Rain,
    /// A shield blocks poison arrows.
    Shield,
}

/// What caused damage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A basic attack.
    Attack,
    /// A skill (which one is in `skill`).
    Skill,
    /// Fireball splash.
    Splash,
    /// A bomb on its target.
    Bomb,
    /// Bomb splash.
    BombSplash,
    /// A poison tick.
    Poison,
    /// A burn tick.
    Burn,
}

/// A consumable item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// Heals and cures poison.
    Potion,
    /// Damages a target and its neighbours.
    Bomb,
}

/// One effect in a battle. Units are `[side, slot]` pairs in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A unit stepped to a neighbouring tile.
    Moved {
        /// Who.
        unit: UnitId,
        /// From `[x, y]`.
        from: [u8; 2],
        /// To `[x, y]`.
        to: [u8; 2],
    },
    /// A basic attack missed.
    Missed {
        /// Attacker.
        source: UnitId,
        /// Target.
        target: UnitId,
    },
    /// A skill was used.
    SkillUsed {
        /// User.
        source: UnitId,
        /// Target.
        target: UnitId,
        /// Which skill.
        skill: SkillKind,
    },
    /// An item was used.
    ItemUsed {
        /// User.
        source: UnitId,
        /// Target.
        target: UnitId,
        /// Which item.
        item: Item,
    },
    /// Energy was spent on a skill.
    EnergySpent {
        /// Who.
        unit: UnitId,
        /// How much.
        amount: u8,
    },
    /// Damage was dealt (after terrain, before the shield).
    Damage {
        /// Dealer (none for poison and burn ticks).
        source: Option<UnitId>,
        /// Receiver.
        target: UnitId,
        /// Damage to health.
        amount: i16,
        /// Damage the shield absorbed.
        absorbed: i16,
        /// What dealt it.
        cause: Cause,
        /// Whether it was a critical hit.
        crit: bool,
    },
    /// Health was restored.
    Healed {
        /// Healer.
        source: UnitId,
        /// Receiver.
        target: UnitId,
        /// Health restored (after the cap).
        amount: i16,
    },
    /// A status took hold.
    StatusApplied {
        /// Who applied it (none for swamp poison).
        source: Option<UnitId>,
        /// Receiver.
        target: UnitId,
        /// Which status.
        status: Status,
        /// For how many own turns (shield: its amount is in `amount`).
        turns: u8,
        /// Shield amount, else 0.
        amount: u8,
    },
    /// A status failed to take hold.
    StatusResisted {
        /// Who tried.
        source: UnitId,
        /// Target.
        target: UnitId,
        /// Which status.
        status: Status,
        /// Why it failed.
        reason: Resisted,
    },
    /// A status ran out.
    StatusExpired {
        /// Whose.
        target: UnitId,
        /// Which.
        status: Status,
    },
    /// A status was removed by a heal, potion or smite.
    StatusRemoved {
        /// Who removed it.
        source: UnitId,
        /// Whose.
        target: UnitId,
        /// Which.
        status: Status,
    },
    /// A unit fell.
    KnockedOut {
        /// Who.
        target: UnitId,
    },
    /// A new round began.
    RoundStarted {
        /// Its number.
        round: u16,
    },
    /// The weather changed.
    WeatherChanged {
        /// The new weather.
        weather: Weather,
    },
}

/// Receives the events of a battle.
pub trait EventSink {
    /// Takes one event.
    fn push(&mut self, event: Event);
}

impl EventSink for () {
    #[inline(always)]
    fn push(&mut self, _event: Event) {}
}

impl EventSink for Vec<Event> {
    fn push(&mut self, event: Event) {
        Vec::push(self, event);
    }
}
