//! The API's requests and responses (JSON), and turning a request into the model's input.

use serde::{Deserialize, Serialize};
use tactician_game::{Battle, NUM_ACTIONS, Setup, SkirmishEncoder, Snapshot};

/// A state of the built-in game, as battle logs record it: the battle's setup and the
/// snapshot before the decision. The device encodes it with the workstation's encoder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GameState {
    /// Rules, map, teams.
    pub setup: Setup,
    /// Units, items, weather, turn order, the actor.
    pub snapshot: Snapshot,
}

/// `POST /v1/act`: either `features` with `legal` (one flag per action) or `legal_actions`
/// (indices), or `state`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActRequest {
    /// The model's input row.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "float_row"
    )]
    pub features: Option<Vec<f32>>,
    /// One flag per action: may it be taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal: Option<Vec<bool>>,
    /// The indices of the actions that may be taken (instead of `legal`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_actions: Option<Vec<usize>>,
    /// A state of the built-in game (instead of `features` and the mask).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<GameState>,
    /// The battle this decision belongs to: results reported for it are counted against the
    /// model that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battle_id: Option<String>,
}

/// Reads a JSON array of numbers straight into `f32`s (correctly rounded, and several times
/// faster than through serde_json's `f64`s: the features are most of a request's bytes).
fn float_row<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<f32>>, D::Error> {
    use serde::de::Error;
    let raw: Option<Box<serde_json::value::RawValue>> = Option::deserialize(d)?;
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get().trim();
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| D::Error::custom("`features` must be an array of numbers"))?;
    if inner.trim().is_empty() {
        return Ok(Some(Vec::new()));
    }
    inner
        .split(',')
        .enumerate()
        .map(|(i, v)| {
            fast_float2::parse::<f32, _>(v.trim()).map_err(|_| {
                D::Error::custom(format!("`features` item {i} is not a number: {}", v.trim()))
            })
        })
        .collect::<Result<Vec<f32>, D::Error>>()
        .map(Some)
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActResponse {
    /// The chosen action's index.
    pub action: usize,
    /// Its name.
    pub action_name: String,
    /// Probabilities over all actions, 0 for illegal ones.
    pub probabilities: Vec<f32>,
    /// The value head's estimate for the deciding side, when the model has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f32>,
    /// The model version that decided.
    pub model_version: String,
    /// The model's time for this decision, microseconds.
    pub latency_us: f64,
    /// Whether the decision came from the cache.
    pub cached: bool,
}

/// `POST /v1/act/batch`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The decisions, each as `/v1/act` takes it.
    pub requests: Vec<ActRequest>,
}

/// The batch's decisions, all by one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// One per request, in order (their own `model_version` and `latency_us` are the batch's).
    pub decisions: Vec<ActResponse>,
    /// The model version that decided.
    pub model_version: String,
    /// The model's time for the whole batch, microseconds.
    pub latency_us: f64,
}

/// `POST /v1/battles/{id}/result`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BattleResult {
    /// `win`, `loss` or `draw`, for the side the device played.
    pub result: String,
    /// For the built-in game: the battle's seed. With `actions` and `device_side`, the device
    /// plays the battle back and keeps it as a battle log record for training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Every action of the battle, both sides, in turn order (action indices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<u32>>,
    /// The side (0 or 1) the device played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_side: Option<u8>,
    /// The battle's rules, when not the default ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<tactician_game::GameConfig>,
    /// How many of the device's decisions the game's own reference (its scripted AI, a human)
    /// agreed with, when the game measures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement: Option<Agreement>,
}

/// Agreement counts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agreement {
    /// Decisions agreed with.
    pub agreed: u64,
    /// Decisions compared.
    pub total: u64,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub error: String,
    /// The kind, for a program (as the `tactician_request_errors_total` metric counts it).
    pub kind: String,
}

