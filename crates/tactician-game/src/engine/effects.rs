//! The effects of actions and statuses on units: damage after terrain and shields, splash
//! damage, knockouts and elimination, healing and cures.

use crate::event::{Cause, Event, EventSink, Status};
use crate::rules::*;
use crate::state::{Battle, Outcome, UnitId, Victory};

const fn dist(ax: u8, ay: u8, bx: u8, by: u8) -> u8 {
    ax.abs_diff(bx) + ay.abs_diff(by)
}

impl Battle {
    /// Damage after the target's terrain: 3/4 in a forest.
    pub(super) fn terrain_damage(&self, target: UnitId, dmg: i16) -> i16 {
        let t = &self.units[target.index()];
        if self.tile(t.x, t.y) == Terrain::Forest {
            dmg * 3 / 4
        } else {
            dmg
        }
    }

    /// Damage to every living enemy of `actor` adjacent to `(x, y)`, in slot order.
    pub(super) fn splash<S: EventSink>(
        &mut self,
        actor: UnitId,
        x: u8,
        y: u8,
        dmg: i16,
        cause: Cause,
        sink: &mut S,
    ) {
        for victim in UnitId::of_side(1 - actor.side()) {
            let v = &self.units[victim.index()];
            if v.alive() && dist(v.x, v.y, x, y) == 1 {
                self.deal(Some(actor), victim, dmg, cause, false, sink);
            }
        }
    }

    pub(super) fn deal<S: EventSink>(
        &mut self,
        source: Option<UnitId>,
        target: UnitId,
        dmg: i16,
        cause: Cause,
        crit: bool,
        sink: &mut S,
    ) {
        let t = &mut self.units[target.index()];
        let absorbed = if matches!(cause, Cause::Poison | Cause::Burn) {
            0
        } else {
            dmg.min(i16::from(t.shield))
        };
        t.shield -= absorbed as u8;
        let broke = absorbed > 0 && t.shield == 0;
        if broke {
            t.shield_turns = 0;
        }
        let amount = (dmg - absorbed).min(t.hp);
        t.hp -= amount;
        sink.push(Event::Damage {
            source,
            target,
            amount,
            absorbed,
            cause,
            crit,
        });
        if broke {
            sink.push(Event::StatusExpired {
                target,
                status: Status::Shield,
            });
        }
        if t.hp == 0 {
            t.poison = 0;
            t.burn = 0;
            t.stun = 0;
            t.shield = 0;
            t.shield_turns = 0;
            sink.push(Event::KnockedOut { target });
            let side = target.side();
            if UnitId::of_side(side).all(|u| !self.units[u.index()].alive()) {
                self.outcome = Some(Outcome {
                    winner: Some(1 - side),
                    victory: Victory::Elimination,
                });
            }
        }
    }

    pub(super) fn heal<S: EventSink>(
        &mut self,
        source: UnitId,
        target: UnitId,
        amount: i16,
        sink: &mut S,
    ) {
        let t = &mut self.units[target.index()];
        let amount = amount.min(t.max_hp() - t.hp);
        t.hp += amount;
        sink.push(Event::Healed {
            source,
            target,
            amount,
        });
    }

    pub(super) fn cure<S: EventSink>(
        &mut self,
        source: UnitId,
        target: UnitId,
        status: Status,
        sink: &mut S,
    ) {
        let t = &mut self.units[target.index()];
        let turns = match status {
            Status::Poison => &mut t.poison,
            Status::Burn => &mut t.burn,
            Status::Stun => &mut t.stun,
            Status::Shield => &mut t.shield_turns,
        };
        if *turns > 0 {
            *turns = 0;
            sink.push(Event::StatusRemoved {
                source,
                target,
                status,
            });
        }
    }
}
