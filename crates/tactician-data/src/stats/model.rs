//! The statistics of a dataset, as plain serializable data.
//!
//! "Strategy" means the `player` of a side: a bot's strategy or a human player's id. Rates and
//! means that have no data behind them (no battles, no timing in the logs) are `None` (`null`
//! in JSON), never a made-up zero.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything `tactician stats` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The dataset folder.
    pub dataset: String,
    /// The encoder hash the dataset is bound to.
    pub encoder: String,
    /// Battles (rows of the battles table).
    pub battles: u64,
    /// Decisions (rows of the transitions table).
    pub decisions: u64,
    /// Length of the ranked lists.
    pub top: usize,
    /// Wins, draws and losses.
    pub results: Results,
    /// Which actions each strategy chooses, alone and in sequences.
    pub actions: Vec<StrategyActions>,
    /// How long each strategy takes to decide.
    pub decision_time: Vec<DecisionTime>,
    /// What each action type achieves per use.
    pub effectiveness: Vec<Effectiveness>,
    /// Energy and items by strategy and battle phase.
    pub resources: Vec<Resources>,
    /// The decisions after which the material advantage moved most.
    pub turning_points: TurningPoints,
    /// Actions that winners choose more (or less) often than losers.
    pub patterns: Patterns,
    /// Inconsistencies noticed while reading (none in a healthy dataset).
    pub warnings: Vec<String>,
}

/// Wins, draws and losses by strategy, matchup and victory condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// Per strategy, best win rate first.
    pub by_strategy: Vec<StrategyResult>,
    /// Per pair of strategies (both side assignments merged), in order of first appearance.
    pub by_matchup: Vec<MatchupResult>,
    /// Per victory condition, most frequent first.
    pub victories: Vec<VictoryResult>,
}

/// One strategy's results. Battles against itself (`mirror`) are not counted as wins, draws
/// or losses: `wins + draws + losses = battles - mirror`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyResult {
    /// The strategy.
    pub strategy: String,
    /// Battles it played (a battle against itself counts once).
    pub battles: u64,
    /// Of those, battles against itself.
    pub mirror: u64,
    /// Battles won against other strategies.
    pub wins: u64,
    /// Battles drawn against other strategies.
    pub draws: u64,
    /// Battles lost against other strategies.
    pub losses: u64,
    /// `wins / (battles - mirror)`.
    pub win_rate: Option<f64>,
    /// Mean decisions per battle, over all its battles.
    pub mean_turns: f64,
    /// Mean wall-clock seconds per battle, over its battles that report one.
    pub mean_seconds: Option<f64>,
}

/// Results of the battles of one side assignment of a matchup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wdl {
    /// Battles.
    pub battles: u64,
    /// Won by `a`.
    pub a_wins: u64,
    /// Drawn.
    pub draws: u64,
    /// Won by `b`.
    pub b_wins: u64,
}

/// One matchup: the battles between `a` and `b`, whichever side each played. `a` is the
/// strategy on side 0 in the matchup's first battle; in a mirror matchup (`a == b`), "a" means
/// side 0 and "b" side 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchupResult {
    /// First strategy.
    pub a: String,
    /// Second strategy.
    pub b: String,
    /// All battles of the matchup.
    pub total: Wdl,
    /// `a`'s win rate over all battles.
    pub a_win_rate: Option<f64>,
    /// Battles with `a` on side 0.
    pub a_on_side0: Wdl,
    /// Battles with `a` on side 1 (none in a mirror matchup).
    pub a_on_side1: Wdl,
    /// Battles won by side 0, whoever played it.
    pub side0_wins: u64,
    /// Battles won by side 1.
    pub side1_wins: u64,
    /// Battles per victory condition.
    pub victories: BTreeMap<String, u64>,
    /// Mean decisions per battle.
    pub mean_turns: f64,
    /// Mean wall-clock seconds per battle, over battles that report one.
    pub mean_seconds: Option<f64>,
}

