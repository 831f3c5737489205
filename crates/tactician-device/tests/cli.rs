//! The `tactician-device` binary end to end on a committed fixture.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tactician-runtime/tests/fixtures")
        .join(name)
}

fn device() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tactician-device"))
}

#[test]
fn bench_json_reports_every_figure() {
    let out = device()
        .args(["bench", "--iterations", "300", "--batches", "1,4", "--json"])
        .arg(fixture("value-int8.tflite"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v[0];
    assert_eq!(r["features"], 48);
    assert_eq!(r["actions"], 12);
    for key in ["p50_ns", "p90_ns", "p99_ns"] {
        assert!(r["decision"][key].as_f64().unwrap() > 0.0, "{key}");
        assert!(r["engine_run"][key].as_f64().unwrap() > 0.0, "{key}");
    }
    let p = &r["decision"];
    assert!(
        p["p50_ns"].as_f64() <= p["p90_ns"].as_f64()
            && p["p90_ns"].as_f64() <= p["p99_ns"].as_f64()
    );
    let batches: Vec<u64> = r["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["batch"].as_u64().unwrap())
        .collect();
    assert_eq!(batches, [1, 4]);
    assert!(r["rss_kib"].as_u64().unwrap() > 0);
    assert!(r["limits"]["mac_peak_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(r["limits"]["mac_kind"], "int8");
}

#[test]
fn info_and_errors() {
    let out = device()
        .arg("info")
        .arg(fixture("mixed-f32.tflite"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SOFTMAX") && text.contains("probabilities"),
        "{text}"
    );

    let dir = std::env::temp_dir().join(format!("tactician-device-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("truncated.tflite");
    let bytes = std::fs::read(fixture("small-f32.tflite")).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let out = device().arg("bench").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    std::fs::remove_dir_all(&dir).unwrap();
}
