//! `tactician-device serve`: the decision API over the active model.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tactician_serve::server::{Listen, ServeConfig, start, wait_for_signal};

/// Flags of `tactician-device serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    state: crate::agent_cmd::StateArg,
    /// The TCP address to listen on (loopback by default: put a proxy in front to expose it).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8470")]
    listen: SocketAddr,
    /// Do not listen on TCP (the Unix socket only).
    #[arg(long, conflicts_with = "listen")]
    no_tcp: bool,
    /// The Unix socket to listen on too (default: STATE/serve.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Do not listen on a Unix socket.
    #[arg(long, conflicts_with = "socket")]
    no_socket: bool,
    /// Where /sys and /proc are read from.
    #[arg(long, value_name = "DIR", default_value = "/")]
    sysfs_root: PathBuf,
    /// Milliseconds between two looks at the active model, throttling and recent latency.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    poll_ms: u64,
    /// Flag degradation when recent median decision latency exceeds the median measured at
    /// activation by this factor.
    #[arg(long, value_name = "X", default_value_t = 2.0)]
    degradation_factor: f64,
    /// Decisions cached per worker (0: none).
    #[arg(long, value_name = "N", default_value_t = 256)]
    cache: usize,
    /// Largest request body, bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_body: usize,
    /// Longest time a request may take to arrive and be answered, milliseconds (a client that
    /// sends slower gets a 408).
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    request_timeout_ms: u64,
    /// Seconds between two samples of the history `status` shows (STATE/serve-status.json).
    #[arg(long, value_name = "S", default_value_t = 10)]
    sample_seconds: u64,
    /// Samples kept (360 at 10 s: an hour).
    #[arg(long, value_name = "N", default_value_t = 360)]
    history: usize,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

/// Runs `serve` until SIGINT or SIGTERM.
pub fn run(a: ServeArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.degradation_factor.is_finite() && a.degradation_factor >= 1.0,
        "--degradation-factor must be a number ≥ 1"
    );
    anyhow::ensure!(a.poll_ms > 0, "--poll-ms must be at least 1");
    let mut config = ServeConfig::new(&a.state.state);
    config.sysfs_root = a.sysfs_root;
    config.poll = Duration::from_millis(a.poll_ms);
    config.degradation_factor = a.degradation_factor;
    config.cache_capacity = a.cache;
    config.max_body_bytes = a.max_body;
    config.request_timeout = Duration::from_millis(a.request_timeout_ms.max(1));
    config.sample_every = Duration::from_secs(a.sample_seconds.max(1));
    config.history_len = a.history.max(1);
    let listen = Listen {
        tcp: (!a.no_tcp).then_some(a.listen),
        socket: (!a.no_socket)
            .then(|| a.socket.unwrap_or_else(|| a.state.state.join("serve.sock"))),
    };
    anyhow::ensure!(
        listen.tcp.is_some() || listen.socket.is_some(),
        "nothing to listen on: drop --no-tcp or --no-socket"
    );
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let running = start(config, &listen, threads).context("cannot start the server")?;
    let model = running.shared.model().map_or_else(
        || "no model yet".to_string(),
        |m| format!("model {}", m.version),
    );
    eprintln!(
        "serving {model}{}{}",
        running
            .tcp
            .map_or(String::new(), |a| format!(" on http://{a}")),
        running
            .socket
            .as_ref()
            .map_or(String::new(), |p| format!(" and {}", p.display()))
    );
    wait_for_signal()?;
    running.stop();
    Ok(())
}
