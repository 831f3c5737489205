//! Command-line flags (clap derive). Parsing only: no work happens here.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Tactician: record battles of a turn-based game, turn them into a small neural policy, and
/// export it as `.tflite` files for the devices that play the game.
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
    /// Run the whole job on the built-in game in one run folder: collect, ingest, stats,
    /// prepare, train, eval, export, verify, then publish and a local device's update.
    ///
    /// Settings come from built-in defaults, overridden by the optional TOML file given with
    /// `--config` (`run_dir` and the sections `[collect]`, `[ingest]`, `[prepare]`, `[train]`,
    /// `[eval]`, `[verify]`; docs/cli.md). Collect, ingest, prepare and train reuse output
    /// already in the run folder when it was made from the same input with the same settings;
    /// stats, eval, export and verify run every time. Exit 1 when an exported model is below
    /// its verify gate. When the gates pass, the int8 model is published through a TUF
    /// repository in the run folder (`deploy/`, keys made on first use; a new version only
    /// for a new model) and the agent of a local device (`device/`) installs it through the
    /// whole update flow (docs/deploy.md).
    Pipeline(PipelineArgs),
    /// Play battles between scripted strategies on all cores and write them as battle logs.
    ///
    /// Logs are JSON Lines, one battle per line (schema: docs/battle-log.md), in files
    /// `part-NNNNN.jsonl.zst` of `--shard-size` battles; `collect.json`, written last, lists
    /// the settings and every file with its hash. The collection is written beside OUT and put
    /// in place when complete: a failure leaves a previous collection as it was, and `--force`
    /// replaces only a collection's own files. The same settings and seed give the same
    /// battles.
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
    /// Turn a dataset into training tensors: filter, split by battle, balance, augment,
    /// normalize, and build the test scenarios.
    ///
    /// Writes PREPARED/{train,val,test}.safetensors (features F32 [N,F] raw, legal U8 [N,A],
    /// action I32 [N], weight F32 [N], value F32 [N]), scenarios.json (the game's scenarios)
    /// and manifest.json (normalization of the train split, counts, split rule, filter, balance
    /// and augmentation reports). Settings come from the `[prepare]` section of `--config`,
    /// overridden by the flags; the default keeps only the `search` strategy's decisions
    /// (behaviour cloning). Everything is written beside PREPARED and put in place at the end:
    /// a failure leaves no output and a previous one as it was. PREPARED may not be, contain or
    /// lie inside the dataset. See docs/prepare.md.
    Prepare(PrepareArgs),
    /// Train the policy network on prepared data (docs/train.md).
    ///
    /// A dense network (hidden layers, policy logits over the legal actions, optional tanh
    /// value head) trained with Adam/AdamW on a fused gemm-based trainer. Settings: the
    /// `[train]` section of `--config`, overridden by the flags. Every epoch appends a line to
    /// MODEL.run/metrics.jsonl and saves a checkpoint there; `--resume` continues an
    /// interrupted run and ends with the same weights as an uninterrupted one. MODEL (with the
    /// input normalization folded into the first layer) appears only when training finished.
    /// MODEL may not be, contain or lie inside PREPARED.
    Train(TrainArgs),
    /// Search training settings: random or grid search over `[tune.space]` of `--config`,
    /// within a trial budget; prints and saves a leaderboard (CSV and JSON) and keeps the best
    /// trial's model in OUT/best.
    Tune(TuneArgs),
    /// Benchmarks against peer implementations.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Evaluate a trained model: test-split accuracy, confusion matrix, scenarios, and
    /// validation battles against the scripted strategies.
    ///
    /// Reads MODEL/model.json and MODEL/model.safetensors (format `tactician-mlp/1`; refused if
    /// made for another encoder). With `--data`, scores PREPARED/test.safetensors (agreement
    /// with the teacher's recorded action = top-1, top-3, masked cross-entropy, value-head
    /// error, per-action confusion) and PREPARED/scenarios.json (pass = the chosen action is
    /// acceptable). Then plays `--battles` battles against each opponent, half with the model
    /// on each side, with 95% Wilson intervals, and lists the turning points of a few battles
    /// (largest swings of the value head). `--min-agreement` and `--min-win-rate` set gates:
    /// the command exits 1 (after the report) when a measured figure is below one. Results do
    /// not depend on the thread count. See docs/eval.md.
    Eval(EvalArgs),
    /// Play every pair of strategies against each other and print a results table.
    Tournament(TournamentArgs),
    /// List the registered strategies.
    Strategies(StrategiesArgs),
    /// Print a feature spec as JSON: the built-in game's, or a checked external one.
    ///
    /// Without FILE, prints the spec of the built-in game's encoder (feature names and ranges,
    /// action names, version hash). With FILE, reads an external game's spec (JSON: `name`,
    /// `features` [{name, description, min, max}], `actions`, optional `hash`, and the optional
    /// declarations `symmetries`, `scenarios` and `victories`), checks it and prints its
    /// feature spec with the version hash: the `encoder.hash` its battle logs must carry (see
    /// docs/battle-log.md, "Logs from other games"). `--game` prints the whole game spec.
    Spec(SpecArgs),
    /// Export a trained model folder to TFLite: float32, plus dynamic-range and/or int8.
    ///
    /// Reads MODEL/model.safetensors and MODEL/model.json (format `tactician-mlp/1`) and
    /// writes EXPORT/model-f32.tflite and, by default, EXPORT/model-int8.tflite (int8
    /// activations calibrated on `--calibration-samples` rows of PREPARED/train.safetensors),
    /// with EXPORT/export.json listing each file's size, hash and operators. The export is all
    /// or nothing: every file is built, then all are written beside EXPORT and put in place
    /// together, replacing a previous export's files (other files in EXPORT stay). The same
    /// checkpoint and sample give byte-identical files. See docs/tflite.md.
    Export(ExportArgs),
    /// Check exported TFLite files against the float model on the test split.
    ///
    /// Runs each file EXPORT/export.json lists (refusing one that is missing or not the file
    /// listed) with the device runtime on PREPARED/test.safetensors and reports top-1
    /// agreement (legal actions only, ties to the lowest index) with the float model, mean and
    /// max absolute logit error, decision latency, file sizes and operators. Exits non-zero
    /// when a file is below its gate (100% for float32, 99.5% for dynamic and int8 by
    /// default).
    Verify(VerifyArgs),
    /// The TUF repository's signing keys: create them, rotate a role's keys.
    #[command(subcommand)]
    Keys(crate::cmd::deploy::KeysCommand),
    /// Enrol, list and remove devices (their age public keys, by device group).
    #[command(subcommand)]
    Devices(crate::cmd::deploy::DevicesCommand),
    /// Publish an exported model to a device group through the TUF repository.
    ///
    /// The .tflite (int8 by default) and a validation set (test rows with the float model's
    /// answers) are encrypted with age to every enrolled device of the group and added as
    /// targets whose custom metadata carries the version, encoder hash, minimum runtime,
    /// metrics, lineage and notes; targets, snapshot and timestamp metadata are signed anew
    /// (timestamp last). The version is recorded in the registry. `--refresh` only re-signs
    /// the timestamp. See docs/deploy.md.
    #[command(disable_version_flag = true)]
    Publish(crate::cmd::deploy::PublishArgs),
    /// Point a group's alias (production, candidate) at a published version.
    Promote(crate::cmd::deploy::PromoteArgs),
    /// The registry of published versions and deployments: list, show, diff, import.
    #[command(subcommand)]
    Registry(crate::cmd::deploy::RegistryCommand),
    /// Mirror the TUF repository to a device over SSH, and bring its history back.
    ///
    /// Copies DIR/repository/ with the system's rsync over ssh (both needed on the device too)
    /// into the folder the device's agent.toml names as its repository: every file first,
    /// the timestamp last, so an interrupted transfer leaves the device on its previous state
    /// and never makes it install anything. Then reads the device's history over the same
    /// connection into the registry's deployment records. ssh runs without prompts: the host
    /// must be in known_hosts (or pass `-o StrictHostKeyChecking=accept-new`) and the login
    /// must use a key.
    Push(crate::cmd::deploy::PushArgs),
    /// Bring the battle logs a device recorded to this machine, for `tactician ingest`.
    ///
    /// The device keeps the battles its game reported (seed, actions, result) as battle logs
    /// in STATE/battles/; this copies their complete records from the state folder, the
    /// device's server (http://host:port) or over SSH (ssh://user@host/var/lib/tactician).
    Pull(crate::cmd::pull::PullArgs),
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

    /// Replace a collection made with other `[collect]` settings (without it the pipeline
    /// refuses and lists what differs). The collection is then made again, and every later step
    /// whose input changed runs again.
    #[arg(long)]
    pub force: bool,

    /// Print the report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The trained model folder (model.json + model.safetensors).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,

    /// Prepared data folder (manifest.json, test.safetensors, scenarios.json); without it
    /// only the battles are played.
    #[arg(long, value_name = "PREPARED")]
    pub data: Option<PathBuf>,

    /// Battles against each opponent (even: every seed is played from both sides; 0 skips
    /// the battles).
    #[arg(long, short = 'n', value_name = "N", default_value_t = 100)]
    pub battles: usize,

    /// Run seed of the battles.
    #[arg(long, short, value_name = "S", default_value_t = 0)]
    pub seed: u64,

    /// Opponents, comma-separated strategy names (default: every registered strategy).
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub opponents: Vec<String>,

    /// Round limit per battle.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub max_rounds: u16,

    /// Battles whose turning points are listed (those with the largest value swings).
    #[arg(long, value_name = "K", default_value_t = 3)]
    pub turning_points: usize,

    /// Gate: the least top-1 agreement with the teacher on the test split (0 to 1; needs
    /// `--data`).
    #[arg(long, value_name = "FRACTION", value_parser = parse_fraction)]
    pub min_agreement: Option<f64>,

    /// Gate: the least win rate against an opponent, as OPPONENT=FRACTION (repeatable,
    /// comma-separated; the opponent must be played).
    #[arg(long, value_name = "NAME=FRACTION", value_delimiter = ',', value_parser = parse_gate)]
    pub min_win_rate: Vec<(String, f64)>,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Print the report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Parses a fraction between 0 and 1.
