//! The subcommands: each turns its flags into a library config, calls the library and prints
//! the result.

mod bench_export;
mod bench_train;
mod collect;
pub mod deploy;
mod deploy_step;
mod eval;
pub mod export;
mod ingest;
mod pipeline;
mod prepare;
pub mod pull;
mod serve_step;
mod spec;
mod stats;
mod strategies;
mod tournament;
mod train;
mod tune;
pub mod verify;

use crate::cli::{Cli, Command};
use anyhow::Context;
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use tactician_battle::GameSpec;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pipeline(args) => pipeline::run(args, cli.quiet),
        Command::Collect(args) => collect::run(args, cli.quiet),
        Command::Ingest(args) => ingest::run(args, cli.quiet),
        Command::Stats(args) => stats::run(args),
        Command::Prepare(args) => prepare::run(args, cli.quiet),
        Command::Eval(args) => eval::run(args, cli.quiet),
        Command::Train(args) => train::run(args, cli.quiet),
        Command::Tune(args) => tune::run(args, cli.quiet),
        Command::Bench(crate::cli::BenchCommand::Train(args)) => bench_train::run(args, cli.quiet),
        Command::Bench(crate::cli::BenchCommand::Export(args)) => bench_export::run(args),
        Command::Tournament(args) => tournament::run(args, cli.quiet),
        Command::Strategies(args) => strategies::run(args),
        Command::Spec(args) => spec::run(args),
        Command::Export(args) => export::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Keys(cmd) => deploy::keys(cmd),
        Command::Devices(cmd) => deploy::devices(cmd),
        Command::Publish(args) => deploy::publish(args),
        Command::Promote(args) => deploy::promote(args),
        Command::Registry(cmd) => deploy::registry_cmd(cmd),
        Command::Push(args) => deploy::push(args),
        Command::Pull(args) => pull::run(args),
    }
}

/// The game a command works on: the game spec (a feature spec with optional symmetries,
/// scenarios and victories) in the file `spec`, or the built-in game.
pub fn game(spec: Option<&Path>) -> anyhow::Result<GameSpec> {
    match spec {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read the game spec {}", path.display()))?;
            GameSpec::from_json(&bytes)
                .with_context(|| format!("{} is not a valid game spec", path.display()))
        }
        None => tactician_game::game_spec().context("the built-in game's declaration is invalid"),
    }
}

/// An error `what: failure; failure; ...` when any gate failed, `Ok` when none did.
pub fn fail_below(what: &str, failed: Vec<String>) -> anyhow::Result<()> {
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("{what}: {}", failed.join("; "))
    }
}

/// Whether `e` is a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints `text` on stdout.
fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}
