//! TUF's threat list, attack by attack, against the real repository files and the real device
//! agent: each attack is made on the files a publish wrote (re-signed with `tough`'s signing
//! where the attacker holds a key), then the device runs its update. Every refusal is checked
//! the same way ([`expect_refused`]): an error or `Outcome::Refused` that names its reason, and
//! the active model untouched, consistent, nothing left in staging.
#![cfg(unix)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use common::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tactician_agent::fs::OsFs;
use tactician_agent::release::{
    CHANNELS_FORMAT, Channels, channels_target, model_target, validation_target,
};
use tactician_agent::{Agent, AgentConfig, Error, Identity, Outcome};
use tactician_publish::keys::{self, RoleKeys, SigningKey};
use tactician_publish::repo::{self, Current};
use tactician_publish::{Expiry, role_signers};
use tough::TargetName;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{Hashes, RoleType, Root, Target, Targets};

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Runs the device agent and checks that it activates `version`.
fn expect_activated(s: &Setup, version: &str) {
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::Activated { version: v, .. } if v == version),
        "{out:?}"
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some(version));
}

/// A device with 1.0.0 published (as production) and active.
fn ready(roles: [(RoleType, RoleKeys); 4]) -> Setup {
    let s = Setup::with_roles(roles);
    s.publish("1.0.0", Some("production"));
    expect_activated(&s, "1.0.0");
    s
}

/// One byte flipped (XOR 0x01) in the middle.
fn flip(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[bytes.len() / 2] ^= 0x01;
    out
}

/// The first half.
fn truncate(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len() / 2].to_vec()
}

fn current(s: &Setup) -> Current {
    Current::read(&s.deploy.repository()).unwrap()
}

/// The keys of `role` the repository's latest root lists.
fn signers(s: &Setup, role: RoleType) -> Vec<SigningKey> {
    role_signers(&s.deploy.keys(), &current(s).root.signed, role).unwrap()
}

fn refs(keys: &[SigningKey]) -> Vec<&SigningKey> {
    keys.iter().collect()
}

/// `root` as seen by someone signing `role` with `keys` alone (threshold 1): how an attacker
/// signs with keys the real root does not list, or with fewer than its threshold.
fn view_with(root: &Root, role: RoleType, keys: &[&SigningKey]) -> Root {
    let mut view = root.clone();
    let listed = view.roles.get_mut(&role).unwrap();
    listed.keyids = keys.iter().map(|k| k.key_id.clone()).collect();
    listed.threshold = NonZeroU64::MIN;
    for k in keys {
        view.keys.insert(k.key_id.clone(), k.tuf_key());
    }
    view
}

fn later(hours: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_hours(hours)
}

/// The repository's targets, as the next targets version.
fn next_targets(s: &Setup) -> Targets {
    repo::next_targets(Some(&current(s).targets.unwrap().signed), later(90 * 24)).unwrap()
}

/// Writes a target file and lists it in `targets`.
fn add_target(s: &Setup, targets: &mut Targets, name: &str, bytes: &[u8], custom: Value) {
    let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let path = s.deploy.repository().target_file(name, sha.as_ref());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let Value::Object(custom) = custom else {
        panic!("custom metadata is an object")
    };
    targets.targets.insert(
        TargetName::new(name).unwrap(),
        Target {
            length: bytes.len() as u64,
            hashes: Hashes {
                sha256: Decoded::<Hex>::from(sha.as_ref().to_vec()),
                _extra: HashMap::new(),
            },
            custom: custom.into_iter().collect(),
            _extra: HashMap::new(),
        },
    );
}

/// A channels file of `group` naming `version` as production.
fn channels_file(group: &str, version: &str) -> Vec<u8> {
    let chans = Channels {
        format: CHANNELS_FORMAT.into(),
        group: group.into(),
        aliases: [("production".to_string(), version.to_string())].into(),
    };
    serde_json::to_vec_pretty(&chans).unwrap()
}

