//! The statistics as Markdown: headings, a line of explanation each, and padded tables.

use super::model::{Share, Stats, StrategyActions, Wdl};
use super::table::{Table, duration, fixed, or_dash, pct, sig, signed};
use std::collections::HashMap;
use std::fmt::Write;

/// Strategies per table in strategy-by-column tables, to keep lines short.
const COLUMNS_PER_TABLE: usize = 6;

impl Stats {
    /// The statistics as Markdown tables that read well in a terminal.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Statistics of {}\n\n{} battles, {} decisions (encoder {}). Ranked lists show the top {}.\n",
            self.dataset, self.battles, self.decisions, self.encoder, self.top
        );
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}\n");
        }
        self.results_md(&mut s);
        self.actions_md(&mut s);
        self.timing_md(&mut s);
        self.effect_md(&mut s);
        self.resources_md(&mut s);
        self.turning_md(&mut s);
        self.patterns_md(&mut s);
        s
    }

    fn results_md(&self, s: &mut String) {
        let r = &self.results;
        s.push_str("## Results by strategy\n\nWins, draws and losses against other strategies (battles against itself are counted apart, as mirror); durations over all its battles.\n\n");
        let mut t = Table::new(&[
            "strategy",
            "battles",
            "mirror",
            "wins",
            "draws",
            "losses",
            "win rate",
            "mean turns",
            "mean time",
        ]);
        for x in &r.by_strategy {
            t.row(vec![
                x.strategy.clone(),
                x.battles.to_string(),
                x.mirror.to_string(),
                x.wins.to_string(),
                x.draws.to_string(),
                x.losses.to_string(),
                or_dash(x.win_rate, pct),
                fixed(x.mean_turns, 1),
                or_dash(x.mean_seconds, duration),
            ]);
        }
        t.render(s);

        s.push_str("## Results by matchup\n\nBoth side assignments merged; `a` is the side-0 strategy of the matchup's first battle (in a mirror matchup, a = side 0). `a as side 0` and `a as side 1` are a's wins-draws-losses in each seat.\n\n");
        let names: Vec<&str> = r.victories.iter().map(|v| v.victory.as_str()).collect();
        let mut head = vec![
            "a vs b",
            "battles",
            "a",
            "draw",
            "b",
            "a win",
            "a as side 0",
            "a as side 1",
        ];
        head.extend(&names);
        head.extend(["turns", "time"]);
        let mut t = Table::new(&head);
        for m in &r.by_matchup {
            let wdl = |w: &Wdl| format!("{}-{}-{}", w.a_wins, w.draws, w.b_wins);
            let mut row = vec![
                format!("{} vs {}", m.a, m.b),
                m.total.battles.to_string(),
                m.total.a_wins.to_string(),
                m.total.draws.to_string(),
                m.total.b_wins.to_string(),
                or_dash(m.a_win_rate, pct),
                wdl(&m.a_on_side0),
                if m.a == m.b {
                    "—".into()
                } else {
                    wdl(&m.a_on_side1)
                },
            ];
            row.extend(
                names
                    .iter()
                    .map(|v| m.victories.get(*v).copied().unwrap_or(0).to_string()),
            );
            row.push(fixed(m.mean_turns, 1));
            row.push(or_dash(m.mean_seconds, duration));
            t.row(row);
        }
        t.render(s);

        s.push_str("## Victory conditions\n\n");
        let mut t = Table::new(&[
            "victory",
            "battles",
            "share",
            "side 0 won",
            "side 1 won",
            "drawn",
            "mean turns",
        ]);
        for v in &r.victories {
            t.row(vec![
                v.victory.clone(),
                v.battles.to_string(),
                pct(v.share),
                v.side0_wins.to_string(),
                v.side1_wins.to_string(),
                v.draws.to_string(),
                fixed(v.mean_turns, 1),
            ]);
        }
        t.render(s);
    }

    fn actions_md(&self, s: &mut String) {
        s.push_str("## Action frequency by strategy\n\nShare of each strategy's decisions. An action's type is its name without the target slot (`attack_enemy_2` → `attack_enemy`).\n\n");
        let types = self.ranked_names(|a| &a.types);
        self.share_matrix(s, "action type", &types, |a| &a.types);
        let names = self.ranked_names(|a| &a.names);
        let top: Vec<&str> = names.into_iter().take(self.top).collect();
        self.share_matrix(s, "action", &top, |a| &a.names);

        for (n, label) in [(2, "2"), (3, "3")] {
            let _ = writeln!(
                s,
                "### Most common sequences of {label} actions\n\nConsecutive decisions of one side in one battle; share of the strategy's sequences of {label}.\n"
            );
            let mut t = Table::new(&["strategy", "#", "sequence", "count", "share"]);
            for a in &self.actions {
                let list = if n == 2 { &a.pairs } else { &a.triples };
                for (i, q) in list.iter().enumerate() {
                    t.row(vec![
                        if i == 0 {
                            a.strategy.clone()
                        } else {
                            String::new()
                        },
                        (i + 1).to_string(),
                        q.actions.join(" → "),
                        q.count.to_string(),
                        pct(q.share),
                    ]);
                }
            }
            t.render(s);
        }
    }

    /// Names in `pick`'s lists, most frequent over all strategies first.
    fn ranked_names(&self, pick: fn(&StrategyActions) -> &Vec<Share>) -> Vec<&str> {
        let mut total: HashMap<&str, u64> = HashMap::new();
        for a in &self.actions {
            for x in pick(a) {
                *total.entry(x.name.as_str()).or_default() += x.count;
            }
        }
        let mut names: Vec<(&str, u64)> = total.into_iter().collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        names.into_iter().map(|(n, _)| n).collect()
    }

    /// Tables of the shares of `rows` (rows) by strategy (columns).
    fn share_matrix(
        &self,
        s: &mut String,
        title: &str,
        rows: &[&str],
        pick: fn(&StrategyActions) -> &Vec<Share>,
    ) {
        for chunk in self.actions.chunks(COLUMNS_PER_TABLE) {
            let mut head = vec![title];
            head.extend(chunk.iter().map(|a| a.strategy.as_str()));
            let mut t = Table::new(&head);
            for name in rows {
                let mut row = vec![name.to_string()];
                for a in chunk {
                    let share = pick(a).iter().find(|x| x.name == *name);
                    row.push(share.map_or("·".into(), |x| pct(x.share)));
                }
                t.row(row);
            }
            t.render(s);
        }
    }

    fn timing_md(&self, s: &mut String) {
        s.push_str("## Decision time\n\nMicroseconds a strategy took to choose (from the logs' wall clock; — where the logs had none).\n\n");
        let mut t = Table::new(&[
            "strategy", "timed", "mean µs", "p50 µs", "p90 µs", "p99 µs", "max µs",
        ]);
        for d in &self.decision_time {
            t.row(vec![
                d.strategy.clone(),
                d.timed.to_string(),
                or_dash(d.mean_us, sig),
                or_dash(d.p50_us, sig),
                or_dash(d.p90_us, sig),
                or_dash(d.p99_us, sig),
                or_dash(d.max_us, sig),
            ]);
        }
        t.render(s);
    }

    fn effect_md(&self, s: &mut String) {
        s.push_str("## Effectiveness by action type\n\nPer use, from the acting unit's own events. Status success = applied / (applied + resisted). Δ advantage = change of the actor's side's material lead until the next decision.\n\n");
        let mut t = Table::new(&[
            "action type",
            "uses",
            "damage",
            "healing",
            "statuses",
            "success",
            "KOs",
            "energy",
            "items",
            "Δ advantage",
        ]);
        for e in &self.effectiveness {
            t.row(vec![
                e.action_type.clone(),
                e.uses.to_string(),
                or_dash(e.damage_per_use, |x| fixed(x, 2)),
                or_dash(e.healing_per_use, |x| fixed(x, 2)),
                or_dash(e.statuses_per_use, |x| fixed(x, 3)),
                or_dash(e.status_success, pct),
                or_dash(e.knockouts_per_use, |x| fixed(x, 3)),
                or_dash(e.energy_per_use, |x| fixed(x, 1)),
                or_dash(e.items_per_use, |x| fixed(x, 3)),
                or_dash(e.advantage_per_use, |x| signed(x, 4)),
            ]);
        }
        t.render(s);
    }

    fn resources_md(&self, s: &mut String) {
        s.push_str("## Resources by battle phase\n\nPhases are the thirds of each battle by decision index. Energy spent per decision, and items used per battle side played.\n\n");
        let mut t = Table::new(&[
            "strategy",
            "sides",
            "energy early",
            "mid",
            "late",
            "items early",
            "mid",
            "late",
        ]);
        for r in &self.resources {
            let mut row = vec![r.strategy.clone(), r.sides.to_string()];
            row.extend(
                r.phases
                    .iter()
                    .map(|p| or_dash(p.energy_per_decision, |x| fixed(x, 2))),
            );
            row.extend(
                r.phases
                    .iter()
                    .map(|p| or_dash(p.items_per_battle, |x| fixed(x, 3))),
            );
            t.row(row);
        }
        t.render(s);
    }
}
