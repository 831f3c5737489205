//! The `tactician` command: parses flags, runs the library call, maps the result to an exit
//! status (0 success, 1 failure, 2 usage error from clap).

mod cli;
mod cmd;
mod config;
mod progress;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // HTTP(S) clients (pull, the pipeline's decision) use rustls with aws-lc-rs.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (e.g. `| head`): not a failure.
        Err(e) if cmd::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Each cause once, even where a message already quotes its source.
            eprintln!("error: {}", tactician_os::report(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}
