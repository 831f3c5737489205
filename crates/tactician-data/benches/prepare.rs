//! Prepare throughput: decisions read per second by a whole `prepare` on 2 threads (read the
//! Parquet transitions, filter, split, balance, augment, normalize, build the scenarios, write
//! the safetensors files and the manifest, hash them).
//!
//! The dataset is the pipeline's: 2,100 battles of the built-in strategies (every matchup,
//! seed 0) collected and ingested with the defaults, about 250,000 decisions.
//! - `prepare/search_only`: the pipeline's preset (the search strategy's decisions, 18%);
//! - `prepare/all_players`: every decision kept, one symmetric copy per training row;
//! - `prepare/search_only_uncompressed`: the first on the same logs ingested with
//!   `--features-codec none` (features stored plainly instead of LZ4-compressed);
//! - `prepare/synthetic_search_only`: the first on a synthetic dataset of 200,000 decisions
//!   whose features compress less and of which a third are kept (the harder case);
//! - `prepare/parquet_decode` (the peer): decoding the columns prepare reads, of every row
//!   group of the pipeline's dataset and nothing else, on 2 threads; `prepare /
//!   parquet_decode` is the cost of everything else.
//!
//! Each run writes a fresh output folder; removing the previous run's is not timed.
//!
//! `cargo bench -p tactician-data --bench prepare`; the figures are criterion's `thrpt` lines
//! in decisions (elements) per second.

mod common;
#[path = "../tests/prepare_common/mod.rs"]
mod prepare_common;

use criterion::{BatchSize, Criterion, Throughput, criterion_main};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tactician_data::dataset::Dataset;
use tactician_data::dataset::table::FeatureCodec;
use tactician_data::ingest::{IngestOptions, ingest};
use tactician_data::prepare::{PrepareConfig, PrepareOptions, prepare};

/// Battles collected, as the pipeline's default.
const BATTLES: u64 = 2100;

/// Collects the pipeline's battles into `dir/logs` and ingests them into `dir/ds` (LZ4
/// features) and `dir/ds-plain` (uncompressed features).
fn pipeline_datasets(dir: &Path) -> (PathBuf, PathBuf) {
    let (files, _) = common::collect_logs(&dir.join("logs"), BATTLES, 0);
    let game = tactician_game::game_spec().expect("the built-in game");
    let mut out = Vec::new();
    for (name, feature_codec) in [("ds", FeatureCodec::Lz4), ("ds-plain", FeatureCodec::None)] {
        let ds = dir.join(name);
        let opts = IngestOptions {
            threads: 2,
            feature_codec,
            ..IngestOptions::default()
        };
        ingest(&ds, &files, &game, &opts, &|_| {}).expect("ingest");
        out.push(ds);
    }
    let plain = out.pop().expect("two datasets");
    (out.pop().expect("two datasets"), plain)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (ds, ds_plain) = pipeline_datasets(dir.path());
    let synthetic = dir.path().join("synthetic");
    let spec = tactician_game::SkirmishEncoder::feature_spec();
    let game = tactician_game::game_spec().expect("the built-in game");
    prepare_common::write(&synthetic, spec, 11, 0, 1000, 200);
    let decisions = |ds: &Path| Dataset::open(ds).expect("dataset").manifest().transitions;

    let mut group = c.benchmark_group("prepare");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(15));
    let opts = PrepareOptions {
        threads: 2,
        ..Default::default()
    };
    let out = dir.path().join("prepared");
    for (name, dataset, config) in [
        ("search_only", &ds, PrepareConfig::default()),
        (
            "all_players",
            &ds,
            PrepareConfig {
                players: vec![],
                ..Default::default()
            },
        ),
        (
            "search_only_uncompressed",
            &ds_plain,
            PrepareConfig::default(),
        ),
        (
            "synthetic_search_only",
            &synthetic,
            PrepareConfig::default(),
        ),
    ] {
        let n = decisions(dataset);
        group.throughput(Throughput::Elements(n));
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    if out.exists() {
                        std::fs::remove_dir_all(&out).expect("remove the last output");
                    }
                },
                |()| {
                    let m = prepare(dataset, &out, &config, &game, &opts).expect("prepare");
                    assert_eq!(m.counts.read, n);
                },
                BatchSize::PerIteration,
            )
        });
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("threads");
    let dataset = Dataset::open(&ds).expect("dataset");
    let parts: Vec<(PathBuf, usize)> = dataset
        .manifest()
        .table("transitions")
        .flat_map(|f| {
            let path = ds.join(&f.path);
            let file = std::fs::File::open(&path).expect("part");
            let groups = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .metadata()
                .num_row_groups();
            (0..groups).map(move |g| (path.clone(), g))
        })
        .collect();
    let n = dataset.manifest().transitions;
    group.throughput(Throughput::Elements(n));
    group.bench_function("parquet_decode", |b| {
        b.iter(|| {
            let rows: usize = pool.install(|| {
                parts
                    .par_iter()
                    .map(|(path, g)| {
                        let file = std::fs::File::open(path).expect("part");
                        let builder =
                            ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
                        let mask = ProjectionMask::columns(
                            builder.parquet_schema(),
                            [
                                "battle_id",
                                "side",
                                "features",
                                "legal",
                                "action",
                                "outcome",
                            ],
                        );
                        builder
                            .with_projection(mask)
                            .with_row_groups(vec![*g])
                            .with_batch_size(8192)
                            .build()
                            .expect("reader")
                            .map(|b| b.expect("batch").num_rows())
                            .sum::<usize>()
                    })
                    .sum()
            });
            assert_eq!(rows as u64, n);
        })
    });
    group.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
