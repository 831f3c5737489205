//! `tactician ingest` and `tactician spec` run as a user would: exit codes, messages, and what
//! the dataset folder holds afterwards, including when the batch is too dirty, a log cannot be
//! read, the folder belongs to something else, or the disk fails mid-write.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use tactician_data::dataset::Dataset;

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The lines of a small collection of real battles (plain JSON Lines), made once.
fn battle_lines() -> &'static [String] {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let o = tactician(&[
            "collect",
            "-n",
            "24",
            "-m",
            "all",
            "-s",
            "5",
            "--no-compress",
            "--zero-wall-clock",
            "-q",
            "--out",
            logs.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        fs::read_to_string(logs.join("part-00000.jsonl"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    })
}

fn write_log(path: &Path, lines: &[String]) -> PathBuf {
    fs::write(
        path,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    path.to_path_buf()
}

fn ingest(dataset: &Path, logs: &[&Path], extra: &[&str]) -> Output {
    let mut args = vec!["ingest", "-q", "--out", dataset.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend(logs.iter().map(|p| p.to_str().unwrap()));
    tactician(&args)
}

/// Every file under `dir` with its bytes, sorted by name.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

fn battles_in(dataset: &Path) -> u64 {
    Dataset::open(dataset).unwrap().manifest().battles
}

#[test]
fn max_reject_rate_fails_a_dirty_batch_and_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let mut lines: Vec<String> = battle_lines()[..8].to_vec();
    lines[2] = "not json".into();
    lines[5] = lines[5][..100].to_string();
    // 2 of 8 = 25% bad.
    let log = write_log(&dir.path().join("dirty.jsonl"), &lines);
    let empty = tactician(&["ingest", "-q", "--out", ds.to_str().unwrap(), "/dev/null"]);
    assert!(empty.status.success(), "{}", text(&empty.stderr));
    let before = snapshot(&ds);

    let o = ingest(&ds, &[&log], &["--max-reject-rate", "0.2", "--json"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("25.0%") && err.contains("20.0%"), "{err}");
    assert!(err.contains("nothing was added"), "{err}");
    // The report still tells what was found.
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["records"], 8);
    assert_eq!(report["quarantined"], 2);
    assert_eq!(report["by_reason"]["malformed_json"], 1);
    assert_eq!(report["by_reason"]["truncated"], 1);
    assert_eq!(battles_in(&ds), 0);
    // Only the quarantine file (named in the message, for the user to look at) is new.
    let after: Vec<_> = snapshot(&ds)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(ds.join("quarantine")))
        .collect();
    assert_eq!(after, before);

    // Under the limit, the same batch is accepted: exit 0.
    let o = ingest(&ds, &[&log], &["--max-reject-rate", "0.25"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("8 records read = 6 accepted + 2 quarantined"));
    assert_eq!(battles_in(&ds), 6);

    // A rate outside [0, 1] is refused before anything is read.
    for bad in ["--max-reject-rate=1.5", "--max-reject-rate=-0.1"] {
        let o = ingest(&ds, &[&log], &[bad]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains("between 0 and 1"));
    }
}

#[test]
fn unreadable_logs_are_reported_and_the_readable_ones_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let good = write_log(&dir.path().join("good.jsonl"), &battle_lines()[..3]);
    let missing = dir.path().join("missing.jsonl");
    let folder = dir.path().join("a-folder");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("notes.txt"), "not a log").unwrap();
    let o = ingest(&ds, &[&good, &missing], &["--json"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("missing.jsonl") && err.contains("No such file"),
        "{err}"
    );
    assert!(err.contains("the others were ingested"), "{err}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["accepted"], 3);
    assert!(report["files"][1]["error"].is_string());
    assert_eq!(battles_in(&ds), 3);
    // A folder without logs is refused before anything is read.
    let o = ingest(&ds, &[&folder], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("holds no part-"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(battles_in(&ds), 3);
}

#[test]
fn folders_that_are_not_datasets_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(&dir.path().join("log.jsonl"), &battle_lines()[..2]);

    // A folder with other files in it.
    let other = dir.path().join("photos");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("cat.jpg"), b"\xff\xd8 not really").unwrap();
    // A folder whose dataset.json is some other format.
    let foreign = dir.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(
        foreign.join("dataset.json"),
        r#"{"format": "someone.else/3", "rows": 12}"#,
    )
    .unwrap();
    // A folder whose dataset.json is not JSON.
    let garbled = dir.path().join("garbled");
    fs::create_dir(&garbled).unwrap();
    fs::write(garbled.join("dataset.json"), "{{{").unwrap();
    // A battle-log folder written by `collect`.
    let logs = dir.path().join("logs");
    let o = tactician(&[
        "collect",
        "-n",
        "2",
        "-m",
        "random:random",
        "-q",
        "--no-compress",
        "--out",
        logs.to_str().unwrap(),
    ]);
    assert!(o.status.success());

    for (folder, words) in [
        (&other, &["not a Tactician dataset"][..]),
        (&foreign, &["dataset.json", "not a dataset manifest"][..]),
        (&garbled, &["dataset.json"][..]),
        (&logs, &["not a Tactician dataset"][..]),
    ] {
        let before = snapshot(folder);
        let o = ingest(folder, &[&log], &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{}: {err}", folder.display());
        assert!(err.contains(folder.to_str().unwrap()), "{err}");
        for w in words {
            assert!(err.contains(w), "{err} should mention {w}");
        }
        assert_eq!(snapshot(folder), before, "{} changed", folder.display());
    }
}

#[test]
fn a_dataset_of_another_encoder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let log = write_log(&dir.path().join("log.jsonl"), &battle_lines()[..2]);
    assert!(ingest(&ds, &[&log], &[]).status.success());
    let before = snapshot(&ds);
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/external/spec.json");
    let o = ingest(&ds, &[&log], &["--spec", spec.to_str().unwrap()]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("duel-arena-v1") && err.contains("skirmish"),
        "{err}"
    );
    assert_eq!(snapshot(&ds), before);
}

/// Runs ingest with the file-size limit set to `kib` KiB: every write past it fails with
/// EFBIG, as on a full disk (SIGXFSZ is ignored so the write returns the error).
fn ingest_with_file_limit(dataset: &Path, log: &Path, kib: u64) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {kib} && exec \"$0\" ingest -q -j 2 --out \"$1\" \"$2\""
        ))
        .arg(env!("CARGO_BIN_EXE_tactician"))
        .arg(dataset)
        .arg(log)
        .output()
        .unwrap()
}

