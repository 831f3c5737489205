//! Scenarios: hand-made positions with the actions a good player may choose, by which a
//! trained policy is judged beside its accuracy.
//!
//! A game declares its scenarios (see [`GameSpec`](crate::GameSpec)); preparation checks them
//! against the feature spec and writes them beside the training data (`scenarios.json`);
//! evaluation asks the model for its choice in each.
//!
//! ```
//! use tactician_battle::Scenario;
//!
//! let s: Scenario = serde_json::from_str(r#"{
//!     "name": "finish_the_weak_enemy",
//!     "features": [0.5, 0.1],
//!     "legal": [1, 1, 0],
//!     "acceptable": ["attack_0"],
//!     "position": {"turn": 3}
//! }"#).unwrap();
//! assert_eq!(s.acceptable, ["attack_0"]);
//! // Fields beyond the common ones are the game's own, kept as they are.
//! assert!(serde_json::to_string(&s).unwrap().contains(r#""position":{"turn":3}"#));
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// One scenario.
///
/// As JSON: an object with the fields below, then any fields of the game's own (for the
/// built-in game, the position itself: the acting unit, setup and snapshot), which are written
/// back as the game gave them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scenario {
    /// Unique snake_case name.
    pub name: String,
    /// What the situation is and what a good player does.
    #[serde(default)]
    pub description: String,
    /// The acting side's features, laid out as the encoder's spec says.
    pub features: Vec<f32>,
    /// The legal mask, one 0 or 1 per action.
    pub legal: Vec<u8>,
    /// The names of the actions that count as right (each legal).
    pub acceptable: Vec<String>,
    /// The hash of the encoder the features were made with (empty in a game's declaration:
    /// the declaring spec's hash is filled in).
    #[serde(default)]
    pub encoder: String,
    /// The game's own fields.
    #[serde(flatten)]
    pub state: ScenarioState,
}

impl PartialEq for Scenario {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.description == other.description
            && self.features == other.features
            && self.legal == other.legal
            && self.acceptable == other.acceptable
            && self.encoder == other.encoder
            && self.state.to_value() == other.state.to_value()
    }
}

/// The game's own fields of a [`Scenario`]: any value that serializes as a map or a struct,
/// written as the game's own types write it (field order included).
#[derive(Clone)]
pub struct ScenarioState(Arc<dyn erased_serde::Serialize + Send + Sync>);

impl ScenarioState {
    /// Fields of the game's own type `state` (a struct or a map).
    pub fn new(state: impl Serialize + Send + Sync + 'static) -> Self {
        Self(Arc::new(state))
    }

    /// No fields.
    pub fn empty() -> Self {
        Self::new(serde_json::Map::new())
    }

    /// The fields as a JSON value (an object).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Default for ScenarioState {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for ScenarioState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScenarioState({})", self.to_value())
    }
}

impl Serialize for ScenarioState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        erased_serde::serialize(&*self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for ScenarioState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        Ok(Self::new(map))
    }
}
