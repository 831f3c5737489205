//! `tactician train --resume` after a real `kill -9` mid-epoch ends with weights bit-identical
//! to an uninterrupted run; the killed run is never presented as a finished model.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tactician() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tactician"));
    c.arg("--quiet").stdin(Stdio::null());
    c
}

fn train_args(c: &mut Command, prepared: &Path, out: &Path) {
    c.arg("train").arg(prepared).arg("--out").arg(out).args([
        "--hidden",
        "24,16",
        "--epochs",
        "4",
        "--batch-size",
        "32",
        "--threads",
        "2",
        "--seed",
        "3",
    ]);
}

#[test]
fn resume_after_kill_9_is_bit_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let prepared = tmp.path().join("prep");
    let spec = tactician_train::synth::SynthSpec::new(10, 5, 1500, 300, 11);
    tactician_train::synth::write_prepared(&prepared, &spec).unwrap();

    // The uninterrupted run.
    let full = tmp.path().join("full");
    let mut c = tactician();
    train_args(&mut c, &prepared, &full);
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The interrupted run: the test hook parks the process in the middle of epoch 3 (after
    // two checkpoints), then it gets SIGKILL.
    let killed = tmp.path().join("killed");
    let mut c = tactician();
    train_args(&mut c, &prepared, &killed);
    let mut child = c
        .env("TACTICIAN_TEST_PAUSE_AT", "3:20")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let paused = tactician_train::train::run_dir(&killed).join("paused");
    let t0 = Instant::now();
    while !paused.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the run never reached epoch 3"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.exists(),
        "a killed run must not leave a model folder"
    );
    let status = tactician_train::train::read_status(&killed).unwrap();
    assert_eq!((status.state.as_str(), status.epoch), ("running", 2));

    // Without --resume the unfinished run is not silently replaced.
    let mut c = tactician();
    train_args(&mut c, &prepared, &killed);
    let out = c.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));

    let mut c = tactician();
    train_args(&mut c, &prepared, &killed);
    let out = c.arg("--resume").arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["resumed_from_epoch"], 2);
    assert_eq!(
        std::fs::read(full.join("model.safetensors")).unwrap(),
        std::fs::read(killed.join("model.safetensors")).unwrap(),
        "resumed weights differ from the uninterrupted run's"
    );
    assert_eq!(
        std::fs::read_to_string(full.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count(),
        std::fs::read_to_string(killed.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count()
    );
}