#[test]
fn a_failing_disk_loses_nothing_and_leaves_the_manifest_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let lines = battle_lines();
    let first = write_log(&dir.path().join("first.jsonl"), &lines[..4]);
    assert!(ingest(&ds, &[&first], &[]).status.success());
    let kept = Dataset::open(&ds).unwrap().manifest().clone();

    // The second batch has bad records too, so a quarantine file is written as well.
    let mut second: Vec<String> = lines[4..].to_vec();
    for i in [1, 5, 9, 13] {
        second[i] = format!("bad record {i}");
    }
    let log = write_log(&dir.path().join("second.jsonl"), &second);
    let good = (second.len() - 4) as u64;

    let mut failures = 0;
    for kib in [1, 4, 16, 64, 256, 1024, 4096] {
        let before = snapshot(&ds);
        let o = ingest_with_file_limit(&ds, &log, kib);
        if o.status.success() {
            // Everything fitted: the batch is in, completely.
            assert_eq!(battles_in(&ds), kept.battles + good, "limit {kib} KiB");
            break;
        }
        failures += 1;
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "limit {kib} KiB: {err}");
        assert!(err.starts_with("error: ingest into"), "{err}");
        assert!(err.contains("File too large"), "limit {kib} KiB: {err}");
        // Nothing changed: no new part, no temporary file, no quarantine, the same manifest.
        assert_eq!(snapshot(&ds), before, "limit {kib} KiB: {err}");
        let now = Dataset::open(&ds).unwrap();
        now.verify().unwrap();
        assert_eq!(now.manifest(), &kept);
    }
    assert!(
        failures >= 2,
        "the smallest limits must make the ingest fail"
    );

    // With room again, the batch goes in; the first ingest's battles are all still there.
    let o = ingest(&ds, &[&log], &["--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let ds_now = Dataset::open(&ds).unwrap();
    ds_now.verify().unwrap();
    assert_eq!(ds_now.manifest().battles, kept.battles + good);
    for f in &kept.files {
        assert!(ds_now.manifest().files.contains(f));
    }
}

#[test]
fn spec_prints_the_built_in_spec_and_checks_external_ones() {
    let o = tactician(&["spec"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let printed: tactician_battle::FeatureSpec = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(&printed, tactician_game::SkirmishEncoder::feature_spec());

    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/external/spec.json");
    let o = tactician(&["spec", example.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let declared: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&example).unwrap()).unwrap();
    assert_eq!(v["hash"], declared["hash"]);

    // Without a hash, the spec is given one; with a wrong one, it is refused.
    let dir = tempfile::tempdir().unwrap();
    let mut unhashed = declared.clone();
    unhashed.as_object_mut().unwrap().remove("hash");
    let path = dir.path().join("spec.json");
    fs::write(&path, unhashed.to_string()).unwrap();
    let o = tactician(&["spec", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["hash"], declared["hash"]);
    let mut wrong = declared.clone();
    wrong["actions"][0] = "skip".into();
    fs::write(&path, wrong.to_string()).unwrap();
    let o = tactician(&["spec", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("hashes to"), "{}", text(&o.stderr));
}

#[test]
fn the_features_codec_shrinks_the_dataset_without_changing_it_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = write_log(&dir.path().join("log.jsonl"), battle_lines());
    let mut sizes = Vec::new();
    let mut prepared = Vec::new();
    for codec in ["none", "lz4", "zstd"] {
        let ds = dir.path().join(format!("ds-{codec}"));
        let o = ingest(&ds, &[&log], &["--features-codec", codec]);
        assert!(o.status.success(), "{codec}: {}", text(&o.stderr));
        let m = Dataset::open(&ds).unwrap();
        assert_eq!(m.features_codecs().unwrap(), [codec.parse().unwrap()]);
        let t: Vec<_> = m.manifest().table("transitions").collect();
        sizes.push(t.iter().map(|f| f.bytes).sum::<u64>());
        // The same decisions come out of every codec: prepare makes the same files of them.
        let out = dir.path().join(format!("prepared-{codec}"));
        let o = tactician(&[
            "prepare",
            "-q",
            "--all-players",
            "--split",
            "0.5,0.25,0.25",
            ds.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{codec}: {}", text(&o.stderr));
        prepared.push(fs::read(out.join("train.safetensors")).unwrap());
    }
    assert!(
        sizes[1] < sizes[0] && sizes[2] < sizes[1],
        "none, lz4, zstd: {sizes:?}"
    );
    assert!(prepared.windows(2).all(|w| w[0] == w[1]));

    let ds = dir.path().join("ds-bad");
    let o = ingest(&ds, &[&log], &["--features-codec", "gzip"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("gzip"), "{}", text(&o.stderr));
    assert!(!ds.exists());
}
