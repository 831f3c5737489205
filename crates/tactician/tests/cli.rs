//! The built `tactician` binary, run as a user would: exit codes, messages, files left behind.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Whether `dir` holds nothing that looks like (part of) a collection.
fn no_logs(dir: &Path) -> bool {
    !dir.is_dir()
        || fs::read_dir(dir).unwrap().all(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            !(name.starts_with("part-") || name.starts_with("collect.json"))
        })
}

/// Runs `collect` with `extra` flags into `out` and checks it fails with exit 1, a one-line
/// message mentioning every one of `words`, and no logs.
fn fails(out: &Path, extra: &[&str], words: &[&str]) {
    let mut args = vec!["collect", "--out", out.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    let o = tactician(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for w in words {
        assert!(err.contains(w), "{args:?}: {err:?} should mention {w:?}");
    }
    assert!(no_logs(out), "{args:?} left logs in {}", out.display());
}

#[test]
fn unknown_strategy_is_named_with_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    fails(
        &out,
        &["--matchups", "random:nonesuch"],
        &["nonesuch", "known strategies", "random"],
    );
    fails(&out, &["--matchups", "nonesuch:*"], &["nonesuch"]);
}

#[test]
fn malformed_and_impossible_matchups_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    fails(
        &out,
        &["--matchups", "random"],
        &["\"random\"", "malformed"],
    );
    fails(&out, &["--matchups", "a:b:c"], &["malformed"]);
    fails(&out, &["--matchups", ""], &["empty"]);
    fails(
        &out,
        &["--matchups", "all", "--battles", "3"],
        &["3 battles", "cannot cover"],
    );
}

#[test]
fn zero_and_absurd_battle_counts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    fails(&out, &["--battles", "0"], &["at least 1"]);
    fails(
        &out,
        &["--battles", "5000000"],
        &["5000000", "limit of 1000000"],
    );
    fails(
        &out,
        &["--battles", "10", "--max-rounds", "0"],
        &["max_rounds"],
    );
}

