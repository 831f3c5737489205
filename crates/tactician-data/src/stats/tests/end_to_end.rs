//! Collect → ingest → stats on the built-in game, checked against the collection's own summary
//! (which counts the battles as they are played, without logs or Parquet in between).

use crate::collect::{CollectConfig, Settings, Summary, collect};
use crate::ingest::{IngestOptions, ingest};
use crate::stats::{Stats, compute_at};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Battles per matchup: every pair of strategies plays this many, each taking each side.
const PER_MATCHUP: u64 = 2;

/// A collection of two battles per matchup of every strategy pair (mirrors included), ingested
/// into `dataset`, with options `opts`.
struct Run {
    _dir: tempfile::TempDir,
    logs: PathBuf,
    summary: Summary,
}

fn collected() -> Run {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let logs = dir.path().join("logs");
    let matchups = crate::collect::parse_matchups("all").expect("the `all` matchups");
    let config = CollectConfig {
        settings: Settings {
            battles: PER_MATCHUP * matchups.len() as u64,
            matchups: "all".into(),
            seed: 7,
            shard_size: 16,
            ..Settings::default()
        },
        out: logs.clone(),
        threads: Some(2),
        force: false,
    };
    let summary = collect(&config, &|_| {}).expect("a collection");
    Run {
        _dir: dir,
        logs,
        summary,
    }
}

/// The log files of a collection, in order.
fn log_files(logs: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(logs)
        .expect("the logs folder")
        .map(|e| e.expect("an entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("part-"))
        })
        .collect();
    files.sort();
    files
}

/// Ingests `run`'s logs into `root` with `opts` and computes the statistics.
fn stats_of(run: &Run, root: &Path, opts: &IngestOptions, top: usize) -> Stats {
    let game = tactician_game::game_spec().expect("the built-in game");
    let report = ingest(root, &log_files(&run.logs), &game, opts, &|_| {}).expect("an ingest");
    assert_eq!(report.quarantined, 0, "{report:?}");
    compute_at(root, top).expect("statistics")
}