/// Signs `targets` with `keys` (as `view` lists them) and makes it the repository's state: a
/// new snapshot and timestamp naming it, signed with the repository's own keys. Writes
/// `<n>.targets.json`, `<n>.snapshot.json` and `timestamp.json` over what had their names.
fn resign_targets(s: &Setup, targets: Targets, view: &Root, keys: &[&SigningKey]) {
    let cur = current(s);
    let meta = s.deploy.repository().metadata();
    let targets = repo::sign(targets, view, keys).unwrap();
    let sv = cur.snapshot.unwrap().signed.version.get() + 1;
    let snapshot = repo::snapshot_of(sv, later(30 * 24), &targets).unwrap();
    let snapshot = repo::sign(
        snapshot,
        &cur.root.signed,
        &refs(&signers(s, RoleType::Snapshot)),
    )
    .unwrap();
    let tv = cur.timestamp.unwrap().signed.version.get() + 1;
    let timestamp = repo::timestamp_of(tv, later(24), &snapshot).unwrap();
    let timestamp = repo::sign(
        timestamp,
        &cur.root.signed,
        &refs(&signers(s, RoleType::Timestamp)),
    )
    .unwrap();
    let n = targets.signed().signed.version;
    repo::write(&meta.join(format!("{n}.targets.json")), targets.buffer()).unwrap();
    repo::write(&meta.join(format!("{sv}.snapshot.json")), snapshot.buffer()).unwrap();
    repo::write(&meta.join("timestamp.json"), timestamp.buffer()).unwrap();
}

/// `targets` signed by the repository's targets keys, made the repository's state.
fn resign_targets_legit(s: &Setup, targets: Targets) {
    let keys = signers(s, RoleType::Targets);
    resign_targets(s, targets, &current(s).root.signed, &refs(&keys));
}

/// A timestamp `bump` versions ahead (naming the current snapshot) signed with `keys` as
/// `view` lists them, written over `timestamp.json`.
fn resign_timestamp(s: &Setup, bump: u64, view: &Root, keys: &[&SigningKey]) {
    let mut ts = current(s).timestamp.unwrap().signed;
    ts.version = ts.version.checked_add(bump).unwrap();
    ts.expires = later(24);
    let signed = repo::sign(ts, view, keys).unwrap();
    let path = s.deploy.repository().metadata().join("timestamp.json");
    repo::write(&path, signed.buffer()).unwrap();
}

/// A file's URL as tough names it in its errors.
fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Every path under `dir` (links not followed).
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            out.extend(tree(&entry.path()));
        }
        out.insert(entry.path());
    }
    out
}

