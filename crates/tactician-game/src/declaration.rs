//! Skirmish as every preparation step sees it: the encoder's feature spec with the game's
//! symmetries (augmentation), scenarios (evaluation) and outcome rules, including a check that
//! rebuilds a record's final state in the engine.

use crate::scenarios::scenarios;
use crate::{Battle, Setup, SkirmishEncoder, Snapshot, rules};
use std::sync::Arc;
use tactician_battle::outcome::{
    EndCheck, EndFacts, EndRule, OutcomeRules, VictoryRule, Violation, ViolationKind, WinnerRule,
};
use tactician_battle::{GameSpec, GameSpecError};

/// Skirmish's game spec: its encoder's features, its 71 non-identity symmetries, its
/// scenarios, and its outcome rules (`elimination` and `points` need a winner, `timeout` is a
/// draw; a record's final state must be a finished battle of its setup with the declared
/// result).
pub fn game_spec() -> Result<GameSpec, GameSpecError> {
    GameSpec::new(SkirmishEncoder::feature_spec().clone())
        .with_symmetries(SkirmishEncoder::symmetries())?
        .with_scenarios(scenarios()?)?
        .with_outcomes(outcome_rules())
}

/// Skirmish's outcome rules.
pub fn outcome_rules() -> OutcomeRules {
    OutcomeRules {
        victories: vec![
            VictoryRule::new("elimination", WinnerRule::Required, EndRule::Elimination),
            VictoryRule::new("points", WinnerRule::Required, EndRule::Points),
            VictoryRule::new("timeout", WinnerRule::None, EndRule::None),
        ],
        game: rules::GAME_NAME.to_string(),
        end_check: Some(Arc::new(FinalState)),
    }
}

/// Rebuilds a record's end from its setup and final snapshot with the engine.
struct FinalState;

impl EndCheck for FinalState {
    fn end_facts(&self, setup: Option<&[u8]>, final_state: &[u8]) -> Result<EndFacts, Violation> {
        let setup = setup.ok_or_else(|| {
            Violation::new(
                ViolationKind::Missing,
                "required field setup is missing (the final state cannot be checked without it)",
            )
        })?;
        let setup: Setup = serde_json::from_slice(setup).map_err(|e| {
            Violation::new(
                ViolationKind::Invalid,
                format!("setup is not a game setup: {e}"),
            )
        })?;
        let snap: Snapshot = serde_json::from_slice(final_state).map_err(|e| {
            Violation::new(
                ViolationKind::Invalid,
                format!("outcome.final_state is not a game state: {e}"),
            )
        })?;
        let end = Battle::from_snapshot(&setup, &snap).map_err(|e| {
            Violation::new(
                ViolationKind::Inconsistent,
                format!("outcome.final_state is not a reachable end of the battle: {e}"),
            )
        })?;
        let Some(o) = end.outcome() else {
            return Err(Violation::new(
                ViolationKind::Inconsistent,
                "outcome.final_state is not finished",
            ));
        };
        Ok(EndFacts {
            winner: o.winner,
            victory: o.victory.name().to_string(),
            alive: [0, 1].map(|s| end.alive_count(s) as f64),
            // Material is the remaining share of health, as the engine computes it (f32).
            material: [0, 1].map(|s| f64::from(end.health_fraction(s))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_declaration_is_valid() {
        let g = game_spec().unwrap();
        assert_eq!(g.features(), SkirmishEncoder::feature_spec());
        assert_eq!(g.symmetries().len(), 71);
        assert!(g.scenarios().len() >= 5);
        assert!(g.outcomes().end_check.is_some());
        assert_eq!(g.outcomes().victories.len(), 3);
    }

    #[test]
    fn the_final_state_check_explains_what_is_wrong() {
        let check = FinalState;
        let e = check.end_facts(None, b"{}").unwrap_err();
        assert_eq!(e.kind, ViolationKind::Missing);
        let e = check.end_facts(Some(b"{"), b"{}").unwrap_err();
        assert_eq!(e.kind, ViolationKind::Invalid);
        let battle = Battle::new(3, crate::GameConfig::default());
        let setup = serde_json::to_vec(&battle.setup()).unwrap();
        let e = check
            .end_facts(
                Some(&setup),
                &serde_json::to_vec(&battle.snapshot()).unwrap(),
            )
            .unwrap_err();
        assert_eq!(e.detail, "outcome.final_state is not finished");
    }
}
