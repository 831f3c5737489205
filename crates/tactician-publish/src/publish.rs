//! Creating the repository, publishing a release, moving an alias, refreshing the timestamp.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[allow(deprecated)]
use age::x25519::Recipient;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{Value, json};
use tough::TargetName;
use tough::editor::signed::SignedRole;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{Hashes, RoleType, Root, Target, Targets};

use tactician_agent::ValidationSet;
use tactician_agent::release::{
    CHANNELS_FORMAT, Channels, RELEASE_FORMAT, Release, ValidationRef, canonical_json,
    channels_target, check_name, is_newer, model_target, parse_version, sha256_hex,
    validation_target,
};

use crate::error::{Error, Result};
use crate::keys::{self, RoleKeys, SigningKey, create_private_dir, hex, key_path, role_name};
use crate::repo::{self, Current, RepoDirs};

/// A deployment folder on the workstation: `keys/`, `repository/`, `registry.sqlite`.
#[derive(Debug, Clone)]
pub struct DeployDir {
    /// The folder.
    pub root: PathBuf,
}

impl DeployDir {
    /// The deployment folder `dir`.
    pub fn new(dir: &Path) -> DeployDir {
        DeployDir {
            root: dir.to_path_buf(),
        }
    }

    /// The signing keys.
    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }

    /// The TUF repository.
    pub fn repository(&self) -> RepoDirs {
        RepoDirs::new(&self.root.join("repository"))
    }

    /// The registry.
    pub fn registry(&self) -> PathBuf {
        self.root.join("registry.sqlite")
    }
}

/// How long metadata stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Expiry {
    /// Root, days.
    pub root_days: u32,
    /// Targets, days.
    pub targets_days: u32,
    /// Snapshot, days.
    pub snapshot_days: u32,
    /// Timestamp, hours: devices refuse a repository whose timestamp is older (a freeze
    /// attack), so `publish --refresh` re-signs it well before.
    pub timestamp_hours: u32,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            root_days: 365,
            targets_days: 90,
            snapshot_days: 30,
            timestamp_hours: 24,
        }
    }
}

/// `hours` after `now`, in whole seconds: TUF writes expiry times as `YYYY-MM-DDTHH:MM:SSZ`,
/// and other clients (python-tuf) refuse fractional seconds.
fn after(now: Timestamp, hours: u32) -> Result<Timestamp> {
    let bad = |e: jiff::Error| Error::Invalid {
        reason: format!("expiry out of range: {e}"),
    };
    let t = now
        .checked_add(SignedDuration::from_hours(i64::from(hours)))
        .map_err(bad)?;
    Timestamp::from_second(t.as_second()).map_err(bad)
}

/// What `keys init` made.
#[derive(Debug, Clone, Serialize)]
pub struct KeysReport {
    /// Per role: key ids, threshold, key files.
    pub roles: Vec<RoleReport>,
    /// The root metadata to give devices.
    pub root_json: PathBuf,
}

/// One role's keys.
#[derive(Debug, Clone, Serialize)]
pub struct RoleReport {
    /// The role.
    pub role: String,
    /// Signatures required.
    pub threshold: u32,
    /// Key ids (hex).
    pub key_ids: Vec<String>,
    /// Key files.
    pub files: Vec<PathBuf>,
}

