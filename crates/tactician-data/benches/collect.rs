//! Collection throughput: battles per second of a whole collection run (play, snapshot, encode,
//! serialize, compress, hash, write and sync) on 2 threads, the size of CI and of a Raspberry
//! Pi-class workstation budget.
//!
//! The peer is `play-only`: the same battles (same seeds, strategies and sides) played on the
//! same 2 threads without recording. `collect / play-only` is the cost of recording.
//!
//! `cargo bench -p tactician-data --bench collect`; the figures are criterion's `thrpt` lines,
//! in battles (elements) per second.

use criterion::{Criterion, Throughput, criterion_main};
use rayon::prelude::*;
use std::time::Duration;
use tactician_data::collect::{
    CollectConfig, Settings, assignment, battle_seed, collect, parse_matchups, strategy_seed,
};
use tactician_game::{GameConfig, play::play, strategy};

/// Battles per measured run.
const BATTLES: u64 = 64;
/// Worker threads.
const THREADS: usize = 2;
/// Run seed.
const SEED: u64 = 1;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .expect("thread pool");
    let mut group = c.benchmark_group("collect");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(BATTLES));
    for matchups in ["random:random", "aggressive:defensive", "search:random"] {
        let config = CollectConfig {
            settings: Settings {
                battles: BATTLES,
                matchups: matchups.to_string(),
                seed: SEED,
                zero_wall_clock: true,
                ..Settings::default()
            },
            out: dir.path().join(matchups.replace(':', "-")),
            threads: Some(THREADS),
            force: true,
        };
        group.bench_function(format!("{matchups}/collect"), |b| {
            b.iter(|| collect(&config, &|_| {}).expect("collection runs"))
        });
        let ms = parse_matchups(matchups).expect("valid matchups");
        group.bench_function(format!("{matchups}/play-only"), |b| {
            b.iter(|| {
                pool.install(|| {
                    (0..BATTLES)
                        .into_par_iter()
                        .map(|i| {
                            let (_, names) = assignment(i, &ms);
                            let seed = battle_seed(SEED, i);
                            let mut p = [0u8, 1].map(|side| {
                                strategy::by_name(
                                    names[usize::from(side)],
                                    strategy_seed(seed, side),
                                )
                                .expect("known strategy")
                            });
                            let [a, b] = &mut p;
                            play(seed, GameConfig::default(), [a.as_mut(), b.as_mut()])
                                .0
                                .turn()
                        })
                        .sum::<u32>()
                })
            })
        });
    }
    group.finish();
}

/// The generated group function lives in a private module: `criterion_group!` makes it `pub`
/// without docs.
mod groups {
    criterion::criterion_group!(benches, super::bench);
}

criterion_main!(groups::benches);
