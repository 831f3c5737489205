//! `tactician tune`: hyper-parameter search.

use crate::cli::TuneArgs;
use std::collections::BTreeMap;
use tactician_train::Prepared;
use tactician_train::train::Progress;
use tactician_train::tune::{SearchMethod, Trial, TuneProgress};

struct Bars {
    quiet: bool,
}

impl TuneProgress for Bars {
    fn trial_start(
        &mut self,
        i: usize,
        n: usize,
        settings: &BTreeMap<String, serde_json::Value>,
    ) -> Box<dyn Progress + '_> {
        if !self.quiet {
            let s: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
            eprintln!("trial {}/{n}: {}", i + 1, s.join(" "));
        }
        Box::new(super::train::Bar::new(
            &format!("trial {}", i + 1),
            self.quiet,
        ))
    }

    fn trial_end(&mut self, t: &Trial) {
        if !self.quiet {
            match &t.error {
                None => eprintln!(
                    "trial {}: val top-1 {:.2}%, val loss {:.4}",
                    t.trial + 1,
                    100.0 * t.val_top1,
                    t.val_loss
                ),
                Some(e) => eprintln!("trial {} failed: {e}", t.trial + 1),
            }
        }
    }
}

/// Runs `tactician tune`.
pub fn run(args: TuneArgs, quiet: bool) -> anyhow::Result<()> {
    let (config, base) = super::train::settings(&args.train)?;
    let mut tune = config.tune.clone();
    if let Some(t) = args.trials {
        tune.trials = t;
    }
    if let Some(m) = &args.method {
        tune.method = match m.as_str() {
            "random" => SearchMethod::Random,
            "grid" => SearchMethod::Grid,
            _ => anyhow::bail!("unknown search method `{m}` (random or grid)"),
        };
    }
    let data = Prepared::load(&args.prepared, None)?;
    let board = tactician_train::tune::tune(&data, &base, &tune, &args.out, &mut Bars { quiet })?;
    if args.json {
        return super::print_json(&board);
    }
    let text = format!(
        "## tune: {} trials ({}), leaderboard in {}\n\n{}",
        board.trials.len(),
        match tune.method {
            SearchMethod::Random => "random",
            SearchMethod::Grid => "grid",
        },
        args.out.join("leaderboard.csv").display(),
        tactician_train::tune::to_markdown(&board)
    );
    super::print(&text)
}