pub fn parse_fraction(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("{v} is not a fraction between 0 and 1"));
    }
    Ok(v)
}

/// Parses `NAME=FRACTION`.
pub fn parse_gate(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=FRACTION"))?;
    Ok((name.trim().to_string(), parse_fraction(value)?))
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

/// Flags of `tactician spec`.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// An external game's spec to check (default: print the built-in game's spec).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Print the whole game spec: the features with the declared symmetries, scenarios and
    /// victories.
    #[arg(long)]
    pub game: bool,
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

    /// Game spec (JSON: name, features, actions, and optionally the victories its outcomes
    /// follow) of an external game. Without it the built-in game is assumed. Every record is
    /// checked against it: encoder, feature ranges, outcome rules.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,

    /// Fail (exit 1, add nothing) when more than this fraction of records is quarantined,
    /// e.g. 0.01 for 1%.
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f64>,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Longest record accepted, in MiB (1 to 4096).
    #[arg(long, value_name = "MIB", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub max_record_mib: u16,

    /// Compression of the feature vectors, nearly all of a dataset's bytes: `lz4` is the
    /// fastest to ingest, `none` (4 times larger) the fastest for `tactician prepare` to read,
    /// `zstd` the smallest (for archiving). Every Parquet reader reads all three.
    #[arg(long, value_name = "none|lz4|zstd", default_value = "lz4")]
    pub features_codec: tactician_data::dataset::table::FeatureCodec,

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

/// Which quantized files `tactician export` writes besides the float32 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Quantize {
    /// Only model-f32.tflite.
    None,
    /// model-f32.tflite and model-dynamic.tflite (int8 weights, float activations).
    Dynamic,
    /// model-f32.tflite and model-int8.tflite (full int8; needs --calibration).
    Int8,
    /// All three.
    All,
}

