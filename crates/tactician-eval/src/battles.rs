//! Validation battles: the model against scripted strategies, sides swapped, with 95% Wilson
//! intervals, and the turning points of a few battles by the value head's swing.
//!
//! Battle `k` against an opponent is played from [`battle_seed`]`(seed, k)` (the derivation of
//! `tactician collect` and `tactician tournament`), once with the model on side 0 and once on
//! side 1; the opponent plays from [`opponent_seed`]`(battle seed, its side)`, as a strategy does
//! in a tournament. The model has no randomness, so a battle is replayed from its battle seed,
//! the model's side and the opponent's name alone. Battles run in parallel (rayon) and results
//! are gathered in job order, so the report does not depend on the thread count.

use super::EvalError;
use super::player::ModelPlayer;
use super::wilson::{Interval, wilson95};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tactician_formats::model::Mlp;
use tactician_game::strategy::{self, Strategy};
use tactician_game::{Battle, GameConfig};

/// Turning points listed per battle.
pub const POINTS_PER_BATTLE: usize = 3;
/// Most battles per opponent.
pub const MAX_BATTLES: usize = 1_000_000;

pub use tactician_game::{battle_seed, strategy_seed as opponent_seed};

/// What to play.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BattleSettings {
    /// Battles per opponent: an even number, half with the model on each side.
    pub battles: usize,
    /// Run seed.
    pub seed: u64,
    /// Opponents: registered strategy names.
    pub opponents: Vec<String>,
    /// Rules.
    pub config: GameConfig,
    /// How many battles' turning points to report.
    pub turning_battles: usize,
}

impl Default for BattleSettings {
    fn default() -> Self {
        Self {
            battles: 100,
            seed: 0,
            opponents: strategy::NAMES.iter().map(|s| s.to_string()).collect(),
            config: GameConfig::default(),
            turning_battles: 3,
        }
    }
}

/// Wins, draws and losses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wdl {
    /// Battles won.
    pub wins: u64,
    /// Battles drawn.
    pub draws: u64,
    /// Battles lost.
    pub losses: u64,
}

impl Wdl {
    fn add(&mut self, score: i8) {
        match score {
            1 => self.wins += 1,
            -1 => self.losses += 1,
            _ => self.draws += 1,
        }
    }

    /// Battles counted.
    pub fn battles(&self) -> u64 {
        self.wins + self.draws + self.losses
    }
}

/// The model's results against one opponent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpponentResult {
    /// The opponent's strategy name.
    pub opponent: String,
    /// Battles played.
    pub battles: u64,
    /// Wins, draws, losses of the model.
    pub wdl: Wdl,
    /// `wins / battles`.
    pub win_rate: f64,
    /// 95% Wilson interval of the win rate.
    pub win_interval: Interval,
    /// `draws / battles`.
    pub draw_rate: f64,
    /// 95% Wilson interval of the draw rate.
    pub draw_interval: Interval,
    /// `losses / battles`.
    pub loss_rate: f64,
    /// 95% Wilson interval of the loss rate.
    pub loss_interval: Interval,
    /// Results with the model on side 0.
    pub as_side0: Wdl,
    /// Results with the model on side 1.
    pub as_side1: Wdl,
    /// Average decisions per battle.
    pub average_turns: f64,
}

impl OpponentResult {
    fn new(opponent: &str, side: [Wdl; 2], turns: u64) -> Self {
        let wdl = Wdl {
            wins: side[0].wins + side[1].wins,
            draws: side[0].draws + side[1].draws,
            losses: side[0].losses + side[1].losses,
        };
        let n = wdl.battles();
        let rate = |k: u64| if n > 0 { k as f64 / n as f64 } else { 0.0 };
        Self {
            opponent: opponent.to_string(),
            battles: n,
            wdl,
            win_rate: rate(wdl.wins),
            win_interval: wilson95(wdl.wins, n),
            draw_rate: rate(wdl.draws),
            draw_interval: wilson95(wdl.draws, n),
            loss_rate: rate(wdl.losses),
            loss_interval: wilson95(wdl.losses, n),
            as_side0: side[0],
            as_side1: side[1],
            average_turns: if n > 0 { turns as f64 / n as f64 } else { 0.0 },
        }
    }
}

