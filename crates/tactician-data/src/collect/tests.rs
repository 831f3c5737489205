use super::*;
use std::fs;
use tactician_game::record::{SkirmishRecord, replay};

fn config(out: &Path, battles: u64, matchups: &str, seed: u64) -> CollectConfig {
    CollectConfig {
        settings: Settings {
            battles,
            matchups: matchups.to_string(),
            seed,
            shard_size: 7,
            ..Settings::default()
        },
        out: out.to_path_buf(),
        threads: Some(2),
        force: false,
    }
}

/// Every file of a folder, name and bytes, sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The decompressed lines of every log file, with the `wall` objects removed.
fn content_without_wall(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for (name, _) in files(dir) {
        if !name.starts_with("part-") {
            continue;
        }
        for v in LogReader::<serde_json::Value>::open(&dir.join(&name)).unwrap() {
            let mut v = v.unwrap();
            let obj = v.as_object_mut().unwrap();
            assert!(obj.remove("wall").is_some());
            for d in obj["decisions"].as_array_mut().unwrap() {
                assert!(d.as_object_mut().unwrap().remove("wall").is_some());
            }
            out.push(v);
        }
    }
    out
}

fn no_collection_files(dir: &Path) -> bool {
    !dir.exists()
        || fs::read_dir(dir)
            .unwrap()
            .all(|e| !output::is_collection_file(&e.unwrap().file_name().to_string_lossy()))
}

#[test]
fn same_seed_gives_the_same_battles_apart_from_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let s1 = collect(&config(&a, 20, "random:aggressive", 9), &|_| {}).unwrap();
    collect(&config(&b, 20, "random:aggressive", 9), &|_| {}).unwrap();
    collect(&config(&c, 20, "random:aggressive", 10), &|_| {}).unwrap();
    let (ca, cb) = (content_without_wall(&a), content_without_wall(&b));
    assert_eq!(ca.len(), 20);
    assert_eq!(ca, cb);
    assert_ne!(ca, content_without_wall(&c));
    assert_eq!(s1.files.len(), 3);
    assert_eq!(
        s1.files.iter().map(|f| f.battles).collect::<Vec<_>>(),
        [7, 7, 6]
    );
}

#[test]
fn zero_wall_clock_gives_identical_bytes_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in [1, 2, 3] {
        let out = dir.path().join(format!("t{threads}"));
        let mut cfg = config(&out, 24, "random:random,random:defensive", 5);
        cfg.settings.zero_wall_clock = true;
        cfg.threads = Some(threads);
        collect(&cfg, &|_| {}).unwrap();
        outs.push(files(&out));
    }
    assert_eq!(outs[0].len(), 5, "4 files and the manifest");
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
}

#[test]
fn thread_count_does_not_change_content() {
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one");
    let four = dir.path().join("four");
    let mut cfg = config(&one, 15, "random:*", 3);
    cfg.threads = Some(1);
    collect(&cfg, &|_| {}).unwrap();
    cfg.out = four.clone();
    cfg.threads = Some(4);
    collect(&cfg, &|_| {}).unwrap();
    assert_eq!(content_without_wall(&one), content_without_wall(&four));
}

#[test]
fn collected_battles_replay_and_follow_the_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let mut cfg = config(&out, 12, "random:aggressive,random:random", 4);
    cfg.settings.compress = false;
    let calls = AtomicU64::new(0);
    let summary = collect(&cfg, &|p| {
        assert_eq!(p.total, 12);
        calls.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 12);
    assert!(summary.files.iter().all(|f| f.name.ends_with(".jsonl")));
    let matchups = parse_matchups("random:aggressive,random:random").unwrap();
    let mut i = 0u64;
    for f in &summary.files {
        for rec in LogReader::<SkirmishRecord>::open(&out.join(&f.name)).unwrap() {
            let rec = rec.unwrap();
            replay(&rec).unwrap_or_else(|e| panic!("battle {i}: {e}"));
            let seed = battle_seed(4, i);
            assert_eq!(rec.seed, seed);
            let (_, names) = assignment(i, &matchups);
            let sides: Vec<_> = rec
                .sides
                .iter()
                .map(|s| s.strategy.clone().unwrap())
                .collect();
            assert_eq!(sides, names);
            i += 1;
        }
    }
    assert_eq!(i, 12);
    let m = &summary.matchups[0];
    assert_eq!(
        (m.a.as_str(), m.b.as_str(), m.battles),
        ("random", "aggressive", 6)
    );
    assert_eq!(m.a_wins + m.draws + m.b_wins, 6);
    assert_eq!(summary.battles, 12);
}

#[test]
fn summary_read_back_equals_the_run_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let run = collect(&config(&out, 18, "random:*", 8), &|_| {}).unwrap();
    let mut back = summarize(&out).unwrap();
    // Wall times went through JSON text: equal up to float parsing.
    for (b, r) in back.matchups.iter_mut().zip(&run.matchups) {
        assert!((b.mean_wall_ms - r.mean_wall_ms).abs() <= 1e-9 * r.mean_wall_ms.max(1.0));
        b.mean_wall_ms = r.mean_wall_ms;
    }
    assert_eq!(back.matchups, run.matchups);
    assert_eq!(back.files, run.files);
    assert_eq!((back.battles, back.decisions), (run.battles, run.decisions));
    let manifest = read_manifest(&out).unwrap();
    assert_eq!(manifest.battles, 18);
    assert_eq!(manifest.settings, config(&out, 18, "random:*", 8).settings);
    assert!(run.to_markdown().contains("| random vs random |"));

    // A flipped byte in a file is caught.
    let path = out.join(&run.files[1].name);
    let mut bytes = fs::read(&path).unwrap();
    let n = bytes.len() / 2;
    bytes[n] ^= 1;
    fs::write(&path, bytes).unwrap();
    let e = summarize(&out).unwrap_err();
    assert!(matches!(e, CollectError::Corrupt { .. }), "{e}");
}

