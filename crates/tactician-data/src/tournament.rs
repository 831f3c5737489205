//! Round-robin tournaments between strategies.
//!
//! Every pair of the named strategies plays `battles_per_pair` battles: `battles_per_pair / 2`
//! battle seeds, each played twice with the sides swapped, so neither strategy profits from a
//! lucky map or side. Battle `i` of a run is played from [`battle_seed`]`(seed, i)` and each
//! side's strategy from [`strategy_seed`]`(battle seed, side)`, as in a collection run, so a
//! table is reproducible from its seed and never depends on the thread count. Battles run in
//! parallel on all cores (rayon).
//!
//! ```no_run
//! use tactician_data::tournament::round_robin;
//! use tactician_game::GameConfig;
//!
//! let table = round_robin(&["random", "aggressive"], 100, 1, GameConfig::default()).unwrap();
//! println!("{}", table.to_markdown());
//! ```

use crate::collect::{MAX_BATTLES, MAX_ROUNDS, Progress, battle_seed, strategy_seed};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use tactician_game::strategy::{self, UnknownStrategy};
use tactician_game::{Battle, GameConfig, GameError};

/// Why a tournament cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TournamentError {
    /// A name is not a registered strategy.
    #[error(transparent)]
    UnknownStrategy(#[from] UnknownStrategy),
    /// Fewer than two strategies: there is no pair to play.
    #[error("a tournament needs at least two strategies, got {0}")]
    TooFewStrategies(usize),
    /// A strategy is named twice.
    #[error("strategy {0:?} is named twice")]
    DuplicateStrategy(String),
    /// No battles per pair.
    #[error("battles per pair must be positive")]
    ZeroBattles,
    /// An odd number of battles per pair: every seed is played once from each side.
    #[error("battles per pair must be even (each seed is played from both sides), got {0}")]
    OddBattles(usize),
    /// More battles per pair than a run may hold.
    #[error("at most {MAX_BATTLES} battles per pair, got {0}")]
    TooManyBattles(usize),
    /// The round limit is out of range.
    #[error("the round limit must be 1..={MAX_ROUNDS}, got {0}")]
    MaxRounds(u16),
    /// A strategy chose an action the game refused (a bug in that strategy).
    #[error("strategy {strategy:?} broke the rules in battle seed {seed}")]
    Game {
        /// The offending strategy.
        strategy: String,
        /// The battle's seed.
        seed: u64,
        /// What the game said.
        #[source]
        source: GameError,
    },
}

/// The results of one strategy (the row) against one opponent (the column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairResult {
    /// The row strategy.
    pub strategy: String,
    /// The column strategy.
    pub opponent: String,
    /// Battles played between them.
    pub battles: usize,
    /// Battles the row strategy won.
    pub wins: usize,
    /// Battles drawn (timeout without a points winner).
    pub draws: usize,
    /// Battles the row strategy lost.
    pub losses: usize,
    /// `wins / battles` (draws count as not won).
    pub win_rate: f64,
    /// Average decisions per battle.
    pub average_turns: f64,
}

/// The results of a round robin: one [`PairResult`] per ordered pair of distinct strategies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// The strategies, in the order given.
    pub strategies: Vec<String>,
    /// Battles per pair.
    pub battles_per_pair: usize,
    /// The run seed.
    pub seed: u64,
    /// The rules played.
    pub config: GameConfig,
    /// Row-major: for each strategy, its results against every other strategy in order.
    pub pairs: Vec<PairResult>,
}

impl Table {
    /// The results of `strategy` against `opponent`.
    pub fn get(&self, strategy: &str, opponent: &str) -> Option<&PairResult> {
        self.pairs
            .iter()
            .find(|p| p.strategy == strategy && p.opponent == opponent)
    }

    /// The share of all its battles `strategy` won, against every opponent together.
    pub fn overall_win_rate(&self, strategy: &str) -> Option<f64> {
        let (wins, battles) = self
            .pairs
            .iter()
            .filter(|p| p.strategy == strategy)
            .fold((0, 0), |(w, b), p| (w + p.wins, b + p.battles));
        (battles > 0).then(|| wins as f64 / battles as f64)
    }

    /// The table as Markdown: one row per strategy, one column per opponent, each cell the
    /// row's win rate in percent (draws count as not won), and a last column over all opponents.
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("| strategy |");
        for name in &self.strategies {
            let _ = write!(s, " vs {name} |");
        }
        s.push_str(" overall |\n|---|");
        s.push_str(&"---:|".repeat(self.strategies.len() + 1));
        s.push('\n');
        for row in &self.strategies {
            let _ = write!(s, "| {row} |");
            for col in &self.strategies {
                match self.get(row, col) {
                    Some(p) => {
                        let _ = write!(s, " {:.1} |", 100.0 * p.win_rate);
                    }
                    None => s.push_str(" — |"),
                }
            }
            let overall = self.overall_win_rate(row).unwrap_or(0.0);
            let _ = writeln!(s, " {:.1} |", 100.0 * overall);
        }
        s
    }
}

/// Plays a round robin between `names` with `battles_per_pair` battles per pair (even), from
/// run seed `seed`, under `config`.
pub fn round_robin(
    names: &[&str],
    battles_per_pair: usize,
    seed: u64,
    config: GameConfig,
) -> Result<Table, TournamentError> {
    round_robin_with_progress(names, battles_per_pair, seed, config, &|_| {})
}