/// Creates the keys (`keys/<role>-<n>.pem`) and the repository with its first root.
pub fn init(
    deploy: &DeployDir,
    roles: [(RoleType, RoleKeys); 4],
    expiry: Expiry,
    now: Timestamp,
) -> Result<KeysReport> {
    let keys_dir = deploy.keys();
    if keys_dir.exists()
        && std::fs::read_dir(&keys_dir)
            .map_err(|e| Error::io("list", &keys_dir, e))?
            .next()
            .is_some()
    {
        return Err(Error::KeysExist { path: keys_dir });
    }
    let dirs = deploy.repository();
    if dirs.metadata().exists() {
        return Err(Error::Invalid {
            reason: format!(
                "{} already holds a repository; its keys are gone from {}? restore them rather \
                 than making new ones",
                dirs.root.display(),
                keys_dir.display()
            ),
        });
    }
    for (role, k) in &roles {
        if k.keys == 0 || k.threshold == 0 || k.threshold > k.keys {
            return Err(Error::Keys {
                reason: format!(
                    "{}: a threshold of {} with {} keys is not possible (1 <= threshold <= keys)",
                    role_name(*role),
                    k.threshold,
                    k.keys
                ),
            });
        }
    }
    create_private_dir(&keys_dir)?;
    let mut made: Vec<(RoleType, Vec<SigningKey>, u32)> = Vec::new();
    for (role, k) in &roles {
        let mut list = Vec::new();
        for n in 1..=k.keys {
            list.push(keys::generate(&key_path(&keys_dir, *role, n))?);
        }
        made.push((*role, list, k.threshold));
    }
    let spec: Vec<(RoleType, &[SigningKey], u32)> = made
        .iter()
        .map(|(r, k, t)| (*r, k.as_slice(), *t))
        .collect();
    let root = repo::new_root(1, after(now, expiry.root_days * 24)?, &spec)?;
    let root_keys: Vec<&SigningKey> = made[0].1.iter().collect();
    let signed = repo::sign(root.clone(), &root, &root_keys)?;
    std::fs::create_dir_all(dirs.metadata())
        .map_err(|e| Error::io("create", &dirs.metadata(), e))?;
    std::fs::create_dir_all(dirs.targets()).map_err(|e| Error::io("create", &dirs.targets(), e))?;
    repo::write(&dirs.metadata().join("1.root.json"), signed.buffer())?;
    let root_json = dirs.metadata().join("root.json");
    repo::write(&root_json, signed.buffer())?;
    // A first, empty state, so a device enrolled before the first release sees a valid
    // repository with nothing for it yet.
    let current = Current::read(&dirs)?;
    commit(deploy, &current, Vec::new(), expiry, now)?;
    Ok(KeysReport {
        roles: made
            .iter()
            .map(|(role, list, threshold)| RoleReport {
                role: role_name(*role).into(),
                threshold: *threshold,
                key_ids: list.iter().map(|k| hex(&k.key_id)).collect(),
                files: list.iter().map(|k| k.path.clone()).collect(),
            })
            .collect(),
        root_json,
    })
}

/// The keys of a role that `root` lists, loaded from the keys folder; at least the role's
/// threshold of them.
pub fn role_signers(keys_dir: &Path, root: &Root, role: RoleType) -> Result<Vec<SigningKey>> {
    let listed = root.roles.get(&role).ok_or_else(|| Error::Keys {
        reason: format!("the root lists no {} role", role_name(role)),
    })?;
    let keys: Vec<SigningKey> = keys::load_role(keys_dir, role)?
        .into_iter()
        .filter(|k| listed.keyids.contains(&k.key_id))
        .collect();
    if (keys.len() as u64) < listed.threshold.get() {
        return Err(Error::Keys {
            reason: format!(
                "signing {} metadata needs {} of its keys; {} holds {} of them",
                role_name(role),
                listed.threshold,
                keys_dir.display(),
                keys.len()
            ),
        });
    }
    Ok(keys)
}

/// A release to publish.
#[derive(Debug)]
pub struct Publication<'a> {
    /// The device group.
    pub group: &'a str,
    /// The version (semantic versioning), newer than every version of the group.
    pub version: &'a str,
    /// The changelog entry.
    pub notes: &'a str,
    /// The alias to point at it (`candidate`, `production`), if any.
    pub alias: Option<&'a str>,
    /// The `.tflite` bytes.
    pub model: &'a [u8],
    /// `f32` or `int8`.
    pub precision: &'a str,
    /// The model's encoder.
    pub encoder_hash: &'a str,
    /// The validation set.
    pub validation: &'a ValidationSet,
    /// The lowest top-1 agreement with it the device accepts.
    pub min_top1: f64,
    /// The oldest runtime that runs it.
    pub min_runtime: &'a str,
    /// Verification and evaluation figures.
    pub metrics: Value,
    /// Dataset, settings and model lineage.
    pub lineage: Value,
    /// The age public keys of the group's devices.
    pub recipients: &'a [String],
}

/// What a publish did.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    /// The release as devices see it.
    pub release: Release,
    /// Its target names.
    pub targets: Vec<String>,
    /// The group's aliases after publishing.
    pub aliases: BTreeMap<String, String>,
    /// The new metadata versions.
    pub targets_version: u64,
    /// The new snapshot version.
    pub snapshot_version: u64,
    /// The new timestamp version.
    pub timestamp_version: u64,
    /// Devices it is encrypted to.
    pub recipients: usize,
}