/// Flags of `tactician export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The trained model folder (model.safetensors + model.json).
    #[arg(value_name = "MODEL")]
    pub model: PathBuf,

    /// Output folder (created if missing); it may not be, contain or lie inside MODEL or
    /// the calibration folder.
    #[arg(long, value_name = "EXPORT")]
    pub out: PathBuf,

    /// Quantized variants to write besides float32.
    #[arg(long, value_enum, default_value_t = Quantize::Int8)]
    pub quantize: Quantize,

    /// Prepared data folder whose train.safetensors features calibrate int8 activations.
    #[arg(long, value_name = "PREPARED")]
    pub calibration: Option<PathBuf>,

    /// Training rows to calibrate on (spread evenly over the split; at least 1).
    #[arg(long, value_name = "N",
          default_value_t = tactician_export::DEFAULT_CALIBRATION_SAMPLES as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub calibration_samples: u32,

    /// Refuse (and write nothing) if any file would exceed this size: bytes, or with a
    /// K/M/G suffix (powers of 1024), e.g. `512K` for a device's model slot. Default: the
    /// FlatBuffer format's own limit (2 GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_bytes: Option<u64>,

    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Parses a size: a whole number of bytes, optionally followed by K, M or G (powers of 1024,
/// with or without a trailing `B` or `iB`).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 10),
        Some('M') => (&body[..body.len() - 1], 20),
        Some('G') => (&body[..body.len() - 1], 30),
        _ => (body, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size (use bytes, or a number with K, M or G)"))?;
    if n == 0 {
        return Err("the size must be above zero".into());
    }
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// Flags of `tactician verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The export folder (model-f32.tflite, model-dynamic.tflite, model-int8.tflite).
    #[arg(value_name = "EXPORT")]
    pub export: PathBuf,

    /// The trained model folder the files were exported from.
    #[arg(long, value_name = "MODEL")]
    pub model: PathBuf,

    /// Prepared data folder; its test.safetensors is used.
    #[arg(long, value_name = "PREPARED")]
    pub data: PathBuf,

    /// Minimum top-1 agreement of the float32 file (0 to 1).
    #[arg(long, value_name = "FRACTION", default_value_t = tactician_export::DEFAULT_GATE_F32)]
    pub min_f32_agreement: f64,

    /// Minimum top-1 agreement of the dynamic and int8 files (0 to 1).
    #[arg(long, value_name = "FRACTION",
          default_value_t = tactician_export::DEFAULT_GATE_QUANTIZED)]
    pub min_int8_agreement: f64,

    /// Print the report as JSON on stdout (the exit status still reflects the gates).
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician prepare`.
#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Dataset folder (written by `tactician ingest`).
    #[arg(value_name = "DATASET")]
    pub dataset: PathBuf,

    /// Output folder; may not hold a prepared set already unless `--force`.
    #[arg(long, value_name = "PREPARED")]
    pub out: PathBuf,

    /// TOML settings file whose `[prepare]` section gives the settings (see docs/prepare.md).
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seed of the split and of resampling and augmentation choices.
    #[arg(long, short, value_name = "S")]
    pub seed: Option<u64>,

    /// Split ratios TRAIN,VAL,TEST by battle, each above 0, adding up to 1 (default
    /// 0.8,0.1,0.1).
    #[arg(long, value_name = "T,V,S", value_delimiter = ',')]
    pub split: Option<Vec<f64>>,

    /// Keep only decisions of these players (strategy names or human ids; default: search).
    #[arg(
        long,
        value_name = "A,B,...",
        value_delimiter = ',',
        conflicts_with = "all_players"
    )]
    pub players: Vec<String>,

    /// Keep the decisions of every player.
    #[arg(long)]
    pub all_players: bool,

    /// Keep only decisions of the side that won its battle.
    #[arg(long)]
    pub winners_only: bool,

    /// Drop battles with fewer decisions than this.
    #[arg(long, value_name = "N")]
    pub min_battle_turns: Option<u32>,

    /// Keep decisions that had a single legal action (dropped by default).
    #[arg(long)]
    pub keep_single_legal: bool,

    /// Balance the training split across players: none, weights or resample (default
    /// weights).
    #[arg(long, value_name = "METHOD")]
    pub balance: Option<String>,

    /// Balance across actions within each player too (weights).
    #[arg(long)]
    pub balance_actions: bool,

    /// Do not augment the training split with the game's symmetries.
    #[arg(long)]
    pub no_augment: bool,

    /// Symmetric copies per training row (0: one per symmetry; default 1).
    #[arg(long, value_name = "N")]
    pub augment_copies: Option<usize>,

    /// Game spec (JSON) of an external game: the encoder the dataset must have, and the
    /// symmetries and scenarios it declares. Without it the dataset must come from the
    /// built-in game's current encoder.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,

    /// Replace the prepared files of an existing output folder (other files in it stay).
    #[arg(long)]
    pub force: bool,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Print the manifest as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Training settings that flags can override (the rest come from `[train]`).
#[derive(Debug, Args)]
pub struct TrainFlags {
    /// TOML settings file whose `[train]` section is used (see docs/train.md).
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Hidden layer widths, e.g. `128,128`.
    #[arg(long, value_name = "W,W,...", value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Hidden activation: relu, relu6 or tanh.
    #[arg(long, value_name = "NAME")]
    pub activation: Option<String>,
    /// Optimizer: adam or adamw.
    #[arg(long, value_name = "NAME")]
    pub optimizer: Option<String>,
    /// Peak learning rate.
    #[arg(long, value_name = "LR", allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Learning-rate schedule: constant, step or cosine.
    #[arg(long, value_name = "NAME")]
    pub schedule: Option<String>,
    /// Examples per batch.
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Maximum epochs.
    #[arg(long, value_name = "N")]
    pub epochs: Option<usize>,
    /// Weight decay.
    #[arg(long, value_name = "X")]
    pub weight_decay: Option<f64>,
    /// Early-stopping patience in epochs (0: never stop early).
    #[arg(long, value_name = "N")]
    pub patience: Option<usize>,
    /// Weight of the value head's loss.
    #[arg(long, value_name = "X")]
    pub value_weight: Option<f32>,
    /// Train without a value head.
    #[arg(long)]
    pub no_value_head: bool,
    /// Seed of initialization and shuffling.
    #[arg(long, short, value_name = "S")]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// Flags of `tactician train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Prepared data folder (from `tactician prepare`).
    #[arg(value_name = "PREPARED")]
    pub prepared: PathBuf,
    /// Model folder to write.
    #[arg(long, value_name = "MODEL")]
    pub out: PathBuf,
    /// Continue the interrupted run of MODEL from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Replace an existing MODEL or an unfinished run.
    #[arg(long)]
    pub force: bool,
    /// Refuse prepared data whose encoder hash is not this one.
    #[arg(long, value_name = "HASH")]
    pub expect_encoder: Option<String>,
    /// The settings.
    #[command(flatten)]
    pub train: TrainFlags,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Prepared data folder.
    #[arg(value_name = "PREPARED")]
    pub prepared: PathBuf,
    /// Output folder (trials/, leaderboard.csv, leaderboard.json, best/).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Trial budget (overrides `[tune] trials`).
    #[arg(long, value_name = "N")]
    pub trials: Option<usize>,
    /// Search method: random or grid (overrides `[tune] method`).
    #[arg(long, value_name = "NAME")]
    pub method: Option<String>,
    /// Base settings of every trial.
    #[command(flatten)]
    pub train: TrainFlags,
    /// Print the leaderboard as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `tactician bench ...`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training speed against Keras (tensorflow-cpu) on the same prepared data, network,
    /// epochs, batch and optimizer: samples/s of both, their ratio, validation accuracy, and
    /// achieved GFLOP/s against the peak of a large matrix product measured in the same run.
    /// Runs bench/peer/train_keras.py with `--python` (needs tensorflow-cpu; not in CI).
    Train(BenchTrainArgs),
    /// Export speed against the official converter (`TFLiteConverter.from_keras_model`, via
    /// bench/peer/export_keras.py with `--python`; needs tensorflow-cpu, not in CI) on the same
    /// network: median seconds per conversion in float32, dynamic and int8, and the ratios
    /// with and without the time to import TensorFlow.
    Export(BenchExportArgs),
}

