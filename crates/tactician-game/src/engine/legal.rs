//! Board questions (terrain, occupancy, reach, hit chance, move targets) and the legal
//! actions of the acting unit.

use crate::action::{Action, Legal};
use crate::rules::*;
use crate::state::{Battle, UnitId};

impl Battle {
    pub(super) fn tile(&self, x: u8, y: u8) -> Terrain {
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
}
