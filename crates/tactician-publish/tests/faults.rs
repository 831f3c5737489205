//! Fault injection in the device agent's update, activation and rollback: every change the
//! agent makes to its state folder goes through `tactician_agent::fs::Fs`, so each one in turn
//! is made to fail ([`Fault::Fail`]: that operation fails, the next ones succeed) or to kill
//! the process ([`Fault::Crash`]: that operation fails half done, every later change and read
//! fails). After each fault the device still has exactly one active, validated model, and an
//! agent started afterwards (a restart) completes the work.
//!
//! The device binary killed during an update and run on a full disk: see
//! `crates/tactician-device/tests/process.rs`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use jiff::Timestamp;
use tactician_agent::fs::{Fault, FaultFs, OsFs};
use tactician_agent::release::sha256_hex;
use tactician_agent::store::History;
use tactician_agent::{Agent, AgentConfig, Error, Outcome, Release};

/// A device state folder saved as a template, restored fresh for every fault.
struct Base {
    s: Setup,
    template: PathBuf,
}

impl Base {
    /// 1.0.0 installed and active, 1.1.0 published to production (not yet on the device).
    fn before_update() -> Base {
        let s = Setup::new();
        s.publish("1.0.0", Some("production"));
        let out = s.update().unwrap();
        assert!(
            matches!(&out, Outcome::Activated { version, .. } if version == "1.0.0"),
            "{out:?}"
        );
        s.publish("1.1.0", Some("production"));
        Base::save(s)
    }

    /// 1.0.0 and 1.1.0 installed, 1.1.0 active.
    fn before_rollback() -> Base {
        let s = Setup::new();
        s.publish("1.0.0", Some("production"));
        s.update().unwrap();
        s.publish("1.1.0", Some("production"));
        let out = s.update().unwrap();
        assert!(
            matches!(&out, Outcome::Activated { version, .. } if version == "1.1.0"),
            "{out:?}"
        );
        Base::save(s)
    }

    /// 1.0.0 and 1.1.0 installed, 1.1.0 active, one rollback point kept, 1.2.0 published: its
    /// activation removes 1.0.0.
    fn before_update_removing() -> Base {
        let s = Setup::new();
        let mut config = AgentConfig::load(&OsFs, &s.state).unwrap();
        config.keep_versions = 1;
        config.save(&OsFs, &s.state).unwrap();
        for v in ["1.0.0", "1.1.0"] {
            s.publish(v, Some("production"));
            let out = s.update().unwrap();
            assert!(is_activated(&out, v), "{out:?}");
        }
        s.publish("1.2.0", Some("production"));
        Base::save(s)
    }

    fn save(s: Setup) -> Base {
        assert_consistent(&s.state);
        let template = s.tmp.path().join("template");
        copy_tree(&s.state, &template);
        Base { s, template }
    }

    /// A fresh copy of the template named `name`.
    fn fresh(&self, name: &str) -> PathBuf {
        let state = self.s.tmp.path().join("runs").join(name);
        if state.exists() {
            std::fs::remove_dir_all(&state).unwrap();
        }
        copy_tree(&self.template, &state);
        state
    }
}

/// The version `current` names (`None` when there is no link).
fn current(state: &Path) -> Option<String> {
    let link = std::fs::read_link(state.join("current")).ok()?;
    let version = link
        .strip_prefix("models")
        .unwrap_or_else(|_| panic!("current points to {}", link.display()));
    Some(version.to_str().unwrap().to_owned())
}

/// The invariant right after a fault, staging leftovers allowed (a killed process leaves
/// them): `current` names one of `allowed`; every folder of `models/` with a `validated.json`
/// (the active one and the rollback points) has the files its release describes; the history
/// and the trusted TUF metadata parse (they are only ever replaced atomically). Returns the
/// active version.
fn assert_intact(state: &Path, allowed: &[&str], what: &str) -> String {
    let active = current(state).unwrap_or_else(|| panic!("{what}: no current model"));
    assert!(
        allowed.contains(&active.as_str()),
        "{what}: current names {active}, expected one of {allowed:?}"
    );
    let models = state.join("models");
    assert!(
        models.join(&active).join("validated.json").is_file(),
        "{what}: the active {active} is not validated"
    );
    for entry in std::fs::read_dir(&models).unwrap() {
        let dir = entry.unwrap().path();
        let validated = dir.join("validated.json");
        if !validated.exists() {
            // Only a folder half removed after a crash; `recover` removes it.
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy();
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(&validated).unwrap())
            .unwrap_or_else(|e| panic!("{what}: {name}/validated.json: {e}"));
        let release: Release =
            serde_json::from_slice(&std::fs::read(dir.join("release.json")).unwrap())
                .unwrap_or_else(|e| panic!("{what}: {name}/release.json: {e}"));
        let model = std::fs::read(dir.join("model.tflite")).unwrap();
        assert_eq!(
            sha256_hex(&model),
            release.model_sha256,
            "{what}: {name}'s model differs from its release"
        );
        let validation = std::fs::read(dir.join("validation.bin")).unwrap();
        assert_eq!(
            sha256_hex(&validation),
            release.validation.sha256,
            "{what}: {name}'s validation set differs from its release"
        );
    }
    let history = std::fs::read(state.join("history.json")).unwrap();
    serde_json::from_slice::<History>(&history)
        .unwrap_or_else(|e| panic!("{what}: history.json: {e}"));
    for entry in std::fs::read_dir(state.join("tuf")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{what}: tuf/{name}: {e}"));
        }
    }
    active
}

