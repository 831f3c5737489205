//! The pass over the battles table: wins, draws and losses by strategy, matchup and victory
//! condition; and the log position of the battles named by turning points.

use super::StatsError;
use super::battle::Players;
use super::model::{MatchupResult, Results, StrategyResult, VictoryResult, Wdl};
use super::read;
use crate::dataset::Dataset;
use arrow_array::{Array, Float64Array, StringArray, UInt8Array, UInt32Array, UInt64Array};
use std::collections::{BTreeMap, HashMap};

/// The battles columns statistics read.
const COLUMNS: [&str; 9] = [
    "battle_id",
    "side0_player",
    "side1_player",
    "winner",
    "victory",
    "turns",
    "wall_ms",
    "source_file",
    "source_line",
];

/// Sums of turns and seconds.
#[derive(Debug, Default, Clone, Copy)]
struct Durations {
    battles: u64,
    turns: u64,
    seconds: f64,
    timed: u64,
}

impl Durations {
    fn add(&mut self, turns: u32, seconds: Option<f64>) {
        self.battles += 1;
        self.turns += u64::from(turns);
        if let Some(s) = seconds {
            self.seconds += s;
            self.timed += 1;
        }
    }
    fn mean_turns(&self) -> f64 {
        self.turns as f64 / self.battles.max(1) as f64
    }
    fn mean_seconds(&self) -> Option<f64> {
        (self.timed > 0).then(|| self.seconds / self.timed as f64)
    }
}

#[derive(Debug, Default, Clone)]
struct Strategy {
    mirror: u64,
    wdl: [u64; 3],
    time: Durations,
}

#[derive(Debug, Clone)]
struct Matchup {
    a: u32,
    b: u32,
    sides: [Wdl; 2],
    side_wins: [u64; 2],
    victories: BTreeMap<String, u64>,
    time: Durations,
}

#[derive(Debug, Default, Clone)]
struct Victory {
    battles: u64,
    /// Side 0 wins, side 1 wins, draws.
    results: [u64; 3],
    turns: u64,
}

/// What the battles table gave.
pub(crate) struct BattleTable {
    pub results: Results,
    pub battles: u64,
}

/// Reads the battles table; `sources` maps battle ids to fill with their `file:line`.
pub(crate) fn battles(
    ds: &Dataset,
    sources: &mut HashMap<String, Option<String>>,
) -> Result<BattleTable, StatsError> {
    let mut names = Players::default();
    let mut strategies: Vec<Strategy> = Vec::new();
    let mut matchups: Vec<Matchup> = Vec::new();
    let mut matchup_index: HashMap<(u32, u32), usize> = HashMap::new();
    let mut victories: BTreeMap<String, Victory> = BTreeMap::new();
    let mut total = 0u64;
    for f in ds.manifest().table("battles") {
        let path = ds.root().join(&f.path);
        read::scan(&path, &COLUMNS, |b| {
            let ids = b.required::<StringArray>("battle_id")?;
            let p0 = b.required::<StringArray>("side0_player")?;
            let p1 = b.required::<StringArray>("side1_player")?;
            let winner = b.col::<UInt8Array>("winner")?;
            let victory = b.required::<StringArray>("victory")?;
            let turns = b.required::<UInt32Array>("turns")?;
            let wall = b.col::<Float64Array>("wall_ms")?;
            let file = b.required::<StringArray>("source_file")?;
            let line = b.required::<UInt64Array>("source_line")?;
            for i in 0..b.len() {
                total += 1;
                let w = winner.is_valid(i).then(|| winner.value(i));
                if let Some(w) = w
                    && w > 1
                {
                    return Err(b.value_error(format!(
                        "battle {}: winner {w} is not 0, 1 or null",
                        ids.value(i)
                    )));
                }
                if let Some(slot) = sources.get_mut(ids.value(i)) {
                    *slot = Some(format!("{}:{}", file.value(i), line.value(i)));
                }
                let players = [names.intern(p0.value(i)), names.intern(p1.value(i))];
                let t = turns.value(i);
                let seconds = wall.is_valid(i).then(|| wall.value(i) / 1000.0);
                // Strategies.
                if strategies.len() < names.len() {
                    strategies.resize_with(names.len(), Strategy::default);
                }
                let mirror = players[0] == players[1];
                for (side, &p) in players.iter().enumerate() {
                    let s = &mut strategies[p as usize];
                    if mirror {
                        if side == 0 {
                            s.mirror += 1;
                            s.time.add(t, seconds);
                        }
                        continue;
                    }
                    s.time.add(t, seconds);
                    let k = match w {
                        None => 1,
                        Some(w) if usize::from(w) == side => 0,
                        Some(_) => 2,
                    };
                    s.wdl[k] += 1;
                }
                // Matchups.
                let m = match matchup_index
                    .get(&(players[0], players[1]))
                    .or_else(|| matchup_index.get(&(players[1], players[0])))
                {
                    Some(&m) => m,
                    None => {
                        matchup_index.insert((players[0], players[1]), matchups.len());
                        matchups.push(Matchup {
                            a: players[0],
                            b: players[1],
                            sides: [Wdl::default(); 2],
                            side_wins: [0; 2],
                            victories: BTreeMap::new(),
                            time: Durations::default(),
                        });
                        matchups.len() - 1
                    }
                };
                let mu = &mut matchups[m];
                let a_side = if players[0] == mu.a { 0 } else { 1 };
                let cell = &mut mu.sides[a_side];
                cell.battles += 1;
                match w {
                    None => cell.draws += 1,
                    Some(w) if usize::from(w) == a_side => cell.a_wins += 1,
                    Some(_) => cell.b_wins += 1,
                }
                if let Some(w) = w {
                    mu.side_wins[usize::from(w)] += 1;
                }
                *mu.victories
                    .entry(victory.value(i).to_string())
                    .or_default() += 1;
                mu.time.add(t, seconds);
                // Victory conditions.
                let v = victories.entry(victory.value(i).to_string()).or_default();
                v.battles += 1;
                v.results[w.map_or(2, usize::from)] += 1;
                v.turns += u64::from(t);
            }
            Ok(())
        })?;
    }
    Ok(BattleTable {
        results: finish(&names, strategies, matchups, victories, total),
        battles: total,
    })
}

