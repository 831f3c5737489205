//! The rules in motion: setting up a battle, legal actions, applying an action, turn order.
//!
//! Each part of the rules engine is one `impl Battle` block in its own file: `setup` draws
//! the map, teams and initiative of a new battle; `legal` answers board questions (terrain,
//! reach, hit chance, moves) and lists the acting unit's legal actions; `chances` holds the
//! random outcome of a step ([`Roll`]) and its distribution ([`Chances`]); `step` checks and
//! plays an action ([`GameError`] says why one is refused); `effects` applies damage,
//! healing and cures; `turn` runs the turn order, round changes, start-of-turn effects and
//! the round-limit result.

mod chances;
mod effects;
mod legal;
mod setup;
mod step;
mod turn;

pub use chances::{Chances, Roll};
pub use step::GameError;
pub(crate) use turn::round_limit_outcome;
