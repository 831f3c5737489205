//! `tactician prepare`.

use crate::cli::PrepareArgs;
use crate::config::PipelineConfig;
use crate::progress;
use anyhow::{Context, bail};
use std::path::Path;
use tactician_data::prepare::{
    BalanceMethod, PrepareConfig, PrepareOptions, PreparedManifest, prepare,
};

/// Prepares a dataset as the flags (over the config file's `[prepare]` section) say.
pub fn run(args: PrepareArgs, quiet: bool) -> anyhow::Result<()> {
    let mut config = PipelineConfig::load(args.config.as_deref())?.prepare;
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(split) = &args.split {
        let [train, val, test] = split[..] else {
            bail!(
                "--split takes three ratios TRAIN,VAL,TEST (e.g. 0.8,0.1,0.1), got {} value(s)",
                split.len()
            );
        };
        (config.train, config.val, config.test) = (train, val, test);
    }
    if args.all_players {
        config.players.clear();
    } else if !args.players.is_empty() {
        config.players = args.players.clone();
    }
    if args.winners_only {
        config.winners_only = true;
    }
    if let Some(n) = args.min_battle_turns {
        config.min_battle_turns = n;
    }
    if args.keep_single_legal {
        config.drop_single_legal = false;
    }
    if let Some(b) = &args.balance {
        config.balance = BalanceMethod::from_name(b).ok_or_else(|| {
            anyhow::anyhow!("--balance takes none, weights or resample, not {b:?}")
        })?;
    }
    if args.balance_actions {
        config.balance_actions = true;
    }
    if args.no_augment {
        config.augment = false;
    }
    if let Some(n) = args.augment_copies {
        config.augment_copies = n;
    }
    let game = super::game(args.spec.as_deref())?;
    let opts = PrepareOptions {
        force: args.force,
        threads: args.threads.unwrap_or(0),
        ..Default::default()
    };
    let manifest = run_prepare(&args.dataset, &args.out, &config, &game, opts, quiet)?;
    if args.json {
        super::print_json(&manifest)
    } else {
        super::print(&to_markdown(&args.out, &manifest))
    }
}

/// Prepares with a progress bar; shared with the pipeline.
pub fn run_prepare(
    dataset: &Path,
    out: &Path,
    config: &PrepareConfig,
    game: &tactician_battle::GameSpec,
    mut opts: PrepareOptions,
    quiet: bool,
) -> anyhow::Result<PreparedManifest> {
    let bar = progress::bar("prepare", "decisions", 0, quiet);
    let b = bar.clone();
    opts.progress = Some(Box::new(move |done, total| {
        b.set_length(total);
        b.set_position(done);
    }));
    let result = prepare(dataset, out, config, game, &opts);
    bar.finish_and_clear();
    result.with_context(|| {
        format!(
            "cannot prepare {} into {}",
            dataset.display(),
            out.display()
        )
    })
}

/// The report as a few terminal tables.
pub fn to_markdown(out: &Path, m: &PreparedManifest) -> String {
    let c = &m.counts;
    let mut s = format!(
        "## prepare: {}\n\n{} decisions read, {} kept, {} removed ({}); encoder {}, seed {}\n\n",
        out.display(),
        c.read,
        c.kept,
        c.removed,
        m.filters
            .iter()
            .map(|(r, n)| format!("{r}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        m.encoder.hash,
        m.seed
    );
    s.push_str(
        "| split | ratio | battles | decisions | rows written |\n|---|---:|---:|---:|---:|\n",
    );
    for k in ["train", "val", "test"] {
        s.push_str(&format!(
            "| {k} | {} | {} | {} | {} |\n",
            m.split.ratios.get(k).copied().unwrap_or_default(),
            c.battles.get(k).copied().unwrap_or_default(),
            c.decisions.get(k).copied().unwrap_or_default(),
            c.rows.get(k).copied().unwrap_or_default(),
        ));
    }
    let b = &m.balance;
    s.push_str(&format!(
        "\nbalance ({:?}{}): training rows {} -> {}, weights {:.3}..{:.3}\n\n\
         | player | before | after |\n|---|---:|---:|\n",
        b.method,
        if b.actions { ", actions too" } else { "" },
        b.rows_before,
        b.rows_after,
        b.weight_range[0],
        b.weight_range[1]
    ));
    for (p, n) in &b.before.by_player {
        s.push_str(&format!(
            "| {p} | {n} | {} |\n",
            b.after.by_player.get(p).copied().unwrap_or_default()
        ));
    }
    let a = &m.augmentation;
    s.push_str(&match &a.reason {
        None => format!(
            "\naugmentation: {} symmetric cop{} per training row from {} symmetries: {} -> {} rows \
             (x{:.2})\n",
            a.copies_per_row,
            if a.copies_per_row == 1 { "y" } else { "ies" },
            a.available,
            a.rows_before,
            a.rows_after,
            a.multiplier
        ),
        Some(r) => format!("\naugmentation: off ({r})\n"),
    });
    let n = &m.normalization;
    s.push_str(&format!(
        "normalization (train, {} rows): {} constant feature(s){}, {} near-constant{}\n",
        n.rows,
        n.constant_features.len(),
        list(&n.constant_features),
        n.near_constant_features.len(),
        list(&n.near_constant_features)
    ));
    s.push_str(&match &m.scenarios.reason {
        None => format!(
            "scenarios: {} ({})\n",
            m.scenarios.names.len(),
            m.scenarios.names.join(", ")
        ),
        Some(r) => format!("scenarios: none ({r})\n"),
    });
    s.push_str(&format!("source dataset: {}\n", m.source_dataset_hash));
    s
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = names.iter().take(6).map(String::as_str).collect();
    format!(
        " ({}{})",
        shown.join(", "),
        if names.len() > 6 { ", ..." } else { "" }
    )
}
