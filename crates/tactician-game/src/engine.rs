//! The rules in motion: setting up a battle, legal actions, applying an action, turn order.

use crate::action::{Action, Legal};
use crate::event::{Cause, Event, EventSink, Item, Resisted, Status};
use crate::rng::SplitMix64;
use crate::rules::*;
use crate::state::{Battle, Outcome, Unit, UnitId, Victory};

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

const fn dist(ax: u8, ay: u8, bx: u8, by: u8) -> u8 {
    ax.abs_diff(bx) + ay.abs_diff(by)
}

impl Battle {
    /// A new battle from a seed: map, teams, starting tiles, initiative and weather are drawn
    /// from the seed, then the first unit's turn begins.
    pub fn new(seed: u64, config: GameConfig) -> Self {
        let mut rng = SplitMix64::new(seed);
        let terrain = generate_map(&mut rng);
        let blank = Unit {
            class: Class::Knight,
            x: 0,
            y: 0,
            hp: 0,
            energy: START_ENERGY,
            poison: 0,
            burn: 0,
            stun: 0,
            shield: 0,
            shield_turns: 0,
            cd_offense: 0,
            cd_support: 0,
            initiative: 0,
        };
        let mut units = [blank; UNITS];
        for side in 0..2u8 {
            // Three distinct classes in a random slot order.
            let mut classes = Class::ALL;
            shuffle(&mut classes, &mut rng);
            let mut rows = [0u8, 1, 2, 3, 4, 5];
            shuffle(&mut rows, &mut rng);
            for slot in 0..TEAM_SIZE as u8 {
                let class = classes[slot as usize];
                let col = if class.stats().is_ranged() { 0 } else { 1 };
                let x = if side == 0 {
                    col
                } else {
                    WIDTH as u8 - 1 - col
                };
                let u = &mut units[UnitId::new(side, slot).index()];
                u.class = class;
                u.hp = class.stats().max_hp;
                u.x = x;
                u.y = rows[slot as usize];
            }
        }
        let mut inits = [0u8, 1, 2, 3, 4, 5];
        shuffle(&mut inits, &mut rng);
        for (u, i) in units.iter_mut().zip(inits) {
            u.initiative = i;
        }
        let weather = Weather::from_roll(rng.below(10));
        let mut battle = Battle {
            config,
            terrain,
            units,
            weather,
            potions: [START_POTIONS; 2],
            bombs: [START_BOMBS; 2],
            round: 0,
            turn: 0,
            order: [0; UNITS],
            order_len: 0,
            order_pos: 0,
            actor: 0,
            rng,
            outcome: None,
        };
        battle.build_order();
        battle.advance(&mut ());
        battle
    }

