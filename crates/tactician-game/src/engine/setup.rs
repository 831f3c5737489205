//! Setting up a battle: the seeded map, teams, starting tiles, initiative and weather.

use crate::rng::SplitMix64;
use crate::rules::*;
use crate::state::{Battle, Unit, UnitId};

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