/// A decision after which the value head's estimate moved a lot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurningPoint {
    /// The battle's turn (decisions made before this one).
    pub turn: u32,
    /// The battle's round.
    pub round: u16,
    /// `model` or `opponent`.
    pub actor: String,
    /// The acting unit's id (0-2 side 0, 3-5 side 1).
    pub unit: u8,
    /// The action taken.
    pub action: String,
    /// The model's estimate (for its own side) before the action.
    pub value_before: f32,
    /// Its estimate at the next decision.
    pub value_after: f32,
    /// `value_after - value_before`.
    pub swing: f32,
}

/// The turning points of one battle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BattleMoments {
    /// The opponent's strategy name.
    pub opponent: String,
    /// The battle's seed (`Battle::new(seed, config)`).
    pub battle_seed: u64,
    /// The model's side.
    pub model_side: u8,
    /// The opponent's strategy seed.
    pub opponent_seed: u64,
    /// `win`, `draw` or `loss` for the model.
    pub result: String,
    /// Decisions in the battle.
    pub turns: u32,
    /// The largest swings, largest first.
    pub points: Vec<TurningPoint>,
}

/// The validation battles' results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BattleReport {
    /// What was played.
    pub settings: BattleSettings,
    /// Per opponent, in the order given.
    pub opponents: Vec<OpponentResult>,
    /// Against all opponents together.
    pub overall: Wdl,
    /// Turning points of the battles with the largest swings (empty without a value head).
    pub turning_points: Vec<BattleMoments>,
}

/// One played battle.
struct Played {
    score: i8,
    turns: u32,
    moments: Option<(f32, BattleMoments)>,
}

/// Checks `settings` without playing.
pub fn validate(settings: &BattleSettings) -> Result<(), EvalError> {
    let n = settings.battles;
    if n == 0 || n % 2 == 1 || n > MAX_BATTLES {
        return Err(EvalError::Battles(n));
    }
    if settings.opponents.is_empty() {
        return Err(EvalError::NoOpponents);
    }
    for name in &settings.opponents {
        strategy::by_name(name, 0)?;
    }
    if settings.config.max_rounds == 0 {
        return Err(EvalError::MaxRounds(settings.config.max_rounds));
    }
    Ok(())
}

/// Plays the validation battles, calling `progress(done, total)` after every battle.
pub fn play_battles(
    model: &Arc<Mlp>,
    settings: &BattleSettings,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<BattleReport, EvalError> {
    validate(settings)?;
    let player = ModelPlayer::new(model.clone())?;
    let seeds = settings.battles / 2;
    let jobs = settings.opponents.len() * seeds;
    let total = (jobs * 2) as u64;
    let done = AtomicU64::new(0);
    let played: Vec<[Played; 2]> = (0..jobs)
        .into_par_iter()
        .map(|job| {
            let opponent = &settings.opponents[job / seeds];
            let seed = battle_seed(settings.seed, (job % seeds) as u64);
            let first = play(&player, opponent, seed, 0, settings.config)?;
            let second = play(&player, opponent, seed, 1, settings.config)?;
            progress(done.fetch_add(2, Ordering::Relaxed) + 2, total);
            Ok([first, second])
        })
        .collect::<Result<_, EvalError>>()?;
    let mut opponents = Vec::with_capacity(settings.opponents.len());
    let mut overall = Wdl::default();
    for (o, name) in settings.opponents.iter().enumerate() {
        let mut side = [Wdl::default(); 2];
        let mut turns = 0u64;
        for pair in &played[o * seeds..(o + 1) * seeds] {
            for (s, p) in pair.iter().enumerate() {
                side[s].add(p.score);
                overall.add(p.score);
                turns += u64::from(p.turns);
            }
        }
        opponents.push(OpponentResult::new(name, side, turns));
    }
    // The battles with the largest single swing; earlier battles first on ties.
    let mut moments: Vec<(f32, usize, &BattleMoments)> = played
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, p)| p.moments.as_ref().map(|(m, b)| (*m, i, b)))
        .collect();
    moments.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let turning_points = moments
        .into_iter()
        .take(settings.turning_battles)
        .map(|(_, _, b)| b.clone())
        .collect();
    Ok(BattleReport {
        settings: settings.clone(),
        opponents,
        overall,
        turning_points,
    })
}

