//! The device's identity: a device id and an age X25519 key pair. The public key
//! (`age1...`) is what the workstation enrols (`tactician devices add ID PUBKEY --group G`);
//! models of the device's group are encrypted to it. The secret key never leaves the device:
//! it is written once, readable by its owner only (mode 0600), and never printed or logged.

// age 0.13 marks its classic X25519 keys deprecated in favour of its post-quantum hybrid
// ones. Devices use X25519: the keys every age implementation (rage, age, the age CLI on a Pi)
// reads, 62-character public keys an operator can paste; the hybrid keys are a switch of key
// type in this file when the ecosystem has them.
#![allow(deprecated)]

use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fs::{Fs, write_atomic};
use crate::release::check_name;

/// The `format` of `device.json`.
pub const DEVICE_FORMAT: &str = "tactician-device/1";

/// The public half of a device's identity (`identity/device.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// [`DEVICE_FORMAT`].
    pub format: String,
    /// The device id.
    pub id: String,
    /// The age recipient (`age1...`) models are encrypted to.
    pub public_key: String,
}

/// A device's identity, secret key included.
pub struct Identity {
    info: DeviceInfo,
    key: age::x25519::Identity,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret key.
        f.debug_struct("Identity")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// The identity folder inside a state folder.
pub fn identity_dir(state: &Path) -> PathBuf {
    state.join("identity")
}

fn key_path(state: &Path) -> PathBuf {
    identity_dir(state).join("age-key.txt")
}

fn info_path(state: &Path) -> PathBuf {
    identity_dir(state).join("device.json")
}

impl DeviceInfo {
    /// The public half of the identity of `state` (no secret is read).
    pub fn load(fs: &dyn Fs, state: &Path) -> Result<DeviceInfo> {
        let path = info_path(state);
        let bytes = fs.read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NoIdentity {
                    path: identity_dir(state),
                }
            } else {
                Error::io("read", &path, e)
            }
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Corrupt {
            path,
            reason: e.to_string(),
        })
    }
}

impl Identity {
    /// Creates a new identity under `state/identity/`. Refuses to replace an existing one
    /// (its models are encrypted to it).
    pub fn create(fs: &dyn Fs, state: &Path, id: &str) -> Result<Identity> {
        check_name("device id", id)?;
        let dir = identity_dir(state);
        if crate::fs::exists(&key_path(state)) {
            return Err(Error::IdentityExists { path: dir });
        }
        fs.create_dir_all(&dir)
            .map_err(|e| Error::io("create", &dir, e))?;
        restrict_dir(&dir)?;
        let key = age::x25519::Identity::generate();
        let info = DeviceInfo {
            format: DEVICE_FORMAT.into(),
            id: id.to_owned(),
            public_key: key.to_public().to_string(),
        };
        let secret = format!(
            "# tactician device {id}: the device's age secret key. Keep it on this device.\n{}\n",
            key.to_string().expose_secret()
        );
        let path = key_path(state);
        write_private(fs, &path, secret.as_bytes())?;
        let json = serde_json::to_vec_pretty(&info).map_err(|e| Error::Format(e.to_string()))?;
        let ipath = info_path(state);
        write_atomic(fs, &ipath, &json).map_err(|e| Error::io("write", &ipath, e))?;
        Ok(Identity { info, key })
    }

    /// Loads the identity of `state`.
    pub fn load(fs: &dyn Fs, state: &Path) -> Result<Identity> {
        let info = DeviceInfo::load(fs, state)?;
        let kpath = key_path(state);
        let text = fs.read(&kpath).map_err(|e| Error::io("read", &kpath, e))?;
        let text = String::from_utf8(text).map_err(|_| Error::Corrupt {
            path: kpath.clone(),
            reason: "not UTF-8".into(),
        })?;
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .ok_or_else(|| Error::Corrupt {
                path: kpath.clone(),
                reason: "no AGE-SECRET-KEY line".into(),
            })?;
        let key = age::x25519::Identity::from_str(line).map_err(|_| Error::Corrupt {
            path: kpath.clone(),
            reason: "the secret key does not parse".into(),
        })?;
        if key.to_public().to_string() != info.public_key {
            return Err(Error::Corrupt {
                path: info_path(state),
                reason: "the public key does not belong to the secret key".into(),
            });
        }
        Ok(Identity { info, key })
    }

    /// The device id.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// The public key (`age1...`).
    pub fn public_key(&self) -> &str {
        &self.info.public_key
    }

    /// The public half.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Decrypts bytes encrypted to this device.
    pub fn decrypt(&self, what: &str, ciphertext: &[u8]) -> Result<Vec<u8>> {
        age::decrypt(&self.key, ciphertext).map_err(|e| Error::Rejected {
            reason: format!("cannot decrypt the {what} with this device's key: {e}"),
        })
    }
}

/// Parses an age recipient (`age1...`), as `tactician devices add` and publishing need.
pub fn parse_recipient(text: &str) -> std::result::Result<age::x25519::Recipient, String> {
    age::x25519::Recipient::from_str(text.trim()).map_err(|e| e.to_string())
}

/// Writes a secret: mode 0600 from its creation, then synced and renamed into place.
fn write_private(fs: &dyn Fs, path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = crate::fs::temp_path(path);
    create_private(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    fs.write(&tmp, bytes)
        .map_err(|e| Error::io("write", &tmp, e))?;
    fs.sync_file(&tmp).map_err(|e| Error::io("sync", &tmp, e))?;
    fs.rename(&tmp, path)
        .map_err(|e| Error::io("rename", &tmp, e))?;
    crate::fs::sync_parent(fs, path).map_err(|e| Error::io("sync", path, e))
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map(drop)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<()> {
    std::fs::File::create(path).map(drop)
}

#[cfg(unix)]
fn restrict_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("set permissions of", dir, e))
}

#[cfg(not(unix))]
fn restrict_dir(_dir: &Path) -> Result<()> {
    Ok(())
}