/// How often battles end one way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VictoryResult {
    /// The victory condition (`elimination`, `points`, `timeout` in the built-in game).
    pub victory: String,
    /// Battles that ended so.
    pub battles: u64,
    /// Their share of all battles.
    pub share: f64,
    /// Of those, won by side 0.
    pub side0_wins: u64,
    /// Won by side 1.
    pub side1_wins: u64,
    /// Drawn.
    pub draws: u64,
    /// Mean decisions per battle.
    pub mean_turns: f64,
}

/// A count and its share of a total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// What was counted.
    pub name: String,
    /// How often.
    pub count: u64,
    /// `count` over the total.
    pub share: f64,
}

/// A sequence of consecutive actions of one side in one battle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// The action names, in order.
    pub actions: Vec<String>,
    /// How often the sequence occurred.
    pub count: u64,
    /// `count` over all sequences of that length of the strategy.
    pub share: f64,
}

/// One strategy's choice of actions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyActions {
    /// The strategy.
    pub strategy: String,
    /// Its decisions.
    pub decisions: u64,
    /// Every action name it used, most frequent first (shares sum to 1).
    pub names: Vec<Share>,
    /// Every action type (name without the trailing `_N` slot), most frequent first.
    pub types: Vec<Share>,
    /// Sequences of 2 consecutive own decisions: how many there were.
    pub pair_count: u64,
    /// The most frequent sequences of 2.
    pub pairs: Vec<Sequence>,
    /// Sequences of 3 consecutive own decisions: how many there were.
    pub triple_count: u64,
    /// The most frequent sequences of 3.
    pub triples: Vec<Sequence>,
}

/// The distribution of one strategy's decision times, in microseconds. Quantiles come from a
/// log-scale histogram and are within 1% of the exact value; the maximum is exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTime {
    /// The strategy.
    pub strategy: String,
    /// Decisions with a recorded time.
    pub timed: u64,
    /// Mean.
    pub mean_us: Option<f64>,
    /// Median.
    pub p50_us: Option<f64>,
    /// 90th percentile.
    pub p90_us: Option<f64>,
    /// 99th percentile.
    pub p99_us: Option<f64>,
    /// Maximum.
    pub max_us: Option<f64>,
}

/// What one action type achieves, per use. Per-use figures are over the uses whose log
/// carried events (`measured`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effectiveness {
    /// The action type.
    pub action_type: String,
    /// Decisions that chose it.
    pub uses: u64,
    /// Of those, decisions whose effects are known.
    pub measured: u64,
    /// Damage dealt by the acting unit, per use.
    pub damage_per_use: Option<f64>,
    /// Health restored by the acting unit, per use.
    pub healing_per_use: Option<f64>,
    /// Statuses the acting unit applied, per use.
    pub statuses_per_use: Option<f64>,
    /// Status applications attempted (applied + resisted).
    pub status_attempts: u64,
    /// `applied / (applied + resisted)`; `None` without attempts.
    pub status_success: Option<f64>,
    /// Enemy units knocked out, per use.
    pub knockouts_per_use: Option<f64>,
    /// Energy spent, per use.
    pub energy_per_use: Option<f64>,
    /// Items used, per use.
    pub items_per_use: Option<f64>,
    /// Mean change of the acting side's material advantage from this decision to the next
    /// (own minus enemy material), over decisions where both are known.
    pub advantage_per_use: Option<f64>,
}

/// One strategy's use of energy and items over the phases of its battles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resources {
    /// The strategy.
    pub strategy: String,
    /// Battles it played a side in (a mirror battle counts twice).
    pub sides: u64,
    /// Early, mid and late: the thirds of each battle by decision index.
    pub phases: Vec<PhaseResources>,
}

/// Energy and items in one phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseResources {
    /// `early`, `mid` or `late`.
    pub phase: String,
    /// The strategy's decisions in this phase.
    pub decisions: u64,
    /// Energy spent per decision (over decisions whose effects are known).
    pub energy_per_decision: Option<f64>,
    /// Items used in this phase, per battle side played.
    pub items_per_battle: Option<f64>,
}

