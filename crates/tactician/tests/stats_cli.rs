//! `tactician stats` run as a user would: collect → ingest → stats, the numbers checked against
//! the collection's own summary; and clear errors for a missing or empty dataset.

use std::path::Path;
use std::process::{Command, Output};

fn tactician(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tactician"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(o: &Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(o: &Output, what: &str) -> serde_json::Value {
    serde_json::from_str(&ok(o, what)).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn stats_of_a_small_collection_match_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let ds = dir.path().join("ds");
    let summary = json(
        &tactician(&[
            "collect",
            "-n",
            "12",
            "-m",
            "random:aggressive,defensive:defensive",
            "-s",
            "3",
            "-q",
            "--json",
            "--out",
            path(&logs),
        ]),
        "collect",
    );
    ok(
        &tactician(&["ingest", path(&logs), "--out", path(&ds), "-q"]),
        "ingest",
    );
    let s = json(
        &tactician(&["stats", path(&ds), "--json", "--top", "2"]),
        "stats",
    );
    assert_eq!(s["battles"], summary["battles"]);
    assert_eq!(s["decisions"], summary["decisions"]);
    assert_eq!(s["top"], 2);
    let matchups = summary["matchups"].as_array().unwrap();
    assert_eq!(matchups.len(), 2);
    let strategy = |name: &str| {
        s["results"]["by_strategy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["strategy"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .clone()
    };
    let ra = &matchups[0];
    assert_eq!(
        (ra["a"].as_str(), ra["b"].as_str()),
        (Some("random"), Some("aggressive"))
    );
    let random = strategy("random");
    let aggressive = strategy("aggressive");
    assert_eq!(random["battles"], ra["battles"]);
    assert_eq!(random["wins"], ra["a_wins"]);
    assert_eq!(random["losses"], ra["b_wins"]);
    assert_eq!(aggressive["wins"], ra["b_wins"]);
    assert_eq!(random["draws"], ra["draws"]);
    let dd = &matchups[1];
    let defensive = strategy("defensive");
    assert_eq!(defensive["mirror"], dd["battles"]);
    assert_eq!(
        defensive["win_rate"],
        serde_json::Value::Null,
        "only mirror battles"
    );
    // Each strategy's decisions, over every section that counts them.
    let decisions: u64 = s["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["decisions"].as_u64().unwrap())
        .sum();
    assert_eq!(serde_json::json!(decisions), summary["decisions"]);
    for a in s["actions"].as_array().unwrap() {
        assert!(a["pairs"].as_array().unwrap().len() <= 2, "--top 2");
    }
    assert!(s["turning_points"]["points"].as_array().unwrap().len() <= 2);

    // The terminal tables name the same strategies.
    let md = ok(&tactician(&["stats", path(&ds)]), "stats");
    assert!(md.contains("## Results by strategy"), "{md}");
    assert!(
        md.contains("aggressive") && md.contains("defensive"),
        "{md}"
    );
}

#[test]
fn a_missing_or_empty_dataset_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let o = tactician(&["stats", path(&missing)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("no dataset"),
        "{err}"
    );

    // A folder that is not a dataset.
    let o = tactician(&["stats", path(dir.path())]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: "));

    // A dataset with no battles: ingest logs whose only record is quarantined.
    let log = dir.path().join("bad.jsonl");
    std::fs::write(&log, "{not json\n").unwrap();
    let ds = dir.path().join("ds");
    let _ = tactician(&["ingest", path(&log), "--out", path(&ds), "-q"]);
    assert!(ds.is_dir(), "ingest keeps the dataset it created");
    let o = tactician(&["stats", path(&ds), "--json"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("no battles"), "{err}");
    assert!(o.stdout.is_empty(), "no JSON on failure");
    let o = tactician(&["stats", path(&missing), "--top", "0"]);
    assert_eq!(o.status.code(), Some(1));
}
