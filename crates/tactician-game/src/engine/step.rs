//! Playing an action: checking it, drawing or taking its roll, applying its effects by kind
//! (moves, attacks, skills, items) and ending the turn; [`GameError`] says why an action is
//! refused.

use super::chances::Roll;
use crate::action::Action;
use crate::event::{Cause, Event, EventSink, Item, Resisted, Status};
use crate::rules::*;
use crate::state::{Battle, UnitId};

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GameError {
    /// The battle has ended.
    #[error("the battle is over")]
    BattleOver,
    /// The action index is outside the action space.
    #[error("action index {0} is outside the action space 0..{n}", n = crate::action::NUM_ACTIONS)]
    UnknownAction(usize),
    /// The action is not legal for the acting unit now.
    #[error("action {action} is not legal for unit {actor:?} now")]
    Illegal {
        /// The refused action.
        action: Action,
        /// The acting unit.
        actor: UnitId,
    },
}

impl Battle {
    /// Plays `action` for the acting unit, drawing its roll from the battle's generator.
    pub fn step(&mut self, action: Action) -> Result<(), GameError> {
        self.step_with(action, &mut ())
    }

    /// Plays the action with index `index`.
    pub fn step_index(&mut self, index: usize) -> Result<(), GameError> {
        let action = Action::from_index(index).ok_or(GameError::UnknownAction(index))?;
        self.step(action)
    }

    /// Plays `action`, reporting every effect to `sink`.
    pub fn step_with<S: EventSink>(
        &mut self,
        action: Action,
        sink: &mut S,
    ) -> Result<(), GameError> {
        let actor = self.check(action)?;
        let draw = self.rng.next_u64();
        let (hit_pct, crit_pct) = match action {
            Action::Attack(slot) => (
                self.hit_chance(actor, UnitId::new(1 - actor.side(), slot)),
                self.units[actor.index()].class.stats().crit,
            ),
            _ => (100, 0),
        };
        let roll = Roll::from_draw(draw, hit_pct, crit_pct, STUN_CHANCE);
        self.resolve(actor, action, roll, sink);
        Ok(())
    }

    /// Plays `action` with a chosen roll instead of a drawn one (the generator still advances,
    /// so the rest of the battle stays on its stream). For search.
    pub fn step_with_roll<S: EventSink>(
        &mut self,
        action: Action,
        roll: Roll,
        sink: &mut S,
    ) -> Result<(), GameError> {
        let actor = self.check(action)?;
        self.rng.next_u64();
        self.resolve(actor, action, roll, sink);
        Ok(())
    }

    fn check(&self, action: Action) -> Result<UnitId, GameError> {
        let actor = self.actor().ok_or(GameError::BattleOver)?;
        if !action.is_valid() || !self.legal().contains(action) {
            return Err(GameError::Illegal { action, actor });
        }
        Ok(actor)
    }

    fn resolve<S: EventSink>(&mut self, actor: UnitId, action: Action, roll: Roll, sink: &mut S) {
        self.apply(actor, action, roll, sink);
        self.end_turn(actor, sink);
        self.turn += 1;
        self.advance(sink);
    }