/// Flags of `tactician bench export`.
#[derive(Debug, Args)]
pub struct BenchExportArgs {
    /// Trained model folder; without it a random network of 192-256-256-32 (relu).
    #[arg(long, value_name = "MODEL")]
    pub model: Option<PathBuf>,
    /// Python with tensorflow-cpu (default: $TACTICIAN_TF_PYTHON, else python3 from PATH).
    #[arg(long, value_name = "PYTHON")]
    pub python: Option<PathBuf>,
    /// The converter peer script.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "bench/peer/export_keras.py"
    )]
    pub script: PathBuf,
    /// Conversions per precision and side (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub repeats: usize,
    /// Measure only our exporter.
    #[arg(long)]
    pub no_peer: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `tactician bench train`.
#[derive(Debug, Args)]
pub struct BenchTrainArgs {
    /// Prepared data folder; without it a synthetic one (F=192, A=32) is generated.
    #[arg(long, value_name = "PREPARED")]
    pub prepared: Option<PathBuf>,
    /// Python with tensorflow-cpu (default: $TACTICIAN_TF_PYTHON, else python3 from PATH).
    #[arg(long, value_name = "PYTHON")]
    pub python: Option<PathBuf>,
    /// The Keras peer script.
    #[arg(long, value_name = "FILE", default_value = "bench/peer/train_keras.py")]
    pub script: PathBuf,
    /// Epochs per measurement (the first epoch of each side is a warm-up and not timed).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub epochs: usize,
    /// Threads for both sides.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 2)]
    pub threads: usize,
    /// Networks to measure: `default` (the pipeline's), `large` (192-256-256-32, batch 256,
    /// Adam) or both.
    #[arg(
        long,
        value_name = "NAME",
        value_delimiter = ',',
        default_value = "default,large"
    )]
    pub networks: Vec<String>,
    /// Skip the Keras side (our figures and the GFLOP/s only).
    #[arg(long)]
    pub no_peer: bool,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("2MiB"), Ok(2 << 20));
        assert_eq!(parse_size("3mb"), Ok(3 << 20));
        assert_eq!(parse_size(" 1G "), Ok(1 << 30));
        for bad in ["", "K", "1.5M", "-1", "0", "12Q", "99999999999999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    /// Every command's flags are consistent (clap checks names, conflicts, defaults).
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
