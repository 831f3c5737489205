//! Validation battles on the device, for models of the built-in game (Skirmish): before a
//! release is activated it plays a scripted baseline, sides swapped, with the device's own
//! runtime, and must score at least as well as the active model did on the same battles, within
//! a statistical margin.
//!
//! Battle `k` is played from [`tactician_game::battle_seed`]`(seed, k)`, once with the model on
//! each side; the baseline plays from [`tactician_game::strategy_seed`]. A model decides by the
//! masked argmax of its policy (no sampling), so the battles, and the scores, are the same on
//! every run and every device: the active model's score is measured once and kept in its
//! validation report.
//!
//! The comparison: with scores `p` (candidate) and `q` (active), `(wins + draws / 2) / n`
//! each, the candidate is refused when `q − p > z · √((p(1−p) + q(1−q)) / n) + 1/n`, a one-sided
//! test at the configured `z` (1.645: 95%) with one battle's slack, so two equally strong models
//! pass and a clearly weaker one does not.

use serde::{Deserialize, Serialize};
use tactician_game::strategy::{self, Strategy};
use tactician_game::{
    Action, Battle, GameConfig, NUM_ACTIONS, SkirmishEncoder, battle_seed, strategy_seed,
};
use tactician_runtime::{Policy, PolicyOptions};

/// Most battles a gate plays.
pub const MAX_BATTLES: usize = 10_000;

/// The battles a release plays on the device (`[battles]` in `agent.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BattleConfig {
    /// Play them (for models of the built-in game; others have no battles on the device).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The scripted baseline: random, aggressive, defensive, support, kiting or search.
    #[serde(default = "default_opponent")]
    pub opponent: String,
    /// Battles: an even number, half with the model on each side.
    #[serde(default = "default_battles")]
    pub battles: usize,
    /// The run seed of the battles.
    #[serde(default)]
    pub seed: u64,
    /// The one-sided z of the comparison with the active model (1.645: 95%).
    #[serde(default = "default_z")]
    pub z: f64,
}

fn yes() -> bool {
    true
}

fn default_opponent() -> String {
    "aggressive".into()
}

fn default_battles() -> usize {
    40
}

fn default_z() -> f64 {
    1.645
}

impl Default for BattleConfig {
    fn default() -> Self {
        BattleConfig {
            enabled: true,
            opponent: default_opponent(),
            battles: default_battles(),
            seed: 0,
            z: default_z(),
        }
    }
}

impl BattleConfig {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), String> {
        if self.battles == 0 || self.battles % 2 == 1 || self.battles > MAX_BATTLES {
            return Err(format!(
                "battles.battles must be an even number from 2 to {MAX_BATTLES}, not {}",
                self.battles
            ));
        }
        strategy::by_name(&self.opponent, 0).map_err(|e| format!("battles.opponent: {e}"))?;
        if !(self.z.is_finite() && self.z >= 0.0) {
            return Err("battles.z must be a number ≥ 0".into());
        }
        Ok(())
    }
}

/// Whether a model reads the built-in game's features (its encoder hash is Skirmish's).
pub fn is_builtin_game(encoder_hash: &str) -> bool {
    encoder_hash == SkirmishEncoder::feature_spec().hash()
}

/// A model's results in the battles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BattleScore {
    /// The baseline.
    pub opponent: String,
    /// The run seed.
    pub seed: u64,
    /// Battles played.
    pub battles: usize,
    /// Won.
    pub wins: usize,
    /// Drawn.
    pub draws: usize,
    /// Lost.
    pub losses: usize,
    /// `(wins + draws / 2) / battles`.
    pub score: f64,
}

impl BattleScore {
    /// Whether these results come from the battles `config` plays.
    pub fn matches(&self, config: &BattleConfig) -> bool {
        self.opponent == config.opponent
            && self.seed == config.seed
            && self.battles == config.battles
    }
}

/// What the gate compared (part of the validation report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BattleGate {
    /// The release's results.
    pub candidate: BattleScore,
    /// The active model's version and results, when a model was active.
    pub active: Option<(String, BattleScore)>,
    /// How far below the active model's score the release may fall.
    pub margin: f64,
}

impl BattleGate {
    /// One line: the release's record and score, and the active model's.
    pub fn summary(&self) -> String {
        let c = &self.candidate;
        let mut text = format!(
            "battles against {}: {}-{}-{} ({:.1}%)",
            c.opponent,
            c.wins,
            c.draws,
            c.losses,
            100.0 * c.score
        );
        if let Some((v, a)) = &self.active {
            text.push_str(&format!(
                ", active {v}: {}-{}-{} ({:.1}%)",
                a.wins,
                a.draws,
                a.losses,
                100.0 * a.score
            ));
        }
        text
    }
}

