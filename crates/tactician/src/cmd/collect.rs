//! `tactician collect`.

use crate::cli::CollectArgs;
use crate::progress;
use anyhow::Context;
use tactician_data::collect::{CollectConfig, Settings, collect, validate};

/// Runs a collection with a progress bar and prints its summary.
pub fn run(args: CollectArgs, quiet: bool) -> anyhow::Result<()> {
    let config = CollectConfig {
        settings: Settings {
            battles: args.battles,
            matchups: args.matchups,
            seed: args.seed,
            max_rounds: args.max_rounds,
            shard_size: args.shard_size,
            compress: !args.no_compress,
            zero_wall_clock: args.zero_wall_clock,
        },
        out: args.out,
        threads: args.threads,
        force: args.force,
    };
    let summary = run_collect(&config, quiet)?;
    if args.json {
        super::print_json(&summary)
    } else {
        super::print(&summary.to_markdown())
    }
}

/// Collects with a progress bar; shared with the pipeline.
pub fn run_collect(
    config: &CollectConfig,
    quiet: bool,
) -> anyhow::Result<tactician_data::collect::Summary> {
    // Check the settings before drawing a bar for them.
    validate(&config.settings).context("invalid collection settings")?;
    let bar = progress::bar("collect", "battles", config.settings.battles, quiet);
    let result = collect(config, &|_| bar.inc(1));
    bar.finish_and_clear();
    result.with_context(|| format!("collection into {} failed", config.out.display()))
}
