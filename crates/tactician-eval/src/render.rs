//! The report as terminal tables.

use super::{EvalReport, Wdl};
use std::fmt::Write as _;

/// A plain text table: a header row, then rows; the first column is left-aligned, the others
/// right-aligned unless listed in `left`.
fn table(out: &mut String, indent: &str, header: &[&str], rows: &[Vec<String>], left: &[usize]) {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (c, cell) in row.iter().enumerate().take(cols) {
            width[c] = width[c].max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[String]| {
        let mut s = String::from(indent);
        for (c, cell) in cells.iter().enumerate().take(cols) {
            let pad = width[c] - cell.chars().count();
            if c > 0 {
                s.push_str("  ");
            }
            if c == 0 || left.contains(&c) {
                s.push_str(cell);
                if c + 1 < cols {
                    s.push_str(&" ".repeat(pad));
                }
            } else {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(
        out,
        &header.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    );
    for row in rows {
        line(out, row);
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

fn wdl(w: &Wdl) -> String {
    format!("{}/{}/{}", w.wins, w.draws, w.losses)
}

fn signed(v: f32) -> String {
    format!("{v:+.2}")
}

impl EvalReport {
    /// The report as text tables for a terminal.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let m = &self.model;
        let mut shape = vec![m.inputs.to_string()];
        shape.extend(m.hidden.iter().map(|h| h.to_string()));
        shape.push(m.actions.to_string());
        let _ = writeln!(
            s,
            "Model {} (version {}, {}, {:?}, {}value head, {} parameters, encoder {})",
            m.path.display(),
            m.version,
            shape.join(" → "),
            m.activation,
            if m.value_head { "" } else { "no " },
            m.parameters,
            m.encoder_hash
        );
        if let Some(t) = &self.test {
            let _ = writeln!(
                s,
                "\nTest split ({}, {} decisions)",
                t.path.display(),
                t.examples
            );
            let mut rows = vec![
                vec!["teacher agreement (top-1)".into(), pct(t.top1)],
                vec!["top-3".into(), pct(t.top3)],
                vec!["weighted top-1".into(), pct(t.weighted_top1)],
                vec!["masked cross-entropy".into(), format!("{:.4}", t.loss)],
            ];
            if let Some(v) = &t.value {
                rows.push(vec!["value head MAE".into(), format!("{:.3}", v.mae)]);
                rows.push(vec!["value head RMSE".into(), format!("{:.3}", v.rmse)]);
                if let Some(sa) = v.sign_accuracy {
                    rows.push(vec!["value head sign on decided".into(), pct(sa)]);
                }
            }
            table(&mut s, "  ", &["metric", "value"], &rows, &[]);
            let _ = writeln!(
                s,
                "\nConfusion (teacher's action → model's), {} of {} actions chosen by the teacher",
                t.rows.len(),
                t.actions.len()
            );
            let rows: Vec<Vec<String>> = t
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.action.clone(),
                        r.support.to_string(),
                        pct(r.recall),
                        r.predicted.to_string(),
                        r.precision.map_or("-".into(), pct),
                        r.confused_with
                            .iter()
                            .map(|c| format!("{} {}", c.action, c.count))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
                .collect();
            table(
                &mut s,
                "  ",
                &[
                    "teacher",
                    "support",
                    "recall",
                    "predicted",
                    "precision",
                    "most often chosen instead",
                ],
                &rows,
                &[5],
            );
        }
        if let Some(sc) = &self.scenarios {
            let _ = writeln!(s, "\nScenarios: {}/{} passed", sc.passed, sc.total);
            let rows: Vec<Vec<String>> = sc
                .results
                .iter()
                .map(|r| {
                    let p = r.top3.first().map_or(0.0, |c| c.probability);
                    vec![
                        if r.pass { "PASS" } else { "FAIL" }.into(),
                        r.name.clone(),
                        format!("{} ({:.2})", r.chosen, p),
                        r.acceptable.join(", "),
                    ]
                })
                .collect();
            table(
                &mut s,
                "  ",
                &["", "scenario", "chosen (p)", "acceptable"],
                &rows,
                &[1, 2, 3],
            );
        }
        if let Some(b) = &self.battles {
            let _ = writeln!(
                s,
                "\nValidation battles: {} per opponent (half on each side), seed {}, {} rounds max",
                b.settings.battles, b.settings.seed, b.settings.config.max_rounds
            );
            let mut rows: Vec<Vec<String>> = b
                .opponents
                .iter()
                .map(|o| {
                    vec![
                        o.opponent.clone(),
                        o.battles.to_string(),
                        o.wdl.wins.to_string(),
                        o.wdl.draws.to_string(),
                        o.wdl.losses.to_string(),
                        pct(o.win_rate),
                        format!(
                            "[{:.1}, {:.1}]",
                            100.0 * o.win_interval.low,
                            100.0 * o.win_interval.high
                        ),
                        wdl(&o.as_side0),
                        wdl(&o.as_side1),
                        format!("{:.1}", o.average_turns),
                    ]
                })
                .collect();
            let n = b.overall.battles();
            rows.push(vec![
                "overall".into(),
                n.to_string(),
                b.overall.wins.to_string(),
                b.overall.draws.to_string(),
                b.overall.losses.to_string(),
                pct(if n > 0 {
                    b.overall.wins as f64 / n as f64
                } else {
                    0.0
                }),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            table(
                &mut s,
                "  ",
                &[
                    "opponent",
                    "battles",
                    "won",
                    "drawn",
                    "lost",
                    "win rate",
                    "95% Wilson",
                    "side 0 W/D/L",
                    "side 1 W/D/L",
                    "turns",
                ],
                &rows,
                &[],
            );
            if !b.turning_points.is_empty() {
                let _ = writeln!(
                    s,
                    "\nTurning points (largest swings of the value head's estimate for the model's side)"
                );
                for bm in &b.turning_points {
                    let _ = writeln!(
                        s,
                        "  vs {}: battle seed {}, model on side {}, opponent seed {}: {} in {} turns",
                        bm.opponent,
                        bm.battle_seed,
                        bm.model_side,
                        bm.opponent_seed,
                        bm.result,
                        bm.turns
                    );
                    for p in &bm.points {
                        let _ = writeln!(
                            s,
                            "    turn {:>3} (round {:>2}): {} unit {} {:<15} {} → {} ({})",
                            p.turn,
                            p.round,
                            p.actor,
                            p.unit,
                            p.action,
                            signed(p.value_before),
                            signed(p.value_after),
                            signed(p.swing)
                        );
                    }
                }
            }
        }
        if !self.gates.is_empty() {
            let _ = writeln!(s, "\nGates");
            for c in &self.gates {
                let _ = writeln!(
                    s,
                    "  {} {}: {} (target {})",
                    if c.pass { "PASS" } else { "FAIL" },
                    c.name,
                    pct(c.value),
                    pct(c.target)
                );
            }
        }
        s
    }
}
