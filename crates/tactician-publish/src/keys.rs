//! The repository's signing keys: Ed25519, one PEM file (PKCS#8) per key under `keys/`,
//! named `<role>-<n>.pem`, written with mode 0600 in a 0700 folder and never printed or
//! logged (only their key ids are).
//!
//! The root keys sign only `root.json` (creation and rotation); publishing needs the targets,
//! snapshot and timestamp keys, and refreshing the timestamp needs only the timestamp key. So
//! the root keys can live offline (moved off the machine after `keys init`, brought back for
//! a rotation).

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;
use tough::schema::RoleType;
use tough::schema::decoded::{Decoded, Hex};
use tough::sign::Sign;

use crate::error::{Error, Result};

/// The four TUF roles, in the order keys are listed.
pub const ROLES: [RoleType; 4] = [
    RoleType::Root,
    RoleType::Targets,
    RoleType::Snapshot,
    RoleType::Timestamp,
];

/// A role's name as in file names and metadata.
pub fn role_name(role: RoleType) -> &'static str {
    match role {
        RoleType::Root => "root",
        RoleType::Targets => "targets",
        RoleType::Snapshot => "snapshot",
        RoleType::Timestamp => "timestamp",
        RoleType::DelegatedTargets => "delegated",
    }
}

/// How many keys a role has and how many must sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RoleKeys {
    /// Keys.
    pub keys: u32,
    /// Signatures required.
    pub threshold: u32,
}

impl RoleKeys {
    /// `threshold` of `keys`.
    pub fn new(keys: u32, threshold: u32) -> RoleKeys {
        RoleKeys { keys, threshold }
    }
}

/// A signing key loaded from its file.
pub struct SigningKey {
    /// Its file.
    pub path: PathBuf,
    pair: Ed25519KeyPair,
    der: Vec<u8>,
    /// Its TUF key id.
    pub key_id: Decoded<Hex>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.debug_struct("SigningKey")
            .field("path", &self.path)
            .field("key_id", &hex(&self.key_id))
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// The public key as TUF describes it.
    pub fn tuf_key(&self) -> tough::schema::key::Key {
        self.pair.tuf_key()
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        self.pair.sign(msg).as_ref().to_vec()
    }

    /// The PKCS#8 document (secret).
    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.der
    }

    /// The raw public key.
    pub fn public(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The file of key `n` (1-based) of a role.
pub fn key_path(keys_dir: &Path, role: RoleType, n: u32) -> PathBuf {
    keys_dir.join(format!("{}-{n}.pem", role_name(role)))
}

/// Generates a key and writes it (mode 0600, never replacing a file).
pub fn generate(path: &Path) -> Result<SigningKey> {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let der = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| Error::Crypto {
        what: "generate an Ed25519 key".into(),
    })?;
    let pem = pem::encode(&pem::Pem::new("PRIVATE KEY", der.as_ref().to_vec()));
    write_private_new(path, pem.as_bytes())?;
    load(path)
}

/// Loads a key file: a PEM `PRIVATE KEY` holding an Ed25519 PKCS#8 key. Refuses a file other
/// users can read.
pub fn load(path: &Path) -> Result<SigningKey> {
    check_private(path)?;
    let text = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let bad = |reason: &str| Error::Key {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    let pem = pem::parse(&text).map_err(|_| bad("not a PEM file"))?;
    if pem.tag() != "PRIVATE KEY" {
        return Err(bad("not a PKCS#8 private key"));
    }
    let pair = Ed25519KeyPair::from_pkcs8(pem.contents())
        .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(pem.contents()))
        .map_err(|_| bad("not an Ed25519 key"))?;
    let key_id = pair.tuf_key().key_id().map_err(|e| Error::Crypto {
        what: format!("compute the key id of {}: {e}", path.display()),
    })?;
    Ok(SigningKey {
        path: path.to_path_buf(),
        pair,
        der: pem.contents().to_vec(),
        key_id,
    })
}

/// Every key file of a role present in `keys_dir`, in number order.
pub fn load_role(keys_dir: &Path, role: RoleType) -> Result<Vec<SigningKey>> {
    let mut keys = Vec::new();
    let prefix = format!("{}-", role_name(role));
    let mut numbered: Vec<(u32, PathBuf)> = match std::fs::read_dir(keys_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name
                    .strip_prefix(&prefix)?
                    .strip_suffix(".pem")?
                    .parse()
                    .ok()?;
                Some((n, e.path()))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("list", keys_dir, e)),
    };
    numbered.sort();
    for (_, path) in numbered {
        keys.push(load(&path)?);
    }
    Ok(keys)
}

#[cfg(unix)]
fn write_private_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", path, e))?;
    tactician_os::sync_parent(path).map_err(Error::Os)
}

#[cfg(not(unix))]
fn write_private_new(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::io("write", path, e))
}

/// Creates a folder readable by its owner only.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::io("set permissions of", dir, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::Key {
            path: path.to_path_buf(),
            reason: format!(
                "other users can read it (mode {mode:o}): run `chmod 600 {}`",
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}
