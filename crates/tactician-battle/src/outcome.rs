//! Outcome rules: which victories a game has and what each implies, so that a recorded
//! battle's declared result can be checked against what the record says of its end.
//!
//! Two checks are built in by name: an `elimination` needs a winner with units alive and a
//! loser without any; a `points` win needs the winner's material above the loser's. A game
//! declares its victories ([`VictoryRule`]), which then are the only ones accepted, each with
//! the winner it needs; a game that can rebuild its final state supplies an [`EndCheck`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// What a victory says about the winner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WinnerRule {
    /// A side must have won.
    Required,
    /// No side won (a draw).
    None,
    /// Either.
    Any,
}

/// What a victory implies about the end of the battle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndRule {
    /// Nothing checkable.
    None,
    /// The loser has no unit alive and the winner has some.
    Elimination,
    /// The winner's material is above the loser's.
    Points,
}

/// One kind of victory a game has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VictoryRule {
    /// The name records give in `outcome.victory`.
    pub name: String,
    /// The winner it needs.
    pub winner: WinnerRule,
    /// What it implies about the end (default: the built-in check of that name, if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<EndRule>,
}

impl VictoryRule {
    /// A victory named `name`.
    pub fn new(name: &str, winner: WinnerRule, check: EndRule) -> Self {
        Self {
            name: name.to_string(),
            winner,
            check: Some(check),
        }
    }

    /// The end rule: the declared one, else the built-in one of its name.
    pub fn end_rule(&self) -> EndRule {
        self.check.unwrap_or_else(|| builtin_end_rule(&self.name))
    }
}

/// The end rule of a victory name when the game declares none.
fn builtin_end_rule(victory: &str) -> EndRule {
    match victory {
        "elimination" => EndRule::Elimination,
        "points" => EndRule::Points,
        _ => EndRule::None,
    }
}

/// The facts of a battle's end, as an [`EndCheck`] rebuilds them.
#[derive(Debug, Clone, PartialEq)]
pub struct EndFacts {
    /// The winning side, `None` for a draw.
    pub winner: Option<u8>,
    /// The victory's name.
    pub victory: String,
    /// Units alive per side.
    pub alive: [f64; 2],
    /// Material per side (as the game measures it).
    pub material: [f64; 2],
}

/// Rebuilds a battle's end from a record's setup and final state (JSON), for a game that can.
pub trait EndCheck: Send + Sync {
    /// The facts of the end, or why the final state is not a finished battle of that setup.
    fn end_facts(&self, setup: Option<&[u8]>, final_state: &[u8]) -> Result<EndFacts, Violation>;
}

/// How a declared outcome breaks the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// A field the check needs is missing.
    Missing,
    /// A field holds a value the game does not have.
    Invalid,
    /// The fields contradict each other.
    Inconsistent,
}

/// A broken outcome rule, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Violation {
    /// What kind of defect.
    pub kind: ViolationKind,
    /// What is wrong, naming the fields.
    pub detail: String,
}

impl Violation {
    /// A violation of `kind`.
    pub fn new(kind: ViolationKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }

    fn inconsistent(detail: String) -> Self {
        Self::new(ViolationKind::Inconsistent, detail)
    }
}

/// A game's outcome rules.
#[derive(Clone, Default)]
pub struct OutcomeRules {
    /// The victories the game has; empty accepts any name (with the built-in checks of
    /// `elimination` and `points`).
    pub victories: Vec<VictoryRule>,
    /// What the game is called in messages (`the game X`).
    pub game: String,
    /// Rebuilds the end from the final state, for a game that can.
    pub end_check: Option<Arc<dyn EndCheck>>,
}

impl fmt::Debug for OutcomeRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutcomeRules")
            .field("victories", &self.victories)
            .field("game", &self.game)
            .field("end_check", &self.end_check.is_some())
            .finish()
    }
}

impl PartialEq for OutcomeRules {
    fn eq(&self, other: &Self) -> bool {
        self.victories == other.victories
            && self.game == other.game
            && self.end_check.is_some() == other.end_check.is_some()
    }
}

