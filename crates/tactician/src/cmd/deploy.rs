//! The deployment commands: `keys`, `devices`, `publish`, `promote`, `registry`. Their flags
//! live here with them (docs/deploy.md describes the whole flow).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use serde::Serialize;
use tactician_export::Precision;
use tactician_publish::keys::RoleKeys;
use tactician_publish::{DeployDir, Expiry, InputPaths, Publication};
use tactician_registry::{Device, Registry, VersionRecord};
use tough::schema::RoleType;

/// The deployment folder flag shared by every deployment command.
#[derive(Debug, Args, Clone)]
pub struct DeployDirArg {
    /// The deployment folder: keys/, repository/ (the TUF repository) and registry.sqlite.
    #[arg(
        long,
        value_name = "DIR",
        env = "TACTICIAN_DEPLOY_DIR",
        default_value = "deploy"
    )]
    pub deploy_dir: PathBuf,
}

/// Metadata lifetimes.
#[derive(Debug, Args, Clone)]
pub struct ExpiryArgs {
    /// Days a new root stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    pub root_days: u32,
    /// Days new targets metadata stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    pub targets_days: u32,
    /// Days a new snapshot stays valid.
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    pub snapshot_days: u32,
    /// Hours a new timestamp stays valid: devices refuse a stale one, so re-sign it with
    /// `tactician publish --refresh` (from cron) well within this time.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub timestamp_hours: u32,
}

impl ExpiryArgs {
    fn expiry(&self) -> Expiry {
        Expiry {
            root_days: self.root_days,
            targets_days: self.targets_days,
            snapshot_days: self.snapshot_days,
            timestamp_hours: self.timestamp_hours,
        }
    }
}

/// `tactician keys`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create the repository's signing keys (Ed25519) and the TUF repository with its first
    /// root.
    ///
    /// Writes DIR/keys/<role>-<n>.pem (mode 0600, folder 0700; never printed or logged) and
    /// DIR/repository/metadata/root.json, the file every device receives once, out of band.
    /// The root keys sign only root metadata: move them offline after this command; publishing
    /// needs the targets, snapshot and timestamp keys, refreshing only the timestamp key.
    Init(KeysInitArgs),
    /// Replace a role's keys with new ones: a new root version, signed by the current root
    /// keys, lists the new keys; devices follow and refuse the old keys from then on (after a
    /// suspected compromise). Needs the root keys.
    Rotate(KeysRotateArgs),
}

