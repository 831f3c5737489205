//! A game as every preparation step sees it: its feature spec, and what it declares beside it
//! (symmetries for augmentation, scenarios for evaluation, outcome rules for validating
//! records). The built-in game builds its own; a game that brings its own logs writes one JSON
//! file, its spec with optional sections:
//!
//! ```json
//! {
//!   "name": "duel-arena-v1", "features": [...], "actions": [...],
//!   "symmetries": [{"name": "swap_enemies", "features": [...], "actions": [...]}],
//!   "scenarios": [{"name": "...", "features": [...], "legal": [...], "acceptable": [...]}],
//!   "victories": [{"name": "elimination", "winner": "required"}, {"name": "timeout", "winner": "none"}]
//! }
//! ```

use crate::outcome::{OutcomeRules, VictoryRule};
use crate::symmetry::FeatureSymmetry;
use crate::{FeatureSpec, Scenario};
use serde::{Deserialize, Serialize};

/// Why a game's declaration is not valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GameSpecError {
    /// The file is not JSON of the expected shape.
    #[error("not a game spec")]
    Json(#[source] serde_json::Error),
    /// A symmetry is not valid or does not fit the spec.
    #[error("symmetry {name:?}: {message}")]
    Symmetry {
        /// The symmetry.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A scenario does not fit the spec.
    #[error("scenario {name:?}: {message}")]
    Scenario {
        /// The scenario.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The outcome rules are not valid.
    #[error("victories: {0}")]
    Outcomes(String),
}

/// A game's feature spec and declarations, each checked against the spec.
#[derive(Debug, Clone, PartialEq)]
pub struct GameSpec {
    features: FeatureSpec,
    symmetries: Vec<FeatureSymmetry>,
    scenarios: Vec<Scenario>,
    outcomes: OutcomeRules,
}

/// The JSON form.
#[derive(Serialize, Deserialize)]
struct GameSpecJson {
    #[serde(flatten)]
    features: FeatureSpec,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    symmetries: Vec<FeatureSymmetry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scenarios: Vec<Scenario>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    victories: Vec<VictoryRule>,
}

impl GameSpec {
    /// A game that declares nothing beside its feature spec.
    pub fn new(features: FeatureSpec) -> Self {
        let outcomes = OutcomeRules {
            game: features.name().to_string(),
            ..OutcomeRules::default()
        };
        Self {
            features,
            symmetries: Vec::new(),
            scenarios: Vec::new(),
            outcomes,
        }
    }

    /// Reads a game spec from JSON (a feature spec with optional `symmetries`, `scenarios`
    /// and `victories`), checking every declaration against the spec.
    pub fn from_json(bytes: &[u8]) -> Result<Self, GameSpecError> {
        let raw: GameSpecJson = serde_json::from_slice(bytes).map_err(GameSpecError::Json)?;
        let victories = raw.victories;
        let game = Self::new(raw.features)
            .with_symmetries(raw.symmetries)?
            .with_scenarios(raw.scenarios)?;
        let outcomes = OutcomeRules {
            victories,
            ..game.outcomes.clone()
        };
        game.with_outcomes(outcomes)
    }

    /// The JSON form [`GameSpec::from_json`] reads (what [`GameSpec::outcomes`]' end check does
    /// is not part of it).
    pub fn to_json(&self) -> Vec<u8> {
        let raw = GameSpecJson {
            features: self.features.clone(),
            symmetries: self.symmetries.clone(),
            scenarios: self.scenarios.clone(),
            victories: self.outcomes.victories.clone(),
        };
        let mut text = serde_json::to_vec_pretty(&raw).expect("a game spec serializes");
        text.push(b'\n');
        text
    }

    /// Declares the game's symmetries.
    pub fn with_symmetries(
        mut self,
        symmetries: Vec<FeatureSymmetry>,
    ) -> Result<Self, GameSpecError> {
        for s in &symmetries {
            if s.num_features() != self.features.num_features()
                || s.num_actions() != self.features.num_actions()
            {
                return Err(GameSpecError::Symmetry {
                    name: s.name().to_string(),
                    message: format!(
                        "maps {} features and {} actions but the spec has {} and {}",
                        s.num_features(),
                        s.num_actions(),
                        self.features.num_features(),
                        self.features.num_actions()
                    ),
                });
            }
            if symmetries.iter().filter(|t| t.name() == s.name()).count() > 1 {
                return Err(GameSpecError::Symmetry {
                    name: s.name().to_string(),
                    message: "declared twice".into(),
                });
            }
        }
        self.symmetries = symmetries;
        Ok(self)
    }

    /// Declares the game's scenarios; each is checked against the spec and gets the spec's
    /// hash as its encoder.
    pub fn with_scenarios(mut self, mut scenarios: Vec<Scenario>) -> Result<Self, GameSpecError> {
        for (i, s) in scenarios.iter_mut().enumerate() {
            check_scenario(&self.features, s).map_err(|message| GameSpecError::Scenario {
                name: if s.name.is_empty() {
                    format!("#{i}")
                } else {
                    s.name.clone()
                },
                message,
            })?;
            s.encoder = self.features.hash().to_string();
        }
        for (i, s) in scenarios.iter().enumerate() {
            if scenarios[..i].iter().any(|t| t.name == s.name) {
                return Err(GameSpecError::Scenario {
                    name: s.name.clone(),
                    message: "declared twice".into(),
                });
            }
        }
        self.scenarios = scenarios;
        Ok(self)
    }

    /// Declares the game's outcome rules.
    pub fn with_outcomes(mut self, outcomes: OutcomeRules) -> Result<Self, GameSpecError> {
        outcomes.validate().map_err(GameSpecError::Outcomes)?;
        self.outcomes = outcomes;
        Ok(self)
    }

    /// The feature spec.
    pub fn features(&self) -> &FeatureSpec {
        &self.features
    }

    /// The declared symmetries.
    pub fn symmetries(&self) -> &[FeatureSymmetry] {
        &self.symmetries
    }

    /// The declared scenarios.
    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    /// The outcome rules.
    pub fn outcomes(&self) -> &OutcomeRules {
        &self.outcomes
    }
}

/// Checks one scenario against `spec`: sizes, feature ranges, a 0/1 legal mask, acceptable
/// actions that exist and are legal, and an encoder hash (when given) equal to the spec's.
fn check_scenario(spec: &FeatureSpec, s: &Scenario) -> Result<(), String> {
    if s.name.is_empty() {
        return Err("the name is empty".into());
    }
    if s.features.len() != spec.num_features() {
        return Err(format!(
            "{} features, the spec has {}",
            s.features.len(),
            spec.num_features()
        ));
    }
    for (x, def) in s.features.iter().zip(spec.features()) {
        if !(x.is_finite() && def.min <= *x && *x <= def.max) {
            return Err(format!(
                "feature {:?} is {x}, outside its range [{}, {}]",
                def.name, def.min, def.max
            ));
        }
    }
    if s.legal.len() != spec.num_actions() {
        return Err(format!(
            "a legal mask of {} actions, the spec has {}",
            s.legal.len(),
            spec.num_actions()
        ));
    }
    if let Some(v) = s.legal.iter().find(|&&v| v > 1) {
        return Err(format!(
            "the legal mask holds {v} (only 0 and 1 are allowed)"
        ));
    }
    if s.acceptable.is_empty() {
        return Err("no acceptable action".into());
    }
    for a in &s.acceptable {
        let Some(i) = spec.action_index(a) else {
            return Err(format!(
                "acceptable action {a:?} is not an action of the spec"
            ));
        };
        if s.legal[i] == 0 {
            return Err(format!("acceptable action {a:?} is not legal"));
        }
    }
    if !s.encoder.is_empty() && s.encoder != spec.hash() {
        return Err(format!(
            "made with encoder {}, the spec is {}",
            s.encoder,
            spec.hash()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
