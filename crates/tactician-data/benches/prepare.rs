//! Prepare throughput: decisions read per second by a whole `prepare` on 2 threads (read the
//! Parquet transitions, filter, split, balance, augment, normalize, build the scenarios, write
//! the safetensors files and the manifest, hash them), on a synthetic dataset of the built-in
//! encoder's width.
//!
//! - `prepare/search_only`: the pipeline's default preset (a third of the decisions kept);
//! - `prepare/all_players`: every decision kept, one symmetric copy per training row;
//! - `prepare/parquet_decode` (the peer): decoding the same columns of the same row groups and
//!   nothing else, on 2 threads; `prepare / parquet_decode` is the cost of everything else.
//!
//! `cargo bench -p tactician-data --bench prepare`; the figures are criterion's `thrpt` lines
//! in decisions (elements) per second.

#[path = "../tests/prepare_common/mod.rs"]
mod prepare_common;

use criterion::{Criterion, Throughput, criterion_main};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;
use std::time::Duration;
use tactician_data::prepare::{PrepareConfig, PrepareOptions, prepare};

/// Battles in the synthetic dataset, of about `ROWS` decisions each.
const BATTLES: u64 = 1000;
const ROWS: u32 = 200;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let ds = dir.path().join("ds");
    let spec = tactician_game::SkirmishEncoder::feature_spec();
    let dataset = prepare_common::write(&ds, spec, 11, 0, BATTLES, ROWS);
    let decisions = dataset.manifest().transitions;

    let mut group = c.benchmark_group("prepare");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(decisions));
    let opts = PrepareOptions {
        threads: 2,
        force: true,
        ..Default::default()
    };
    let out = dir.path().join("prepared");
    for (name, config) in [
        ("search_only", PrepareConfig::default()),
        (
            "all_players",
            PrepareConfig {
                players: vec![],
                ..Default::default()
            },
        ),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let m = prepare(&ds, &out, &config, &opts).expect("prepare");
                assert_eq!(m.counts.read, decisions);
            })
        });
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("threads");
    let parts: Vec<(std::path::PathBuf, usize)> = dataset
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
                            .with_batch_size(1 << 16)
                            .build()
                            .expect("reader")
                            .map(|b| b.expect("batch").num_rows())
                            .sum::<usize>()
                    })
                    .sum()
            });
            assert_eq!(rows as u64, decisions);
        })
    });
    group.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
