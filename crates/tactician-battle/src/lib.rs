//! The shared vocabulary of Tactician.
//!
//! Every other crate speaks these nouns:
//!
//! - [`FeatureSpec`]: the named, documented layout of the feature vector an encoder emits and the
//!   names of the actions a policy chooses from, with a version hash ([`FeatureSpec::hash`]) that
//!   changes whenever the layout changes. Datasets, checkpoints, models and bundles record it.
//! - [`Encoder`]: turns a game state into a feature vector laid out as its spec says.
//! - [`ActionMask`]: which actions of a fixed-size action space are legal.
//! - [`symmetry`]: a game's symmetries on encoded features and actions, for augmentation.
//! - [`Scenario`]: a hand-made position with the actions a good player may choose.
//! - [`outcome`]: which victories a game has and what each implies about a battle's end.
//! - [`GameSpec`]: a game as every preparation step sees it: its feature spec with its
//!   symmetries, scenarios and outcome rules.
//! - [`record`]: the battle-log records (one battle per JSON line) that games write and ingest
//!   reads.
//!
//! ```
//! use tactician_battle::{FeatureDef, FeatureSpec, ActionMask};
//!
//! let spec = FeatureSpec::new(
//!     "example",
//!     vec![FeatureDef::new("hp", "own health as a fraction of maximum", 0.0, 1.0)],
//!     vec!["wait".into(), "attack".into()],
//! )
//! .unwrap();
//! assert_eq!(spec.num_features(), 1);
//! assert!(spec.hash().starts_with("example-"));
//!
//! let mask = ActionMask::from_bits(2, 0b10).unwrap();
//! assert_eq!(mask.to_bitstring(), "01");
//! ```

mod game;
mod mask;
pub mod outcome;
pub mod record;
mod scenario;
mod spec;
pub mod symmetry;

pub use game::{GameSpec, GameSpecError};
pub use mask::{ActionMask, MaskError};
pub use scenario::{Scenario, ScenarioState};
pub use spec::{Encoder, FeatureDef, FeatureSpec, SpecError};