/// Flags of `tactician keys init`.
#[derive(Debug, Args)]
pub struct KeysInitArgs {
    #[command(flatten)]
    dir: DeployDirArg,
    /// Root keys.
    #[arg(long, value_name = "N", default_value_t = 1)]
    root_keys: u32,
    /// Root signatures required.
    #[arg(long, value_name = "N", default_value_t = 1)]
    root_threshold: u32,
    /// Targets keys.
    #[arg(long, value_name = "N", default_value_t = 1)]
    targets_keys: u32,
    /// Targets signatures required.
    #[arg(long, value_name = "N", default_value_t = 1)]
    targets_threshold: u32,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Flags of `tactician keys rotate`.
#[derive(Debug, Args)]
pub struct KeysRotateArgs {
    #[command(flatten)]
    dir: DeployDirArg,
    /// The role whose keys are replaced: root, targets, snapshot or timestamp.
    #[arg(long, value_name = "ROLE")]
    role: String,
    /// New keys.
    #[arg(long, value_name = "N", default_value_t = 1)]
    keys: u32,
    /// Signatures required.
    #[arg(long, value_name = "N", default_value_t = 1)]
    threshold: u32,
    #[command(flatten)]
    expiry: ExpiryArgs,
}

/// `tactician devices`.
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Enrol a device: its id and the public key `tactician-device init` printed (age1...).
    /// Releases published to its group from then on are encrypted to it.
    Add {
        #[command(flatten)]
        dir: DeployDirArg,
        /// The device id.
        id: String,
        /// Its age public key (age1...).
        public_key: String,
        /// Its device group.
        #[arg(long, short, value_name = "GROUP", default_value = "default")]
        group: String,
    },
    /// List enrolled devices.
    List {
        #[command(flatten)]
        dir: DeployDirArg,
        /// Only this group.
        #[arg(long, short, value_name = "GROUP")]
        group: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a device: releases published from then on are no longer encrypted to it.
    Remove {
        #[command(flatten)]
        dir: DeployDirArg,
        /// The device id.
        id: String,
    },
}

/// Flags of `tactician publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    dir: DeployDirArg,
    /// The export folder (export.json and the .tflite files); its run folder's model/,
    /// prepared/ and eval.json give the validation set, metrics and lineage.
    #[arg(value_name = "EXPORT", required_unless_present = "refresh")]
    export: Option<PathBuf>,
    /// The release's version (semantic versioning, newer than the group's latest).
    #[arg(
        long = "version",
        id = "release_version",
        value_name = "V",
        required_unless_present = "refresh"
    )]
    version: Option<String>,
    /// The changelog entry.
    #[arg(long, value_name = "TEXT", default_value = "")]
    notes: String,
    /// The device group.
    #[arg(long, short, value_name = "GROUP", default_value = "default")]
    group: String,
    /// Point this alias of the group at the release (devices follow `production` by default).
    #[arg(long, value_name = "ALIAS")]
    alias: Option<String>,
    /// Which exported file: f32, dynamic or int8.
    #[arg(long, value_name = "P", default_value = "int8")]
    precision: String,
    /// The trained model folder (default: EXPORT/../model).
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// The prepared data (default: EXPORT/../prepared); its test split makes the validation
    /// set.
    #[arg(long, value_name = "PREPARED")]
    data: Option<PathBuf>,
    /// Validation rows published with the model.
    #[arg(long, value_name = "N", default_value_t = 512)]
    validation_rows: usize,
    /// The device's gate: the agreement measured here on the validation rows, less this.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.01)]
    gate_margin: f64,
    /// Re-sign the timestamp only (needs only the timestamp key): run it from cron well
    /// within --timestamp-hours, e.g. `0 */6 * * * tactician publish --refresh`.
    #[arg(long, conflicts_with_all = ["export", "release_version"])]
    refresh: bool,
    #[command(flatten)]
    expiry: ExpiryArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Flags of `tactician promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    dir: DeployDirArg,
    /// The published version.
    #[arg(value_name = "V", id = "release")]
    version: String,
    /// The alias to point at it.
    #[arg(long, value_name = "ALIAS", default_value = "production")]
    alias: String,
    /// The device group.
    #[arg(long, short, value_name = "GROUP", default_value = "default")]
    group: String,
    #[command(flatten)]
    expiry: ExpiryArgs,
}

/// `tactician registry`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Published versions with their headline figures and aliases.
    List {
        #[command(flatten)]
        dir: DeployDirArg,
        /// Only this group.
        #[arg(long, short, value_name = "GROUP")]
        group: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One version: metrics, lineage, notes, deployments.
    Show {
        #[command(flatten)]
        dir: DeployDirArg,
        /// The version.
        #[arg(value_name = "V", id = "release")]
        version: String,
        /// The device group.
        #[arg(long, short, value_name = "GROUP", default_value = "default")]
        group: String,
    },
    /// What changed between two versions: metrics, data, settings, notes.
    Diff {
        #[command(flatten)]
        dir: DeployDirArg,
        /// The older version.
        a: String,
        /// The newer version.
        b: String,
        /// The device group.
        #[arg(long, short, value_name = "GROUP", default_value = "default")]
        group: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import a device's history (its state folder or history.json) as deployment records.
    Import {
        #[command(flatten)]
        dir: DeployDirArg,
        /// The device's state folder or history.json.
        history: PathBuf,
        /// The device id (default: from the state folder's identity).
        #[arg(long, value_name = "ID")]
        device: Option<String>,
    },
}

/// Flags of `tactician push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    dir: DeployDirArg,
    /// Where: ssh://[user@]host[:port]/absolute/folder, the folder the device's agent.toml
    /// names as its repository (e.g. ssh://pi@raspberrypi.local/srv/tactician).
    #[arg(long, value_name = "URL")]
    to: String,
    /// The private key to log in with (ssh -i).
    #[arg(long, short = 'i', value_name = "FILE")]
    identity: Option<PathBuf>,
    /// An ssh option, as ssh -o takes it (repeat for more), e.g.
    /// `-o StrictHostKeyChecking=accept-new`.
    #[arg(long = "ssh-option", short = 'o', value_name = "OPTION")]
    ssh_options: Vec<String>,
    /// Limit the transfer to this many KiB per second.
    #[arg(long, value_name = "KIB")]
    bwlimit: Option<u32>,
    /// Afterwards, remove files on the device that the repository no longer has.
    #[arg(long)]
    delete: bool,
    /// The device's state folder, where its history is read from.
    #[arg(long, value_name = "PATH", default_value = "/var/lib/tactician")]
    device_state: String,
    /// Read the history with `sudo -n` (the agent's systemd service keeps its state private).
    #[arg(long)]
    sudo: bool,
    /// The device's id (default: read from its state folder).
    #[arg(long, value_name = "ID")]
    device: Option<String>,
    /// Do not read the device's history.
    #[arg(long)]
    no_history: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// What `tactician push` did.
