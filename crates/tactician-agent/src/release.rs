//! What a published model looks like in the TUF repository, defined once for the publisher
//! (workstation) and the agent (device).
//!
//! Per device group `G` the repository holds these targets:
//!
//! | target | content | custom metadata |
//! |---|---|---|
//! | `G~channels.json` | [`Channels`]: alias → version (plain JSON) | `{"kind": "channels", "group": G}` |
//! | `G~V~model.tflite.age` | the `.tflite`, encrypted with age to every device of `G` | `{"kind": "model", "release": `[`Release`]`}` |
//! | `G~V~validation.bin.age` | a [`crate::ValidationSet`], encrypted likewise | `{"kind": "validation", "group": G, "version": V}` |
//!
//! Target names are flat: `~` appears in no group name or version, so a name has one reading,
//! and TUF clients agree on where a flat target lives under consistent snapshots
//! (`targets/<sha256>.<name>`; clients differ on where to put the hash in a name with folders).
//!
//! TUF signs the lengths and hashes of every target (of the encrypted bytes); the release also
//! carries the SHA-256 of the decrypted files, checked after decryption.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The `format` of a [`Release`].
pub const RELEASE_FORMAT: &str = "tactician-release/1";
/// The `format` of a [`Channels`] file.
pub const CHANNELS_FORMAT: &str = "tactician-channels/1";
/// The version of the runtime in this build: a release needing a newer one is refused.
pub const RUNTIME_VERSION: &str = tactician_runtime::VERSION;

/// A published model version: the custom metadata of its model target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// [`RELEASE_FORMAT`].
    pub format: String,
    /// The device group the release is for (and encrypted to).
    pub group: String,
    /// The release's version (semantic versioning: `1.4.0`).
    pub version: String,
    /// The hash of the encoder the model reads its features with.
    pub encoder_hash: String,
    /// The oldest device runtime that runs the model.
    pub min_runtime: String,
    /// `f32` or `int8`.
    pub precision: String,
    /// SHA-256 (hex) of the decrypted `.tflite`.
    pub model_sha256: String,
    /// Length of the decrypted `.tflite`.
    pub model_bytes: u64,
    /// The validation set published with the model.
    pub validation: ValidationRef,
    /// What the workstation measured (verification, evaluation), as it reported it, its
    /// floating-point numbers written as decimal strings ([`canonical_json`]).
    #[serde(default)]
    pub metrics: serde_json::Value,
    /// Where the model comes from: dataset, settings, trained model.
    #[serde(default)]
    pub lineage: serde_json::Value,
    /// The changelog entry.
    #[serde(default)]
    pub notes: String,
    /// When it was published (RFC 3339, UTC).
    pub published: String,
}

/// The validation set of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationRef {
    /// SHA-256 (hex) of the decrypted validation set.
    pub sha256: String,
    /// Length of the decrypted validation set.
    pub bytes: u64,
    /// Its rows.
    pub rows: u64,
    /// The lowest top-1 agreement with the set's reference actions the device accepts
    /// (written as a decimal string: TUF's canonical JSON has no floating-point numbers).
    #[serde(with = "decimal")]
    pub min_top1: f64,
}

/// The aliases of one device group: which version each names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    /// [`CHANNELS_FORMAT`].
    pub format: String,
    /// The group.
    pub group: String,
    /// Alias → version, e.g. `production` → `1.4.0`.
    pub aliases: std::collections::BTreeMap<String, String>,
}

impl Channels {
    /// Reads a group's channels file: refused unless it parses, has this format and names
    /// `group`.
    pub fn parse(bytes: &[u8], group: &str) -> crate::Result<Channels> {
        let channels: Channels = serde_json::from_slice(bytes).map_err(|e| Error::Rejected {
            reason: format!("the group's channels file does not parse: {e}"),
        })?;
        if channels.format != CHANNELS_FORMAT || channels.group != group {
            return Err(Error::Rejected {
                reason: format!(
                    "the channels file is for group {:?} (format {:?}), this device is in {group:?}",
                    channels.group, channels.format
                ),
            });
        }
        Ok(channels)
    }
}

impl Release {
    /// The release must be the one its target name says: same group and version, known format.
    pub fn check(&self, group: &str, version: &str) -> crate::Result<()> {
        if self.format != RELEASE_FORMAT {
            return Err(Error::Rejected {
                reason: format!(
                    "release format {:?}, this agent reads {RELEASE_FORMAT:?}",
                    self.format
                ),
            });
        }
        if self.group != group {
            return Err(Error::Rejected {
                reason: format!(
                    "version {version} is published for group {:?}, this device is in {group:?}",
                    self.group
                ),
            });
        }
        if self.version != version {
            return Err(Error::Rejected {
                reason: format!(
                    "the release under {version} says it is version {}",
                    self.version
                ),
            });
        }
        Ok(())
    }
}

/// The target name of a group's channels file.
pub fn channels_target(group: &str) -> String {
    format!("{group}~channels.json")
}

/// The target name of a release's encrypted model.
pub fn model_target(group: &str, version: &str) -> String {
    format!("{group}~{version}~model.tflite.age")
}

/// The target name of a release's encrypted validation set.
pub fn validation_target(group: &str, version: &str) -> String {
    format!("{group}~{version}~validation.bin.age")
}

/// Checks a device id, group or alias name: 1 to 64 of `A-Z a-z 0-9 . _ -`, not starting with
/// `.` or `-`. Such a name is safe as a path component and in a target name.
pub fn check_name(what: &'static str, value: &str) -> Result<(), NameError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && !value.starts_with(['.', '-'])
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(NameError {
            what,
            value: value.to_owned(),
        })
    }
}

/// A name [`check_name`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid {what} {value:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
)]
pub struct NameError {
    /// What the name names (`"group"`, `"alias"`, `"device id"`).
    pub what: &'static str,
    /// The refused name.
    pub value: String,
}

/// Parses a release version: semantic versioning (`MAJOR.MINOR.PATCH`, optional pre-release),
/// without build metadata (it does not order).
pub fn parse_version(version: &str) -> Result<semver::Version, VersionError> {
    let v = semver::Version::parse(version).map_err(|e| VersionError {
        value: version.to_owned(),
        reason: e.to_string(),
    })?;
    if !v.build.is_empty() {
        return Err(VersionError {
            value: version.to_owned(),
            reason: "build metadata (+...) does not order versions; leave it out".into(),
        });
    }
    Ok(v)
}

/// A version [`parse_version`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version {value:?} (expected semantic versioning such as 1.4.0): {reason}")]
pub struct VersionError {
    /// The refused version.
    pub value: String,
    /// Why.
    pub reason: String,
}

/// Whether `version` is newer than `than` (both valid versions; an invalid one is never newer).
pub fn is_newer(version: &str, than: &str) -> bool {
    match (parse_version(version), parse_version(than)) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// `value` with every floating-point number written as a decimal string (the shortest that
/// reads back as the same `f64`), as TUF's canonical JSON allows no floating-point numbers.
pub fn canonical_json(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => {
            Value::String(n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string()))
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), canonical_json(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A float as a decimal string, for canonical JSON.
mod decimal {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        let v: f64 = text
            .parse()
            .map_err(|_| D::Error::custom(format!("{text:?} is not a decimal number")))?;
        if v.is_finite() {
            Ok(v)
        } else {
            Err(D::Error::custom("the number must be finite"))
        }
    }
}