#[test]
fn statistics_agree_with_the_collections_own_summary() {
    let run = collected();
    let sum = &run.summary;
    let root = run.logs.parent().unwrap().join("dataset");
    let s = stats_of(&run, &root, &IngestOptions::default(), 5);

    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!((s.battles, s.decisions), (sum.battles, sum.decisions));
    assert!(s.battles >= 30, "a few dozen battles: {}", s.battles);

    // Matchups: the same battles, wins, draws, victory conditions and mean turns.
    assert_eq!(s.results.by_matchup.len(), sum.matchups.len());
    for m in &sum.matchups {
        let got = s
            .results
            .by_matchup
            .iter()
            .find(|x| (x.a == m.a && x.b == m.b) || (x.a == m.b && x.b == m.a))
            .unwrap_or_else(|| panic!("matchup {} vs {} missing", m.a, m.b));
        let (a_wins, b_wins) = if got.a == m.a {
            (got.total.a_wins, got.total.b_wins)
        } else {
            (got.total.b_wins, got.total.a_wins)
        };
        assert_eq!(
            (got.total.battles, a_wins, got.total.draws, b_wins),
            (m.battles, m.a_wins, m.draws, m.b_wins),
            "{} vs {}",
            m.a,
            m.b
        );
        let victory = |name: &str| got.victories.get(name).copied().unwrap_or(0);
        assert_eq!(
            (
                victory("elimination"),
                victory("points"),
                victory("timeout")
            ),
            (m.elimination, m.points, m.timeout),
            "{} vs {}",
            m.a,
            m.b
        );
        assert!(
            (got.mean_turns - m.mean_turns).abs() < 1e-9,
            "{} vs {}: {} turns, the summary says {}",
            m.a,
            m.b,
            got.mean_turns,
            m.mean_turns
        );
        let seconds = got.mean_seconds.expect("collected battles carry wall time");
        assert!(
            (seconds * 1e3 - m.mean_wall_ms).abs() <= 1e-6 * m.mean_wall_ms.max(1.0),
            "{seconds} s against {} ms",
            m.mean_wall_ms
        );
    }

    // Strategies: wins, draws and losses against others, and mirror battles, from the matchups.
    let mut expect: BTreeMap<&str, [u64; 5]> = BTreeMap::new(); // battles, mirror, w, d, l
    for m in &sum.matchups {
        if m.a == m.b {
            let e = expect.entry(&m.a).or_default();
            e[0] += m.battles;
            e[1] += m.battles;
            continue;
        }
        for (name, w, l) in [(&m.a, m.a_wins, m.b_wins), (&m.b, m.b_wins, m.a_wins)] {
            let e = expect.entry(name).or_default();
            e[0] += m.battles;
            e[2] += w;
            e[3] += m.draws;
            e[4] += l;
        }
    }
    let got: BTreeMap<&str, [u64; 5]> = s
        .results
        .by_strategy
        .iter()
        .map(|x| {
            (
                x.strategy.as_str(),
                [x.battles, x.mirror, x.wins, x.draws, x.losses],
            )
        })
        .collect();
    assert_eq!(got, expect);
    let rates: Vec<f64> = s
        .results
        .by_strategy
        .iter()
        .map(|x| x.win_rate.unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");

    // Victory conditions over all battles.
    let total =
        |f: fn(&crate::collect::MatchupStats) -> u64| sum.matchups.iter().map(f).sum::<u64>();
    let victories: BTreeMap<&str, u64> = s
        .results
        .victories
        .iter()
        .map(|v| (v.victory.as_str(), v.battles))
        .collect();
    for (name, n) in [
        ("elimination", total(|m| m.elimination)),
        ("points", total(|m| m.points)),
        ("timeout", total(|m| m.timeout)),
    ] {
        assert_eq!(victories.get(name).copied().unwrap_or(0), n, "{name}");
    }

    // Every decision is counted once in each per-strategy section.
    let decisions: u64 = s.actions.iter().map(|a| a.decisions).sum();
    assert_eq!(decisions, s.decisions);
    for a in &s.actions {
        assert_eq!(a.names.iter().map(|n| n.count).sum::<u64>(), a.decisions);
        assert_eq!(a.types.iter().map(|n| n.count).sum::<u64>(), a.decisions);
        assert!(a.pairs.len() <= 5 && a.triples.len() <= 5, "top 5");
        let t = s
            .decision_time
            .iter()
            .find(|t| t.strategy == a.strategy)
            .expect("decision times");
        assert_eq!(t.timed, a.decisions, "collected decisions are timed");
        let r = s
            .resources
            .iter()
            .find(|r| r.strategy == a.strategy)
            .expect("resources");
        assert_eq!(
            r.phases.iter().map(|p| p.decisions).sum::<u64>(),
            a.decisions
        );
    }
    let uses: u64 = s.effectiveness.iter().map(|e| e.uses).sum();
    assert_eq!(uses, s.decisions);
    assert!(
        s.effectiveness.iter().all(|e| e.measured == e.uses),
        "the built-in game logs events for every decision"
    );

    // Turning points name a real decision of a real battle and the log line it came from.
    let tp = &s.turning_points;
    assert_eq!(tp.points.len(), 5);
    assert!(tp.battles_measured > 0 && tp.battles_measured <= s.battles);
    for p in &tp.points {
        let source = p.source.as_deref().expect("a source");
        let (file, line) = source.rsplit_once(':').expect("file:line");
        assert!(file.contains("part-"), "{source}");
        assert!(line.parse::<u64>().is_ok_and(|l| l >= 1), "{source}");
        assert!((p.after - p.before - p.swing).abs() < 1e-9);
        assert!(p.swing != 0.0);
    }

    // Winners' and losers' decisions: every decided battle's decisions, nothing else.
    let p = &s.patterns;
    let by_type: u64 = p.by_type.iter().map(|x| x.winners + x.losers).sum();
    assert_eq!(by_type, p.winner_decisions + p.loser_decisions);
    assert!(p.winner_decisions + p.loser_decisions <= s.decisions);
}

#[test]
fn the_layout_of_the_part_files_does_not_change_the_statistics() {
    let run = collected();
    let base = run.logs.parent().unwrap();
    let one = stats_of(&run, &base.join("one"), &IngestOptions::default(), 3);
    let small = IngestOptions {
        threads: 1,
        chunk_bytes: 4096,
        rows_per_file: 300,
        row_group_rows: 64,
        ..IngestOptions::default()
    };
    let many = stats_of(&run, &base.join("many"), &small, 3);
    let files = crate::dataset::Dataset::open(&base.join("many"))
        .unwrap()
        .manifest()
        .table("transitions")
        .count();
    assert!(files > 1, "several part files: {files}");
    assert_eq!(
        Stats {
            dataset: one.dataset.clone(),
            ..many
        },
        one
    );
}
