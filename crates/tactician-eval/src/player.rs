//! A model that plays: the game's [`Strategy`] backed by a trained policy.

use super::EvalError;
use std::sync::Arc;
use tactician_formats::model::Mlp;
use tactician_game::strategy::Strategy;
use tactician_game::{Action, Battle, Legal, SkirmishEncoder, UnitId};
use tactician_runtime::masked_argmax;

/// The `k` legal indices with the highest logits, best first (lower index first on ties).
pub fn masked_top_k(logits: &[f32], legal: impl Fn(usize) -> bool, k: usize) -> Vec<usize> {
    let key = |i: usize| {
        if logits[i].is_nan() {
            f32::NEG_INFINITY
        } else {
            logits[i]
        }
    };
    let mut idx: Vec<usize> = (0..logits.len()).filter(|&i| legal(i)).collect();
    idx.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// The masked softmax: probabilities over the legal indices (0 for the others).
pub fn masked_softmax(logits: &[f32], legal: impl Fn(usize) -> bool) -> Vec<f32> {
    let max = logits
        .iter()
        .enumerate()
        .filter(|&(i, l)| legal(i) && l.is_finite())
        .map(|(_, &l)| l)
        .fold(f32::NEG_INFINITY, f32::max);
    let mut p: Vec<f32> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if legal(i) && l.is_finite() {
                (l - max).exp()
            } else {
                0.0
            }
        })
        .collect();
    let sum: f32 = p.iter().sum();
    if sum > 0.0 {
        for v in &mut p {
            *v /= sum;
        }
    }
    p
}

/// One decision of a [`ModelPlayer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The chosen action (masked argmax).
    pub action: Action,
    /// The value head's estimate for the deciding unit's side, if the model has one.
    pub value: Option<f32>,
}

/// A player that encodes the acting unit's view with the game's encoder, runs the model and
/// takes the masked argmax (the lowest action index on ties). Deterministic: it has no seed.
#[derive(Debug, Clone)]
pub struct ModelPlayer {
    model: Arc<Mlp>,
    features: Vec<f32>,
}

impl ModelPlayer {
    /// A player for `model`, refused unless the model was trained for the game's encoder.
    pub fn new(model: Arc<Mlp>) -> Result<Self, EvalError> {
        let spec = SkirmishEncoder::feature_spec();
        super::check_encoder(&model, spec)?;
        Ok(Self {
            model,
            features: vec![0.0; spec.num_features()],
        })
    }

    /// The model played.
    pub fn model(&self) -> &Mlp {
        &self.model
    }

    /// What the model does as `unit` with legal actions `legal` (`None` if none is legal).
    pub fn decide(&mut self, battle: &Battle, unit: UnitId, legal: Legal) -> Option<Decision> {
        SkirmishEncoder::encode_unit(battle, unit, legal, &mut self.features);
        let out = self.model.forward(&self.features);
        let i = masked_argmax(&out.logits, |i| legal.contains_index(i))?;
        Some(Decision {
            action: Action::from_index(i)?,
            value: out.value,
        })
    }
}

impl Strategy for ModelPlayer {
    fn name(&self) -> &'static str {
        "model"
    }

    fn choose(&mut self, battle: &Battle, legal: Legal) -> Action {
        let unit = battle.actor().unwrap_or(UnitId(0));
        match self.decide(battle, unit, legal) {
            Some(d) => d.action,
            // `legal` is never empty by the trait's contract; waiting is always legal.
            None => Action::Wait,
        }
    }
}
