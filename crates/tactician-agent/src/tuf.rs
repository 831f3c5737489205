//! The device's TUF client, on `tough`: refreshes the repository's metadata from the trusted
//! root on (the device's `tuf/` folder), verifies it (signatures and thresholds, versions,
//! expiry, lengths and hashes), and downloads targets within their signed lengths.
//!
//! The trusted metadata is kept in `<state>/tuf/`, written atomically by the agent after each
//! successful refresh; `tough` works in a scratch folder seeded from it. On top of TUF's own
//! checks, the versions of every role are compared with the highest the device has seen
//! ([`TufFloor`], kept in the device's history), so deleting `tuf/` does not let older
//! metadata in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tough::schema::RoleType;
use tough::{IntoVec, Limits, RepositoryLoader, TargetName};
use url::Url;

use crate::error::{Error, Result};
use crate::fs::{Fs, exists, write_atomic};

/// The files of the trusted metadata the device keeps.
const TRUSTED_FILES: [&str; 5] = [
    "root.json",
    "timestamp.json",
    "snapshot.json",
    "targets.json",
    "latest_known_time.json",
];

/// The highest version of each role the device has accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TufFloor {
    /// Root.
    pub root: u64,
    /// Timestamp.
    pub timestamp: u64,
    /// Snapshot.
    pub snapshot: u64,
    /// Targets.
    pub targets: u64,
    /// A fingerprint of the timestamp and snapshot keys the timestamp, snapshot and targets
    /// versions were accepted under (0: not known yet). When the root rotates those keys, the
    /// three versions are forgotten, as TUF's clients delete their trusted timestamp and
    /// snapshot (spec 5.3.11): what a compromised key signed (a fast-forward attack) does not
    /// lock the device out once the key is replaced.
    #[serde(default)]
    pub keys: u64,
}

impl TufFloor {
    /// The floor after accepting `other`: the larger of each pair, the timestamp, snapshot and
    /// targets versions of `self` forgotten when `other` was accepted under other keys.
    pub fn max(self, other: TufFloor) -> TufFloor {
        let floor = if other.keys == 0 {
            self
        } else {
            self.under_keys(other.keys)
        };
        TufFloor {
            root: floor.root.max(other.root),
            timestamp: floor.timestamp.max(other.timestamp),
            snapshot: floor.snapshot.max(other.snapshot),
            targets: floor.targets.max(other.targets),
            keys: floor.keys,
        }
    }

    /// The floor that holds under the timestamp and snapshot keys `keys`.
    fn under_keys(self, keys: u64) -> TufFloor {
        if self.keys == 0 || self.keys == keys {
            // Unknown keys (a history from before the fingerprint) keep their versions.
            TufFloor { keys, ..self }
        } else {
            TufFloor {
                root: self.root,
                keys,
                ..TufFloor::default()
            }
        }
    }
}

