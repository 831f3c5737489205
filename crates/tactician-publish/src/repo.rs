//! The TUF repository on the workstation: static files, so a folder serves one device and any
//! HTTP server or object store serves a fleet.
//!
//! ```text
//! repository/metadata/<n>.root.json       every root version (clients walk the chain)
//! repository/metadata/root.json           the latest root (to give a new device, out of band)
//! repository/metadata/<n>.targets.json    targets: every published file, its length, hashes
//!                                         and custom metadata
//! repository/metadata/<n>.snapshot.json   the targets version in force
//! repository/metadata/timestamp.json      the snapshot in force; short-lived, re-signed by
//!                                         `publish --refresh`
//! repository/targets/<sha256>.<name>      the files (consistent snapshots: never overwritten)
//! ```
//!
//! Metadata is signed with `tough`'s signing (canonical JSON, Ed25519) and written with
//! durable atomic writes, newest-last: targets files, then targets metadata, then snapshot,
//! then the timestamp that makes them current. A publish interrupted at any point leaves the
//! previous state in force.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tough::editor::signed::SignedRole;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{
    Hashes, KeyHolder, Metafile, Role, RoleKeys as TufRoleKeys, RoleType, Root, Signed, Snapshot,
    Targets, Timestamp,
};

use crate::error::{Error, Result};
use crate::keys::{SigningKey, hex, role_name};

/// The TUF specification version written.
pub const SPEC_VERSION: &str = "1.0.0";

/// The repository's folders.
#[derive(Debug, Clone)]
pub struct RepoDirs {
    /// `repository/`.
    pub root: PathBuf,
}

impl RepoDirs {
    /// The repository in `dir`.
    pub fn new(dir: &Path) -> RepoDirs {
        RepoDirs {
            root: dir.to_path_buf(),
        }
    }

    /// `metadata/`.
    pub fn metadata(&self) -> PathBuf {
        self.root.join("metadata")
    }

    /// `targets/`.
    pub fn targets(&self) -> PathBuf {
        self.root.join("targets")
    }

    /// The file a target is stored in.
    pub fn target_file(&self, name: &str, sha256: &[u8]) -> PathBuf {
        self.targets().join(format!("{}.{name}", hex(sha256)))
    }
}

/// Signs a role with every given key: the signed role and its exact bytes.
pub fn sign<T: Role + Serialize + Clone>(
    role: T,
    root: &Root,
    keys: &[&SigningKey],
) -> Result<SignedRole<T>> {
    let sources: Vec<Box<dyn tough::key_source::KeySource>> = keys
        .iter()
        .map(|k| Box::new(MemKeySource::new(k)) as Box<dyn tough::key_source::KeySource>)
        .collect();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let rt = runtime()?;
    rt.block_on(SignedRole::new(
        role,
        &KeyHolder::Root(root.clone()),
        &sources,
        &rng,
    ))
    .map_err(|e| Error::Tuf {
        what: "sign metadata".into(),
        reason: tactician_os::report(&e),
    })
}

/// A current-thread runtime for `tough`'s async calls.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start the I/O runtime", Path::new("."), e))
}

/// A loaded key as `tough` asks for keys.
#[derive(Debug)]
struct MemKeySource {
    pem: Vec<u8>,
}

impl MemKeySource {
    fn new(key: &SigningKey) -> MemKeySource {
        MemKeySource {
            pem: key.pkcs8().to_vec(),
        }
    }
}

#[tough::async_trait]
impl tough::key_source::KeySource for MemKeySource {
    async fn as_sign(
        &self,
    ) -> std::result::Result<Box<dyn tough::sign::Sign>, Box<dyn std::error::Error + Send + Sync>>
    {
        let pair = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&self.pem)
            .or_else(|_| {
                aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&self.pem)
            })
            .map_err(|e| Box::new(std::io::Error::other(e.to_string())) as Box<_>)?;
        Ok(Box::new(pair))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Err(Box::new(std::io::Error::other(
            "keys are never written back",
        )))
    }
}

/// A new root: every role's keys and threshold, `version`, expiring at `expires`.
pub fn new_root(
    version: u64,
    expires: jiff::Timestamp,
    roles: &[(RoleType, &[SigningKey], u32)],
) -> Result<Root> {
    let mut keys = HashMap::new();
    let mut role_keys = HashMap::new();
    for (role, signers, threshold) in roles {
        let mut ids = Vec::new();
        for k in *signers {
            keys.insert(k.key_id.clone(), k.tuf_key());
            ids.push(k.key_id.clone());
        }
        let threshold = NonZeroU64::new(u64::from(*threshold)).ok_or_else(|| Error::Keys {
            reason: format!("the {} threshold must be at least 1", role_name(*role)),
        })?;
        if threshold.get() > ids.len() as u64 {
            return Err(Error::Keys {
                reason: format!(
                    "the {} threshold {threshold} exceeds its {} keys",
                    role_name(*role),
                    ids.len()
                ),
            });
        }
        role_keys.insert(
            *role,
            TufRoleKeys {
                keyids: ids,
                threshold,
                _extra: HashMap::new(),
            },
        );
    }
    Ok(Root {
        spec_version: SPEC_VERSION.into(),
        consistent_snapshot: true,
        version: nonzero(version)?,
        expires,
        keys,
        roles: role_keys,
        _extra: HashMap::new(),
    })
}

