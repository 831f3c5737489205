//! `tactician stats`.

use crate::cli::StatsArgs;
use anyhow::{Context, bail};
use tactician_data::stats::{Stats, compute_at};

/// Prints a dataset's statistics as terminal tables, or as JSON with `--json`.
pub fn run(args: StatsArgs) -> anyhow::Result<()> {
    if args.top == 0 {
        bail!("--top must be at least 1");
    }
    if !args.dataset.exists() {
        bail!(
            "no dataset at {}; make one with `tactician ingest LOGS --out {}`",
            args.dataset.display(),
            args.dataset.display()
        );
    }
    let stats = compute_at(&args.dataset, args.top).with_context(|| {
        format!(
            "cannot compute the statistics of {}",
            args.dataset.display()
        )
    })?;
    if args.json {
        super::print_json(&stats)
    } else {
        super::print(&stats.to_markdown())
    }
}

/// A few lines for the pipeline: who wins, how battles end, and the largest turning point.
pub fn summary_markdown(s: &Stats) -> String {
    let mut out = format!(
        "## stats: {} battles, {} decisions\n\n| strategy | battles | win rate | mean turns |\n|---|---:|---:|---:|\n",
        s.battles, s.decisions
    );
    for r in &s.results.by_strategy {
        out.push_str(&format!(
            "| {} | {} | {} | {:.1} |\n",
            r.strategy,
            r.battles,
            r.win_rate
                .map_or("—".to_string(), |w| format!("{:.1}%", 100.0 * w)),
            r.mean_turns
        ));
    }
    let victories: Vec<String> = s
        .results
        .victories
        .iter()
        .map(|v| format!("{} {:.1}%", v.victory, 100.0 * v.share))
        .collect();
    out.push_str(&format!("\nvictories: {}\n", victories.join(", ")));
    if let Some(p) = s.turning_points.points.first() {
        out.push_str(&format!(
            "largest turning point: battle {} turn {} ({} by {}, swing {:+.3})\n",
            p.battle_id, p.turn, p.action, p.player, p.swing
        ));
    }
    for w in &s.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