/// Replaces the device's trusted metadata by its root alone, as if `tuf/` had been lost.
fn forget_trusted_metadata(s: &Setup) {
    for name in ["timestamp.json", "snapshot.json", "targets.json"] {
        let path = s.state.join("tuf").join(name);
        if path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Arbitrary software: metadata signed by a key the root does not list.

#[test]
fn arbitrary_software_signed_by_an_untrusted_key_is_refused() {
    let s = ready(standard_roles());
    s.publish("1.1.0", Some("production"));
    let rogue = keys::generate(&s.tmp.path().join("rogue.pem")).unwrap();
    let root = current(&s).root.signed;
    let timestamp = s.deploy.repository().metadata().join("timestamp.json");
    let good = std::fs::read(&timestamp).unwrap();

    // The timestamp, signed by the rogue key.
    resign_timestamp(
        &s,
        1,
        &view_with(&root, RoleType::Timestamp, &[&rogue]),
        &[&rogue],
    );
    expect_refused(&s, &["Signature threshold of 1 not met for role timestamp"]);

    // The targets (the attacker's release list), signed by the rogue key, with a snapshot and
    // timestamp signed by their real keys (only the targets key resisted).
    std::fs::write(&timestamp, &good).unwrap();
    let mut targets = next_targets(&s);
    add_target(
        &s,
        &mut targets,
        &channels_target(GROUP),
        &channels_file(GROUP, "1.1.0"),
        json!({"kind": "channels", "group": GROUP}),
    );
    resign_targets(
        &s,
        targets,
        &view_with(&root, RoleType::Targets, &[&rogue]),
        &[&rogue],
    );
    expect_refused(&s, &["Signature threshold of 1 not met for role targets"]);
}

// 2. Fewer signatures than the role's threshold.

#[test]
fn targets_below_their_threshold_are_refused() {
    let s = ready([
        (RoleType::Root, RoleKeys::new(1, 1)),
        (RoleType::Targets, RoleKeys::new(2, 2)),
        (RoleType::Snapshot, RoleKeys::new(1, 1)),
        (RoleType::Timestamp, RoleKeys::new(1, 1)),
    ]);
    s.publish("1.1.0", Some("production"));
    // 1.1.0's targets metadata again, signed by one of its two keys only.
    let cur = current(&s);
    let keys = signers(&s, RoleType::Targets);
    assert_eq!(keys.len(), 2);
    let one = [&keys[0]];
    let view = view_with(&cur.root.signed, RoleType::Targets, &one);
    resign_targets(&s, cur.targets.unwrap().signed, &view, &one);
    expect_refused(
        &s,
        &["Signature threshold of 2 not met for role targets (1 valid signatures)"],
    );
    // Both signatures: accepted.
    resign_targets_legit(&s, current(&s).targets.unwrap().signed);
    expect_activated(&s, "1.1.0");
}

// 3. Rollback: older metadata, older releases.

#[test]
fn rollback_to_older_metadata_or_an_older_release_is_refused() {
    let s = ready(standard_roles());
    let meta = s.deploy.repository().metadata();
    let old = s.tmp.path().join("metadata-1.0.0");
    copy_tree(&meta, &old);
    s.publish("1.1.0", Some("production"));
    expect_activated(&s, "1.1.0");
    let new = s.tmp.path().join("metadata-1.1.0");
    copy_tree(&meta, &new);

    // The 1.0.0 metadata served again: tough compares it with the trusted metadata.
    std::fs::remove_dir_all(&meta).unwrap();
    copy_tree(&old, &meta);
    expect_refused(
        &s,
        &["Found version 2 of timestamp metadata when we had previously fetched version 3"],
    );
    // Without the trusted metadata (lost, or deleted by the attacker): the history's floor.
    forget_trusted_metadata(&s);
    expect_refused(
        &s,
        &["rollback attack: the repository's timestamp metadata"],
    );

    // The current metadata again: the device is up to date.
    std::fs::remove_dir_all(&meta).unwrap();
    copy_tree(&new, &meta);
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::UpToDate { .. }), "{out:?}");

    // Production pointed back at 1.0.0 (properly signed): not newer than the active 1.1.0.
    tactician_publish::promote(
        &s.deploy,
        GROUP,
        "production",
        "1.0.0",
        Expiry::default(),
        Timestamp::now(),
    )
    .unwrap();
    expect_refused(&s, &["not newer than 1.1.0"]);
    assert_eq!(s.active().as_deref(), Some("1.1.0"));
}

#[test]
fn the_anti_rollback_state_survives_restarts() {
    let s = ready(standard_roles());
    let meta = s.deploy.repository().metadata();
    let old = s.tmp.path().join("metadata-1.0.0");
    copy_tree(&meta, &old);
    s.publish("1.1.0", Some("production"));
    expect_activated(&s, "1.1.0");
    let floor = s.agent(&OsFs).status().unwrap().metadata;
    assert_eq!((floor.timestamp, floor.snapshot, floor.targets), (3, 3, 3));
    std::fs::remove_dir_all(&meta).unwrap();
    copy_tree(&old, &meta);
    for _restart in 0..3 {
        // Every run opens a new agent from the state folder, and loses tuf/ before the next.
        // With tuf/, tough refuses; without it, the history's floor.
        expect_refused(
            &s,
            &[
                "Found version 2 of timestamp metadata when we had previously fetched version 3",
                "older than version 3 this device already accepted",
            ],
        );
        assert_eq!(s.agent(&OsFs).status().unwrap().metadata, floor);
        forget_trusted_metadata(&s);
        let fresh = Agent::open(&OsFs, &s.state).unwrap();
        assert_eq!(fresh.status().unwrap().metadata, floor);
    }
}

