//! Markdown of the strategic analysis: turning points and winning patterns.

use super::model::{Pattern, Stats};
use super::table::{Table, fixed, or_dash, pct, signed};
use std::fmt::Write;

/// Strategies per table in the within-strategy lift table.
const COLUMNS_PER_TABLE: usize = 6;

impl Stats {
    pub(super) fn turning_md(&self, s: &mut String) {
        let tp = &self.turning_points;
        s.push_str("## Turning points\n\nThe decisions after which the material advantage (side 0's material minus side 1's; material = remaining share of health in the built-in game) moved most, measured from before the decision to before the next one. To replay one, take the battle's record (`log:line`) and follow `decisions[turn]`; docs/battle-log.md explains replay.\n\n");
        let mut t = Table::new(&[
            "battle", "log:line", "turn", "actor", "vs", "action", "before", "after", "swing",
            "winner",
        ]);
        for p in &tp.points {
            let source = p.source.as_deref().map_or("—".to_string(), |s| {
                // The file name is enough on screen; the JSON keeps the whole path.
                s.rsplit('/').next().unwrap_or(s).to_string()
            });
            t.row(vec![
                p.battle_id.clone(),
                source,
                p.turn.to_string(),
                format!("{}:{}", p.side, p.player),
                p.opponent.clone(),
                p.action.clone(),
                signed(p.before, 3),
                signed(p.after, 3),
                signed(p.swing, 3),
                p.winner.map_or("draw".into(), |w| format!("side {w}")),
            ]);
        }
        t.render(s);
        if tp.decisive > 0 {
            let _ = writeln!(
                s,
                "In {} of {} decided battles with a material swing ({}), the side that gained in the battle's largest swing went on to win.\n",
                tp.decisive_won_by_largest_gainer,
                tp.decisive,
                pct(tp.decisive_won_by_largest_gainer as f64 / tp.decisive as f64)
            );
        }
    }

    pub(super) fn patterns_md(&self, s: &mut String) {
        let p = &self.patterns;
        let _ = writeln!(
            s,
            "## Patterns that go with winning\n\nShares among the {} decisions of winning sides and the {} of losing sides (draws excluded). Lift = winners' share / losers' share; z = two-proportion z (|z| > 3 is unlikely to be chance, though decisions of one battle are not independent, and pooled figures mix in who is playing; the table by strategy does not).\n",
            p.winner_decisions, p.loser_decisions
        );
        pattern_table(s, "action type", &p.by_type);
        let _ = writeln!(
            s,
            "Action names most typical of winners (top) and of losers (bottom):\n"
        );
        pattern_table(s, "action", &p.by_action);
        let _ = writeln!(
            s,
            "Consecutive action types of one side most typical of winners and of losers:\n"
        );
        pattern_table(s, "sequence", &p.by_pair);

        if !p.by_strategy.is_empty() {
            s.push_str("Lift of each action type within each strategy's own won vs lost battles (`*`: |z| > 3; `—`: never in its losses, or it lost no battle):\n\n");
            let types: Vec<&str> = p.by_type.iter().map(|x| x.pattern.as_str()).collect();
            for chunk in p.by_strategy.chunks(COLUMNS_PER_TABLE) {
                let mut head = vec!["action type"];
                head.extend(chunk.iter().map(|x| x.strategy.as_str()));
                let mut t = Table::new(&head);
                for ty in &types {
                    let mut row = vec![ty.to_string()];
                    for st in chunk {
                        let cell = st.by_type.iter().find(|x| x.pattern == *ty).map_or(
                            "·".to_string(),
                            |x| {
                                let star = if x.z.is_some_and(|z| z.abs() > 3.0) {
                                    "*"
                                } else {
                                    ""
                                };
                                format!("{}{star}", or_dash(x.lift, |l| fixed(l, 2)))
                            },
                        );
                        row.push(cell);
                    }
                    t.row(row);
                }
                let mut row = vec!["(won / lost decisions)".to_string()];
                row.extend(
                    chunk
                        .iter()
                        .map(|x| format!("{}/{}", x.winner_decisions, x.loser_decisions)),
                );
                t.row(row);
                t.render(s);
            }
        }

        if !p.items.is_empty() {
            s.push_str("Win rate of battle sides by whether they used an item action at all:\n\n");
            let mut t = Table::new(&[
                "item action",
                "sides used",
                "win rate",
                "sides not",
                "win rate",
            ]);
            for i in &p.items {
                t.row(vec![
                    i.item.clone(),
                    i.used.sides.to_string(),
                    or_dash(i.used.win_rate, pct),
                    i.unused.sides.to_string(),
                    or_dash(i.unused.win_rate, pct),
                ]);
            }
            t.render(s);
        }
    }
}

fn pattern_table(s: &mut String, title: &str, rows: &[Pattern]) {
    let mut t = Table::new(&[title, "winners", "losers", "lift", "z"]);
    for x in rows {
        t.row(vec![
            x.pattern.clone(),
            pct(x.winner_share),
            pct(x.loser_share),
            or_dash(x.lift, |l| fixed(l, 2)),
            or_dash(x.z, |z| signed(z, 1)),
        ]);
    }
    t.render(s);
}
