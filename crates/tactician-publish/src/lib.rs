//! Tactician's publisher, on the workstation: the TUF repository's keys, publishing models
//! encrypted per device group, aliases, the timestamp refresh, and key rotation.
//!
//! A deployment folder ([`DeployDir`]) holds `keys/` (Ed25519, mode 0600), `repository/` (the
//! TUF repository: static files for a folder, an HTTP server or an object store) and
//! `registry.sqlite` (versions, devices, aliases, deployments: see `tactician-registry`).
//! What a release is in the repository is defined once, in `tactician_agent::release`, for
//! this publisher and the device agent.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod inputs;
pub mod keys;
mod publish;
pub mod push;
pub mod repo;

pub use error::{Error, Result};
pub use inputs::{InputPaths, ReleaseInputs, release_inputs};
pub use publish::{
    DeployDir, Expiry, KeysReport, Publication, Published, Refreshed, RoleReport, channels, init,
    promote, publish, refresh, role_signers, rotate, versions,
};
