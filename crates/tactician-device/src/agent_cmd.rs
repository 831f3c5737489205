//! The agent's commands: `init`, `update`, `agent`, `activate`, `rollback`, `status`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use jiff::Timestamp;
use tactician_agent::fs::OsFs;
use tactician_agent::lock::StateLock;
use tactician_agent::{Agent, AgentConfig, Outcome};

/// The state folder flag every agent command takes.
#[derive(Debug, Args, Clone)]
pub struct StateArg {
    /// The agent's state folder: identity, settings (agent.toml), trusted TUF metadata,
    /// models, history.
    #[arg(
        long,
        value_name = "DIR",
        env = "TACTICIAN_DEVICE_STATE",
        default_value = "/var/lib/tactician"
    )]
    pub state: PathBuf,
}

/// Flags of `tactician-device init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    state: StateArg,
    /// The device id (as enrolled on the workstation).
    #[arg(long, value_name = "ID")]
    id: String,
    /// The repository: a folder, or an http(s):// URL (its metadata/ and targets/ below it).
    #[arg(long, value_name = "URL")]
    repository: String,
    /// The device group.
    #[arg(long, short, value_name = "GROUP", default_value = "default")]
    group: String,
    /// The alias the device follows.
    #[arg(long, value_name = "ALIAS", default_value = "production")]
    alias: String,
    /// The repository's root.json, received out of band (the trust anchor). Without it, copy
    /// the file to STATE/tuf/root.json before the first update.
    #[arg(long, value_name = "FILE")]
    root: Option<PathBuf>,
    /// The encoder the device's game uses (a model for another one is refused); default: the
    /// first installed model's.
    #[arg(long, value_name = "HASH")]
    encoder_hash: Option<String>,
}