/// An update to fault: from `old` active to `new`, after which `installed` are kept.
struct Update {
    base: Base,
    old: &'static str,
    new: &'static str,
    installed: &'static [&'static str],
}

/// What a restarted agent must reach after an interrupted update: `new` active, the rollback
/// points kept and no more, nothing refused (a disk failure is no reason to refuse a release).
fn assert_updated(state: &Path, new: &str, installed: &[&str], what: &str) {
    assert_eq!(assert_consistent(state).as_deref(), Some(new), "{what}");
    let agent = Agent::open(&OsFs, state).unwrap();
    let status = agent.status().unwrap();
    assert_eq!(status.active.as_deref(), Some(new), "{what}: {status:?}");
    assert_eq!(status.highest.as_deref(), Some(new), "{what}: {status:?}");
    assert_eq!(status.installed, installed, "{what}: {status:?}");
    assert!(status.rejected.is_empty(), "{what}: {status:?}");
    assert_eq!(status.pending, None, "{what}: {status:?}");
    let history = agent.store().history().unwrap();
    assert_eq!(
        history.activations.last().map(String::as_str),
        Some(new),
        "{what}: {history:?}"
    );
    serde_json::from_slice::<serde_json::Value>(
        &std::fs::read(state.join("history.json")).unwrap(),
    )
    .unwrap();
}

fn is_activated(out: &Outcome, v: &str) -> bool {
    matches!(out, Outcome::Activated { version, .. } if version == v)
}

fn is_up_to_date(out: &Outcome, v: &str) -> bool {
    matches!(out, Outcome::UpToDate { version: Some(a) } if a == v)
}

/// Fails every change of the update in turn, in both modes; after each fault the device has
/// `old` or `new` active and intact, and a restarted agent finishes the update.
fn fail_every_change(u: &Update) {
    let now = Timestamp::now();

    // A clean run through the counting file system: how many changes an update makes.
    let state = u.base.fresh("counting");
    let counting = FaultFs::counting();
    let out = Agent::open(&counting, &state).unwrap().update(now).unwrap();
    assert!(is_activated(&out, u.new), "{out:?}");
    let total = counting.changes();
    println!(
        "an update from {} to {} makes {total} changes:",
        u.old, u.new
    );
    for (i, change) in counting.log().iter().enumerate() {
        println!("  {:>3} {change}", i + 1);
    }
    assert!(total > 10, "{total} changes: {:?}", counting.log());
    assert_updated(&state, u.new, u.installed, "counting run");

    let mut points = 0;
    let mut outcomes = std::collections::BTreeMap::<&str, u32>::new();
    for n in 1..=total {
        for fault in [Fault::Fail, Fault::Crash] {
            let what = format!(
                "{fault:?} at change {n} ({})",
                counting.log()[n as usize - 1]
            );
            let state = u.base.fresh(&format!("{fault:?}-{n}"));
            let fs = FaultFs::failing_change(n, fault);
            let result = Agent::open(&fs, &state).unwrap().update(now);
            assert!(fs.fired(), "{what}: the fault did not happen ({result:?})");
            let active = assert_intact(&state, &[u.old, u.new], &what);
            match &result {
                Err(_) => *outcomes.entry("error").or_default() += 1,
                Ok(out) => {
                    assert!(is_activated(out, u.new), "{what}: {out:?}");
                    assert_eq!(active, u.new, "{what}");
                    *outcomes.entry("activated").or_default() += 1;
                }
            }

            // The restart: a new agent on the real file system finishes the update.
            let out = Agent::open(&OsFs, &state)
                .unwrap()
                .update(now)
                .unwrap_or_else(|e| panic!("{what}: the restart failed: {e}"));
            if active == u.new {
                assert!(is_up_to_date(&out, u.new), "{what}: {out:?}");
            } else {
                assert!(is_activated(&out, u.new), "{what}: {out:?}");
            }
            assert_updated(&state, u.new, u.installed, &what);
            std::fs::remove_dir_all(&state).unwrap();
            points += 1;
        }
    }
    println!("outcomes of the faulty runs: {outcomes:?}");
    assert_eq!(points, 2 * total);
    println!("fault points exercised: {points} ({total} changes x 2 modes)");
}

