//! Scripted strategies: players of clearly different styles, from random to search.
//!
//! | name | style |
//! |---|---|
//! | `random` | uniform among the legal actions ([`Random`]) |
//! | `aggressive` | closes in and focuses fire, skills and the bomb first ([`Aggressive`]) |
//! | `defensive` | holds forests in its own half, guards and heals, strikes what comes ([`Defensive`]) |
//! | `support` | heals, guards and hands potions to the neediest ally, fights as a group ([`Support`]) |
//! | `kiting` | ranged units keep their distance, knights screen them ([`Kiting`]) |
//! | `search` | two-ply expectiminimax over the simulator with a tuned evaluation ([`Search`]) |
//!
//! Every strategy only returns legal actions, reads only the visible state (never the
//! battle's generator), and is deterministic given its seed, so a recorded battle can be
//! replayed and a collection run repeated byte for byte. `docs/game.md` describes each style
//! and holds their round-robin table.

mod aggressive;
mod common;
mod defensive;
mod eval;
mod kiting;
mod random;
mod search;
mod support;
#[cfg(test)]
mod tests;

pub use aggressive::Aggressive;
pub use defensive::Defensive;
pub use eval::Weights;
pub use kiting::Kiting;
pub use random::Random;
pub use search::{DEFAULT_DEPTH, MAX_DEPTH, NEAR_TIE, Search};
pub use support::Support;

use crate::action::{Action, Legal};
use crate::state::Battle;

/// A player: chooses one legal action for the acting unit.
pub trait Strategy: Send {
    /// The strategy's registered name.
    fn name(&self) -> &'static str;

    /// Chooses an action from `legal` (never empty) for `battle`'s acting unit.
    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action;
}

/// A strategy name that is not registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy {name:?}; known strategies: {known}")]
pub struct UnknownStrategy {
    /// The name asked for.
    pub name: String,
    /// The registered names, comma-separated.
    pub known: String,
}

/// The registered strategy names.
pub const NAMES: &[&str] = &[
    "random",
    "aggressive",
    "defensive",
    "support",
    "kiting",
    "search",
];

/// A strategy by name, seeded.
pub fn by_name(name: &str, seed: u64) -> Result<Box<dyn Strategy>, UnknownStrategy> {
    Ok(match name {
        "random" => Box::new(Random::new(seed)),
        "aggressive" => Box::new(Aggressive::new(seed)),
        "defensive" => Box::new(Defensive::new(seed)),
        "support" => Box::new(Support::new(seed)),
        "kiting" => Box::new(Kiting::new(seed)),
        "search" => Box::new(Search::new(seed)),
        _ => {
            return Err(UnknownStrategy {
                name: name.to_string(),
                known: NAMES.join(", "),
            });
        }
    })
}
