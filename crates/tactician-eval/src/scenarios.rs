//! Scenario results: does the model choose one of the acceptable actions in hand-made
//! positions?

use super::EvalError;
use super::player::{masked_softmax, masked_top_k};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tactician_battle::Scenario;
use tactician_formats::model::Mlp;
use tactician_runtime::masked_argmax;

/// An action with the model's probability for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Action name.
    pub action: String,
    /// Masked-softmax probability.
    pub probability: f64,
}

/// The result of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario's name.
    pub name: String,
    /// What it is about.
    pub description: String,
    /// The model's choice (masked argmax).
    pub chosen: String,
    /// The acceptable actions.
    pub acceptable: Vec<String>,
    /// Whether the choice is acceptable.
    pub pass: bool,
    /// The model's three best legal actions.
    pub top3: Vec<Choice>,
    /// The value head's estimate, with a value head.
    pub value: Option<f64>,
}

/// All scenario results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Scenarios passed.
    pub passed: usize,
    /// Scenarios run.
    pub total: usize,
    /// One result per scenario, in file order.
    pub results: Vec<ScenarioResult>,
}

/// Runs every scenario (read from `path`) through `model`. A scenario that does not fit the
/// model (feature or action count, an unknown action name, nothing legal, no acceptable
/// action) is an error naming it: a broken scenario must not count as a failed one.
pub fn run_scenarios(
    model: &Mlp,
    scenarios: &[Scenario],
    path: &Path,
) -> Result<ScenarioReport, EvalError> {
    let names = &model.meta.action_names;
    let mut results = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        let bad = |message: String| EvalError::Invalid {
            path: path.to_path_buf(),
            message: format!("scenario {:?}: {message}", s.name),
        };
        if s.features.len() != model.meta.inputs {
            return Err(bad(format!(
                "{} features, the model takes {}",
                s.features.len(),
                model.meta.inputs
            )));
        }
        if s.features.iter().any(|v| !v.is_finite()) {
            return Err(bad("a feature is not finite".into()));
        }
        if s.legal.len() != model.meta.actions || s.legal.iter().any(|&v| v > 1) {
            return Err(bad(format!(
                "legal must be {} values of 0 or 1",
                model.meta.actions
            )));
        }
        if s.acceptable.is_empty() {
            return Err(bad("no acceptable action listed".into()));
        }
        if let Some(unknown) = s.acceptable.iter().find(|a| !names.contains(a)) {
            return Err(bad(format!("unknown action {unknown:?}")));
        }
        let legal = |i: usize| s.legal[i] == 1;
        let out = model.forward(&s.features);
        let Some(best) = masked_argmax(&out.logits, legal) else {
            return Err(bad("no action is legal".into()));
        };
        let p = masked_softmax(&out.logits, legal);
        let chosen = names[best].clone();
        results.push(ScenarioResult {
            name: s.name.clone(),
            description: s.description.clone(),
            pass: s.acceptable.contains(&chosen),
            chosen,
            acceptable: s.acceptable.clone(),
            top3: masked_top_k(&out.logits, legal, 3)
                .into_iter()
                .map(|i| Choice {
                    action: names[i].clone(),
                    probability: f64::from(p[i]),
                })
                .collect(),
            value: out.value.map(f64::from),
        });
    }
    Ok(ScenarioReport {
        passed: results.iter().filter(|r| r.pass).count(),
        total: results.len(),
        results,
    })
}