// 4. Indefinite freeze: an expired timestamp.

#[test]
fn an_expired_timestamp_is_refused_until_refreshed() {
    let s = ready(standard_roles());
    let two_days_ago = Timestamp::now() - SignedDuration::from_hours(48);
    s.try_publish_with("1.1.0", Some("production"), two_days_ago, |_| {})
        .unwrap();
    expect_refused(&s, &["timestamp metadata is expired"]);
    // The publisher's refresh lifts the freeze.
    tactician_publish::refresh(&s.deploy, Expiry::default(), Timestamp::now()).unwrap();
    expect_activated(&s, "1.1.0");
}

// 5. Mix-and-match: metadata of two states combined.

#[test]
fn mixed_and_matched_metadata_is_refused() {
    let s = ready(standard_roles());
    let meta = s.deploy.repository().metadata();
    s.publish("1.1.0", Some("production"));
    // State A (1.0.0) is 2.snapshot.json and 2.targets.json; state B (1.1.0) is 3.*.
    for (a, b) in [
        ("2.snapshot.json", "3.snapshot.json"),
        ("2.targets.json", "3.targets.json"),
    ] {
        let b_bytes = std::fs::read(meta.join(b)).unwrap();
        std::fs::copy(meta.join(a), meta.join(b)).unwrap();
        expect_refused(&s, &[&format!("Hash mismatch for {}", url(&meta.join(b)))]);
        std::fs::write(meta.join(b), b_bytes).unwrap();
    }
    expect_activated(&s, "1.1.0");
}

// 6. Endless data: files longer than signed, or than the client's limit.

#[test]
fn endless_data_is_refused() {
    let s = ready(standard_roles());
    let published = s.publish("1.1.0", Some("production"));
    let dirs = s.deploy.repository();
    let cur = current(&s);
    let targets = &cur.targets.as_ref().unwrap().signed.targets;
    let name = model_target(GROUP, "1.1.0");
    assert!(published.targets.contains(&name));
    let model = dirs.target_file(
        &name,
        &targets[&TargetName::new(&name).unwrap()].hashes.sha256,
    );
    let sv = cur.snapshot.as_ref().unwrap().signed.version;
    let tv = cur.targets.as_ref().unwrap().signed.version;
    // Each file is read up to the length its parent signed.
    let files = [
        (model, "(specified by targets.json) exceeded"),
        (
            dirs.metadata().join(format!("{sv}.snapshot.json")),
            "(specified by timestamp.json) exceeded",
        ),
        (
            dirs.metadata().join(format!("{tv}.targets.json")),
            "(specified by snapshot.json) exceeded",
        ),
    ];
    for (file, reason) in &files {
        let good = std::fs::read(file).unwrap();
        let mut long = good.clone();
        long.extend(std::iter::repeat_n(b'x', 1 << 20));
        std::fs::write(file, long).unwrap();
        expect_refused(&s, &[reason]);
        std::fs::write(file, good).unwrap();
    }

    // A timestamp of 100 KiB (spaces inside the JSON, the signature still valid): beyond the
    // client's 64 KiB limit.
    let timestamp = dirs.metadata().join("timestamp.json");
    let good = std::fs::read(&timestamp).unwrap();
    let padded = |size: usize| {
        let mut out = b"{".to_vec();
        out.extend(std::iter::repeat_n(b' ', size - good.len()));
        out.extend(&good[1..]);
        out
    };
    std::fs::write(&timestamp, padded(100 * 1024)).unwrap();
    expect_refused(
        &s,
        &["Maximum size 65536 (specified by max_timestamp_size argument) exceeded"],
    );
    std::fs::write(&timestamp, &good).unwrap();

    // A next root of 300 KiB: beyond the client's 256 KiB limit for roots.
    let root = dirs.metadata().join("2.root.json");
    std::fs::write(&root, vec![b' '; 300 * 1024]).unwrap();
    expect_refused(
        &s,
        &["Maximum size 262144 (specified by max_root_size argument) exceeded"],
    );
    std::fs::remove_file(&root).unwrap();

    // The timestamp's padding within the limit is accepted: the size refused the other.
    std::fs::write(&timestamp, padded(32 * 1024)).unwrap();
    expect_activated(&s, "1.1.0");
}