/// The largest swings of material advantage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurningPoints {
    /// Battles with at least one measurable swing.
    pub battles_measured: u64,
    /// Of those, battles with a winner whose largest swing is not zero (so it has a gainer).
    pub decisive: u64,
    /// Decisive battles won by the side that gained in the battle's largest swing.
    pub decisive_won_by_largest_gainer: u64,
    /// The largest swings, largest first.
    pub points: Vec<TurningPoint>,
}

/// One decision after which the advantage moved a lot. The advantage is side 0's material
/// minus side 1's, before the decision (`before`) and before the next decision of the battle
/// (`after`); so the swing also holds what happened at the start of the next unit's turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurningPoint {
    /// The battle.
    pub battle_id: String,
    /// Where the battle's record is: `file:line` of the log it was ingested from.
    pub source: Option<String>,
    /// Decision index in the battle (the record's `decisions[turn]`).
    pub turn: u32,
    /// Acting side.
    pub side: u8,
    /// Acting strategy.
    pub player: String,
    /// The other side's strategy.
    pub opponent: String,
    /// The action chosen.
    pub action: String,
    /// Side 0's advantage before the decision.
    pub before: f64,
    /// Side 0's advantage before the next decision.
    pub after: f64,
    /// `after - before`.
    pub swing: f64,
    /// The battle's winner, `None` for a draw.
    pub winner: Option<u8>,
}

/// Decision patterns of winning and losing sides (draws excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patterns {
    /// Decisions of sides that won.
    pub winner_decisions: u64,
    /// Decisions of sides that lost.
    pub loser_decisions: u64,
    /// Every action type, by z (most typical of winners first).
    pub by_type: Vec<Pattern>,
    /// The action names most typical of winners and of losers.
    pub by_action: Vec<Pattern>,
    /// Pairs of consecutive own action types most typical of winners and of losers.
    pub by_pair: Vec<Pattern>,
    /// The same comparison of action types within each strategy's own wins and losses, which
    /// removes the effect of who is playing.
    pub by_strategy: Vec<StrategyPatterns>,
    /// Win rates of sides by whether they used an item-using action type at all.
    pub items: Vec<ItemUse>,
}

/// How much more often winners than losers choose something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// An action type, action name or `type → type`.
    pub pattern: String,
    /// Occurrences among winners' decisions (or sequences).
    pub winners: u64,
    /// Occurrences among losers'.
    pub losers: u64,
    /// Share among winners'.
    pub winner_share: f64,
    /// Share among losers'.
    pub loser_share: f64,
    /// `winner_share / loser_share`; `None` when losers never did it.
    pub lift: Option<f64>,
    /// Two-proportion z statistic: above 3 or below -3 is unlikely to be chance (decisions of
    /// one battle are not independent, so read it as a ranking more than a test).
    pub z: Option<f64>,
}

/// Action types in one strategy's won and lost battles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyPatterns {
    /// The strategy.
    pub strategy: String,
    /// Its decisions in battles it won.
    pub winner_decisions: u64,
    /// Its decisions in battles it lost.
    pub loser_decisions: u64,
    /// Per action type, in the order of [`Patterns::by_type`].
    pub by_type: Vec<Pattern>,
}

/// Outcomes of battle sides by whether they used an item action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemUse {
    /// An action type whose uses spend items, or `any item`.
    pub item: String,
    /// Sides that used it at least once.
    pub used: SideOutcomes,
    /// Sides that never did.
    pub unused: SideOutcomes,
}

/// Outcomes of a set of battle sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SideOutcomes {
    /// Battle sides.
    pub sides: u64,
    /// Won.
    pub wins: u64,
    /// Drawn.
    pub draws: u64,
    /// Lost.
    pub losses: u64,
    /// `wins / sides`.
    pub win_rate: Option<f64>,
}
