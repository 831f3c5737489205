//! `tactician strategies`.

use crate::cli::StrategiesArgs;
use tactician_game::strategy;

/// Lists the registered strategy names.
pub fn run(args: StrategiesArgs) -> anyhow::Result<()> {
    if args.json {
        return super::print_json(&strategy::NAMES);
    }
    let mut text = String::new();
    for name in strategy::NAMES {
        text.push_str(name);
        text.push('\n');
    }
    super::print(&text)
}