fn finish(
    names: &Players,
    strategies: Vec<Strategy>,
    matchups: Vec<Matchup>,
    victories: BTreeMap<String, Victory>,
    total: u64,
) -> Results {
    let rate = |x: u64, n: u64| (n > 0).then(|| x as f64 / n as f64);
    let mut by_strategy: Vec<StrategyResult> = strategies
        .iter()
        .enumerate()
        .map(|(p, s)| {
            let [wins, draws, losses] = s.wdl;
            StrategyResult {
                strategy: names.name(p as u32).to_string(),
                battles: s.time.battles,
                mirror: s.mirror,
                wins,
                draws,
                losses,
                win_rate: rate(wins, wins + draws + losses),
                mean_turns: s.time.mean_turns(),
                mean_seconds: s.time.mean_seconds(),
            }
        })
        .collect();
    by_strategy.sort_by(|a, b| {
        let r = |s: &StrategyResult| s.win_rate.unwrap_or(-1.0);
        r(b).total_cmp(&r(a))
            .then_with(|| a.strategy.cmp(&b.strategy))
    });
    let by_matchup = matchups
        .into_iter()
        .map(|m| {
            let [s0, s1] = m.sides;
            let t = Wdl {
                battles: s0.battles + s1.battles,
                a_wins: s0.a_wins + s1.a_wins,
                draws: s0.draws + s1.draws,
                b_wins: s0.b_wins + s1.b_wins,
            };
            MatchupResult {
                a: names.name(m.a).to_string(),
                b: names.name(m.b).to_string(),
                total: t,
                a_win_rate: rate(t.a_wins, t.battles),
                a_on_side0: s0,
                a_on_side1: s1,
                side0_wins: m.side_wins[0],
                side1_wins: m.side_wins[1],
                victories: m.victories,
                mean_turns: m.time.mean_turns(),
                mean_seconds: m.time.mean_seconds(),
            }
        })
        .collect();
    let mut victories: Vec<VictoryResult> = victories
        .into_iter()
        .map(|(victory, v)| VictoryResult {
            victory,
            battles: v.battles,
            share: v.battles as f64 / total.max(1) as f64,
            side0_wins: v.results[0],
            side1_wins: v.results[1],
            draws: v.results[2],
            mean_turns: v.turns as f64 / v.battles.max(1) as f64,
        })
        .collect();
    victories.sort_by(|a, b| {
        b.battles
            .cmp(&a.battles)
            .then_with(|| a.victory.cmp(&b.victory))
    });
    Results {
        by_strategy,
        by_matchup,
        victories,
    }
}