fn nonzero(v: u64) -> Result<NonZeroU64> {
    NonZeroU64::new(v).ok_or_else(|| Error::Tuf {
        what: "version".into(),
        reason: "versions start at 1".into(),
    })
}

/// A metadata entry (version, length, SHA-256) for the snapshot or the timestamp.
pub fn metafile<T: Role + Serialize>(role: &SignedRole<T>, version: u64) -> Result<Metafile> {
    Ok(Metafile {
        length: Some(*role.length()),
        hashes: Some(Hashes {
            sha256: Decoded::<Hex>::from(role.sha256().to_vec()),
            _extra: HashMap::new(),
        }),
        version: nonzero(version)?,
        _extra: HashMap::new(),
    })
}

/// New targets metadata with the targets of `previous`, the next version.
pub fn next_targets(previous: Option<&Targets>, expires: jiff::Timestamp) -> Result<Targets> {
    let version = previous.map_or(1, |t| t.version.get() + 1);
    let mut t = Targets::new(SPEC_VERSION.into(), nonzero(version)?, expires);
    if let Some(p) = previous {
        t.targets = p.targets.clone();
    }
    Ok(t)
}

/// Snapshot metadata naming `targets`.
pub fn snapshot_of(
    version: u64,
    expires: jiff::Timestamp,
    targets: &SignedRole<Targets>,
) -> Result<Snapshot> {
    let mut s = Snapshot::new(SPEC_VERSION.into(), nonzero(version)?, expires);
    s.meta.insert(
        "targets.json".into(),
        metafile(targets, targets.signed().signed.version.get())?,
    );
    Ok(s)
}

/// Timestamp metadata naming `snapshot`.
pub fn timestamp_of(
    version: u64,
    expires: jiff::Timestamp,
    snapshot: &SignedRole<Snapshot>,
) -> Result<Timestamp> {
    let mut t = Timestamp::new(SPEC_VERSION.into(), nonzero(version)?, expires);
    t.meta.insert(
        "snapshot.json".into(),
        metafile(snapshot, snapshot.signed().signed.version.get())?,
    );
    Ok(t)
}

/// Reads and parses a metadata file.
pub fn read_signed<T: DeserializeOwned>(path: &Path) -> Result<Signed<T>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Tuf {
        what: format!("read {}", path.display()),
        reason: e.to_string(),
    })
}

/// Writes a file durably and atomically.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    tactician_os::write_atomic(path, bytes).map_err(Error::Os)
}

/// The repository's current state, read from its own files.
#[derive(Debug)]
pub struct Current {
    /// The latest root.
    pub root: Signed<Root>,
    /// The timestamp in force (`None` before the first publish).
    pub timestamp: Option<Signed<Timestamp>>,
    /// The snapshot it names.
    pub snapshot: Option<Signed<Snapshot>>,
    /// The targets the snapshot names.
    pub targets: Option<Signed<Targets>>,
}

/// The highest `<n>.root.json` of the repository.
pub fn latest_root(dirs: &RepoDirs) -> Result<(u64, PathBuf)> {
    let meta = dirs.metadata();
    let entries = std::fs::read_dir(&meta).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NoRepository {
                path: dirs.root.clone(),
            }
        } else {
            Error::io("list", &meta, e)
        }
    })?;
    let mut best: Option<(u64, PathBuf)> = None;
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = name
            .strip_suffix(".root.json")
            .and_then(|n| n.parse::<u64>().ok())
            && best.as_ref().is_none_or(|(b, _)| n > *b)
        {
            best = Some((n, e.path()));
        }
    }
    best.ok_or_else(|| Error::NoRepository {
        path: dirs.root.clone(),
    })
}

impl Current {
    /// Reads the repository's state: the latest root, the timestamp and what it names.
    pub fn read(dirs: &RepoDirs) -> Result<Current> {
        let (_, root_path) = latest_root(dirs)?;
        let root = read_signed::<Root>(&root_path)?;
        let ts_path = dirs.metadata().join("timestamp.json");
        if !ts_path.exists() {
            return Ok(Current {
                root,
                timestamp: None,
                snapshot: None,
                targets: None,
            });
        }
        let timestamp = read_signed::<Timestamp>(&ts_path)?;
        let snap_meta = timestamp
            .signed
            .meta
            .get("snapshot.json")
            .ok_or_else(|| Error::Tuf {
                what: format!("read {}", ts_path.display()),
                reason: "it names no snapshot.json".into(),
            })?;
        let snap_path = dirs
            .metadata()
            .join(format!("{}.snapshot.json", snap_meta.version));
        let snapshot = read_signed::<Snapshot>(&snap_path)?;
        let t_meta = snapshot
            .signed
            .meta
            .get("targets.json")
            .ok_or_else(|| Error::Tuf {
                what: format!("read {}", snap_path.display()),
                reason: "it names no targets.json".into(),
            })?;
        let t_path = dirs
            .metadata()
            .join(format!("{}.targets.json", t_meta.version));
        let targets = read_signed::<Targets>(&t_path)?;
        Ok(Current {
            root,
            timestamp: Some(timestamp),
            snapshot: Some(snapshot),
            targets: Some(targets),
        })
    }
}