/// The fingerprint of the timestamp and snapshot keys of `root` ([`TufFloor::keys`]).
fn keys_fingerprint(root: &tough::schema::Root) -> u64 {
    let mut text = String::new();
    for role in [RoleType::Timestamp, RoleType::Snapshot] {
        let mut ids: Vec<String> = root
            .roles
            .get(&role)
            .map(|r| {
                r.keyids
                    .iter()
                    .map(|id| id.iter().map(|b| format!("{b:02x}")).collect())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        text.push_str(&ids.join(","));
        text.push(';');
    }
    let hex = crate::release::sha256_hex(text.as_bytes());
    u64::from_str_radix(&hex[..16], 16).map_or(1, |k| k.max(1))
}

/// The folder of the trusted metadata.
pub fn trusted_dir(state: &Path) -> PathBuf {
    state.join("tuf")
}

/// The trusted root (`tuf/root.json`), the device's trust anchor.
pub fn trusted_root(state: &Path) -> PathBuf {
    trusted_dir(state).join("root.json")
}

/// The base URL of a repository given as a folder or a URL.
pub fn repository_url(repository: &str) -> Result<Url> {
    let bad = |reason: String| Error::Repository {
        reason: format!("repository {repository:?}: {reason}"),
    };
    let url = if repository.contains("://") {
        Url::parse(repository).map_err(|e| bad(e.to_string()))?
    } else {
        let path = std::fs::canonicalize(repository)
            .map_err(|e| bad(format!("cannot open the folder: {e}")))?;
        Url::from_directory_path(&path).map_err(|()| bad("not an absolute folder".into()))?
    };
    match url.scheme() {
        "http" | "https" | "file" => {}
        other => {
            return Err(bad(format!(
                "unsupported scheme {other:?} (http, https, file)"
            )));
        }
    }
    // A base URL must end with '/' for joins to stay inside it.
    let mut url = url;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// A verified view of the repository.
#[derive(Debug)]
pub struct Repository {
    repo: tough::Repository,
    rt: tokio::runtime::Runtime,
    /// tough's working datastore (it notes the time there on every download); removed on drop.
    scratch: PathBuf,
}

impl Drop for Repository {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

fn tough_error(e: &tough::error::Error) -> Error {
    Error::Repository {
        reason: tactician_os::report(e),
    }
}

/// Refreshes and verifies the repository's metadata against the trusted metadata of `state`
/// and the version floor; on success the new metadata becomes the trusted metadata.
pub fn refresh(
    fs: &dyn Fs,
    state: &Path,
    repository: &str,
    floor: TufFloor,
) -> Result<(Repository, TufFloor)> {
    let dir = trusted_dir(state);
    let root_path = trusted_root(state);
    let root = fs.read(&root_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Repository {
                reason: format!(
                    "no trusted root at {}: copy the repository's root.json there once, out of \
                     band (see `tactician-device init --root`)",
                    root_path.display()
                ),
            }
        } else {
            Error::io("read", &root_path, e)
        }
    })?;
    let base = repository_url(repository)?;
    let metadata = base.join("metadata/").map_err(|e| Error::Repository {
        reason: e.to_string(),
    })?;
    let targets = base.join("targets/").map_err(|e| Error::Repository {
        reason: e.to_string(),
    })?;

    // tough's scratch datastore, seeded with the trusted metadata.
    let scratch = dir.join("scratch");
    if exists(&scratch) {
        std::fs::remove_dir_all(&scratch).map_err(|e| Error::io("remove", &scratch, e))?;
    }
    std::fs::create_dir_all(&scratch).map_err(|e| Error::io("create", &scratch, e))?;
    for name in &TRUSTED_FILES[1..] {
        let from = dir.join(name);
        if exists(&from) {
            std::fs::copy(&from, scratch.join(name)).map_err(|e| Error::io("copy", &from, e))?;
        }
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start the I/O runtime for", state, e))?;
    let loaded = rt.block_on(
        RepositoryLoader::new(&root, metadata, targets)
            .datastore(&scratch)
            .limits(Limits {
                max_root_size: 256 * 1024,
                max_targets_size: 8 * 1024 * 1024,
                max_timestamp_size: 64 * 1024,
                max_snapshot_size: 256 * 1024,
                max_root_updates: 256,
            })
            .load(),
    );
    let repo = match loaded {
        Ok(repo) => repo,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(tough_error(&e));
        }
    };
    let keys = keys_fingerprint(&repo.root().signed);
    let floor = floor.under_keys(keys);
    let seen = TufFloor {
        root: repo.root().signed.version.get(),
        timestamp: repo.timestamp().signed.version.get(),
        snapshot: repo.snapshot().signed.version.get(),
        targets: repo.targets().signed.version.get(),
        keys,
    };
    for (role, got, min) in [
        ("root", seen.root, floor.root),
        ("timestamp", seen.timestamp, floor.timestamp),
        ("snapshot", seen.snapshot, floor.snapshot),
        ("targets", seen.targets, floor.targets),
    ] {
        if got < min {
            let _ = std::fs::remove_dir_all(&scratch);
            return Err(Error::Repository {
                reason: format!(
                    "rollback attack: the repository's {role} metadata is version {got}, older \
                     than version {min} this device already accepted"
                ),
            });
        }
    }
    // The verified metadata becomes the trusted metadata.
    let files: [(&str, Vec<u8>); 4] = [
        ("timestamp.json", to_json(repo.timestamp())?),
        ("snapshot.json", to_json(repo.snapshot())?),
        ("targets.json", to_json(repo.targets())?),
        ("root.json", to_json(repo.root())?),
    ];
    for (name, bytes) in &files {
        let path = dir.join(name);
        write_atomic(fs, &path, bytes).map_err(|e| Error::io("write", &path, e))?;
    }
    let time = scratch.join("latest_known_time.json");
    if let Ok(bytes) = std::fs::read(&time) {
        let path = dir.join("latest_known_time.json");
        write_atomic(fs, &path, &bytes).map_err(|e| Error::io("write", &path, e))?;
    }
    Ok((Repository { repo, rt, scratch }, seen))
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Format(e.to_string()))
}

impl Repository {
    /// A target's custom metadata entry `key`, `None` when the target or the entry is absent.
    pub fn custom(&self, name: &str, key: &str) -> Result<Option<&serde_json::Value>> {
        Ok(self.target(name)?.and_then(|t| t.custom.get(key)))
    }

    /// A target's signed description.
    pub fn target(&self, name: &str) -> Result<Option<&tough::schema::Target>> {
        let name = target_name(name)?;
        Ok(self.repo.targets().signed.targets.get(&name))
    }

    /// Downloads a target, verified against its signed length and hash (a longer file is cut
    /// at the signed length and refused). `None` when the repository has no such target.
    pub fn fetch(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let target = target_name(name)?;
        self.rt.block_on(async {
            match self.repo.read_target(&target).await {
                Ok(None) => Ok(None),
                Ok(Some(stream)) => match stream.into_vec().await {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) => Err(tough_error(&e)),
                },
                Err(e) => Err(tough_error(&e)),
            }
        })
    }

    /// The names of every target.
    pub fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .repo
            .targets()
            .signed
            .targets
            .keys()
            .map(|n| n.raw().to_owned())
            .collect();
        names.sort();
        names
    }
}

fn target_name(name: &str) -> Result<TargetName> {
    TargetName::new(name).map_err(|e| Error::Rejected {
        reason: format!("unsafe target name {name:?}: {e}"),
    })
}