#[test]
fn bad_settings_are_refused_before_any_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let check = |cfg: CollectConfig, what: &str| {
        let e = collect(&cfg, &|_| {}).unwrap_err();
        assert!(e.to_string().contains(what), "{e} should mention {what}");
        assert!(no_collection_files(&cfg.out), "{e}: files left");
    };
    check(config(&out, 0, "random:random", 1), "at least 1");
    check(config(&out, MAX_BATTLES + 1, "random:random", 1), "1000000");
    check(config(&out, 2, "all", 1), "cannot cover");
    check(config(&out, 5, "random:nonesuch", 1), "nonesuch");
    check(config(&out, 5, "random", 1), "malformed");
    check(config(&out, 5, "", 1), "empty");
    let mut cfg = config(&out, 5, "random:random", 1);
    cfg.settings.max_rounds = 0;
    check(cfg, "max_rounds");
    let mut cfg = config(&out, 5, "random:random", 1);
    cfg.settings.shard_size = 0;
    check(cfg, "shard size");
    let mut cfg = config(&out, 5, "random:random", 1);
    cfg.threads = Some(0);
    check(cfg, "thread count");
}

#[test]
fn bad_output_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    let e = collect(&config(&file, 3, "random:random", 1), &|_| {}).unwrap_err();
    assert!(matches!(e, CollectError::NotADirectory(_)), "{e}");
    let e = collect(&config(&file.join("logs"), 3, "random:random", 1), &|_| {}).unwrap_err();
    assert!(matches!(e, CollectError::Unwritable { .. }), "{e}");
    assert_eq!(fs::read(&file).unwrap(), b"x");
    let proc = Path::new("/proc/tactician-logs");
    let e = collect(&config(proc, 3, "random:random", 1), &|_| {}).unwrap_err();
    assert!(matches!(e, CollectError::Unwritable { .. }), "{e}");
}

#[test]
fn a_previous_collection_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let mut cfg = config(&out, 10, "random:random", 1);
    cfg.settings.zero_wall_clock = true;
    collect(&cfg, &|_| {}).unwrap();
    let before = files(&out);
    cfg.settings.seed = 2;
    let e = collect(&cfg, &|_| {}).unwrap_err();
    assert!(matches!(e, CollectError::AlreadyCollected { .. }), "{e}");
    assert!(e.to_string().contains("--force"), "{e}");
    assert_eq!(files(&out), before);
    cfg.force = true;
    cfg.settings.shard_size = 100;
    collect(&cfg, &|_| {}).unwrap();
    let after = files(&out);
    assert_eq!(
        after.len(),
        2,
        "one file and the manifest, the old files are gone"
    );
    assert_eq!(read_manifest(&out).unwrap().settings.seed, 2);
}

#[test]
fn a_failure_after_files_were_written_leaves_the_previous_collection() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let mut cfg = config(&out, 10, "random:random", 1);
    collect(&cfg, &|_| {}).unwrap();
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let before = files(&out);
    // Once every battle is played, take the staging folder away: the shards are complete by
    // then, the manifest cannot be written, and the run must fail without touching the old
    // collection.
    cfg.force = true;
    cfg.settings.seed = 9;
    let parent = dir.path().to_path_buf();
    let e = collect(&cfg, &|p| {
        if p.done == p.total {
            for entry in fs::read_dir(&parent).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if name.starts_with(".logs.staging-") {
                    let _ = fs::remove_dir_all(&path);
                }
            }
        }
    })
    .unwrap_err();
    assert!(!e.to_string().is_empty());
    assert_eq!(files(&out), before);
    let siblings: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings, ["logs"], "no staging folder is left");
}

/// The example in `docs/battle-log.md` is a real record: replaying its settings gives the same
/// battle id and the same decision 37 (wall clock aside).
#[test]
fn the_documented_example_is_a_real_record() {
    let doc =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/battle-log.md"))
            .unwrap();
    let start = doc.find("```json\n").unwrap() + 8;
    let end = start + doc[start..].find("```").unwrap();
    let example: serde_json::Value = serde_json::from_str(&doc[start..end]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), 1, "aggressive:support", 7);
    cfg.settings.compress = false;
    collect(&cfg, &|_| {}).unwrap();
    let line = fs::read_to_string(dir.path().join("part-00000.jsonl")).unwrap();
    let mut real: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(example["battle_id"], real["battle_id"]);
    assert_eq!(example["seed"], real["seed"]);
    assert_eq!(example["encoder"], real["encoder"]);
    assert_eq!(example["setup"], real["setup"]);
    let shown = &example["decisions"][1];
    let mut actual = real["decisions"][37].take();
    actual["wall"] = shown["wall"].clone();
    assert_eq!(*shown, actual);
    for key in ["winner", "victory", "turns", "rounds"] {
        assert_eq!(example["outcome"][key], real["outcome"][key], "{key}");
    }
}
