//! Scripted strategies: players of clearly different styles, from random to search.
//!
//! Every strategy is deterministic given its seed, so a recorded battle can be replayed and a
//! collection run repeated byte for byte.

mod random;

pub use random::Random;

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
pub const NAMES: &[&str] = &["random"];

/// A strategy by name, seeded.
pub fn by_name(name: &str, seed: u64) -> Result<Box<dyn Strategy>, UnknownStrategy> {
    Ok(match name {
        "random" => Box::new(Random::new(seed)),
        _ => {
            return Err(UnknownStrategy {
                name: name.to_string(),
                known: NAMES.join(", "),
            });
        }
    })
}
