//! Turn order and the flow of a round: initiative order, end and start of a turn (cooldowns,
//! energy, shields, swamp, poison and burn), round changes with the weather, and the result
//! at the round limit.

use crate::event::{Cause, Event, EventSink, Status};
use crate::rules::*;
use crate::state::{Battle, Outcome, Unit, UnitId, Victory};

impl Battle {
    pub(super) fn build_order(&mut self) {
        let mut n = 0;
        for u in UnitId::all() {
            if self.units[u.index()].alive() {
                self.order[n] = u.0;
                n += 1;
            }
        }
        let key = |b: &Battle, i: u8| {
            let u = &b.units[i as usize];
            (u.class.stats().speed, u.initiative)
        };
        // Insertion sort, fastest first: six elements at most.
        for i in 1..n {
            let mut j = i;
            while j > 0 && key(self, self.order[j - 1]) < key(self, self.order[j]) {
                self.order.swap(j - 1, j);
                j -= 1;
            }
        }
        self.order_len = n as u8;
        self.order_pos = 0;
    }

    pub(super) fn end_turn<S: EventSink>(&mut self, actor: UnitId, sink: &mut S) {
        let u = &mut self.units[actor.index()];
        if u.alive() && u.stun > 0 {
            u.stun -= 1;
            if u.stun == 0 {
                sink.push(Event::StatusExpired {
                    target: actor,
                    status: Status::Stun,
                });
            }
        }
    }

    /// Moves to the next unit able to act, running round changes and start-of-turn effects.
    pub(super) fn advance<S: EventSink>(&mut self, sink: &mut S) {
        loop {
            if self.outcome.is_some() {
                return;
            }
            if self.order_pos >= self.order_len {
                self.start_round(sink);
                continue;
            }
            let id = UnitId(self.order[self.order_pos as usize]);
            self.order_pos += 1;
            if !self.units[id.index()].alive() {
                continue;
            }
            self.start_turn(id, sink);
            if self.outcome.is_some() {
                return;
            }
            if self.units[id.index()].alive() {
                self.actor = id.0;
                return;
            }
        }
    }

    fn start_round<S: EventSink>(&mut self, sink: &mut S) {
        if self.round + 1 >= self.config.max_rounds {
            self.outcome = Some(round_limit_outcome(&self.config, &self.units));
            return;
        }
        self.round += 1;
        sink.push(Event::RoundStarted { round: self.round });
        if self.round % WEATHER_PERIOD == 0 {
            let w = Weather::from_roll(self.rng.below(10));
            if w != self.weather {
                self.weather = w;
                sink.push(Event::WeatherChanged { weather: w });
            }
        }
        self.build_order();
    }

    fn start_turn<S: EventSink>(&mut self, id: UnitId, sink: &mut S) {
        let heat = self.weather == Weather::Heat;
        let on_swamp = {
            let u = &self.units[id.index()];
            self.tile(u.x, u.y) == Terrain::Swamp
        };
        let u = &mut self.units[id.index()];
        u.cd_offense = u.cd_offense.saturating_sub(1);
        u.cd_support = u.cd_support.saturating_sub(1);
        let regen = if heat {
            ENERGY_REGEN_HEAT
        } else {
            ENERGY_REGEN
        };
        u.energy = (u.energy + regen).min(MAX_ENERGY);
        if u.shield_turns > 0 {
            u.shield_turns -= 1;
            if u.shield_turns == 0 {
                u.shield = 0;
                sink.push(Event::StatusExpired {
                    target: id,
                    status: Status::Shield,
                });
            }
        }
        if on_swamp && u.poison < SWAMP_POISON {
            u.poison = SWAMP_POISON;
            sink.push(Event::StatusApplied {
                source: None,
                target: id,
                status: Status::Poison,
                turns: SWAMP_POISON,
                amount: 0,
            });
        }
        if self.units[id.index()].poison > 0 {
            self.deal(None, id, POISON_DAMAGE, Cause::Poison, false, sink);
            let u = &mut self.units[id.index()];
            if u.alive() {
                u.poison -= 1;
                if u.poison == 0 {
                    sink.push(Event::StatusExpired {
                        target: id,
                        status: Status::Poison,
                    });
                }
            }
        }
        if self.units[id.index()].alive() && self.units[id.index()].burn > 0 {
            let dmg = if heat { BURN_DAMAGE_HEAT } else { BURN_DAMAGE };
            self.deal(None, id, dmg, Cause::Burn, false, sink);
            let u = &mut self.units[id.index()];
            if u.alive() {
                u.burn -= 1;
                if u.burn == 0 {
                    sink.push(Event::StatusExpired {
                        target: id,
                        status: Status::Burn,
                    });
                }
            }
        }
    }
}

/// The result at the round limit: a points win for the side whose remaining share of its
/// total health leads by at least `points_margin_pct` percentage points, else a draw.
/// Compared exactly in integers: `100·|h0·m1 − h1·m0| ≥ pct·m0·m1`.
pub(crate) fn round_limit_outcome(config: &GameConfig, units: &[Unit; UNITS]) -> Outcome {
    let (mut h, mut m) = ([0i64; 2], [0i64; 2]);
    for u in UnitId::all() {
        let unit = &units[u.index()];
        h[u.side() as usize] += i64::from(unit.hp);
        m[u.side() as usize] += i64::from(unit.max_hp());
    }
    let lead = h[0] * m[1] - h[1] * m[0];
    let need = i64::from(config.points_margin_pct) * m[0] * m[1];
    if lead != 0 && 100 * lead.abs() >= need {
        Outcome {
            winner: Some(if lead > 0 { 0 } else { 1 }),
            victory: Victory::Points,
        }
    } else {
        Outcome {
            winner: None,
            victory: Victory::Timeout,
        }
    }
}