    fn build_order(&mut self) {
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

    fn tile(&self, x: u8, y: u8) -> Terrain {
        self.terrain[y as usize * WIDTH + x as usize]
    }

    fn occupied(&self, x: u8, y: u8) -> bool {
        self.units.iter().any(|u| u.alive() && u.x == x && u.y == y)
    }

    /// Reach of a skill or attack with base range `base` for a unit standing on `(x, y)`:
    /// ranged reach grows by one on a hill and shrinks by one in fog.
    pub fn reach(&self, base: u8, x: u8, y: u8) -> u8 {
        if base < 2 {
            return base;
        }
        let mut r = base;
        if self.tile(x, y) == Terrain::Hill {
            r += 1;
        }
        if self.weather == Weather::Fog {
            r -= 1;
        }
        r
    }

    /// Chance in percent that a basic attack from `attacker` on `target` hits.
    pub fn hit_chance(&self, attacker: UnitId, target: UnitId) -> u8 {
        let a = &self.units[attacker.index()];
        let t = &self.units[target.index()];
        let mut p = BASE_HIT;
        if self.tile(t.x, t.y) == Terrain::Forest {
            p -= FOREST_EVASION;
        }
        if a.dist(t) >= 2 && matches!(self.weather, Weather::Rain | Weather::Fog) {
            p -= WEATHER_MISS;
        }
        p
    }

    /// The tile a move leads to for `unit`, if the move is on the board (not checking
    /// obstacles). Forward is east for side 0 and west for side 1.
    pub fn move_target(&self, unit: UnitId, action: Action) -> Option<(u8, u8)> {
        let u = &self.units[unit.index()];
        let fwd: i8 = if unit.side() == 0 { 1 } else { -1 };
        let (dx, dy) = match action {
            Action::MoveForward => (fwd, 0),
            Action::MoveBack => (-fwd, 0),
            Action::MoveNorth => (0, -1),
            Action::MoveSouth => (0, 1),
            _ => return None,
        };
        let nx = u.x as i8 + dx;
        let ny = u.y as i8 + dy;
        (nx >= 0 && ny >= 0 && (nx as usize) < WIDTH && (ny as usize) < HEIGHT)
            .then_some((nx as u8, ny as u8))
    }

    /// Whether `unit` could step onto `(x, y)`: on the board, not rock, not occupied.
    pub fn can_enter(&self, x: u8, y: u8) -> bool {
        (x as usize) < WIDTH
            && (y as usize) < HEIGHT
            && self.tile(x, y) != Terrain::Rock
            && !self.occupied(x, y)
    }

    /// The legal actions of the acting unit (empty once the battle is over).
    pub fn legal(&self) -> Legal {
        if self.outcome.is_some() {
            return Legal(0);
        }
        let id = UnitId(self.actor);
        let u = &self.units[id.index()];
        let mut legal = Legal(0);
        legal.insert(Action::Wait);
        if u.stun > 0 {
            return legal;
        }
        for m in [
            Action::MoveForward,
            Action::MoveBack,
            Action::MoveNorth,
            Action::MoveSouth,
        ] {
            if let Some((x, y)) = self.move_target(id, m)
                && self.can_enter(x, y)
            {
                legal.insert(m);
            }
        }
        let side = id.side();
        let stats = u.class.stats();
        let attack_reach = self.reach(stats.range, u.x, u.y);
        let offense = stats
            .offense
            .filter(|s| u.cd_offense == 0 && u.energy >= s.cost)
            .map(|s| self.reach(s.range, u.x, u.y));
        let bombs = self.bombs[side as usize] > 0;
        for slot in 0..TEAM_SIZE as u8 {
            let e = &self.units[UnitId::new(1 - side, slot).index()];
            if !e.alive() {
                continue;
            }
            let d = u.dist(e);
            if d <= attack_reach {
                legal.insert(Action::Attack(slot));
            }
            if offense.is_some_and(|r| d <= r) {
                legal.insert(Action::SkillEnemy(slot));
            }
            if bombs && d <= BOMB_RANGE {
                legal.insert(Action::Bomb(slot));
            }
        }
        let support = stats
            .support
            .filter(|s| u.cd_support == 0 && u.energy >= s.cost);
        let potions = self.potions[side as usize] > 0;
        for slot in 0..TEAM_SIZE as u8 {
            let a = &self.units[UnitId::new(side, slot).index()];
            if !a.alive() {
                continue;
            }
            let d = u.dist(a);
            let hurt = a.hp < a.max_hp();
            if let Some(s) = support
                && d <= s.range
            {
                let useful = match s.kind {
                    SkillKind::Heal => hurt || a.poison > 0 || a.burn > 0,
                    _ => true,
                };
                if useful {
                    legal.insert(Action::SkillAlly(slot));
                }
            }
            if potions && d <= POTION_RANGE && (hurt || a.poison > 0) {
                legal.insert(Action::Potion(slot));
            }
        }
        legal
    }

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

    /// Damage after the target's terrain: 3/4 in a forest.
    fn terrain_damage(&self, target: UnitId, dmg: i16) -> i16 {
        let t = &self.units[target.index()];
        if self.tile(t.x, t.y) == Terrain::Forest {
            dmg * 3 / 4
        } else {
            dmg
        }
    }

    /// Damage to every living enemy of `actor` adjacent to `(x, y)`, in slot order.
    fn splash<S: EventSink>(
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

    fn deal<S: EventSink>(
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

    fn heal<S: EventSink>(&mut self, source: UnitId, target: UnitId, amount: i16, sink: &mut S) {
        let t = &mut self.units[target.index()];
        let amount = amount.min(t.max_hp() - t.hp);
        t.hp += amount;
        sink.push(Event::Healed {
            source,
            target,
            amount,
        });
    }

    fn cure<S: EventSink>(&mut self, source: UnitId, target: UnitId, status: Status, sink: &mut S) {
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

    fn end_turn<S: EventSink>(&mut self, actor: UnitId, sink: &mut S) {
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
    fn advance<S: EventSink>(&mut self, sink: &mut S) {
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

/// Fisher-Yates shuffle driven by the game's generator.
fn shuffle<T>(items: &mut [T], rng: &mut SplitMix64) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u32 + 1) as usize;
        items.swap(i, j);
    }
}

/// Draws a map that is mirror-symmetric between the two halves (fair to both sides), with
/// features only in the four middle columns: forests, hills, swamps and rocks.
fn generate_map(rng: &mut SplitMix64) -> [Terrain; TILES] {
    let mut terrain = [Terrain::Plain; TILES];
    let counts = [
        (Terrain::Forest, 1 + rng.below(3)),
        (Terrain::Hill, rng.below(3)),
        (Terrain::Swamp, rng.below(3)),
        (Terrain::Rock, rng.below(3)),
    ];
    for (kind, n) in counts {
        for _ in 0..n {
            // Columns 2 and 3 on the west half, mirrored to 5 and 4.
            let x = 2 + rng.below(2) as usize;
            let y = rng.below(HEIGHT as u32) as usize;
            if terrain[y * WIDTH + x] == Terrain::Plain {
                terrain[y * WIDTH + x] = kind;
                terrain[y * WIDTH + (WIDTH - 1 - x)] = kind;
            }
        }
    }
    terrain
}