#[allow(deprecated)]
fn encrypt(recipients: &[Recipient], plaintext: &[u8]) -> Result<Vec<u8>> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as _)).map_err(|e| {
            Error::Crypto {
                what: format!("encrypt: {e}"),
            }
        })?;
    let mut out = Vec::with_capacity(plaintext.len() + 512);
    let mut w = encryptor.wrap_output(&mut out).map_err(|e| Error::Crypto {
        what: format!("encrypt: {e}"),
    })?;
    std::io::Write::write_all(&mut w, plaintext)
        .and_then(|()| w.finish().map(drop))
        .map_err(|e| Error::Crypto {
            what: format!("encrypt: {e}"),
        })?;
    Ok(out)
}

fn target_of(bytes: &[u8], custom: Value) -> Target {
    let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    let custom = match custom {
        Value::Object(map) => map.into_iter().collect(),
        _ => Default::default(),
    };
    Target {
        length: bytes.len() as u64,
        hashes: Hashes {
            sha256: Decoded::<Hex>::from(sha.as_ref().to_vec()),
            _extra: Default::default(),
        },
        custom,
        _extra: Default::default(),
    }
}

fn target_name(name: &str) -> Result<TargetName> {
    TargetName::new(name).map_err(|e| Error::Invalid {
        reason: format!("target name {name:?}: {e}"),
    })
}

/// The aliases of a group as the repository publishes them.
pub fn channels(dirs: &RepoDirs, current: &Current, group: &str) -> Result<Channels> {
    let empty = Channels {
        format: CHANNELS_FORMAT.into(),
        group: group.into(),
        aliases: BTreeMap::new(),
    };
    let Some(targets) = &current.targets else {
        return Ok(empty);
    };
    let name = target_name(&channels_target(group))?;
    let Some(t) = targets.signed.targets.get(&name) else {
        return Ok(empty);
    };
    let path = dirs.target_file(name.raw(), &t.hashes.sha256);
    let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Tuf {
        what: format!("read {}", path.display()),
        reason: e.to_string(),
    })
}

/// The versions of a group the repository holds, oldest first.
pub fn versions(current: &Current, group: &str) -> Vec<String> {
    let Some(targets) = &current.targets else {
        return Vec::new();
    };
    let mut versions: Vec<(semver::Version, String)> = targets
        .signed
        .targets
        .values()
        .filter_map(|t| {
            let r: Release = serde_json::from_value(t.custom.get("release")?.clone()).ok()?;
            (r.group == group).then_some(r.version)
        })
        .filter_map(|v| parse_version(&v).ok().map(|p| (p, v)))
        .collect();
    versions.sort();
    versions.into_iter().map(|(_, v)| v).collect()
}

/// Publishes a release: encrypts the model and validation set to the group's devices, adds
/// them and the group's updated channels file as targets, and signs new targets, snapshot and
/// timestamp metadata.
pub fn publish(
    deploy: &DeployDir,
    p: &Publication<'_>,
    expiry: Expiry,
    now: Timestamp,
) -> Result<Published> {
    check_name("group", p.group)?;
    parse_version(p.version)?;
    parse_version(p.min_runtime)?;
    if let Some(a) = p.alias {
        check_name("alias", a)?;
    }
    if !matches!(p.precision, "f32" | "dynamic" | "int8") {
        return Err(Error::Invalid {
            reason: format!("precision {:?}: expected f32, dynamic or int8", p.precision),
        });
    }
    if p.recipients.is_empty() {
        return Err(Error::Invalid {
            reason: format!(
                "group {:?} has no enrolled device to encrypt to: enrol one with `tactician \
                 devices add ID PUBKEY --group {}`",
                p.group, p.group
            ),
        });
    }
    #[allow(deprecated)]
    let recipients: Vec<Recipient> = p
        .recipients
        .iter()
        .map(|r| {
            tactician_agent::identity::parse_recipient(r).map_err(|e| Error::Invalid {
                reason: format!("device key {r:?} is not an age X25519 public key: {e}"),
            })
        })
        .collect::<Result<_>>()?;
    let dirs = deploy.repository();
    let current = Current::read(&dirs)?;
    let existing = versions(&current, p.group);
    if let Some(last) = existing.last()
        && !is_newer(p.version, last)
    {
        return Err(Error::Invalid {
            reason: format!(
                "version {} is not newer than {last}, the group's latest: devices only move \
                 forward (publish a higher version)",
                p.version
            ),
        });
    }

    let validation = p.validation.to_bytes();
    let release = Release {
        format: RELEASE_FORMAT.into(),
        group: p.group.into(),
        version: p.version.into(),
        encoder_hash: p.encoder_hash.into(),
        min_runtime: p.min_runtime.into(),
        precision: p.precision.into(),
        model_sha256: sha256_hex(p.model),
        model_bytes: p.model.len() as u64,
        validation: ValidationRef {
            sha256: sha256_hex(&validation),
            bytes: validation.len() as u64,
            rows: p.validation.rows() as u64,
            min_top1: p.min_top1,
        },
        metrics: canonical_json(&p.metrics),
        lineage: canonical_json(&p.lineage),
        notes: p.notes.into(),
        published: now.to_string(),
    };
    let model_name = model_target(p.group, p.version);
    let validation_name = validation_target(p.group, p.version);
    let mut files = vec![
        (
            model_name.clone(),
            encrypt(&recipients, p.model)?,
            json!({"kind": "model", "release": release}),
        ),
        (
            validation_name.clone(),
            encrypt(&recipients, &validation)?,
            json!({"kind": "validation", "group": p.group, "version": p.version}),
        ),
    ];
    let mut chans = channels(&dirs, &current, p.group)?;
    if let Some(alias) = p.alias {
        chans.aliases.insert(alias.into(), p.version.into());
        files.push(channels_file(&chans)?);
    }
    let versions = commit(deploy, &current, files, expiry, now)?;
    Ok(Published {
        release,
        targets: vec![model_name, validation_name],
        aliases: chans.aliases,
        targets_version: versions.0,
        snapshot_version: versions.1,
        timestamp_version: versions.2,
        recipients: recipients.len(),
    })
}

