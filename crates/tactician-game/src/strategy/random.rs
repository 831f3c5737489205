//! The random player.

use super::Strategy;
use crate::action::{Action, Legal};
use crate::rng::SplitMix64;
use crate::state::Battle;

/// Chooses uniformly among the legal actions.
#[derive(Debug, Clone)]
pub struct Random {
    rng: SplitMix64,
}

impl Random {
    /// A random player with its own seeded stream.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
        }
    }
}

impl Strategy for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn choose(&mut self, _battle: &Battle, legal: Legal) -> Action {
        legal
            .nth(self.rng.below(legal.count().max(1)))
            .unwrap_or(Action::Wait)
    }
}