/// A request the model cannot take: (error kind, message).
pub type Refusal = (&'static str, String);

/// The input row and action mask of a request, for a model of `features` inputs and `actions`
/// outputs reading features of `encoder`.
pub fn input(
    req: &ActRequest,
    features: usize,
    actions: usize,
    encoder: &str,
) -> Result<(Vec<f32>, Vec<bool>), Refusal> {
    let (x, legal) = match (&req.state, &req.features) {
        (Some(_), Some(_)) => {
            return Err((
                "bad_request",
                "give either `state` or `features`, not both".into(),
            ));
        }
        (None, None) => {
            return Err((
                "bad_request",
                "give `features` with `legal` (or `legal_actions`), or a game `state`".into(),
            ));
        }
        (Some(state), None) => {
            if req.legal.is_some() || req.legal_actions.is_some() {
                return Err((
                    "bad_request",
                    "a game `state` brings its own legal actions: drop `legal`".into(),
                ));
            }
            encode_state(state, features, actions, encoder)?
        }
        (None, Some(x)) => {
            let legal = match (&req.legal, &req.legal_actions) {
                (Some(l), None) => l.clone(),
                (None, Some(idx)) => {
                    let mut l = vec![false; actions];
                    for &i in idx {
                        if i >= actions {
                            return Err((
                                "bad_mask",
                                format!(
                                    "legal action {i} is out of range: the model has {actions} actions"
                                ),
                            ));
                        }
                        l[i] = true;
                    }
                    l
                }
                _ => {
                    return Err((
                        "bad_mask",
                        "give exactly one of `legal` (one flag per action) and `legal_actions`"
                            .into(),
                    ));
                }
            };
            (x.clone(), legal)
        }
    };
    if x.len() != features {
        return Err((
            "bad_features",
            format!(
                "{} features given, the model in service takes {features}",
                x.len()
            ),
        ));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err((
            "bad_features",
            format!("feature {i} is not a finite number"),
        ));
    }
    if legal.len() != actions {
        return Err((
            "bad_mask",
            format!(
                "{} legal flags given, the model in service has {actions} actions",
                legal.len()
            ),
        ));
    }
    if !legal.contains(&true) {
        return Err(("no_legal_action", "no action is legal".into()));
    }
    Ok((x, legal))
}

fn encode_state(
    state: &GameState,
    features: usize,
    actions: usize,
    encoder: &str,
) -> Result<(Vec<f32>, Vec<bool>), Refusal> {
    let spec = SkirmishEncoder::feature_spec();
    if encoder != spec.hash() || features != spec.num_features() || actions != NUM_ACTIONS {
        return Err((
            "bad_state",
            format!(
                "the model in service reads encoder {encoder:?}, not the built-in game's {}: \
                 send features",
                spec.hash()
            ),
        ));
    }
    let battle = Battle::from_snapshot(&state.setup, &state.snapshot)
        .map_err(|e| ("bad_state", format!("the game state is not valid: {e}")))?;
    let actor = battle
        .actor()
        .ok_or(("bad_state", "the battle is over: nobody acts".to_string()))?;
    let legal = battle.legal();
    let mut x = vec![0.0; features];
    SkirmishEncoder::encode_unit(&battle, actor, legal, &mut x);
    Ok((x, (0..actions).map(|i| legal.contains_index(i)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn features(json: &str) -> Result<Option<Vec<f32>>, String> {
        serde_json::from_str::<ActRequest>(json)
            .map(|r| r.features)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn feature_rows_parse_strictly() {
        assert_eq!(
            features(r#"{"features": [1, -2.5, 3e2]}"#),
            Ok(Some(vec![1.0, -2.5, 300.0]))
        );
        assert_eq!(features(r#"{"features": [ ]}"#), Ok(Some(vec![])));
        assert_eq!(features(r#"{}"#), Ok(None));
        assert_eq!(features(r#"{"features": null}"#), Ok(None));
        for bad in [
            r#"{"features": ["1"]}"#,
            r#"{"features": [[1]]}"#,
            r#"{"features": [1,]}"#,
            r#"{"features": 1}"#,
            r#"{"features": [true]}"#,
            r#"{"features": [NaN]}"#,
            r#"{"features": {"a": 1}}"#,
        ] {
            assert!(features(bad).is_err(), "{bad} accepted");
        }
        // Beyond f32: infinite, refused later as not finite.
        assert_eq!(
            features(r#"{"features": [1e39]}"#),
            Ok(Some(vec![f32::INFINITY]))
        );
    }

    proptest! {
        /// Any f32 written by serde_json reads back bit for bit.
        #[test]
        fn rows_round_trip(row in proptest::collection::vec(any::<f32>().prop_filter("finite", |v| v.is_finite()), 0..64)) {
            let json = serde_json::to_string(&serde_json::json!({"features": row})).unwrap();
            let back = features(&json).unwrap().unwrap();
            prop_assert_eq!(back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                            row.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
    }
}