// 7. Wrong software: another group's release, another encoder, a newer runtime.

#[test]
fn a_release_of_another_group_is_refused() {
    let s = ready(standard_roles());
    let dirs = s.deploy.repository();
    s.publish_with("1.1.0", Some("production"), |p| p.group = "other");

    // The other group's channels file served as arena's.
    let mut targets = next_targets(&s);
    let other = TargetName::new(channels_target("other")).unwrap();
    let t = targets.targets[&other].clone();
    let bytes = std::fs::read(dirs.target_file(other.raw(), &t.hashes.sha256)).unwrap();
    add_target(
        &s,
        &mut targets,
        &channels_target(GROUP),
        &bytes,
        json!({"kind": "channels", "group": GROUP}),
    );
    resign_targets_legit(&s, targets);
    expect_refused(&s, &["the channels file is for group \"other\""]);

    // The other group's 1.1.0 (encrypted to this device too) listed under arena's names, and
    // arena's production pointed at it: the release says its group.
    let mut targets = next_targets(&s);
    for (from, to) in [
        (model_target("other", "1.1.0"), model_target(GROUP, "1.1.0")),
        (
            validation_target("other", "1.1.0"),
            validation_target(GROUP, "1.1.0"),
        ),
    ] {
        let t = targets.targets[&TargetName::new(&from).unwrap()].clone();
        let bytes = std::fs::read(dirs.target_file(&from, &t.hashes.sha256)).unwrap();
        let custom = Value::Object(t.custom.into_iter().collect());
        add_target(&s, &mut targets, &to, &bytes, custom);
    }
    add_target(
        &s,
        &mut targets,
        &channels_target(GROUP),
        &channels_file(GROUP, "1.1.0"),
        json!({"kind": "channels", "group": GROUP}),
    );
    resign_targets_legit(&s, targets);
    expect_refused(&s, &["is published for group \"other\""]);
}

#[test]
fn a_release_for_another_encoder_is_refused() {
    let s = ready(standard_roles());
    let mut config = AgentConfig::load(&OsFs, &s.state).unwrap();
    config.encoder_hash = Some("another-encoder".into());
    config.save(&OsFs, &s.state).unwrap();
    s.publish("1.1.0", Some("production"));
    expect_refused(&s, &["this device's game uses another-encoder"]);
}

#[test]
fn a_release_needing_a_newer_runtime_is_refused() {
    let s = ready(standard_roles());
    s.publish_with("1.1.0", Some("production"), |p| p.min_runtime = "99.0.0");
    expect_refused(&s, &["the model needs runtime 99.0.0 or newer"]);
}

// 8, 9. Every file of the repository damaged in turn.

