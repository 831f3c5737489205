//! `tactician-device`: the binary that runs on the Raspberry Pi. For now it benchmarks a model
//! with the device runtime, optionally against the official interpreter driven the way a
//! Python game usually drives it (`--peer`), and describes a model (`info`).

mod bench;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tactician's device agent.
#[derive(Debug, Parser)]
#[command(name = "tactician-device", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure decision latency (features in, masked action out), throughput at batch sizes
    /// 1/8/64, resident memory, and the distance to this core's compute and bandwidth peaks.
    ///
    /// With --peer, runs the official interpreter (ai-edge-litert, driven the usual Python way:
    /// set_tensor / invoke / get_tensor per decision) on the same file in the same run and
    /// prints the ratios. Figures come from this run only; compare ratios, not absolute times,
    /// across machines.
    Bench(bench::BenchArgs),
    /// Print a model's inputs, outputs, metadata and planning figures.
    Info {
        /// The .tflite file.
        model: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => bench::run(&args),
        Command::Info { model, json } => bench::info(&model, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
