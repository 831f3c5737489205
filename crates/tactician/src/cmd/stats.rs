//! `tactician stats`.

use crate::cli::StatsArgs;

/// Prints a dataset's statistics.
pub fn run(args: StatsArgs) -> anyhow::Result<()> {
    anyhow::bail!(
        "tactician stats is not available yet (dataset {})",
        args.dataset.display()
    )
}