fn refs(keys: &[SigningKey]) -> Vec<&SigningKey> {
    keys.iter().collect()
}

fn channels_file(chans: &Channels) -> Result<(String, Vec<u8>, Value)> {
    let mut bytes = serde_json::to_vec_pretty(chans).map_err(|e| Error::Invalid {
        reason: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok((
        channels_target(&chans.group),
        bytes,
        json!({"kind": "channels", "group": chans.group}),
    ))
}

/// Points a group's alias at a published version.
pub fn promote(
    deploy: &DeployDir,
    group: &str,
    alias: &str,
    version: &str,
    expiry: Expiry,
    now: Timestamp,
) -> Result<Option<String>> {
    check_name("group", group)?;
    check_name("alias", alias)?;
    let dirs = deploy.repository();
    let current = Current::read(&dirs)?;
    if !versions(&current, group).iter().any(|v| v == version) {
        return Err(Error::Invalid {
            reason: format!(
                "version {version} is not published for group {group:?} (published: {})",
                versions(&current, group).join(", ")
            ),
        });
    }
    let mut chans = channels(&dirs, &current, group)?;
    let before = chans.aliases.insert(alias.into(), version.into());
    if before.as_deref() == Some(version) {
        return Ok(before);
    }
    commit(deploy, &current, vec![channels_file(&chans)?], expiry, now)?;
    Ok(before)
}

/// Writes target files, then signs and writes new targets, snapshot and timestamp metadata,
/// the timestamp last. Returns the three new versions.
fn commit(
    deploy: &DeployDir,
    current: &Current,
    files: Vec<(String, Vec<u8>, Value)>,
    expiry: Expiry,
    now: Timestamp,
) -> Result<(u64, u64, u64)> {
    let dirs = deploy.repository();
    let keys_dir = deploy.keys();
    let root = &current.root.signed;
    let targets_keys = role_signers(&keys_dir, root, RoleType::Targets)?;
    let snapshot_keys = role_signers(&keys_dir, root, RoleType::Snapshot)?;
    let timestamp_keys = role_signers(&keys_dir, root, RoleType::Timestamp)?;

    let mut targets: Targets = repo::next_targets(
        current.targets.as_ref().map(|t| &t.signed),
        after(now, expiry.targets_days * 24)?,
    )?;
    for (name, bytes, custom) in &files {
        let target = target_of(bytes, custom.clone());
        let path = dirs.target_file(name, &target.hashes.sha256);
        if !path.exists() {
            repo::write(&path, bytes)?;
        }
        targets.targets.insert(target_name(name)?, target);
    }
    let signed_targets = repo::sign(targets, root, &refs(&targets_keys))?;
    let tv = signed_targets.signed().signed.version.get();
    let sv = current
        .snapshot
        .as_ref()
        .map_or(1, |s| s.signed.version.get() + 1);
    let snapshot = repo::snapshot_of(sv, after(now, expiry.snapshot_days * 24)?, &signed_targets)?;
    let signed_snapshot = repo::sign(snapshot, root, &refs(&snapshot_keys))?;
    let ts_version = current
        .timestamp
        .as_ref()
        .map_or(1, |t| t.signed.version.get() + 1);
    let timestamp = repo::timestamp_of(
        ts_version,
        after(now, expiry.timestamp_hours)?,
        &signed_snapshot,
    )?;
    let signed_timestamp = repo::sign(timestamp, root, &refs(&timestamp_keys))?;
    let meta = dirs.metadata();
    repo::write(
        &meta.join(format!("{tv}.targets.json")),
        signed_targets.buffer(),
    )?;
    repo::write(
        &meta.join(format!("{sv}.snapshot.json")),
        signed_snapshot.buffer(),
    )?;
    repo::write(&meta.join("timestamp.json"), signed_timestamp.buffer())?;
    Ok((tv, sv, ts_version))
}

/// What a refresh re-signed.
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    /// The new timestamp version.
    pub timestamp_version: u64,
    /// When it expires (RFC 3339).
    pub expires: String,
}

/// Re-signs the timestamp (same snapshot, next version, new expiry): needs only the
/// timestamp key, so a cron job can run it with the other keys offline.
pub fn refresh(deploy: &DeployDir, expiry: Expiry, now: Timestamp) -> Result<Refreshed> {
    let dirs = deploy.repository();
    let current = Current::read(&dirs)?;
    let Some(old) = &current.timestamp else {
        return Err(Error::Invalid {
            reason: "nothing is published yet: there is no timestamp to refresh".into(),
        });
    };
    let root = &current.root.signed;
    let keys = role_signers(&deploy.keys(), root, RoleType::Timestamp)?;
    let mut ts = old.signed.clone();
    ts.version = std::num::NonZeroU64::new(ts.version.get() + 1).ok_or_else(|| Error::Invalid {
        reason: "timestamp version overflow".into(),
    })?;
    ts.expires = after(now, expiry.timestamp_hours)?;
    let signed: SignedRole<_> = repo::sign(ts, root, &refs(&keys))?;
    repo::write(&dirs.metadata().join("timestamp.json"), signed.buffer())?;
    Ok(Refreshed {
        timestamp_version: signed.signed().signed.version.get(),
        expires: signed.signed().signed.expires.to_string(),
    })
}

/// Rotates a role's keys: a new root version lists `new_keys` for `role` (with `threshold`)
/// instead of its old keys, signed by the current root keys (at least their threshold) and,
/// when root itself rotates, by the new root keys too. Devices follow the chain of roots and
/// refuse the old keys' signatures from then on. Returns the new root version.
pub fn rotate(
    deploy: &DeployDir,
    role: RoleType,
    new_keys: &[SigningKey],
    threshold: u32,
    expiry: Expiry,
    now: Timestamp,
) -> Result<u64> {
    let dirs = deploy.repository();
    let (n, path) = repo::latest_root(&dirs)?;
    let old = repo::read_signed::<Root>(&path)?.signed;
    let old_signers = role_signers(&deploy.keys(), &old, RoleType::Root)?;
    let spec: Vec<(RoleType, &[SigningKey], u32)> = vec![(role, new_keys, threshold)];
    let fresh = repo::new_root(n + 1, after(now, expiry.root_days * 24)?, &spec)?;
    let mut root = old.clone();
    root.version = fresh.version;
    root.expires = fresh.expires;
    let retired = root.roles.insert(role, fresh.roles[&role].clone());
    root.keys.extend(fresh.keys);
    if let Some(retired) = retired {
        for id in retired.keyids {
            if !root.roles.values().any(|r| r.keyids.contains(&id)) {
                root.keys.remove(&id);
            }
        }
    }
    // Signed by the old root keys (the chain) and, for a root rotation, the new ones: the
    // view used for signing lists both for the root role.
    let mut view = root.clone();
    let mut signers: Vec<&SigningKey> = old_signers.iter().collect();
    if role == RoleType::Root {
        signers.extend(new_keys);
    }
    if let Some(rk) = view.roles.get_mut(&RoleType::Root) {
        for k in &old_signers {
            view.keys.insert(k.key_id.clone(), k.tuf_key());
            if !rk.keyids.contains(&k.key_id) {
                rk.keyids.push(k.key_id.clone());
            }
        }
    }
    let signed = repo::sign(root, &view, &signers)?;
    repo::write(
        &dirs.metadata().join(format!("{}.root.json", n + 1)),
        signed.buffer(),
    )?;
    repo::write(&dirs.metadata().join("root.json"), signed.buffer())?;
    Ok(n + 1)
}
