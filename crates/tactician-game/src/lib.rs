//! Skirmish, Tactician's reference battle game.
//!
//! Two sides of three units fight on an 8×6 board of plains, forests, hills, swamps and rocks
//! under changing weather. Units have classes (knight, archer, mage, cleric) with different
//! reach, a skill or two with energy costs and cooldowns, and suffer status effects (poison,
//! burn, stun, shield). Each side has limited potions and a bomb. Units act one at a time in
//! initiative order; a battle ends when a side is wiped out, or at the round limit on points or
//! as a draw. Every random event comes from a seeded generator, so a seed and a list of actions
//! replay a battle exactly. The full rules are in `docs/game.md`.
//!
//! - [`Battle`]: the state (small and `Copy`), [`Battle::legal`] and [`Battle::step`].
//! - [`Action`]: the fixed action space of [`NUM_ACTIONS`] named actions.
//! - [`SkirmishEncoder`]: the acting unit's view as a feature vector.
//! - [`strategy`]: scripted players, from random to a search-based one.
//! - [`play`]: runs a battle between two strategies, optionally recording it.
//! - [`game_spec`]: the game as every preparation step sees it: the encoder's spec with the
//!   game's symmetries, [`scenarios`] and outcome rules.
//!
//! ```
//! use tactician_game::{Battle, GameConfig, strategy};
//!
//! let mut battle = Battle::new(42, GameConfig::default());
//! let mut players = [strategy::by_name("aggressive", 1).unwrap(), strategy::by_name("random", 2).unwrap()];
//! while let Some(actor) = battle.actor() {
//!     let legal = battle.legal();
//!     let action = players[actor.side() as usize].choose(&battle, legal);
//!     battle.step(action).unwrap();
//! }
//! println!("{:?}", battle.outcome());
//! ```

mod action;
mod declaration;
mod encoder;
mod engine;
mod event;
pub mod play;
pub mod record;
mod rng;
pub mod rules;
pub mod scenarios;
mod state;
pub mod strategy;
pub mod symmetry;

pub use action::{ACTION_NAMES, Action, Legal, NUM_ACTIONS};
pub use declaration::{game_spec, outcome_rules};
pub use encoder::{ENCODER_NAME, SkirmishEncoder};
pub use engine::{Chances, GameError, Roll};
pub use event::{Cause, Event, EventSink, Item, Resisted, Status};
pub use rng::{SplitMix64, battle_seed, strategy_seed};
pub use rules::{Class, GameConfig, Terrain, Weather};
pub use state::{Battle, Outcome, Setup, Snapshot, StateError, Unit, UnitId, UnitState, Victory};
pub use symmetry::Symmetry;