/// One decision as the model saw it.
struct Step {
    turn: u32,
    round: u16,
    unit: u8,
    by_model: bool,
    action: &'static str,
    /// The model's estimate for its own side.
    value: f32,
}

/// Plays battle `seed` with `player`'s model on `model_side` against `opponent`.
fn play(
    player: &ModelPlayer,
    opponent: &str,
    seed: u64,
    model_side: u8,
    config: GameConfig,
) -> Result<Played, EvalError> {
    let mut me = player.clone();
    let model = me.model();
    let opp_seed = opponent_seed(seed, 1 - model_side);
    let mut them: Box<dyn Strategy> = strategy::by_name(opponent, opp_seed)?;
    let track = model.value.is_some();
    let mut steps = Vec::new();
    let mut battle = Battle::new(seed, config);
    while let Some(actor) = battle.actor() {
        let legal = battle.legal();
        let mine = actor.side() == model_side;
        let (action, value) = if mine {
            let d = me
                .decide(&battle, actor, legal)
                .ok_or(EvalError::NoLegalAction { seed })?;
            (d.action, d.value)
        } else {
            let action = them.choose(&battle, legal);
            let value = if track {
                me.decide(&battle, actor, legal).and_then(|d| d.value)
            } else {
                None
            };
            // The estimate is for the acting side: flip it to the model's side.
            (action, value.map(|v| -v))
        };
        if let Some(value) = value {
            steps.push(Step {
                turn: battle.turn(),
                round: battle.round(),
                unit: actor.0,
                by_model: mine,
                action: action.name(),
                value,
            });
        }
        battle.step(action).map_err(|source| EvalError::Game {
            player: if mine {
                "model".into()
            } else {
                opponent.into()
            },
            seed,
            source,
        })?;
    }
    let score = battle
        .outcome()
        .map_or(0, |o| o.value_for(model_side) as i8);
    let moments = turning_points(&steps).map(|(max, points)| {
        (
            max,
            BattleMoments {
                opponent: opponent.to_string(),
                battle_seed: seed,
                model_side,
                opponent_seed: opp_seed,
                result: match score {
                    1 => "win",
                    -1 => "loss",
                    _ => "draw",
                }
                .to_string(),
                turns: battle.turn(),
                points,
            },
        )
    });
    Ok(Played {
        score,
        turns: battle.turn(),
        moments,
    })
}

/// The [`POINTS_PER_BATTLE`] largest swings between consecutive estimates (largest first,
/// earlier first on ties) with the largest swing's size; `None` with fewer than two steps.
fn turning_points(steps: &[Step]) -> Option<(f32, Vec<TurningPoint>)> {
    let mut points: Vec<TurningPoint> = steps
        .windows(2)
        .map(|w| TurningPoint {
            turn: w[0].turn,
            round: w[0].round,
            actor: if w[0].by_model { "model" } else { "opponent" }.to_string(),
            unit: w[0].unit,
            action: w[0].action.to_string(),
            value_before: w[0].value,
            value_after: w[1].value,
            swing: w[1].value - w[0].value,
        })
        .collect();
    // Stable: equal swings keep battle order.
    points.sort_by(|a, b| b.swing.abs().total_cmp(&a.swing.abs()));
    points.truncate(POINTS_PER_BATTLE);
    let max = points.first()?.swing.abs();
    Some((max, points))
}
