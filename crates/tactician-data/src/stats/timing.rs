//! Decision-time distributions in bounded memory: a log-scale histogram per strategy.

use super::battle::{BattleView, Players};
use super::model::DecisionTime;

/// Smallest time resolved, in microseconds; smaller positive times share the first bucket.
const MIN_US: f64 = 1e-3;
/// Ratio between bucket bounds: quantiles are within 1% of the exact value.
const RATIO: f64 = 1.01;
/// Buckets: up to `MIN_US · RATIO^MAX_BUCKETS` (about 30 years); larger times share the last.
const MAX_BUCKETS: usize = 5000;

/// A histogram of non-negative times, with exact count, sum and maximum.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Histogram {
    zeros: u64,
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
    max: f64,
}

impl Histogram {
    /// Adds one time; negative and non-finite values are ignored.
    pub fn add(&mut self, us: f64) {
        if !us.is_finite() || us < 0.0 {
            return;
        }
        self.count += 1;
        self.sum += us;
        self.max = self.max.max(us);
        if us == 0.0 {
            self.zeros += 1;
            return;
        }
        let i = ((us / MIN_US).ln() / RATIO.ln())
            .floor()
            .clamp(0.0, (MAX_BUCKETS - 1) as f64) as usize;
        if self.buckets.len() <= i {
            self.buckets.resize(i + 1, 0);
        }
        self.buckets[i] += 1;
    }

    /// Values added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean, if any value was added.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The maximum, if any value was added.
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// The `q` quantile (0 < q ≤ 1): the geometric middle of the bucket holding the value of
    /// rank `⌈q·n⌉`, capped at the maximum.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = self.zeros;
        if seen >= rank {
            return Some(0.0);
        }
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let mid = MIN_US * RATIO.powf(i as f64 + 0.5);
                return Some(mid.min(self.max));
            }
        }
        Some(self.max)
    }
}

/// Decision times per strategy.
#[derive(Debug, Default, Clone)]
pub(crate) struct TimingTally {
    players: Vec<(u64, Histogram)>,
}

impl TimingTally {
    /// Adds one battle's decision times.
    pub fn add(&mut self, b: &BattleView) {
        for d in &b.rows {
            let p = d.player as usize;
            if self.players.len() <= p {
                self.players.resize_with(p + 1, Default::default);
            }
            let (decisions, h) = &mut self.players[p];
            *decisions += 1;
            if let Some(us) = d.decision_us {
                h.add(us);
            }
        }
    }

    /// The per-strategy distributions.
    pub fn finish(self, players: &Players) -> Vec<DecisionTime> {
        self.players
            .into_iter()
            .enumerate()
            .filter(|(_, (n, _))| *n > 0)
            .map(|(p, (_, h))| DecisionTime {
                strategy: players.name(p as u32).to_string(),
                timed: h.count(),
                mean_us: h.mean(),
                p50_us: h.quantile(0.5),
                p90_us: h.quantile(0.9),
                p99_us: h.quantile(0.99),
                max_us: h.max(),
            })
            .collect()
    }
}