#[test]
fn every_failing_change_leaves_one_validated_model() {
    fail_every_change(&Update {
        base: Base::before_update(),
        old: "1.0.0",
        new: "1.1.0",
        installed: &["1.0.0", "1.1.0"],
    });
}

/// The same with an old version to remove after the activation (`keep_versions = 1`).
#[test]
fn every_failing_change_while_an_old_version_goes_leaves_one_validated_model() {
    fail_every_change(&Update {
        base: Base::before_update_removing(),
        old: "1.1.0",
        new: "1.2.0",
        installed: &["1.1.0", "1.2.0"],
    });
}

#[test]
fn every_failing_change_during_rollback_keeps_a_model() {
    let base = Base::before_rollback();
    let now = Timestamp::now();

    let state = base.fresh("counting");
    let counting = FaultFs::counting();
    let out = Agent::open(&counting, &state)
        .unwrap()
        .rollback(None, now)
        .unwrap();
    assert!(is_activated(&out, "1.0.0"), "{out:?}");
    let total = counting.changes();
    println!("a rollback makes {total} changes:");
    for (i, change) in counting.log().iter().enumerate() {
        println!("  {:>3} {change}", i + 1);
    }
    assert!(total >= 5, "{total} changes: {:?}", counting.log());
    assert_rolled_back(&state, "counting run");

    let mut points = 0;
    for n in 1..=total {
        for fault in [Fault::Fail, Fault::Crash] {
            let what = format!(
                "{fault:?} at change {n} ({})",
                counting.log()[n as usize - 1]
            );
            let state = base.fresh(&format!("{fault:?}-{n}"));
            let fs = FaultFs::failing_change(n, fault);
            let result = Agent::open(&fs, &state).unwrap().rollback(None, now);
            assert!(fs.fired(), "{what}: the fault did not happen ({result:?})");
            let active = assert_intact(&state, &["1.0.0", "1.1.0"], &what);
            if let Ok(out) = &result {
                assert!(is_activated(out, "1.0.0"), "{what}: {out:?}");
                assert_eq!(active, "1.0.0", "{what}");
            }

            // The restart: the state reads, and the operator's rollback is finished by asking
            // again when it did not take.
            let agent = Agent::open(&OsFs, &state).unwrap();
            let status = agent
                .status()
                .unwrap_or_else(|e| panic!("{what}: status after the fault: {e}"));
            assert_eq!(status.active.as_deref(), Some(active.as_str()), "{what}");
            assert_eq!(status.installed, ["1.0.0", "1.1.0"], "{what}: {status:?}");
            if active == "1.1.0" {
                let out = agent
                    .rollback(None, now)
                    .unwrap_or_else(|e| panic!("{what}: the second rollback failed: {e}"));
                assert!(is_activated(&out, "1.0.0"), "{what}: {out:?}");
            }
            assert_rolled_back(&state, &what);
            std::fs::remove_dir_all(&state).unwrap();
            points += 1;
        }
    }
    println!("fault points exercised: {points} ({total} changes x 2 modes)");
}

/// After a rollback from 1.1.0 (finished, possibly by a restart): 1.0.0 active, 1.1.0 kept,
/// and the update does not bring 1.1.0 back.
fn assert_rolled_back(state: &Path, what: &str) {
    assert_eq!(assert_consistent(state).as_deref(), Some("1.0.0"), "{what}");
    let agent = Agent::open(&OsFs, state).unwrap();
    let out = agent
        .update(Timestamp::now())
        .unwrap_or_else(|e| panic!("{what}: the update after the rollback: {e}"));
    assert!(
        matches!(&out, Outcome::Refused { version, .. } if version == "1.1.0"),
        "{what}: the update after the rollback: {out:?}"
    );
    let status = agent.status().unwrap();
    assert_eq!(
        status.active.as_deref(),
        Some("1.0.0"),
        "{what}: {status:?}"
    );
    assert_eq!(status.installed, ["1.0.0", "1.1.0"], "{what}: {status:?}");
    assert!(status.rejected.contains_key("1.1.0"), "{what}: {status:?}");
    assert_eq!(assert_consistent(state).as_deref(), Some("1.0.0"), "{what}");
}