#[derive(Debug, Serialize)]
struct PushReport {
    #[serde(flatten)]
    pushed: tactician_publish::push::Pushed,
    /// The history import: records added and events read, or why it was not read.
    history: Option<tactician_publish::push::Imported>,
    history_error: Option<String>,
    device: Option<String>,
}

/// Runs `tactician push`.
pub fn push(a: PushArgs) -> anyhow::Result<()> {
    use tactician_publish::push::{
        SshDestination, SshOptions, import_history, read_remote, remote_history_path,
        remote_identity_path,
    };
    let deploy = DeployDir::new(&a.dir.deploy_dir);
    let to = SshDestination::parse(&a.to)?;
    let opts = SshOptions {
        identity: a.identity,
        options: a.ssh_options,
        bwlimit_kib: a.bwlimit,
        delete: a.delete,
        ..SshOptions::default()
    };
    let pushed = tactician_publish::push::push(&deploy.repository(), &to, &opts)?;
    let mut report = PushReport {
        pushed,
        history: None,
        history_error: None,
        device: a.device.clone(),
    };
    if !a.no_history {
        let pulled = (|| -> anyhow::Result<Option<tactician_publish::push::Imported>> {
            let device = match &a.device {
                Some(d) => d.clone(),
                None => {
                    let path = remote_identity_path(&a.device_state);
                    let bytes = read_remote(&to, &opts, &path, a.sudo)?.with_context(|| {
                        format!("no device identity at {path}: pass --device-state or --device")
                    })?;
                    serde_json::from_slice::<tactician_agent::identity::DeviceInfo>(&bytes)
                        .with_context(|| format!("{path} is not a device identity"))?
                        .id
                }
            };
            report.device = Some(device.clone());
            let path = remote_history_path(&a.device_state);
            match read_remote(&to, &opts, &path, a.sudo)? {
                None => Ok(None),
                Some(bytes) => Ok(Some(import_history(&registry(&deploy)?, &device, &bytes)?)),
            }
        })();
        match pulled {
            Ok(h) => report.history = h,
            Err(e) => report.history_error = Some(format!("{e:#}")),
        }
    }
    if a.json {
        return super::print_json(&report);
    }
    let mut text = format!(
        "pushed {} files ({} bytes) to {} in {:.1} s\n",
        report.pushed.files, report.pushed.bytes, report.pushed.to, report.pushed.seconds
    );
    match (&report.history, &report.history_error) {
        (Some(h), _) => text.push_str(&format!(
            "device {}: {} new deployment records ({} events in its history)\n",
            report.device.as_deref().unwrap_or("?"),
            h.added,
            h.events
        )),
        (None, Some(e)) => text.push_str(&format!(
            "warning: the device's history was not read: {e}\n"
        )),
        (None, None) if !a.no_history => text.push_str("the device has no history yet\n"),
        _ => {}
    }
    super::print(&text)
}

fn role(name: &str) -> anyhow::Result<RoleType> {
    Ok(match name {
        "root" => RoleType::Root,
        "targets" => RoleType::Targets,
        "snapshot" => RoleType::Snapshot,
        "timestamp" => RoleType::Timestamp,
        other => bail!("unknown role {other:?}: expected root, targets, snapshot or timestamp"),
    })
}

fn registry(deploy: &DeployDir) -> anyhow::Result<Registry> {
    std::fs::create_dir_all(&deploy.root)
        .with_context(|| format!("cannot create {}", deploy.root.display()))?;
    Ok(Registry::open(&deploy.registry())?)
}

