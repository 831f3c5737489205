//! A new device's state folder in one step: its identity, its settings and, when given, the
//! repository's root of trust. `tactician-device init` and the pipeline's local device use it.

use std::path::Path;

use crate::config::AgentConfig;
use crate::error::{Error, Result};
use crate::fs::{Fs, write_atomic};
use crate::identity::Identity;
use crate::tuf::trusted_root;

/// Creates the state folder `state` of device `id` following `config`, with `root` (the
/// repository's `root.json`, received out of band) as its trust anchor when given. Refuses a
/// folder that already holds an identity.
pub fn provision(
    fs: &dyn Fs,
    state: &Path,
    id: &str,
    config: &AgentConfig,
    root: Option<&[u8]>,
) -> Result<Identity> {
    config.check().map_err(|reason| Error::Config {
        path: AgentConfig::path(state),
        reason,
    })?;
    if let Some(bytes) = root {
        serde_json::from_slice::<serde_json::Value>(bytes).map_err(|e| Error::Repository {
            reason: format!("the root given is not TUF metadata (JSON): {e}"),
        })?;
    }
    fs.create_dir_all(state)
        .map_err(|e| Error::io("create", state, e))?;
    let identity = Identity::create(fs, state, id)?;
    config.save(fs, state)?;
    let path = trusted_root(state);
    if let Some(dir) = path.parent() {
        fs.create_dir_all(dir)
            .map_err(|e| Error::io("create", dir, e))?;
    }
    if let Some(bytes) = root {
        write_atomic(fs, &path, bytes).map_err(|e| Error::io("write", &path, e))?;
    }
    Ok(identity)
}