#[test]
fn unwritable_output_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    fs::write(&file, b"keep").unwrap();
    let small = ["--battles", "4", "--matchups", "random:random"];
    fails(
        &file.join("logs"),
        &small,
        &["a-file/logs", "cannot be created or written to"],
    );
    fails(&file, &small, &["a-file", "not a folder"]);
    fails(
        Path::new("/proc/tactician-logs"),
        &small,
        &["/proc/tactician-logs", "cannot be created or written to"],
    );
    assert_eq!(fs::read(&file).unwrap(), b"keep");
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let out = out.to_str().unwrap();
    for args in [
        vec!["collect", "--out", out, "--battles", "-3"],
        vec!["collect", "--out", out, "--battles", "many"],
        vec!["collect", "--battles", "3"],
        vec!["frobnicate"],
    ] {
        let o = tactician(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    assert!(no_logs(Path::new(out)));
}

#[test]
fn collect_writes_logs_and_refuses_to_overwrite_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("logs");
    let o_str = out.to_str().unwrap();
    let args = [
        "collect",
        "--out",
        o_str,
        "-n",
        "6",
        "-m",
        "random:aggressive",
        "--json",
        "-q",
    ];
    let o = tactician(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(summary["battles"], 6);
    assert_eq!(summary["matchups"][0]["a"], "random");
    let name = summary["files"][0]["name"].as_str().unwrap();
    assert!(name.ends_with(".jsonl.zst"), "{name}");
    let before = fs::read(out.join(name)).unwrap();

    let o = tactician(&[
        "collect",
        "--out",
        o_str,
        "-n",
        "6",
        "-m",
        "random:random",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(fs::read(out.join(name)).unwrap(), before);

    let o = tactician(&[
        "collect",
        "--out",
        o_str,
        "-n",
        "6",
        "--force",
        "--no-compress",
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "6 battles cannot cover all matchups"
    );
    let o = tactician(&[
        "collect",
        "--out",
        o_str,
        "-n",
        "6",
        "-m",
        "random:random",
        "--force",
        "--no-compress",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("| random vs random | 6 |"),
        "{}",
        stdout(&o)
    );
    assert!(out.join("part-00000.jsonl").exists() && !out.join(name).exists());
}

#[test]
fn pipeline_collects_then_reuses_and_guards_its_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let config = dir.path().join("t.toml");
    fs::write(
        &config,
        "[collect]\nbattles = 12\nmatchups = \"random:*\"\nseed = 4\n[prepare]\nplayers = []\ntrain = 0.4\nval = 0.3\ntest = 0.3\n[train]\nhidden = [16]\nepochs = 2\n[eval]\nbattles = 2\n[verify]\nmin_int8_agreement = 0.9\n",
    )
    .unwrap();
    let (c, r) = (config.to_str().unwrap(), run.to_str().unwrap());
    let o = tactician(&["pipeline", "--config", c, "--run-dir", r, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["collect"]["status"], "ran");
    assert_eq!(report["collect"]["summary"]["battles"], 12);
    assert_eq!(
        report["collect"]["summary"]["matchups"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
    assert!(run.join("logs/collect.json").exists() && run.join("tactician.toml").exists());
    // The model went through the TUF repository to the run's local device and is active there.
    assert_eq!(
        report["deploy"]["status"], "published",
        "{}",
        report["deploy"]
    );
    assert_eq!(report["deploy"]["version"], "0.1.0");
    assert_eq!(report["deploy"]["outcome"]["outcome"], "activated");
    assert_eq!(
        fs::read_link(run.join("device/current")).unwrap(),
        std::path::Path::new("models/0.1.0")
    );
    // One decision through the local device's API, by that model, legal in the battle.
    let served = &report["serve"]["decision"];
    assert_eq!(served["model_version"], "0.1.0", "{}", report["serve"]);
    let battle = tactician_game::Battle::new(
        report["config"]["collect"]["seed"].as_u64().unwrap(),
        tactician_game::GameConfig::default(),
    );
    let action = served["action"].as_u64().unwrap() as usize;
    assert!(battle.legal().contains_index(action), "{served}");

    let o = tactician(&["pipeline", "--config", c, "--run-dir", r]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("## deploy (up to date): version 0.1.0"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("POST /v1/act with the opening state of a built-in game battle"),
        "{}",
        stdout(&o)
    );

    // Another `[ingest]` codec: the logs are reused, the dataset is made again with it.
    let settings = fs::read_to_string(&config).unwrap();
    fs::write(
        &config,
        format!("{settings}[ingest]\nfeatures_codec = \"none\"\n"),
    )
    .unwrap();
    let o = tactician(&["pipeline", "--config", c, "--run-dir", r, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["collect"]["status"], "reused");
    assert_eq!(report["ingest"]["status"], "ran");
    let ds = tactician_data::dataset::Dataset::open(&run.join("dataset")).unwrap();
    assert_eq!(
        ds.features_codecs().unwrap(),
        [tactician_data::dataset::table::FeatureCodec::None]
    );
    let o = tactician(&["pipeline", "--config", c, "--run-dir", r, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(report["ingest"]["status"], "reused");

    fs::write(
        &config,
        "[collect]\nbattles = 12\nmatchups = \"random:*\"\nseed = 5\n[prepare]\nplayers = []\ntrain = 0.4\nval = 0.3\ntest = 0.3\n[train]\nhidden = [16]\nepochs = 2\n[eval]\nbattles = 2\n[verify]\nmin_int8_agreement = 0.9\n",
    )
    .unwrap();
    let o = tactician(&["pipeline", "--config", c, "--run-dir", r]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("seed: 4 -> 5") && err.contains("--force"),
        "{err}"
    );
    let o = tactician(&["pipeline", "--config", c, "--run-dir", r, "--force", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("collected"));
    // A new model: the next version, and the device moves to it.
    assert!(
        stdout(&o).contains("## deploy (published): version 0.1.1"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        fs::read_link(run.join("device/current")).unwrap(),
        std::path::Path::new("models/0.1.1")
    );
}

#[test]
fn pipeline_config_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("t.toml");
    fs::write(&config, "[collect]\nbattles = 12\nbatles = 3\n").unwrap();
    let run = dir.path().join("run");
    let o = tactician(&[
        "pipeline",
        "-c",
        config.to_str().unwrap(),
        "--run-dir",
        run.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("t.toml") && err.contains("line 3") && err.contains("batles"),
        "{err}"
    );
    let o = tactician(&["pipeline", "-c", "/nonexistent/t.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/t.toml"));
    assert!(!run.exists());
}

#[test]
fn strategies_are_listed() {
    let o = tactician(&["strategies"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).lines().any(|l| l.starts_with("random")),
        "{}",
        stdout(&o)
    );
    let o = tactician(&["strategies", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|s| s == "random" || s["name"] == "random")
    );
}
