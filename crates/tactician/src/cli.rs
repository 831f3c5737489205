//! Command-line flags (clap derive). Parsing only: no work happens here.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Tactician: record battles of a turn-based game, and (in later versions) turn them into a
/// small neural policy shipped to Raspberry Pi devices.
#[derive(Debug, Parser)]
#[command(
    name = "tactician",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Start with `tactician pipeline`: it runs every step on the built-in game.\n\
Exit status: 0 on success, 1 on failure, 2 on a usage error."
)]
pub struct Cli {
    /// Hide progress bars (they are also hidden when stderr is not a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole job on the built-in game: collect battles into a run folder, then print
    /// statistics of what was collected.
    ///
    /// Settings come from built-in defaults, overridden by the optional TOML file given with
    /// `--config` (sections: `run_dir`, `[collect]`). A step whose output is already in the run
    /// folder, made with the same settings, is not run again.
    Pipeline(PipelineArgs),
    /// Play battles between scripted strategies on all cores and write them as battle logs.
    ///
    /// Logs are JSON Lines, one battle per line (schema: docs/battle-log.md), in files
    /// `part-NNNNN.jsonl.zst` of `--shard-size` battles, each written under a `.tmp` name and
    /// renamed when complete; `collect.json`, written last, lists the settings and every file
    /// with its hash. The same settings and seed give the same battles.
    Collect(CollectArgs),
    /// Validate battle logs and add them to a Parquet dataset.
    ///
    /// Reads JSON Lines logs (plain or zstd; a folder stands for the `part-*.jsonl[.zst]` files
    /// in it), checks every record (schema: docs/battle-log.md) and appends the good ones to
    /// the dataset (docs/dataset.md). Bad records go to `quarantine/ingest-NNNNNN.jsonl` in the
    /// dataset with a reason code, their file and line; they never stop the ingest. Battles
    /// already in the dataset are skipped (and counted as `duplicate_battle`). Nothing is added
    /// unless the whole ingest succeeds.
    Ingest(IngestArgs),
    /// Print statistics of a dataset: results by strategy and matchup, action use and
    /// effectiveness, resources, turning points, winning patterns.
    Stats(StatsArgs),
    /// Play every pair of strategies against each other and print a results table.
    Tournament(TournamentArgs),
    /// List the registered strategies.
    Strategies(StrategiesArgs),
}

/// Flags of `tactician collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of battles to play (1 to 1,000,000).
    #[arg(long, short = 'n', value_name = "N", default_value_t = 1000)]
    pub battles: u64,

    /// Who plays whom: comma-separated `a:b` (a against b), `a:*` (a against every
    /// strategy, itself included) or `all` (every pair, self-play included). Battles are
    /// split evenly over matchups, and over both side assignments within a matchup.
    #[arg(long, short, value_name = "SPEC", default_value = "all")]
    pub matchups: String,

    /// Run seed: battle i is played from a seed derived from it and i.
    #[arg(long, short, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Round limit per battle (then the battle is decided on points or drawn).
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub max_rounds: u16,

    /// Battles per log file.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub shard_size: u64,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Write plain `.jsonl` instead of zstd-compressed `.jsonl.zst`.
    #[arg(long)]
    pub no_compress: bool,

    /// Write 0 in every wall-clock field, so the same seed gives identical bytes.
    #[arg(long)]
    pub zero_wall_clock: bool,

    /// Replace a previous collection in the output folder instead of refusing.
    #[arg(long)]
    pub force: bool,

    /// Print the summary as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician pipeline`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// TOML settings file (see docs/cli.md); built-in defaults without it.
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Run folder (overrides `run_dir` of the config; default `runs/default`).
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Redo every step, replacing what the run folder holds.
    #[arg(long)]
    pub force: bool,

    /// Print the report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician tournament`.
#[derive(Debug, Args)]
pub struct TournamentArgs {
    /// Battles per pair of strategies (even: each seed is played from both sides).
    #[arg(long, short = 'n', value_name = "N", default_value_t = 100)]
    pub battles: u64,

    /// Seed of the tournament.
    #[arg(long, short, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Comma-separated strategies to include (default: all registered).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub strategies: Vec<String>,

    /// Round limit per battle.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub max_rounds: u16,

    /// Print the results as JSON on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician strategies`.
#[derive(Debug, Args)]
pub struct StrategiesArgs {
    /// Print the list as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Battle logs: files, or folders of `part-*.jsonl[.zst]` files.
    #[arg(required = true, value_name = "LOGS")]
    pub logs: Vec<PathBuf>,

    /// Dataset folder (created if missing or empty).
    #[arg(long, value_name = "DATASET")]
    pub out: PathBuf,

    /// Feature spec (JSON: name, features, actions) of an external game's encoder. Without it
    /// a new dataset is bound to the built-in game's encoder.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,

    /// Fail (exit 1, add nothing) when more than this fraction of records is quarantined,
    /// e.g. 0.01 for 1%.
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Longest record accepted, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_record_mib: usize,

    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Dataset folder.
    #[arg(value_name = "DATASET")]
    pub dataset: PathBuf,

    /// Rows shown in each ranked table (actions, combinations, turning points...).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Print the statistics as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}