/// What a record says of its end.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeclaredEnd<'a> {
    /// The winning side.
    pub winner: Option<u8>,
    /// The victory's name.
    pub victory: &'a str,
    /// Units alive per side, if given.
    pub alive: Option<[f64; 2]>,
    /// Material per side, if given.
    pub material: Option<[f64; 2]>,
    /// The final state (JSON), if given.
    pub final_state: Option<&'a [u8]>,
    /// The battle's setup (JSON), if given.
    pub setup: Option<&'a [u8]>,
}

impl OutcomeRules {
    /// Checks that the victory names are unique.
    pub fn validate(&self) -> Result<(), String> {
        for (i, v) in self.victories.iter().enumerate() {
            if v.name.is_empty() {
                return Err("a victory has an empty name".into());
            }
            if self.victories[..i].iter().any(|w| w.name == v.name) {
                return Err(format!("victory {:?} is declared twice", v.name));
            }
        }
        Ok(())
    }

    /// Checks a record's declared end against these rules: the final state (with an
    /// [`EndCheck`]), the victory's implications, that the game has the victory, and the winner
    /// it needs.
    pub fn check(&self, end: &DeclaredEnd<'_>) -> Result<(), Violation> {
        let (winner, victory) = (end.winner, end.victory);
        if victory.is_empty() {
            return Err(Violation::new(
                ViolationKind::Invalid,
                "outcome.victory is empty",
            ));
        }
        let mut alive = end.alive;
        let mut material = end.material;
        if let (Some(check), Some(state)) = (&self.end_check, end.final_state) {
            let facts = check.end_facts(end.setup, state)?;
            if facts.winner != winner || facts.victory != victory {
                return Err(Violation::inconsistent(format!(
                    "the outcome says {winner:?}/{victory} but the final state says {:?}/{}",
                    facts.winner, facts.victory
                )));
            }
            if alive.is_some_and(|a| a != facts.alive) {
                return Err(Violation::inconsistent(format!(
                    "outcome.alive {alive:?} but the final state has {:?} units alive",
                    facts.alive
                )));
            }
            alive = Some(facts.alive);
            if material.is_some_and(|m| m != facts.material) {
                return Err(Violation::inconsistent(format!(
                    "outcome.material {material:?} but the final state has {:?}",
                    facts.material
                )));
            }
            material = Some(facts.material);
        }
        let rule = self.victories.iter().find(|v| v.name == victory);
        let end_rule = rule.map_or_else(|| builtin_end_rule(victory), VictoryRule::end_rule);
        match (end_rule, winner) {
            (EndRule::Elimination, None) => {
                return Err(Violation::inconsistent(
                    "an elimination without a winner".into(),
                ));
            }
            (EndRule::Elimination, Some(w)) => {
                if let Some(a) = alive {
                    let (w, l) = (w as usize, 1 - w as usize);
                    if a[l] != 0.0 || a[w] <= 0.0 {
                        return Err(Violation::inconsistent(format!(
                            "side {w} won by elimination but {} of the loser's units are alive and {} of the winner's",
                            a[l], a[w]
                        )));
                    }
                }
            }
            (EndRule::Points, Some(w)) => {
                if let Some(m) = material {
                    let (w, l) = (w as usize, 1 - w as usize);
                    if m[w] <= m[l] {
                        return Err(Violation::inconsistent(format!(
                            "side {w} won on points with material {} against {}",
                            m[w], m[l]
                        )));
                    }
                }
            }
            _ => {}
        }
        if self.victories.is_empty() {
            return Ok(());
        }
        let Some(rule) = rule else {
            return Err(Violation::new(
                ViolationKind::Invalid,
                format!(
                    "victory {victory:?} does not exist in {} (it has {})",
                    self.game_name(),
                    self.victories
                        .iter()
                        .map(|v| v.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let ok = match rule.winner {
            WinnerRule::Required => winner.is_some(),
            WinnerRule::None => winner.is_none(),
            WinnerRule::Any => true,
        };
        if !ok {
            return Err(Violation::inconsistent(format!(
                "victory {victory} with winner {winner:?}"
            )));
        }
        Ok(())
    }

    fn game_name(&self) -> String {
        if self.game.is_empty() {
            "this game".to_string()
        } else {
            format!("the game {}", self.game)
        }
    }
}

#[cfg(test)]
mod tests;
