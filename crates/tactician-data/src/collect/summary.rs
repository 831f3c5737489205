//! Statistics of a collection: per matchup wins, draws, losses, turns and time, and totals.

use super::matchup::Matchup;
use super::shard::FileEntry;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write};
use std::path::PathBuf;
use tactician_game::Victory;

/// The facts of one battle that the statistics need.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BattleFacts {
    /// Index of its matchup.
    pub matchup: usize,
    /// The side the matchup's `a` strategy played (0 in mirror matchups).
    pub a_side: u8,
    /// The winning side.
    pub winner: Option<u8>,
    /// How it ended.
    pub victory: Victory,
    /// Decisions played.
    pub turns: u32,
    /// Wall time, in milliseconds.
    pub wall_ms: f64,
}

/// Statistics of one matchup, from the point of view of its `a` strategy (in a mirror
/// matchup, of side 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchupStats {
    /// First strategy.
    pub a: String,
    /// Second strategy.
    pub b: String,
    /// Battles played.
    pub battles: u64,
    /// Battles `a` won.
    pub a_wins: u64,
    /// Draws.
    pub draws: u64,
    /// Battles `b` won.
    pub b_wins: u64,
    /// `a`'s wins plus half its draws, over battles.
    pub a_score: f64,
    /// Battles won by elimination.
    pub elimination: u64,
    /// Battles won on points at the round limit.
    pub points: u64,
    /// Battles drawn at the round limit.
    pub timeout: u64,
    /// Decisions played.
    pub decisions: u64,
    /// Mean decisions per battle.
    pub mean_turns: f64,
    /// Mean wall time per battle, in milliseconds (not reproducible).
    pub mean_wall_ms: f64,
}

/// The statistics of a collection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The output folder.
    pub out: PathBuf,
    /// Battles written.
    pub battles: u64,
    /// Decisions written.
    pub decisions: u64,
    /// Per matchup, in schedule order.
    pub matchups: Vec<MatchupStats>,
    /// The files written.
    pub files: Vec<FileEntry>,
    /// Total size of the files, in bytes.
    pub bytes: u64,
    /// Seconds the run took.
    pub wall_seconds: f64,
    /// Worker threads used.
    pub threads: usize,
    /// Battles per second of wall time.
    pub battles_per_second: f64,
    /// Decisions per second of wall time.
    pub decisions_per_second: f64,
}

/// The victory condition named `name` in a record.
pub(crate) fn parse_victory(name: &str) -> Option<Victory> {
    [Victory::Elimination, Victory::Points, Victory::Timeout]
        .into_iter()
        .find(|v| v.name() == name)
}

/// Accumulates [`BattleFacts`] into [`MatchupStats`].
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    stats: Vec<MatchupStats>,
    wall_ms: Vec<f64>,
}

impl Tally {
    pub fn new(matchups: &[Matchup]) -> Self {
        Self {
            stats: matchups
                .iter()
                .map(|m| MatchupStats {
                    a: m.a.clone(),
                    b: m.b.clone(),
                    battles: 0,
                    a_wins: 0,
                    draws: 0,
                    b_wins: 0,
                    a_score: 0.0,
                    elimination: 0,
                    points: 0,
                    timeout: 0,
                    decisions: 0,
                    mean_turns: 0.0,
                    mean_wall_ms: 0.0,
                })
                .collect(),
            wall_ms: vec![0.0; matchups.len()],
        }
    }

    pub fn add(&mut self, f: &BattleFacts) {
        let s = &mut self.stats[f.matchup];
        s.battles += 1;
        match f.winner {
            None => s.draws += 1,
            Some(w) if w == f.a_side => s.a_wins += 1,
            Some(_) => s.b_wins += 1,
        }
        match f.victory {
            Victory::Elimination => s.elimination += 1,
            Victory::Points => s.points += 1,
            Victory::Timeout => s.timeout += 1,
        }
        s.decisions += u64::from(f.turns);
        self.wall_ms[f.matchup] += f.wall_ms;
    }

    pub fn finish(mut self, out: PathBuf, files: Vec<FileEntry>, wall: (f64, usize)) -> Summary {
        for (s, wall_ms) in self.stats.iter_mut().zip(&self.wall_ms) {
            let n = s.battles.max(1) as f64;
            s.a_score = (s.a_wins as f64 + 0.5 * s.draws as f64) / n;
            s.mean_turns = s.decisions as f64 / n;
            s.mean_wall_ms = wall_ms / n;
        }
        let battles = self.stats.iter().map(|s| s.battles).sum();
        let decisions = self.stats.iter().map(|s| s.decisions).sum();
        let (wall_seconds, threads) = wall;
        let per_s = |x: u64| {
            if wall_seconds > 0.0 {
                x as f64 / wall_seconds
            } else {
                0.0
            }
        };
        Summary {
            out,
            battles,
            decisions,
            matchups: self.stats,
            bytes: files.iter().map(|f| f.bytes).sum(),
            files,
            wall_seconds,
            threads,
            battles_per_second: per_s(battles),
            decisions_per_second: per_s(decisions),
        }
    }
}

impl Summary {
    /// The statistics as a Markdown table with a few lines of totals.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| matchup (a vs b) | battles | a wins | draws | b wins | a score | elim/points/timeout | mean turns | mean wall ms |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for m in &self.matchups {
            let _ = writeln!(
                s,
                "| {} vs {} | {} | {} | {} | {} | {:.3} | {}/{}/{} | {:.1} | {:.2} |",
                m.a,
                m.b,
                m.battles,
                m.a_wins,
                m.draws,
                m.b_wins,
                m.a_score,
                m.elimination,
                m.points,
                m.timeout,
                m.mean_turns,
                m.mean_wall_ms
            );
        }
        let _ = writeln!(
            s,
            "\n{} battles, {} decisions in {} file(s), {} in {}",
            self.battles,
            self.decisions,
            self.files.len(),
            Bytes(self.bytes),
            self.out.display()
        );
        let _ = writeln!(
            s,
            "{:.1} s on {} thread(s): {:.1} battles/s, {:.0} decisions/s",
            self.wall_seconds, self.threads, self.battles_per_second, self.decisions_per_second
        );
        s
    }
}

/// A byte count in human units.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        match self.0 {
            0..1024 => write!(f, "{} B", self.0),
            1024..1_048_576 => write!(f, "{:.1} KiB", b / 1024.0),
            1_048_576..1_073_741_824 => write!(f, "{:.1} MiB", b / 1_048_576.0),
            _ => write!(f, "{:.2} GiB", b / 1_073_741_824.0),
        }
    }
}