    fn apply<S: EventSink>(&mut self, actor: UnitId, action: Action, roll: Roll, sink: &mut S) {
        let side = actor.side();
        let enemy = |slot: u8| UnitId::new(1 - side, slot);
        let ally = |slot: u8| UnitId::new(side, slot);
        match action {
            Action::Wait => {
                let u = &mut self.units[actor.index()];
                u.energy = (u.energy + WAIT_ENERGY).min(MAX_ENERGY);
            }
            Action::MoveForward | Action::MoveBack | Action::MoveNorth | Action::MoveSouth => {
                let (x, y) = self
                    .move_target(actor, action)
                    .expect("legal moves stay on the board");
                let u = &mut self.units[actor.index()];
                sink.push(Event::Moved {
                    unit: actor,
                    from: [u.x, u.y],
                    to: [x, y],
                });
                u.x = x;
                u.y = y;
            }
            Action::Attack(slot) => {
                let target = enemy(slot);
                if !roll.hit {
                    sink.push(Event::Missed {
                        source: actor,
                        target,
                    });
                    return;
                }
                let mut dmg = self.units[actor.index()].class.stats().attack;
                if roll.crit {
                    dmg = dmg * 3 / 2;
                }
                let dmg = self.terrain_damage(target, dmg);
                self.deal(Some(actor), target, dmg, Cause::Attack, roll.crit, sink);
            }
            Action::SkillEnemy(slot) => {
                let target = enemy(slot);
                let skill = self.units[actor.index()]
                    .class
                    .stats()
                    .offense
                    .expect("legal offensive skill exists");
                self.spend(actor, skill, true, sink);
                sink.push(Event::SkillUsed {
                    source: actor,
                    target,
                    skill: skill.kind,
                });
                match skill.kind {
                    SkillKind::Bash => {
                        let dmg = self.terrain_damage(target, skill.power);
                        self.deal(Some(actor), target, dmg, Cause::Skill, false, sink);
                        if self.units[target.index()].alive() {
                            if roll.status {
                                let t = &mut self.units[target.index()];
                                t.stun = t.stun.max(skill.status_turns);
                                sink.push(Event::StatusApplied {
                                    source: Some(actor),
                                    target,
                                    status: Status::Stun,
                                    turns: skill.status_turns,
                                    amount: 0,
                                });
                            } else {
                                sink.push(Event::StatusResisted {
                                    source: actor,
                                    target,
                                    status: Status::Stun,
                                    reason: Resisted::Chance,
                                });
                            }
                        }
                    }
                    SkillKind::PoisonArrow => {
                        let dmg = self.terrain_damage(target, skill.power);
                        self.deal(Some(actor), target, dmg, Cause::Skill, false, sink);
                        let t = &mut self.units[target.index()];
                        if t.alive() {
                            if t.shield > 0 {
                                sink.push(Event::StatusResisted {
                                    source: actor,
                                    target,
                                    status: Status::Poison,
                                    reason: Resisted::Shield,
                                });
                            } else {
                                t.poison = t.poison.max(skill.status_turns);
                                sink.push(Event::StatusApplied {
                                    source: Some(actor),
                                    target,
                                    status: Status::Poison,
                                    turns: skill.status_turns,
                                    amount: 0,
                                });
                            }
                        }
                    }
                    SkillKind::Fireball => {
                        let (tx, ty) = {
                            let t = &self.units[target.index()];
                            (t.x, t.y)
                        };
                        let dmg = self.terrain_damage(target, skill.power);
                        self.deal(Some(actor), target, dmg, Cause::Skill, false, sink);
                        self.splash(actor, tx, ty, skill.power / 2, Cause::Splash, sink);
                        if self.units[target.index()].alive() {
                            if self.weather == Weather::Rain {
                                sink.push(Event::StatusResisted {
                                    source: actor,
                                    target,
                                    status: Status::Burn,
                                    reason: Resisted::Rain,
                                });
                            } else {
                                let t = &mut self.units[target.index()];
                                t.burn = t.burn.max(skill.status_turns);
                                sink.push(Event::StatusApplied {
                                    source: Some(actor),
                                    target,
                                    status: Status::Burn,
                                    turns: skill.status_turns,
                                    amount: 0,
                                });
                            }
                        }
                    }
                    SkillKind::Smite => {
                        let t = &mut self.units[target.index()];
                        if t.shield > 0 {
                            t.shield = 0;
                            t.shield_turns = 0;
                            sink.push(Event::StatusRemoved {
                                source: actor,
                                target,
                                status: Status::Shield,
                            });
                        }
                        let dmg = self.terrain_damage(target, skill.power);
                        self.deal(Some(actor), target, dmg, Cause::Skill, false, sink);
                    }
                    SkillKind::Guard | SkillKind::Heal => {
                        unreachable!("support skills target allies")
                    }
                }
            }
            Action::SkillAlly(slot) => {
                let target = ally(slot);
                let skill = self.units[actor.index()]
                    .class
                    .stats()
                    .support
                    .expect("legal support skill exists");
                self.spend(actor, skill, false, sink);
                sink.push(Event::SkillUsed {
                    source: actor,
                    target,
                    skill: skill.kind,
                });
                match skill.kind {
                    SkillKind::Guard => {
                        let t = &mut self.units[target.index()];
                        t.shield = t.shield.max(skill.power as u8);
                        t.shield_turns = skill.status_turns;
                        sink.push(Event::StatusApplied {
                            source: Some(actor),
                            target,
                            status: Status::Shield,
                            turns: skill.status_turns,
                            amount: t.shield,
                        });
                    }
                    SkillKind::Heal => {
                        self.cure(actor, target, Status::Poison, sink);
                        self.cure(actor, target, Status::Burn, sink);
                        self.heal(actor, target, skill.power, sink);
                    }
                    _ => unreachable!("offensive skills target enemies"),
                }
            }
            Action::Potion(slot) => {
                let target = ally(slot);
                self.potions[side as usize] -= 1;
                sink.push(Event::ItemUsed {
                    source: actor,
                    target,
                    item: Item::Potion,
                });
                self.cure(actor, target, Status::Poison, sink);
                self.heal(actor, target, POTION_HEAL, sink);
            }
            Action::Bomb(slot) => {
                let target = enemy(slot);
                self.bombs[side as usize] -= 1;
                sink.push(Event::ItemUsed {
                    source: actor,
                    target,
                    item: Item::Bomb,
                });
                let (tx, ty) = {
                    let t = &self.units[target.index()];
                    (t.x, t.y)
                };
                self.deal(Some(actor), target, BOMB_DAMAGE, Cause::Bomb, false, sink);
                self.splash(actor, tx, ty, BOMB_SPLASH, Cause::BombSplash, sink);
            }
        }
    }

    fn spend<S: EventSink>(&mut self, actor: UnitId, skill: Skill, offense: bool, sink: &mut S) {
        let u = &mut self.units[actor.index()];
        u.energy -= skill.cost;
        if offense {
            u.cd_offense = skill.cooldown;
        } else {
            u.cd_support = skill.cooldown;
        }
        sink.push(Event::EnergySpent {
            unit: actor,
            amount: skill.cost,
        });
    }
}