/// [`round_robin`], calling `progress` from the worker threads after every battle.
pub fn round_robin_with_progress(
    names: &[&str],
    battles_per_pair: usize,
    seed: u64,
    config: GameConfig,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Table, TournamentError> {
    validate(names, battles_per_pair, config)?;
    let seeds = battles_per_pair / 2;
    let pairs: Vec<(usize, usize)> = (0..names.len())
        .flat_map(|i| (i + 1..names.len()).map(move |j| (i, j)))
        .collect();
    let total = (pairs.len() * battles_per_pair) as u64;
    let done = AtomicU64::new(0);
    // One job per (pair, seed): both side assignments of a seed, in a fixed order.
    let results: Vec<[Played; 2]> = (0..pairs.len() * seeds)
        .into_par_iter()
        .map(|job| {
            let (i, j) = pairs[job / seeds];
            let battle = battle_seed(seed, (job % seeds) as u64);
            let first = play(battle, config, [names[i], names[j]])?;
            let second = play(battle, config, [names[j], names[i]])?;
            let finished = done.fetch_add(2, Ordering::Relaxed) + 2;
            progress(Progress {
                done: finished,
                total,
            });
            // Seen from strategy `i`: first it played side 0, then side 1.
            Ok([first, second.swapped()])
        })
        .collect::<Result<_, TournamentError>>()?;
    let mut tally = vec![Tally::default(); names.len() * names.len()];
    for (job, [a, b]) in results.iter().enumerate() {
        let (i, j) = pairs[job / seeds];
        for r in [a, b] {
            tally[i * names.len() + j].add(r.score, r.turns);
            tally[j * names.len() + i].add(-r.score, r.turns);
        }
    }
    let mut rows = Vec::with_capacity(names.len() * (names.len() - 1));
    for (i, row) in names.iter().enumerate() {
        for (j, col) in names.iter().enumerate() {
            if i != j {
                rows.push(tally[i * names.len() + j].result(row, col));
            }
        }
    }
    Ok(Table {
        strategies: names.iter().map(|s| s.to_string()).collect(),
        battles_per_pair,
        seed,
        config,
        pairs: rows,
    })
}

fn validate(
    names: &[&str],
    battles_per_pair: usize,
    config: GameConfig,
) -> Result<(), TournamentError> {
    for name in names {
        strategy::by_name(name, 0)?;
    }
    if names.len() < 2 {
        return Err(TournamentError::TooFewStrategies(names.len()));
    }
    for (k, name) in names.iter().enumerate() {
        if names[..k].contains(name) {
            return Err(TournamentError::DuplicateStrategy(name.to_string()));
        }
    }
    match battles_per_pair {
        0 => return Err(TournamentError::ZeroBattles),
        n if n % 2 == 1 => return Err(TournamentError::OddBattles(n)),
        n if n as u64 > MAX_BATTLES => return Err(TournamentError::TooManyBattles(n)),
        _ => {}
    }
    if config.max_rounds == 0 || config.max_rounds > MAX_ROUNDS {
        return Err(TournamentError::MaxRounds(config.max_rounds));
    }
    Ok(())
}

/// One battle's result for the strategy on side 0: +1 won, 0 drawn, -1 lost.
#[derive(Debug, Clone, Copy)]
struct Played {
    score: i8,
    turns: u32,
}

impl Played {
    /// The same battle seen from the other side.
    fn swapped(self) -> Self {
        Self {
            score: -self.score,
            ..self
        }
    }
}

/// Plays one battle from `seed` between `names` (side 0 first) to its end.
fn play(seed: u64, config: GameConfig, names: [&str; 2]) -> Result<Played, TournamentError> {
    let mut players = [
        strategy::by_name(names[0], strategy_seed(seed, 0))?,
        strategy::by_name(names[1], strategy_seed(seed, 1))?,
    ];
    let mut battle = Battle::new(seed, config);
    while let Some(actor) = battle.actor() {
        let side = actor.side() as usize;
        let action = players[side].choose(&battle, battle.legal());
        battle
            .step(action)
            .map_err(|source| TournamentError::Game {
                strategy: names[side].to_string(),
                seed,
                source,
            })?;
    }
    let score = battle.outcome().map_or(0, |o| o.value_for(0) as i8);
    Ok(Played {
        score,
        turns: battle.turn(),
    })
}

/// Running counts of one ordered pair.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    wins: usize,
    draws: usize,
    losses: usize,
    turns: u64,
}

impl Tally {
    fn add(&mut self, score: i8, turns: u32) {
        match score {
            1 => self.wins += 1,
            -1 => self.losses += 1,
            _ => self.draws += 1,
        }
        self.turns += u64::from(turns);
    }

    fn result(&self, strategy: &str, opponent: &str) -> PairResult {
        let battles = self.wins + self.draws + self.losses;
        let per = |x: f64| {
            if battles == 0 {
                0.0
            } else {
                x / battles as f64
            }
        };
        PairResult {
            strategy: strategy.to_string(),
            opponent: opponent.to_string(),
            battles,
            wins: self.wins,
            draws: self.draws,
            losses: self.losses,
            win_rate: per(self.wins as f64),
            average_turns: per(self.turns as f64),
        }
    }
}

#[cfg(test)]
mod tests;