/// Runs `tactician keys`.
pub fn keys(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Init(a) => {
            let deploy = DeployDir::new(&a.dir.deploy_dir);
            let report = tactician_publish::init(
                &deploy,
                [
                    (RoleType::Root, RoleKeys::new(a.root_keys, a.root_threshold)),
                    (
                        RoleType::Targets,
                        RoleKeys::new(a.targets_keys, a.targets_threshold),
                    ),
                    (RoleType::Snapshot, RoleKeys::new(1, 1)),
                    (RoleType::Timestamp, RoleKeys::new(1, 1)),
                ],
                a.expiry.expiry(),
                Timestamp::now(),
            )?;
            registry(&deploy)?;
            if a.json {
                return super::print_json(&report);
            }
            let mut text =
                String::from("## keys\n\n| role | threshold | key ids |\n|---|---:|---|\n");
            for r in &report.roles {
                text.push_str(&format!(
                    "| {} | {} of {} | {} |\n",
                    r.role,
                    r.threshold,
                    r.key_ids.len(),
                    r.key_ids.join(", ")
                ));
            }
            text.push_str(&format!(
                "\nKeys: {} (keep the root keys offline). Give devices {} once, out of band.\n",
                deploy.keys().display(),
                report.root_json.display()
            ));
            super::print(&text)
        }
        KeysCommand::Rotate(a) => {
            let deploy = DeployDir::new(&a.dir.deploy_dir);
            let role = role(&a.role)?;
            let keys_dir = deploy.keys();
            let existing = tactician_publish::keys::load_role(&keys_dir, role)?;
            let first = existing.len() as u32 + 1;
            let mut new = Vec::new();
            for n in first..first + a.keys {
                let path = tactician_publish::keys::key_path(&keys_dir, role, n);
                new.push(tactician_publish::keys::generate(&path)?);
            }
            let version = tactician_publish::rotate(
                &deploy,
                role,
                &new,
                a.threshold,
                a.expiry.expiry(),
                Timestamp::now(),
            )?;
            super::print(&format!(
                "root version {version}: {} keys {} ({} required); the old ones are revoked\n",
                a.role,
                new.iter()
                    .map(|k| tactician_publish::keys::hex(&k.key_id))
                    .collect::<Vec<_>>()
                    .join(", "),
                a.threshold
            ))
        }
    }
}

/// Runs `tactician devices`.
pub fn devices(cmd: DevicesCommand) -> anyhow::Result<()> {
    match cmd {
        DevicesCommand::Add {
            dir,
            id,
            public_key,
            group,
        } => {
            tactician_agent::identity::parse_recipient(&public_key).map_err(|e| {
                anyhow::anyhow!(
                    "{public_key:?} is not a device key (age1..., as `tactician-device init` \
                     prints it): {e}"
                )
            })?;
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            reg.add_device(&Device {
                id: id.clone(),
                public_key: public_key.trim().to_owned(),
                group: group.clone(),
                added: Timestamp::now().to_string(),
            })?;
            super::print(&format!(
                "enrolled {id} in group {group}: releases published from now on are encrypted \
                 to it\n"
            ))
        }
        DevicesCommand::List { dir, group, json } => {
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            let list = reg.devices(group.as_deref())?;
            if json {
                return super::print_json(&list);
            }
            let mut text =
                String::from("| device | group | public key | enrolled |\n|---|---|---|---|\n");
            for d in &list {
                text.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    d.id, d.group, d.public_key, d.added
                ));
            }
            super::print(&text)
        }
        DevicesCommand::Remove { dir, id } => {
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            reg.remove_device(&id)?;
            super::print(&format!("removed {id}\n"))
        }
    }
}

/// What `tactician publish` prints with `--json`.
#[derive(Debug, Serialize)]
pub struct PublishReport {
    published: tactician_publish::Published,
    measured_top1: f64,
}