/// Publishes 1.1.0 over an active 1.0.0, then damages each file of the repository in turn
/// with `damage` and runs the device from the same saved state: a file on the client's path is
/// refused with 1.0.0 still active, any other file is not read and 1.1.0 is activated.
/// Returns (files refused, files not read).
fn damage_each_file(damage: fn(&[u8]) -> Vec<u8>) -> (usize, usize) {
    let s = ready(standard_roles());
    s.publish("1.1.0", Some("production"));
    let dirs = s.deploy.repository();
    let cur = current(&s);
    let (sv, tv) = (
        cur.snapshot.as_ref().unwrap().signed.version,
        cur.targets.as_ref().unwrap().signed.version,
    );
    let targets = &cur.targets.as_ref().unwrap().signed.targets;
    let mut read: BTreeSet<PathBuf> = [
        "timestamp.json".to_string(),
        format!("{sv}.snapshot.json"),
        format!("{tv}.targets.json"),
    ]
    .iter()
    .map(|n| dirs.metadata().join(n))
    .collect();
    for name in [
        channels_target(GROUP),
        model_target(GROUP, "1.1.0"),
        validation_target(GROUP, "1.1.0"),
    ] {
        let t = &targets[&TargetName::new(&name).unwrap()];
        read.insert(dirs.target_file(&name, &t.hashes.sha256));
    }
    let saved = s.tmp.path().join("device-saved");
    copy_tree(&s.state, &saved);
    let mut files: Vec<PathBuf> = tree(&dirs.metadata())
        .into_iter()
        .chain(tree(&dirs.targets()))
        .collect();
    files.retain(|f| f.is_file());
    let (mut refused, mut unread) = (0, 0);
    for file in &files {
        let good = std::fs::read(file).unwrap();
        std::fs::write(file, damage(&good)).unwrap();
        eprintln!("damaged {}", file.display());
        if read.contains(file) {
            if file.ends_with("timestamp.json") {
                expect_refused(
                    &s,
                    &[
                        "Failed to parse timestamp metadata",
                        "Failed to verify timestamp metadata",
                    ],
                );
            } else {
                expect_refused(&s, &[&format!("Hash mismatch for {}", url(file))]);
            }
            refused += 1;
        } else {
            expect_activated(&s, "1.1.0");
            unread += 1;
        }
        std::fs::write(file, good).unwrap();
        std::fs::remove_dir_all(&s.state).unwrap();
        copy_tree(&saved, &s.state);
    }
    assert_eq!(
        refused,
        read.len(),
        "every file on the client's path was damaged"
    );
    expect_activated(&s, "1.1.0");
    eprintln!(
        "{} files: {refused} on the client's path refused, {unread} not read",
        files.len()
    );
    (refused, unread)
}

#[test]
fn a_flipped_byte_in_any_file_is_refused_or_not_read() {
    let (refused, unread) = damage_each_file(flip);
    // timestamp, 3.snapshot, 3.targets, channels, 1.1.0's model and validation set; the
    // roots, the older snapshots and targets, 1.0.0's files and the older channels file.
    assert_eq!((refused, unread), (6, 9));
}

#[test]
fn a_truncated_file_is_refused_or_not_read() {
    let (refused, unread) = damage_each_file(truncate);
    assert_eq!((refused, unread), (6, 9));
}

// 10. Path traversal through names.

#[test]
fn path_traversal_through_names_writes_nothing_outside_the_state_folder() {
    let s = ready(standard_roles());
    let outside = |s: &Setup| -> BTreeSet<PathBuf> {
        tree(s.tmp.path())
            .into_iter()
            .filter(|p| !p.starts_with(&s.state))
            .collect()
    };
    let escape_dir = s.tmp.path().parent().unwrap().join("etc");
    let escape_existed = escape_dir.exists();

    // A properly signed channels file naming version "../../../etc/passwd".
    let mut targets = next_targets(&s);
    add_target(
        &s,
        &mut targets,
        &channels_target(GROUP),
        &channels_file(GROUP, "../../../etc/passwd"),
        json!({"kind": "channels", "group": GROUP}),
    );
    resign_targets_legit(&s, targets);
    let before = outside(&s);
    expect_refused(&s, &["invalid version \"../../../etc/passwd\""]);
    assert_eq!(outside(&s), before);
    assert_eq!(escape_dir.exists(), escape_existed);

    // A target named "../escape" (tough resolves it to "escape"), channels back at 1.0.0: the
    // device never fetches a target by a name it did not derive, and stays up to date.
    let mut targets = next_targets(&s);
    add_target(
        &s,
        &mut targets,
        &channels_target(GROUP),
        &channels_file(GROUP, "1.0.0"),
        json!({"kind": "channels", "group": GROUP}),
    );
    add_target(&s, &mut targets, "../escape", b"escaped\n", json!({}));
    resign_targets_legit(&s, targets);
    let before = outside(&s);
    let out = s.update().unwrap();
    assert!(
        matches!(&out, Outcome::UpToDate { version: Some(v) } if v == "1.0.0"),
        "{out:?}"
    );
    assert_eq!(outside(&s), before);
    assert!(
        tree(&s.state)
            .iter()
            .all(|p| !p.ends_with("escape") && !p.ends_with("passwd")),
        "{:?}",
        tree(&s.state)
    );
    assert_eq!(assert_consistent(&s.state).as_deref(), Some("1.0.0"));
}

