//! `tactician-device`: the binary that runs on the Raspberry Pi. Its agent takes published
//! models from the TUF repository, validates and activates them (`init`, `update`, `agent`,
//! `activate`, `rollback`, `status`); `bench` measures a model with the device runtime,
//! optionally against the official interpreter (`--peer`); `info` describes a model.

mod agent_cmd;
mod bench;
mod serve_bench;
mod serve_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tactician's device agent: installs published models safely, and benchmarks them.
#[derive(Debug, Parser)]
#[command(name = "tactician-device", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create this device's identity (an id and an age key pair) and the agent's settings;
    /// prints the public key to enrol with `tactician devices add`.
    Init(agent_cmd::InitArgs),
    /// Look at the repository once: verify its metadata (TUF), and if the group's alias
    /// names a newer version, download, decrypt, validate and (inside the maintenance window)
    /// activate it, rolling back if its health check fails. Exit 1 when a release is refused.
    Update(agent_cmd::SimpleArgs),
    /// Run the agent: `update` every poll interval (with random jitter) until stopped.
    /// One JSON line per poll on stdout. Meant for the systemd unit (docs/deploy.md).
    Agent(agent_cmd::DaemonArgs),
    /// Activate an installed version now (outside the window, older or not).
    Activate(agent_cmd::ActivateArgs),
    /// Go back to the previously active version (or --to V); the current one is not
    /// reinstalled afterwards.
    Rollback(agent_cmd::RollbackArgs),
    /// The active, installed and refused versions, and the recent history.
    Status(agent_cmd::SimpleArgs),
    /// Serve decisions of the active model over HTTP, on loopback and a Unix socket: POST
    /// /v1/act (features and a legal mask, or a state of the built-in game), /v1/act/batch,
    /// /v1/battles/{id}/result, GET /healthz and /metrics (Prometheus). Follows the agent:
    /// a model it activates or rolls back to is put in service between requests. See
    /// docs/device-api.md.
    Serve(serve_cmd::ServeArgs),
    /// Measure serving on the active model: /v1/act latency over loopback TCP and the Unix
    /// socket beside the same server answering a constant (the transport's floor) and the
    /// engine alone, requests per second with 1, 4 and 16 clients, and a serve process's
    /// resident memory before and after a load.
    ServeBench(serve_bench::ServeBenchArgs),
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
        Command::Init(args) => agent_cmd::init(args),
        Command::Update(args) => agent_cmd::update(args),
        Command::Agent(args) => agent_cmd::daemon(args),
        Command::Activate(args) => agent_cmd::activate(args),
        Command::Rollback(args) => agent_cmd::rollback(args),
        Command::Status(args) => agent_cmd::status(args),
        Command::Serve(args) => serve_cmd::run(args),
        Command::ServeBench(args) => serve_bench::run(args),
        Command::Bench(args) => bench::run(&args),
        Command::Info { model, json } => bench::info(&model, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Each cause once, even where a message already quotes its source.
            eprintln!("error: {}", tactician_os::report(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command's flags are consistent (clap checks names, conflicts, defaults).
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