#[test]
fn a_failing_read_during_the_health_check_rolls_back() {
    let base = Base::before_update();
    let now = Timestamp::now();

    let state = base.fresh("counting");
    let counting = FaultFs::counting();
    let agent = Agent::open(&counting, &state).unwrap();
    let opened = counting.reads();
    let out = agent.update(now).unwrap();
    assert!(is_activated(&out, "1.1.0"), "{out:?}");
    let total = counting.reads();
    println!(
        "opening the agent reads {opened} files, an update {}",
        total - opened
    );

    let mut rolled_back = Vec::new();
    let mut errors = Vec::new();
    for n in opened + 1..=total {
        let what = format!("read {n} of {total} fails");
        let state = base.fresh(&format!("read-{n}"));
        let fs = FaultFs::failing_read(n);
        let agent = Agent::open(&fs, &state).unwrap();
        let result = agent.update(now);
        drop(agent);
        match &result {
            Ok(Outcome::RolledBack {
                version,
                to,
                reason,
            }) => {
                assert_eq!(version, "1.1.0", "{what}");
                assert_eq!(to.as_deref(), Some("1.0.0"), "{what}");
                assert!(reason.contains("health"), "{what}: {reason}");
                assert_eq!(
                    assert_consistent(&state).as_deref(),
                    Some("1.0.0"),
                    "{what}"
                );
                let agent = Agent::open(&OsFs, &state).unwrap();
                let status = agent.status().unwrap();
                assert_eq!(status.active.as_deref(), Some("1.0.0"), "{what}");
                assert!(status.rejected.contains_key("1.1.0"), "{what}: {status:?}");
                assert!(
                    status.installed.contains(&"1.1.0".to_string()),
                    "{what}: {status:?}"
                );
                // The refusal holds on the next run.
                let out = agent.update(now).unwrap();
                assert!(
                    matches!(&out, Outcome::Refused { version, .. } if version == "1.1.0"),
                    "{what}: {out:?}"
                );
                assert_eq!(assert_consistent(&state).as_deref(), Some("1.0.0"));
                rolled_back.push(n);
            }
            Ok(out) => panic!("{what}: {out:?}"),
            Err(e) => {
                // A read failing before the activation: nothing changed, a restart updates.
                assert!(e.to_string().contains("injected failure"), "{what}: {e}");
                assert_eq!(
                    assert_consistent(&state).as_deref(),
                    Some("1.0.0"),
                    "{what}"
                );
                let out = Agent::open(&OsFs, &state).unwrap().update(now).unwrap();
                assert!(is_activated(&out, "1.1.0"), "{what}: {out:?}");
                assert_updated(&state, "1.1.0", &["1.0.0", "1.1.0"], &what);
                errors.push(n);
            }
        }
        std::fs::remove_dir_all(&state).unwrap();
    }
    println!("rolled back when read {rolled_back:?} failed, an error for reads {errors:?}");
    // The health check reads release.json, model.tflite and validation.bin through `current`.
    assert_eq!(rolled_back.len(), 3, "{rolled_back:?}");
}

/// Cuts a file to half its length.
fn truncate_half(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

fn assert_corrupt(e: &Error, file: &str) {
    let Error::Corrupt { path, reason } = e else {
        panic!("expected a damaged {file}, got {e:?}")
    };
    assert!(path.ends_with(file), "{path:?}: {reason}");
    assert!(e.to_string().contains(file), "{e}");
}

#[test]
fn truncated_state_files_are_reported_not_trusted() {
    let base = Base::before_update();
    let now = Timestamp::now();

    // A damaged history: refused by name, nothing changes.
    let state = base.fresh("history");
    truncate_half(&state.join("history.json"));
    let agent = Agent::open(&OsFs, &state).unwrap();
    assert_corrupt(&agent.update(now).unwrap_err(), "history.json");
    assert_corrupt(&agent.status().unwrap_err(), "history.json");
    assert_corrupt(&agent.rollback(None, now).unwrap_err(), "history.json");
    assert_eq!(current(&state).as_deref(), Some("1.0.0"));
    assert!(!state.join("models/1.1.0").exists());

    // The active model's damaged release: the update stops there, by name, and installs
    // nothing on the word of a damaged file.
    let state = base.fresh("release");
    truncate_half(&state.join("models/1.0.0/release.json"));
    let agent = Agent::open(&OsFs, &state).unwrap();
    let status = agent.status().unwrap();
    assert_eq!(status.active.as_deref(), Some("1.0.0"));
    let e = agent.update(now).unwrap_err();
    assert_corrupt(&e, "models/1.0.0/release.json");
    assert_eq!(current(&state).as_deref(), Some("1.0.0"));
    assert!(!state.join("models/1.1.0").exists());
    let status = agent.status().unwrap();
    assert!(status.rejected.is_empty(), "{status:?}");

    // A damaged settings file or identity: the agent does not open.
    let state = base.fresh("config");
    truncate_half(&state.join("agent.toml"));
    let e = Agent::open(&OsFs, &state).unwrap_err();
    assert!(
        matches!(&e, Error::Config { path, .. } if path.ends_with("agent.toml")),
        "{e:?}"
    );
}
