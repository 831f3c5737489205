//! The fixed-size action space and the game's legal-action set.
//!
//! Every decision chooses one of [`NUM_ACTIONS`] actions. Movement is expressed in the acting
//! side's frame (`forward` is towards the enemy's starting edge), and targets are team slots, so
//! the same action means the same thing for both sides.

use crate::rules::TEAM_SIZE;
use serde::{Deserialize, Serialize};
use std::fmt;
use tactician_battle::ActionMask;

/// Number of actions.
pub const NUM_ACTIONS: usize = 20;

/// Action names, in index order.
pub const ACTION_NAMES: [&str; NUM_ACTIONS] = [
    "wait",
    "move_forward",
    "move_back",
    "move_north",
    "move_south",
    "attack_enemy_0",
    "attack_enemy_1",
    "attack_enemy_2",
    "skill_enemy_0",
    "skill_enemy_1",
    "skill_enemy_2",
    "skill_ally_0",
    "skill_ally_1",
    "skill_ally_2",
    "potion_ally_0",
    "potion_ally_1",
    "potion_ally_2",
    "bomb_enemy_0",
    "bomb_enemy_1",
    "bomb_enemy_2",
];

/// One action. Slot numbers are team slots `0..3` of the targeted team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Do nothing and regain extra energy. Always legal.
    Wait,
    /// Step one tile towards the enemy's starting edge.
    MoveForward,
    /// Step one tile towards the own starting edge.
    MoveBack,
    /// Step one tile north (towards row 0).
    MoveNorth,
    /// Step one tile south.
    MoveSouth,
    /// Basic attack on an enemy slot.
    Attack(u8),
    /// The class's offensive skill on an enemy slot.
    SkillEnemy(u8),
    /// The class's support skill on an ally slot (including self).
    SkillAlly(u8),
    /// Give a potion to an ally slot (self or adjacent).
    Potion(u8),
    /// Throw the bomb at an enemy slot.
    Bomb(u8),
}

impl Action {
    /// The action with index `i`, if `i < NUM_ACTIONS`.
    pub const fn from_index(i: usize) -> Option<Self> {
        Some(match i {
            0 => Action::Wait,
            1 => Action::MoveForward,
            2 => Action::MoveBack,
            3 => Action::MoveNorth,
            4 => Action::MoveSouth,
            5..=7 => Action::Attack((i - 5) as u8),
            8..=10 => Action::SkillEnemy((i - 8) as u8),
            11..=13 => Action::SkillAlly((i - 11) as u8),
            14..=16 => Action::Potion((i - 14) as u8),
            17..=19 => Action::Bomb((i - 17) as u8),
            _ => return None,
        })
    }

    /// Whether the action's slot (if any) is a real team slot (`0..3`).
    pub const fn is_valid(self) -> bool {
        match self.slot() {
            Some(s) => (s as usize) < TEAM_SIZE,
            None => true,
        }
    }

    /// Index of this action (`0..NUM_ACTIONS`), or `NUM_ACTIONS` for an action whose slot is
    /// out of range (see [`Action::is_valid`]).
    pub const fn index(self) -> usize {
        if !self.is_valid() {
            return NUM_ACTIONS;
        }
        match self {
            Action::Wait => 0,
            Action::MoveForward => 1,
            Action::MoveBack => 2,
            Action::MoveNorth => 3,
            Action::MoveSouth => 4,
            Action::Attack(s) => 5 + s as usize,
            Action::SkillEnemy(s) => 8 + s as usize,
            Action::SkillAlly(s) => 11 + s as usize,
            Action::Potion(s) => 14 + s as usize,
            Action::Bomb(s) => 17 + s as usize,
        }
    }

