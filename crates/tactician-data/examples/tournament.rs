//! Plays the round robin of all registered strategies and prints the Markdown table.
//!
//! ```text
//! cargo run --release -p tactician-data --example tournament -- [BATTLES_PER_PAIR] [SEED] [JSON_OUT]
//! ```
//!
//! Defaults: 1000 battles per pair, seed 1. With a third argument the full table (wins, draws,
//! losses, average turns) is also written there as JSON. `tactician tournament` is the
//! supported front end; this example is the same call without the CLI.

use std::time::Instant;
use tactician_data::tournament::round_robin_with_progress;
use tactician_game::{GameConfig, strategy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let battles = args.first().map_or(Ok(1000), |s| s.parse())?;
    let seed = args.get(1).map_or(Ok(1), |s| s.parse())?;
    let start = Instant::now();
    let table = round_robin_with_progress(
        strategy::NAMES,
        battles,
        seed,
        GameConfig::default(),
        &|p| {
            if p.done % 1000 == 0 || p.done == p.total {
                eprintln!("{}/{} battles", p.done, p.total);
            }
        },
    )?;
    eprintln!("done in {:.1} s", start.elapsed().as_secs_f64());
    print!("{}", table.to_markdown());
    if let Some(path) = args.get(2) {
        std::fs::write(path, serde_json::to_string_pretty(&table)?)?;
    }
    Ok(())
}
