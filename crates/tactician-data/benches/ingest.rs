//! Ingest throughput: decisions (transitions) per second of a whole `ingest` of zstd battle
//! logs on 2 threads: read, cut frames, decompress, parse and validate, deduplicate, encode
//! Parquet, write, hash and sync, commit the manifest.
//!
//! `ingest/zstd_logs_2_threads_plain_features` is the same with `--features-codec none`.
//!
//! `ingest/floor_read_decompress_parse_2_threads` is the part of that work no ingest of these
//! logs can skip: the same reader and the same parallel work items (decompress, parse and
//! validate) on 2 threads, with the results dropped. `ingest / floor` is what ordering,
//! deduplication, Parquet encoding and writing cost.
//!
//! Peers in the same run, on the same decompressed records, one thread each:
//! - `parse/ours`: our record parser and validator (what ingest runs per record);
//! - `parse/serde_json`: `serde_json` deserializing the same fields into typed structs (the
//!   state and events skipped as raw values), i.e. what a straightforward implementation
//!   would do; `ours / serde_json` is the parser's gain.
//!
//! `cargo bench -p tactician-data --bench ingest`; the figures are criterion's `thrpt` lines in
//! decisions (elements) per second.

mod common;

use criterion::{Criterion, Throughput, criterion_main};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::time::Duration;
use tactician_data::dataset::table::FeatureCodec;
use tactician_data::ingest::chunk::parse_chunk;
use tactician_data::ingest::reader::{Item, ReadOptions, open, read_file};
use tactician_data::ingest::record::DatasetEncoder;
use tactician_data::ingest::work::{Done, Work, run};
use tactician_data::ingest::{IngestOptions, ingest};

/// Battles in the log set: the pipeline's default (100 per matchup of the six built-in
/// strategies), collected with its default seed, so these are the pipeline's logs.
const BATTLES: u64 = 2100;

#[derive(Deserialize)]
#[allow(dead_code)]
struct SerdeDecision<'a> {
    turn: u32,
    round: u32,
    side: u8,
    actor: u8,
    #[serde(borrow)]
    state: Option<&'a RawValue>,
    features: Vec<f32>,
    #[serde(borrow)]
    legal: &'a str,
    action: u32,
    #[serde(borrow)]
    events: Option<&'a RawValue>,
    reward: f32,
    done: bool,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct SerdeBattle<'a> {
    #[serde(borrow)]
    battle_id: &'a str,
    seed: u64,
    #[serde(borrow)]
    decisions: Vec<SerdeDecision<'a>>,
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let (files, decisions) = common::collect_logs(&dir.path().join("logs"), BATTLES, 0);
    // `INGEST_BENCH_KEEP=<folder>` keeps a copy of the logs, to profile `ingest` on them.
    if let Some(keep) = std::env::var_os("INGEST_BENCH_KEEP") {
        std::fs::create_dir_all(&keep).expect("folder for the logs");
        for f in &files {
            let name = f.file_name().expect("log file name");
            std::fs::copy(f, std::path::Path::new(&keep).join(name)).expect("copy a log");
        }
    }
    let game = tactician_game::game_spec().expect("the built-in game");

    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(decisions));
    let mut n = 0u32;
    for (name, feature_codec) in [
        ("zstd_logs_2_threads", FeatureCodec::Lz4),
        ("zstd_logs_2_threads_plain_features", FeatureCodec::None),
    ] {
        let opts = IngestOptions {
            threads: 2,
            feature_codec,
            ..IngestOptions::default()
        };
        let (runs_before, cpu_before) = (n, cpu_seconds());
        group.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                let out = dir.path().join(format!("ds-{n}"));
                let report = ingest(&out, &files, &game, &opts, &|_| {}).expect("ingest");
                assert_eq!(report.transitions, decisions);
                if n == runs_before + 1 {
                    // The size the dataset takes (its Parquet compression is chosen on it).
                    let bytes: u64 = report
                        .new_files
                        .iter()
                        .map(|f| std::fs::metadata(out.join(f)).map_or(0, |m| m.len()))
                        .sum();
                    eprintln!("{name}: {decisions} decisions -> {bytes} bytes of Parquet");
                }
                std::fs::remove_dir_all(&out).expect("clean up");
            })
        });
        // CPU time is steadier than wall time on a shared machine: report both.
        if let (Some(a), Some(b)) = (cpu_before, cpu_seconds())
            && b > a
        {
            eprintln!(
                "{name}: {:.0} decisions per CPU-second (all threads, {} runs)",
                decisions as f64 * f64::from(n - runs_before) / (b - a),
                n - runs_before
            );
        }
    }
    // The floor: the same reader and the same parallel work (decompress frames, parse and
    // validate) on 2 threads, with every result dropped: no ordering, deduplication, Parquet
    // or writing. No ingest of these logs with this parser can beat it.
    let read = IngestOptions::default().read_options();
    let encoder = DatasetEncoder::for_game(&game);
    let (mut runs, cpu_before) = (0u32, cpu_seconds());
    group.bench_function("floor_read_decompress_parse_2_threads", |b| {
        b.iter(|| {
            runs += 1;
            let rows = floor(&files, read, &encoder);
            assert_eq!(rows, decisions);
        })
    });
    if let (Some(a), Some(b)) = (cpu_before, cpu_seconds())
        && b > a
    {
        eprintln!(
            "floor: {:.0} decisions per CPU-second (all threads, {runs} runs)",
            decisions as f64 * f64::from(runs) / (b - a),
        );
    }
    group.finish();

    // The parser alone, against serde_json, on the decompressed text.
    let text: Vec<u8> = files
        .iter()
        .flat_map(|f| zstd::stream::decode_all(std::fs::File::open(f).expect("log")).expect("zstd"))
        .collect();
    let mut group = c.benchmark_group("parse");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(decisions));
    group.bench_function("ours", |b| {
        b.iter(|| {
            let r = parse_chunk(0, 1, &text, &encoder);
            assert_eq!(r.rows.len() as u64, decisions);
        })
    });
    group.bench_function("serde_json", |b| {
        b.iter(|| {
            let mut rows = 0u64;
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let battle: SerdeBattle = serde_json::from_slice(line).expect("valid record");
                rows += battle.decisions.len() as u64;
            }
            assert_eq!(rows, decisions);
        })
    });
    group.finish();
}

/// Reads `files` on this thread and runs their work items on 2 threads, dropping the results;
/// returns the rows parsed.
fn floor(files: &[std::path::PathBuf], read: ReadOptions, encoder: &DatasetEncoder) -> u64 {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Work>(4);
    let rx = std::sync::Mutex::new(rx);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut rows = 0u64;
                    loop {
                        let Ok(work) = rx.lock().expect("queue").recv() else {
                            return rows;
                        };
                        if let Done::Parsed { result, .. } = run(&work, encoder) {
                            rows += result.rows.len() as u64;
                        }
                    }
                })
            })
            .collect();
        for (i, path) in files.iter().enumerate() {
            let file = open(path).expect("log file");
            read_file(i as u32, file, read, &mut |item| match item {
                Item::Work(w) => tx.send(w).is_ok(),
                Item::Event(_) => true,
            });
        }
        drop(tx);
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    })
}

/// CPU time (user + system) of this process so far, in seconds (Linux; `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and
    // 13th, in clock ticks (100 per second on Linux).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
}

criterion_main!(benches);