    /// The action's name (see [`ACTION_NAMES`]); `invalid_action` for an out-of-range slot.
    pub const fn name(self) -> &'static str {
        let i = self.index();
        if i < NUM_ACTIONS {
            ACTION_NAMES[i]
        } else {
            "invalid_action"
        }
    }

    /// The action called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        ACTION_NAMES
            .iter()
            .position(|&n| n == name)
            .and_then(Self::from_index)
    }

    /// Whether this is one of the four moves.
    pub const fn is_move(self) -> bool {
        matches!(
            self,
            Action::MoveForward | Action::MoveBack | Action::MoveNorth | Action::MoveSouth
        )
    }

    /// The same action with its slot replaced (identity for actions without a slot).
    pub const fn with_slot(self, slot: u8) -> Self {
        match self {
            Action::Attack(_) => Action::Attack(slot),
            Action::SkillEnemy(_) => Action::SkillEnemy(slot),
            Action::SkillAlly(_) => Action::SkillAlly(slot),
            Action::Potion(_) => Action::Potion(slot),
            Action::Bomb(_) => Action::Bomb(slot),
            other => other,
        }
    }

    /// The slot this action targets, if any.
    pub const fn slot(self) -> Option<u8> {
        match self {
            Action::Attack(s)
            | Action::SkillEnemy(s)
            | Action::SkillAlly(s)
            | Action::Potion(s)
            | Action::Bomb(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the targeted slot is an enemy slot.
    pub const fn targets_enemy(self) -> bool {
        matches!(
            self,
            Action::Attack(_) | Action::SkillEnemy(_) | Action::Bomb(_)
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Action::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown action {name:?}")))
    }
}

/// The set of legal actions of a decision, one bit per action index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Legal(pub u32);

impl Legal {
    /// Whether `action` is legal.
    pub const fn contains(self, action: Action) -> bool {
        self.contains_index(action.index())
    }

    /// Whether the action with index `i` is legal.
    pub const fn contains_index(self, i: usize) -> bool {
        i < NUM_ACTIONS && self.0 >> i & 1 == 1
    }

    /// Adds `action`.
    ///
    /// # Panics
    /// When the action is not valid (engine code builds only valid actions).
    pub fn insert(&mut self, action: Action) {
        assert!(action.is_valid(), "invalid action {action:?}");
        self.0 |= 1 << action.index();
    }

    /// Number of legal actions.
    pub const fn count(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether no action is legal (never true during a battle: waiting is always legal).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The legal actions in index order.
    pub fn iter(self) -> impl Iterator<Item = Action> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Action::from_index(i)
        })
    }

    /// The `n`-th legal action in index order.
    pub fn nth(self, n: u32) -> Option<Action> {
        self.iter().nth(n as usize)
    }

    /// As the shared [`ActionMask`] type.
    pub fn to_mask(self) -> ActionMask {
        ActionMask::from_bits(NUM_ACTIONS, u64::from(self.0)).expect("bits fit the action count")
    }

    /// The text form used in battle logs.
    pub fn to_bitstring(self) -> String {
        (0..NUM_ACTIONS)
            .map(|i| if self.contains_index(i) { '1' } else { '0' })
            .collect()
    }
}

impl fmt::Debug for Legal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_name_round_trip() {
        for i in 0..NUM_ACTIONS {
            let a = Action::from_index(i).unwrap();
            assert_eq!(a.index(), i);
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_index(NUM_ACTIONS), None);
        assert_eq!(Action::from_name("fly"), None);
    }

    #[test]
    fn legal_iterates_in_order() {
        let mut l = Legal::default();
        l.insert(Action::Bomb(2));
        l.insert(Action::Wait);
        l.insert(Action::Attack(1));
        let v: Vec<Action> = l.iter().collect();
        assert_eq!(v, vec![Action::Wait, Action::Attack(1), Action::Bomb(2)]);
        assert_eq!(l.nth(1), Some(Action::Attack(1)));
        assert_eq!(l.to_bitstring(), "10000010000000000001");
        assert_eq!(l.to_mask().to_bitstring(), l.to_bitstring());
    }
}
