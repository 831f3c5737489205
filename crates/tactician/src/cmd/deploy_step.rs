//! The pipeline's deploy step: publishes the run's int8 model through a TUF repository in the
//! run folder (`<run>/deploy`, keys made on first use) to a local device (`<run>/device`,
//! group `local`), whose agent then updates through the full flow (verify, download, decrypt,
//! validate, activate). A model already published is not published again.

use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::Timestamp;
use serde::Serialize;
use tactician_agent::fs::OsFs;
use tactician_agent::{Agent, AgentConfig, Outcome};
use tactician_export::Precision;
use tactician_publish::keys::RoleKeys;
use tactician_publish::{DeployDir, Expiry};
use tactician_registry::{Device, Registry};
use tough::schema::RoleType;

/// The local device's group and id.
const GROUP: &str = "local";
const DEVICE: &str = "local";

/// What the deploy step did.
#[derive(Debug, Serialize)]
pub struct DeployStep {
    /// `published` or `up to date`.
    pub status: &'static str,
    /// The version published (or already there).
    pub version: String,
    /// The deployment folder (keys, repository, registry).
    pub deploy_dir: PathBuf,
    /// The local device's state folder.
    pub device: PathBuf,
    /// What the device's agent did.
    pub outcome: Outcome,
    /// Deployment records imported into the registry from the device's history.
    pub imported: usize,
}

impl DeployStep {
    /// The step as text.
    pub fn to_markdown(&self) -> String {
        let outcome = match &self.outcome {
            Outcome::Activated {
                version, report, ..
            } => format!(
                "activated {version}: top-1 {:.2}% on {} validation rows, decision p99 {:.1} µs, \
                 {:.2} MiB{}",
                100.0 * report.top1,
                report.rows,
                report.latency_p99_us,
                report.memory_bytes as f64 / 1048576.0,
                report
                    .battles
                    .as_ref()
                    .map_or(String::new(), |b| format!("; {}", b.summary()))
            ),
            Outcome::UpToDate { version } => {
                format!("up to date ({})", version.as_deref().unwrap_or("none"))
            }
            other => format!("{other:?}"),
        };
        format!(
            "\n## deploy ({}): version {} → {}\n\ndevice {} ({}): {outcome}\n",
            self.status,
            self.version,
            self.deploy_dir.join("repository").display(),
            DEVICE,
            self.device.display()
        )
    }
}

/// Runs the deploy step on `export` (the run's export folder).
pub fn pipeline_step(run_dir: &Path, export: &Path) -> anyhow::Result<DeployStep> {
    let deploy = DeployDir::new(&run_dir.join("deploy"));
    let now = Timestamp::now();
    if !deploy.repository().metadata().exists() {
        let one = RoleKeys::new(1, 1);
        tactician_publish::init(
            &deploy,
            [
                (RoleType::Root, one),
                (RoleType::Targets, one),
                (RoleType::Snapshot, one),
                (RoleType::Timestamp, one),
            ],
            Expiry::default(),
            now,
        )
        .context("cannot create the run's TUF repository")?;
    }
    let reg = Registry::open(&deploy.registry())?;
    let state = run_dir.join("device");
    if !state.join("identity").exists() {
        let repo = std::fs::canonicalize(&deploy.repository().root)?;
        let root = std::fs::read(deploy.repository().metadata().join("root.json"))?;
        let config = AgentConfig::new(&repo.to_string_lossy(), GROUP);
        let identity = tactician_agent::provision(&OsFs, &state, DEVICE, &config, Some(&root))
            .with_context(|| format!("cannot create the local device in {}", state.display()))?;
        reg.add_device(&Device {
            id: DEVICE.into(),
            public_key: identity.public_key().into(),
            group: GROUP.into(),
            added: now.to_string(),
        })?;
    }

    // Publish unless this very model is the group's latest release.
    let model = std::fs::read(export.join(Precision::Int8.file_name()))
        .with_context(|| format!("cannot read the int8 model in {}", export.display()))?;
    let sha = tactician_agent::release::sha256_hex(&model);
    let latest = reg.versions(Some(GROUP))?.pop();
    let (status, version) = match latest {
        Some(l) if l.model_sha256 == sha => ("up to date", l.version),
        previous => {
            let version = match previous {
                None => "0.1.0".to_string(),
                Some(l) => {
                    let mut v = tactician_agent::release::parse_version(&l.version)?;
                    v.patch += 1;
                    v.to_string()
                }
            };
            super::deploy::publish_export(
                &deploy,
                &super::deploy::PublishRequest {
                    export,
                    model: None,
                    data: None,
                    version: &version,
                    notes: "published by tactician pipeline",
                    group: GROUP,
                    alias: Some("production"),
                    precision: "int8",
                    validation_rows: 512,
                    gate_margin: 0.01,
                },
                Expiry::default(),
            )?;
            ("published", version)
        }
    };

    let outcome = {
        let _lock = tactician_agent::lock::StateLock::acquire(&state)?;
        Agent::open(&OsFs, &state)?.update(Timestamp::now())?
    };
    let (imported, _) = super::deploy::import_history(&reg, &state, Some(DEVICE))?;
    Ok(DeployStep {
        status,
        version,
        deploy_dir: deploy.root,
        device: state,
        outcome,
        imported,
    })
}