/// Plays the battles with the model `model` (a `.tflite` of the built-in game).
pub fn play(model: &[u8], config: &BattleConfig) -> Result<BattleScore, String> {
    config.check()?;
    let mut policy = Policy::load(
        model,
        &PolicyOptions {
            max_batch: 1,
            ..PolicyOptions::default()
        },
    )
    .map_err(|e| format!("the runtime refuses the model: {e}"))?;
    let spec = SkirmishEncoder::feature_spec();
    if policy.features() != spec.num_features() || policy.actions() != NUM_ACTIONS {
        return Err(format!(
            "the model takes {} features and gives {} actions; the game has {} and {}",
            policy.features(),
            policy.actions(),
            spec.num_features(),
            NUM_ACTIONS
        ));
    }
    let mut features = vec![0.0f32; spec.num_features()];
    let mut legal_mask = [false; NUM_ACTIONS];
    let (mut wins, mut draws, mut losses) = (0, 0, 0);
    let game = GameConfig::default();
    for k in 0..config.battles / 2 {
        let seed = battle_seed(config.seed, k as u64);
        for model_side in 0..2u8 {
            let mut them: Box<dyn Strategy> =
                strategy::by_name(&config.opponent, strategy_seed(seed, 1 - model_side))
                    .map_err(|e| e.to_string())?;
            let mut battle = Battle::new(seed, game);
            while let Some(actor) = battle.actor() {
                let legal = battle.legal();
                let action = if actor.side() == model_side {
                    SkirmishEncoder::encode_unit(&battle, actor, legal, &mut features);
                    for (i, m) in legal_mask.iter_mut().enumerate() {
                        *m = legal.contains_index(i);
                    }
                    let d = policy
                        .act(&features, &legal_mask)
                        .map_err(|e| format!("battle {seed}: the model failed: {e}"))?;
                    Action::from_index(d.action)
                        .ok_or_else(|| format!("battle {seed}: action {} is none", d.action))?
                } else {
                    them.choose(&battle, legal)
                };
                battle
                    .step(action)
                    .map_err(|e| format!("battle {seed}: {e}"))?;
            }
            match battle.outcome().map_or(0.0, |o| o.value_for(model_side)) {
                v if v > 0.0 => wins += 1,
                v if v < 0.0 => losses += 1,
                _ => draws += 1,
            }
        }
    }
    let n = config.battles;
    Ok(BattleScore {
        opponent: config.opponent.clone(),
        seed: config.seed,
        battles: n,
        wins,
        draws,
        losses,
        score: (wins as f64 + draws as f64 / 2.0) / n as f64,
    })
}

/// How far below the active model's score `q` a release scoring `p` may fall, over `n`
/// battles each (see the module's notes).
pub fn margin(p: f64, q: f64, n: usize, z: f64) -> f64 {
    let n = n.max(1) as f64;
    z * ((p * (1.0 - p) + q * (1.0 - q)) / n).sqrt() + 1.0 / n
}

/// The gate: the release's results against the active model's.
pub fn gate(
    candidate: BattleScore,
    active: Option<(String, BattleScore)>,
    config: &BattleConfig,
) -> Result<BattleGate, String> {
    let margin = match &active {
        None => 0.0,
        Some((version, a)) => {
            let m = margin(candidate.score, a.score, config.battles, config.z);
            if a.score - candidate.score > m {
                return Err(format!(
                    "validation battles against {}: score {:.1}% ({}-{}-{}) below the active \
                     {version}'s {:.1}% ({}-{}-{}) by more than the margin {:.1}%",
                    config.opponent,
                    100.0 * candidate.score,
                    candidate.wins,
                    candidate.draws,
                    candidate.losses,
                    100.0 * a.score,
                    a.wins,
                    a.draws,
                    a.losses,
                    100.0 * m
                ));
            }
            m
        }
    };
    Ok(BattleGate {
        candidate,
        active,
        margin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(wins: usize, draws: usize, losses: usize) -> BattleScore {
        let n = wins + draws + losses;
        BattleScore {
            opponent: "aggressive".into(),
            seed: 0,
            battles: n,
            wins,
            draws,
            losses,
            score: (wins as f64 + draws as f64 / 2.0) / n as f64,
        }
    }

    #[test]
    fn equal_models_pass_and_clearly_weaker_ones_do_not() {
        let c = BattleConfig::default();
        let active = Some(("1.0.0".to_string(), score(30, 4, 6)));
        // Same, slightly worse (noise), better: pass.
        for cand in [score(30, 4, 6), score(28, 4, 8), score(40, 0, 0)] {
            gate(cand, active.clone(), &c).unwrap();
        }
        // Much worse: refused, with both records in the reason.
        let err = gate(score(10, 4, 26), active.clone(), &c).unwrap_err();
        assert!(err.contains("10-4-26") && err.contains("30-4-6"), "{err}");
        // Both perfect and one battle lost: one battle's slack lets it through.
        gate(score(39, 0, 1), Some(("1".into(), score(40, 0, 0))), &c).unwrap();
        // No active model: nothing to compare with.
        assert_eq!(gate(score(0, 0, 40), None, &c).unwrap().margin, 0.0);
    }

    #[test]
    fn the_margin_shrinks_with_more_battles() {
        let small = margin(0.5, 0.5, 40, 1.645);
        let large = margin(0.5, 0.5, 4000, 1.645);
        assert!(small > 0.20 && small < 0.21, "{small}");
        assert!(large < 0.02, "{large}");
        assert!((margin(1.0, 1.0, 40, 1.645) - 0.025).abs() < 1e-12);
    }

    #[test]
    fn settings_are_checked() {
        assert!(BattleConfig::default().check().is_ok());
        for bad in [
            BattleConfig {
                battles: 3,
                ..BattleConfig::default()
            },
            BattleConfig {
                battles: 0,
                ..BattleConfig::default()
            },
            BattleConfig {
                opponent: "nobody".into(),
                ..BattleConfig::default()
            },
            BattleConfig {
                z: f64::NAN,
                ..BattleConfig::default()
            },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }
}
