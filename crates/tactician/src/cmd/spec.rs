//! `tactician spec`.

use crate::cli::SpecArgs;

/// Prints the built-in encoder's feature spec, or checks and prints an external one.
pub fn run(args: SpecArgs) -> anyhow::Result<()> {
    let spec = match &args.file {
        Some(path) => super::ingest::read_spec(path)?,
        None => tactician_game::SkirmishEncoder::feature_spec().clone(),
    };
    super::print_json(&spec)
}