// 11. A model the device cannot decrypt.

#[test]
fn a_model_encrypted_to_another_device_is_refused_and_recorded() {
    let s = ready(standard_roles());
    let other = s.tmp.path().join("other-device");
    std::fs::create_dir_all(&other).unwrap();
    let key = Identity::create(&OsFs, &other, "pi-2")
        .unwrap()
        .public_key()
        .to_owned();
    // The closure sees publications of any lifetime: the recipients live for the test's run.
    let recipients: &'static [String] = Box::leak(Box::new([key]));
    s.publish_with("1.1.0", Some("production"), |p| p.recipients = recipients);
    expect_refused(&s, &["cannot decrypt the model with this device's key"]);
    let status = s.agent(&OsFs).status().unwrap();
    assert!(
        status.rejected["1.1.0"].contains("decrypt"),
        "{:?}",
        status.rejected
    );
    // Refused for good: the next run does not download it again.
    expect_refused(&s, &["decrypt"]);
}

// 12. Key compromise: rotated keys are followed, revoked keys refused.

#[test]
fn rotated_keys_are_followed_and_revoked_keys_refused() {
    let s = ready(standard_roles());
    let keys_dir = s.deploy.keys();
    let root_v1 = current(&s).root.signed;

    // The timestamp key rotates (root v2); 1.1.0 is signed with the new key.
    let new_ts = keys::generate(&keys::key_path(&keys_dir, RoleType::Timestamp, 2)).unwrap();
    let v = tactician_publish::rotate(
        &s.deploy,
        RoleType::Timestamp,
        &[new_ts],
        1,
        Expiry::default(),
        Timestamp::now(),
    )
    .unwrap();
    assert_eq!(v, 2);
    s.publish("1.1.0", Some("production"));
    expect_activated(&s, "1.1.0");
    assert_eq!(s.agent(&OsFs).status().unwrap().metadata.root, 2);

    // A newer timestamp signed with the revoked key.
    let timestamp = s.deploy.repository().metadata().join("timestamp.json");
    let good = std::fs::read(&timestamp).unwrap();
    let old_ts = keys::load(&keys::key_path(&keys_dir, RoleType::Timestamp, 1)).unwrap();
    resign_timestamp(&s, 1, &root_v1, &[&old_ts]);
    expect_refused(&s, &["Signature threshold of 1 not met for role timestamp"]);
    std::fs::write(&timestamp, good).unwrap();

    // The root key rotates (root v3, signed by the old and the new root keys).
    let new_root = keys::generate(&keys::key_path(&keys_dir, RoleType::Root, 2)).unwrap();
    let v = tactician_publish::rotate(
        &s.deploy,
        RoleType::Root,
        &[new_root],
        1,
        Expiry::default(),
        Timestamp::now(),
    )
    .unwrap();
    assert_eq!(v, 3);
    s.publish("1.2.0", Some("production"));
    expect_activated(&s, "1.2.0");
    assert_eq!(s.agent(&OsFs).status().unwrap().metadata.root, 3);

    // A root v4 signed with the revoked root key only, handing the timestamp role to it.
    let old_root = keys::load(&keys::key_path(&keys_dir, RoleType::Root, 1)).unwrap();
    let mut root_v4 = current(&s).root.signed;
    root_v4.version = NonZeroU64::new(4).unwrap();
    let root_v4 = view_with(&root_v4, RoleType::Timestamp, &[&old_root]);
    let view = view_with(&root_v4, RoleType::Root, &[&old_root]);
    let signed = repo::sign(root_v4, &view, &[&old_root]).unwrap();
    let path = s.deploy.repository().metadata().join("4.root.json");
    repo::write(&path, signed.buffer()).unwrap();
    expect_refused(&s, &["Signature threshold of 1 not met for role root"]);
    std::fs::remove_file(&path).unwrap();
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::UpToDate { .. }), "{out:?}");
}

