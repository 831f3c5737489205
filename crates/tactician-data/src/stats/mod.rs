//! Statistics of a dataset: who wins, which actions strategies choose and what they achieve,
//! how energy and items are spent, where battles turn, and which habits go with winning.
//!
//! [`compute`] reads the dataset in two streaming passes, decoding only the columns it needs,
//! one row group at a time: the transitions table (gathered battle by battle: ingest stores a
//! battle's decisions together and in turn order, which the pass checks) and the battles
//! table. Memory depends on the number of strategies and actions (plus an 8-byte hash per
//! battle, to refuse a battle id that comes back), not on the number of decisions.
//! [`Stats`] serializes to JSON and renders as Markdown tables ([`Stats::to_markdown`]).
//!
//! ```no_run
//! let stats = tactician_data::stats::compute_at(std::path::Path::new("runs/default/dataset"), 10)?;
//! print!("{}", stats.to_markdown());
//! # Ok::<(), tactician_data::stats::StatsError>(())
//! ```

mod actions;
mod battle;
mod effect;
mod error;
mod model;
mod patterns;
mod read;
mod render;
mod render_analysis;
mod results;
mod scan;
mod table;
mod timing;
mod turning;

#[cfg(test)]
mod tests;

pub use battle::action_type;
pub use error::StatsError;
pub use model::*;

use crate::dataset::Dataset;
use battle::Actions;
use std::collections::HashMap;
use std::path::Path;

/// Opens the dataset at `root` and computes its statistics (see [`compute`]).
pub fn compute_at(root: &Path, top: usize) -> Result<Stats, StatsError> {
    compute(&Dataset::open(root)?, top)
}

/// Computes the statistics of `dataset`; ranked lists (sequences, turning points, patterns)
/// keep their `top` entries. Fails on an empty dataset, and on part files that are unreadable
/// or break the dataset format, naming the file and column.
pub fn compute(dataset: &Dataset, top: usize) -> Result<Stats, StatsError> {
    let manifest = dataset.manifest();
    if manifest.battles == 0 {
        return Err(StatsError::Empty(dataset.root().to_path_buf()));
    }
    let actions = Actions::new(manifest.encoder.actions());
    let scan = scan::transitions(dataset, &actions, top)?;
    let mut turning_points = scan.turning.finish(&scan.players, &actions);
    let mut sources: HashMap<String, Option<String>> = turning_points
        .points
        .iter()
        .map(|p| (p.battle_id.clone(), None))
        .collect();
    let table = results::battles(dataset, &mut sources)?;
    for p in &mut turning_points.points {
        p.source = sources.get(&p.battle_id).cloned().flatten();
    }

    let mut warnings = Vec::new();
    if table.battles != scan.battles {
        warnings.push(format!(
            "the battles table holds {} battles but the transitions table has decisions of {}",
            table.battles, scan.battles
        ));
    }
    if manifest.battles != table.battles || manifest.transitions != scan.decisions {
        warnings.push(format!(
            "the manifest lists {} battles and {} decisions but the tables hold {} and {}",
            manifest.battles, manifest.transitions, table.battles, scan.decisions
        ));
    }

    // Every per-strategy section lists strategies in the order of the results table.
    let order: Vec<String> = table
        .results
        .by_strategy
        .iter()
        .map(|s| s.strategy.clone())
        .collect();
    let mut actions_out = scan.actions.finish(&scan.players, &actions, top);
    sort_as(&mut actions_out, &order, |s| &s.strategy);
    let mut decision_time = scan.timing.finish(&scan.players);
    sort_as(&mut decision_time, &order, |s| &s.strategy);
    let mut resources = scan.effect.resources(&scan.players);
    sort_as(&mut resources, &order, |s| &s.strategy);
    let mut patterns = scan.patterns.finish(&scan.players, &actions, top);
    sort_as(&mut patterns.by_strategy, &order, |s| &s.strategy);

    Ok(Stats {
        dataset: dataset.root().display().to_string(),
        encoder: manifest.encoder.hash().to_string(),
        battles: table.battles,
        decisions: scan.decisions,
        top,
        results: table.results,
        actions: actions_out,
        decision_time,
        effectiveness: scan.effect.effectiveness(&actions),
        resources,
        turning_points,
        patterns,
        warnings,
    })
}

/// Sorts `v` by the position of its strategy in `order` (unknown ones last, by name).
fn sort_as<T>(v: &mut [T], order: &[String], key: impl Fn(&T) -> &String) {
    v.sort_by(|a, b| {
        let pos = |x: &T| order.iter().position(|o| o == key(x)).unwrap_or(usize::MAX);
        pos(a).cmp(&pos(b)).then_with(|| key(a).cmp(key(b)))
    });
}
