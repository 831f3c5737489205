//! Running battles between strategies.

use crate::rules::GameConfig;
use crate::state::{Battle, Outcome};
use crate::strategy::Strategy;

/// Plays a battle from `seed` between two strategies (side 0 first) to its end.
pub fn play(seed: u64, config: GameConfig, players: [&mut dyn Strategy; 2]) -> (Battle, Outcome) {
    let mut battle = Battle::new(seed, config);
    while let Some(actor) = battle.actor() {
        let legal = battle.legal();
        let action = players[actor.side() as usize].choose(&battle, legal);
        battle
            .step(action)
            .expect("strategies choose legal actions");
    }
    let outcome = battle.outcome().expect("loop ends when the battle is over");
    (battle, outcome)
}