/// Runs `tactician publish`.
pub fn publish(a: PublishArgs) -> anyhow::Result<()> {
    let deploy = DeployDir::new(&a.dir.deploy_dir);
    if a.refresh {
        let r = tactician_publish::refresh(&deploy, a.expiry.expiry(), Timestamp::now())?;
        return if a.json {
            super::print_json(&r)
        } else {
            super::print(&format!(
                "timestamp version {} signed, valid until {}\n",
                r.timestamp_version, r.expires
            ))
        };
    }
    let (Some(export), Some(version)) = (a.export.as_ref(), a.version.as_ref()) else {
        bail!("give the export folder and --version (or --refresh)");
    };
    let report = publish_export(
        &deploy,
        &PublishRequest {
            export,
            model: a.model.as_deref(),
            data: a.data.as_deref(),
            version,
            notes: &a.notes,
            group: &a.group,
            alias: a.alias.as_deref(),
            precision: &a.precision,
            validation_rows: a.validation_rows,
            gate_margin: a.gate_margin,
        },
        a.expiry.expiry(),
    )?;
    if a.json {
        return super::print_json(&report);
    }
    let p = &report.published;
    super::print(&format!(
        "## publish\n\nversion {} for group {} ({} model, {} bytes), encrypted to {} device(s); \
         validation: {} rows, device gate {:.2}% (measured {:.2}%)\ntargets {}, snapshot {}, \
         timestamp {}; aliases: {}\n",
        p.release.version,
        p.release.group,
        p.release.precision,
        p.release.model_bytes,
        p.recipients,
        p.release.validation.rows,
        100.0 * p.release.validation.min_top1,
        100.0 * report.measured_top1,
        p.targets_version,
        p.snapshot_version,
        p.timestamp_version,
        if p.aliases.is_empty() {
            "none".to_string()
        } else {
            p.aliases
                .iter()
                .map(|(k, v)| format!("{k} → {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ))
}

/// A publish request (the pipeline makes one too).
pub struct PublishRequest<'a> {
    /// The export folder.
    pub export: &'a Path,
    /// The model folder, if not beside the export.
    pub model: Option<&'a Path>,
    /// The prepared data, if not beside the export.
    pub data: Option<&'a Path>,
    /// The version.
    pub version: &'a str,
    /// Notes.
    pub notes: &'a str,
    /// Group.
    pub group: &'a str,
    /// Alias to set.
    pub alias: Option<&'a str>,
    /// Precision name.
    pub precision: &'a str,
    /// Validation rows.
    pub validation_rows: usize,
    /// Gate margin.
    pub gate_margin: f64,
}

/// Publishes an export folder and records the version in the registry.
pub fn publish_export(
    deploy: &DeployDir,
    r: &PublishRequest<'_>,
    expiry: Expiry,
) -> anyhow::Result<PublishReport> {
    let precision = Precision::ALL
        .into_iter()
        .find(|p| p.name() == r.precision)
        .with_context(|| format!("unknown precision {:?}: f32, dynamic or int8", r.precision))?;
    let mut paths = InputPaths::for_export(r.export);
    if let Some(m) = r.model {
        paths.model = m.to_path_buf();
    }
    if let Some(d) = r.data {
        paths.prepared = d.to_path_buf();
    }
    let inputs =
        tactician_publish::release_inputs(&paths, precision, r.validation_rows, r.gate_margin)
            .with_context(|| format!("cannot read the release in {}", r.export.display()))?;
    let reg = registry(deploy)?;
    let recipients: Vec<String> = reg
        .devices(Some(r.group))?
        .into_iter()
        .map(|d| d.public_key)
        .collect();
    let published = tactician_publish::publish(
        deploy,
        &Publication {
            group: r.group,
            version: r.version,
            notes: r.notes,
            alias: r.alias,
            model: &inputs.model,
            precision: &inputs.precision,
            encoder_hash: &inputs.encoder_hash,
            validation: &inputs.validation,
            min_top1: inputs.min_top1,
            min_runtime: tactician_agent::release::RUNTIME_VERSION,
            metrics: inputs.metrics.clone(),
            lineage: inputs.lineage.clone(),
            recipients: &recipients,
        },
        expiry,
        Timestamp::now(),
    )?;
    reg.record_version(&VersionRecord {
        group: r.group.into(),
        version: r.version.into(),
        published: published.release.published.clone(),
        encoder_hash: inputs.encoder_hash.clone(),
        min_runtime: published.release.min_runtime.clone(),
        model_sha256: published.release.model_sha256.clone(),
        precision: inputs.precision.clone(),
        targets: published.targets.clone(),
        metrics: inputs.metrics,
        lineage: inputs.lineage,
        notes: r.notes.into(),
    })?;
    if let Some(alias) = r.alias {
        reg.set_alias(r.group, alias, r.version)?;
    }
    Ok(PublishReport {
        published,
        measured_top1: inputs.measured_top1,
    })
}

/// Runs `tactician promote`.
pub fn promote(a: PromoteArgs) -> anyhow::Result<()> {
    let deploy = DeployDir::new(&a.dir.deploy_dir);
    let before = tactician_publish::promote(
        &deploy,
        &a.group,
        &a.alias,
        &a.version,
        a.expiry.expiry(),
        Timestamp::now(),
    )?;
    let reg = registry(&deploy)?;
    if reg.version(&a.group, &a.version)?.is_some() {
        reg.set_alias(&a.group, &a.alias, &a.version)?;
    }
    super::print(&format!(
        "{} of group {}: {} → {}\n",
        a.alias,
        a.group,
        before.as_deref().unwrap_or("none"),
        a.version
    ))
}

/// Runs `tactician registry`.
pub fn registry_cmd(cmd: RegistryCommand) -> anyhow::Result<()> {
    match cmd {
        RegistryCommand::List { dir, group, json } => {
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            let versions = reg.versions(group.as_deref())?;
            if json {
                return super::print_json(&versions);
            }
            let mut text = String::from(
                "| group | version | published | precision | top-1 agreement | aliases | notes |\n\
                 |---|---|---|---|---:|---|---|\n",
            );
            for v in &versions {
                let aliases: Vec<String> = reg
                    .aliases(&v.group)?
                    .into_iter()
                    .filter(|(_, ver)| *ver == v.version)
                    .map(|(a, _)| a)
                    .collect();
                let top1 = v
                    .metrics
                    .pointer("/verify/top1_agreement")
                    .and_then(serde_json::Value::as_f64)
                    .map_or("-".into(), |t| format!("{:.2}%", 100.0 * t));
                text.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    v.group,
                    v.version,
                    v.published,
                    v.precision,
                    top1,
                    aliases.join(", "),
                    v.notes.replace('\n', " ")
                ));
            }
            super::print(&text)
        }
        RegistryCommand::Show {
            dir,
            version,
            group,
        } => {
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            let v = reg
                .version(&group, &version)?
                .with_context(|| format!("version {version} of group {group} is not published"))?;
            let deployments = reg.deployments(None, Some(&version))?;
            super::print_json(&serde_json::json!({
                "version": v,
                "deployments": deployments,
            }))
        }
        RegistryCommand::Diff {
            dir,
            a,
            b,
            group,
            json,
        } => {
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            let get = |v: &str| -> anyhow::Result<VersionRecord> {
                reg.version(&group, v)?
                    .with_context(|| format!("version {v} of group {group} is not published"))
            };
            let changes = tactician_registry::diff(&get(&a)?, &get(&b)?);
            if json {
                return super::print_json(&changes);
            }
            let mut text = format!("## {a} → {b}\n\n| field | {a} | {b} |\n|---|---|---|\n");
            let show = |v: &Option<serde_json::Value>| {
                v.as_ref().map_or("-".to_string(), |v| v.to_string())
            };
            for c in &changes {
                text.push_str(&format!(
                    "| {} | {} | {} |\n",
                    c.path,
                    show(&c.before),
                    show(&c.after)
                ));
            }
            super::print(&text)
        }
        RegistryCommand::Import {
            dir,
            history,
            device,
        } => {
            let reg = registry(&DeployDir::new(&dir.deploy_dir))?;
            let (n, total) = import_history(&reg, &history, device.as_deref())?;
            super::print(&format!(
                "{n} new deployment records ({total} in the history)\n"
            ))
        }
    }
}

/// Imports a device's history into the registry: (new records, events read).
pub fn import_history(
    reg: &Registry,
    path: &Path,
    device: Option<&str>,
) -> anyhow::Result<(usize, usize)> {
    let (history_path, state) = if path.is_dir() {
        (path.join("history.json"), Some(path))
    } else {
        (path.to_path_buf(), None)
    };
    let device = match (device, state) {
        (Some(d), _) => d.to_owned(),
        (None, Some(state)) => {
            tactician_agent::identity::DeviceInfo::load(&tactician_agent::fs::OsFs, state)
                .context("pass --device ID")?
                .id
        }
        (None, None) => bail!("pass --device ID with a history file"),
    };
    let bytes = std::fs::read(&history_path)
        .with_context(|| format!("cannot read {}", history_path.display()))?;
    let imported = tactician_publish::push::import_history(reg, &device, &bytes)
        .with_context(|| format!("cannot import {}", history_path.display()))?;
    Ok((imported.added, imported.events))
}