// 13. Fast-forward: a compromised timestamp key raises the version numbers so that the
// device refuses the repository's real metadata; rotating the key recovers (TUF 5.3.11).

#[test]
fn a_fast_forward_attack_is_recovered_by_rotating_the_key() {
    let s = ready(standard_roles());
    let keys_dir = s.deploy.keys();
    let timestamp = s.deploy.repository().metadata().join("timestamp.json");
    let good = std::fs::read(&timestamp).unwrap();

    // The attacker, with the timestamp key, serves timestamp version 1002: accepted (it is
    // properly signed), nothing to install.
    let stolen = signers(&s, RoleType::Timestamp);
    resign_timestamp(&s, 1000, &current(&s).root.signed, &refs(&stolen));
    let forward = std::fs::read(&timestamp).unwrap();
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::UpToDate { .. }), "{out:?}");
    assert_eq!(s.agent(&OsFs).status().unwrap().metadata.timestamp, 1002);

    // The repository's real timestamp is now "older": refused.
    std::fs::write(&timestamp, &good).unwrap();
    s.publish("1.1.0", Some("production"));
    expect_refused(&s, &["Found version 3 of timestamp metadata"]);

    // The publisher rotates the timestamp key: the device drops what the old key signed.
    let new_ts = keys::generate(&keys::key_path(&keys_dir, RoleType::Timestamp, 2)).unwrap();
    tactician_publish::rotate(
        &s.deploy,
        RoleType::Timestamp,
        &[new_ts],
        1,
        Expiry::default(),
        Timestamp::now(),
    )
    .unwrap();
    tactician_publish::refresh(&s.deploy, Expiry::default(), Timestamp::now()).unwrap();
    // A first run fails after the refresh (1.1.0's model cannot be downloaded): the device
    // now trusts the new root, but its history (the floor) was not saved.
    let dirs = s.deploy.repository();
    let name = model_target(GROUP, "1.1.0");
    let targets = current(&s).targets.unwrap().signed.targets;
    let model = dirs.target_file(
        &name,
        &targets[&TargetName::new(&name).unwrap()].hashes.sha256,
    );
    let bytes = std::fs::read(&model).unwrap();
    std::fs::remove_file(&model).unwrap();
    assert!(matches!(s.update(), Err(Error::Repository { .. })));
    assert_eq!(s.agent(&OsFs).status().unwrap().metadata.timestamp, 1002);
    std::fs::write(&model, bytes).unwrap();
    expect_activated(&s, "1.1.0");
    let floor = s.agent(&OsFs).status().unwrap().metadata;
    assert_eq!((floor.root, floor.timestamp), (2, 4), "{floor:?}");
    // The fast-forwarded timestamp again: signed by a revoked key.
    let good = std::fs::read(&timestamp).unwrap();
    std::fs::write(&timestamp, forward).unwrap();
    expect_refused(&s, &["Signature threshold of 1 not met for role timestamp"]);
    std::fs::write(&timestamp, good).unwrap();
    let out = s.update().unwrap();
    assert!(matches!(out, Outcome::UpToDate { .. }), "{out:?}");
    assert_eq!(s.agent(&OsFs).status().unwrap().metadata, floor);
}
