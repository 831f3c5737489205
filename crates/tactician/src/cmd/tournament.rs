//! `tactician tournament`.

use crate::cli::TournamentArgs;
use crate::progress;
use anyhow::Context;
use tactician_data::tournament::round_robin_with_progress;
use tactician_game::{GameConfig, strategy};

/// Plays a round robin between strategies and prints the table.
pub fn run(args: TournamentArgs, quiet: bool) -> anyhow::Result<()> {
    let names: Vec<&str> = if args.strategies.is_empty() {
        strategy::NAMES.to_vec()
    } else {
        args.strategies.iter().map(|s| s.trim()).collect()
    };
    let config = GameConfig {
        max_rounds: args.max_rounds,
        ..GameConfig::default()
    };
    let battles = usize::try_from(args.battles).context("too many battles per pair")?;
    let pairs = names.len() * names.len().saturating_sub(1) / 2;
    let bar = progress::bar("tournament", "battles", (pairs * battles) as u64, quiet);
    let result = round_robin_with_progress(&names, battles, args.seed, config, &|p| {
        bar.set_length(p.total);
        bar.inc(1);
    });
    bar.finish_and_clear();
    let table = result.context("tournament failed")?;
    if args.json {
        super::print_json(&table)
    } else {
        super::print(&table.to_markdown())
    }
}