/// Flags of `tactician-device activate`.
#[derive(Debug, Args)]
pub struct ActivateArgs {
    #[command(flatten)]
    state: StateArg,
    /// An installed version.
    version: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Flags of `tactician-device rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    state: StateArg,
    /// The installed version to go back to (default: the one active before the current).
    #[arg(long, value_name = "V")]
    to: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Flags of `tactician-device update`, `status`.
#[derive(Debug, Args)]
pub struct SimpleArgs {
    #[command(flatten)]
    state: StateArg,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Flags of `tactician-device agent`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    state: StateArg,
    /// Stop after this many polls (default: run until stopped).
    #[arg(long, value_name = "N")]
    polls: Option<u64>,
}

/// Runs `init`.
pub fn init(a: InitArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.state.state)
        .with_context(|| format!("cannot create {}", a.state.state.display()))?;
    // A local folder is kept as an absolute path: the agent may run from anywhere. It need
    // not exist yet: `tactician push` creates it.
    let repository = if a.repository.contains("://") {
        a.repository.clone()
    } else {
        let path = Path::new(&a.repository);
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .with_context(|| format!("cannot resolve the repository folder {}", a.repository))?
            .to_string_lossy()
            .into_owned()
    };
    let mut config = AgentConfig::new(&repository, &a.group);
    config.alias = a.alias.clone();
    config.encoder_hash = a.encoder_hash.clone();
    let root = match &a.root {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?)
        }
        None => None,
    };
    let identity =
        tactician_agent::provision(&OsFs, &a.state.state, &a.id, &config, root.as_deref())
            .with_context(|| format!("cannot create the device in {}", a.state.state.display()))?;
    println!(
        "device {} created in {}\npublic key: {}\n\nEnrol it on the workstation:\n  tactician \
         devices add {} {} --group {}",
        identity.id(),
        a.state.state.display(),
        identity.public_key(),
        identity.id(),
        identity.public_key(),
        a.group
    );
    if a.root.is_none() {
        println!(
            "\nThen copy the repository's root.json to {} (once, out of band).",
            tactician_agent::tuf::trusted_root(&a.state.state).display()
        );
    }
    Ok(())
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::UpToDate { version } => {
            format!("up to date ({})", version.as_deref().unwrap_or("no model"))
        }
        Outcome::NoRelease { reason } => format!("nothing to install: {reason}"),
        Outcome::Refused { version, reason } => format!("refused {version}: {reason}"),
        Outcome::Waiting { version, opens_at } => format!(
            "{version} validated; activation waits for the maintenance window (opens {})",
            opens_at.as_deref().unwrap_or("never")
        ),
        Outcome::Activated {
            version,
            previous,
            report,
        } => format!(
            "activated {version} (was {}): top-1 {:.2}% on {} validation rows, p99 {:.1} µs{}",
            previous.as_deref().unwrap_or("none"),
            100.0 * report.top1,
            report.rows,
            report.latency_p99_us,
            report
                .battles
                .as_ref()
                .map_or(String::new(), |b| format!("; {}", b.summary()))
        ),
        Outcome::RolledBack {
            version,
            to,
            reason,
        } => format!(
            "rolled back from {version} to {}: {reason}",
            to.as_deref().unwrap_or("no model")
        ),
    }
}

fn print_outcome(outcome: &Outcome, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(outcome)?);
    } else {
        println!("{}", describe(outcome));
    }
    Ok(())
}

fn open(state: &Path) -> anyhow::Result<(StateLock, Agent<'static>)> {
    let lock = StateLock::acquire(state)?;
    let agent = Agent::open(&OsFs, state)?;
    Ok((lock, agent))
}

/// Runs `update`.
pub fn update(a: SimpleArgs) -> anyhow::Result<()> {
    let (_lock, agent) = open(&a.state.state)?;
    let outcome = agent.update(Timestamp::now())?;
    print_outcome(&outcome, a.json)?;
    if matches!(
        outcome,
        Outcome::Refused { .. } | Outcome::RolledBack { .. }
    ) {
        bail!("the update was not installed (see above)");
    }
    Ok(())
}

/// Runs `agent`: polls with jitter until stopped. A failed poll is reported and retried at
/// the next one; the device keeps its active model throughout.
pub fn daemon(a: DaemonArgs) -> anyhow::Result<()> {
    let mut polls = 0u64;
    loop {
        let (lock, agent) = open(&a.state.state)?;
        let config = agent.config().clone();
        let line = match agent.update(Timestamp::now()) {
            Ok(outcome) => {
                serde_json::json!({"time": Timestamp::now().to_string(), "result": outcome})
            }
            Err(e) => serde_json::json!({
                "time": Timestamp::now().to_string(),
                "error": tactician_os::report(&e),
            }),
        };
        drop(agent);
        drop(lock);
        println!("{line}");
        polls += 1;
        if a.polls.is_some_and(|n| polls >= n) {
            return Ok(());
        }
        let jitter = if config.poll.jitter_seconds > 0 {
            let mut b = [0u8; 8];
            aws_lc_rs::rand::fill(&mut b).ok();
            u64::from_le_bytes(b) % (config.poll.jitter_seconds + 1)
        } else {
            0
        };
        std::thread::sleep(Duration::from_secs(config.poll.interval_seconds + jitter));
    }
}

/// Runs `activate`.
pub fn activate(a: ActivateArgs) -> anyhow::Result<()> {
    let (_lock, agent) = open(&a.state.state)?;
    print_outcome(&agent.activate(&a.version, Timestamp::now())?, a.json)
}

/// Runs `rollback`.
pub fn rollback(a: RollbackArgs) -> anyhow::Result<()> {
    let (_lock, agent) = open(&a.state.state)?;
    print_outcome(&agent.rollback(a.to.as_deref(), Timestamp::now())?, a.json)
}

/// Runs `status`.
pub fn status(a: SimpleArgs) -> anyhow::Result<()> {
    let agent = Agent::open(&OsFs, &a.state.state)?;
    let s = agent.status()?;
    // The decision server's history, when it ran on this state folder.
    let serve = tactician_serve::history::ServeStatus::load(&a.state.state);
    if a.json {
        let mut value = serde_json::to_value(&s)?;
        value["serve"] = serde_json::to_value(&serve)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!(
        "device {} (group {}, follows {})\nactive: {}\ninstalled: {}\npending: {}\nhighest \
         activated: {}\nmetadata versions: root {}, timestamp {}, snapshot {}, targets {}",
        s.device,
        s.group,
        s.alias,
        s.active.as_deref().unwrap_or("none"),
        if s.installed.is_empty() {
            "none".to_string()
        } else {
            s.installed.join(", ")
        },
        s.pending.as_deref().unwrap_or("none"),
        s.highest.as_deref().unwrap_or("none"),
        s.metadata.root,
        s.metadata.timestamp,
        s.metadata.snapshot,
        s.metadata.targets
    );
    for (v, why) in &s.rejected {
        println!("refused {v}: {why}");
    }
    for e in &s.recent {
        println!(
            "{} #{} {} {} {}{}",
            e.time,
            e.seq,
            e.action,
            e.version,
            e.outcome,
            e.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
    if let Some(serve) = serve {
        print!("{}", serve.to_text());
    }
    Ok(())
}
