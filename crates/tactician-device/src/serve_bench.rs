//! `tactician-device serve-bench`: what serving costs on top of the model, in one run.
//!
//! On the active model of a state folder: the decision latency of `POST /v1/act` over loopback
//! TCP (keep-alive) and over the Unix socket, beside the same server answering a constant on
//! the same body (the transport's floor) and beside the engine alone; requests per second with
//! 1, 4 and 16 concurrent clients; and the resident memory of a `tactician-device serve`
//! process before and after a load. The decision cache is off so every request runs the model.
//! Clients are plain HTTP/1.1 over one kept-alive connection each, in this process.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::routing::post;
use clap::Args;
use serde::Serialize;
use tactician_game::{Battle, GameConfig, SkirmishEncoder};
use tactician_runtime::{Policy, PolicyOptions};
use tactician_serve::api::ActRequest;
use tactician_serve::client::{Conn, tcp};
use tactician_serve::server::{Listen, ServeConfig, Shared, router_with, start_app};

/// Flags of `tactician-device serve-bench`.
#[derive(Debug, Args)]
pub struct ServeBenchArgs {
    #[command(flatten)]
    state: crate::agent_cmd::StateArg,
    /// Sequential requests timed per latency row.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    requests: usize,
    /// Seconds per throughput row.
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    seconds: f64,
    /// Server worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One latency row.
#[derive(Debug, Serialize)]
struct LatencyRow {
    what: &'static str,
    p50_us: f64,
    p99_us: f64,
}

/// One throughput row.
#[derive(Debug, Serialize)]
struct ThroughputRow {
    clients: usize,
    act_per_second: f64,
    floor_per_second: f64,
}

/// The benchmark's results.
#[derive(Debug, Serialize)]
struct Report {
    model_version: String,
    latency: Vec<LatencyRow>,
    /// `/v1/act` p50 over the floor's p50, TCP and Unix socket.
    model_over_floor_tcp: f64,
    model_over_floor_unix: f64,
    /// The same with binary rows.
    model_over_floor_tcp_binary: f64,
    model_over_floor_unix_binary: f64,
    throughput: Vec<ThroughputRow>,
    /// A separate `tactician-device serve` process: resident memory idle and after the load.
    server_rss_idle_bytes: Option<u64>,
    server_rss_after_bytes: Option<u64>,
}

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize] * 1e6;
    (at(0.5), at(0.99))
}

/// Times `n` requests to each of `paths` over `conn` (after a warm-up of a tenth),
/// alternating between them request by request so that both see the same machine: the
/// comparison is paired, not two runs minutes apart. Returns (p50, p99) per path.
fn time_requests<S: Read + Write>(
    conn: &mut Conn<S>,
    paths: [&str; 2],
    content_type: &str,
    bodies: &[Vec<u8>],
    n: usize,
) -> anyhow::Result<[(f64, f64); 2]> {
    for b in bodies.iter().cycle().take(n / 10 + 1) {
        for path in paths {
            conn.send_typed("POST", path, content_type, b)?;
        }
    }
    let mut times = [Vec::with_capacity(n), Vec::with_capacity(n)];
    for (i, b) in bodies.iter().cycle().take(n).enumerate() {
        // Alternate which goes first, too.
        for k in [i % 2, 1 - i % 2] {
            let t = Instant::now();
            let (status, _) = conn.send_typed("POST", paths[k], content_type, b)?;
            times[k].push(t.elapsed().as_secs_f64());
            if status != 200 {
                bail!("{} answered {status}", paths[k]);
            }
        }
    }
    let [a, b] = times;
    Ok([percentiles(a), percentiles(b)])
}

/// Requests per second of `clients` connections hammering `path` for `seconds`.
fn throughput(
    addr: SocketAddr,
    path: &'static str,
    bodies: &[Vec<u8>],
    clients: usize,
    seconds: f64,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let counts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                scope.spawn(move || -> anyhow::Result<u64> {
                    let mut conn = tcp(addr)?;
                    let mut n = 0u64;
                    for b in bodies.iter().cycle().skip(c * 7) {
                        if Instant::now() >= deadline {
                            break;
                        }
                        if conn.send("POST", path, b)?.0 != 200 {
                            bail!("{path} failed under load");
                        }
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Ok(0)))
            .collect::<anyhow::Result<Vec<u64>>>()
    })?;
    Ok(counts.iter().sum::<u64>() as f64 / start.elapsed().as_secs_f64())
}

fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|k| k * 1024)
}

/// A `tactician-device serve` process on `state`: its resident memory idle and after a load.
fn server_memory(
    state: &Path,
    bodies: &[Vec<u8>],
    threads: usize,
    seconds: f64,
) -> anyhow::Result<(Option<u64>, Option<u64>)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", "--no-socket", "--cache", "0", "--threads"])
        .arg(threads.to_string())
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--state")
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let start = Instant::now();
    let result = (|| {
        while TcpStream::connect(addr).is_err() {
            if start.elapsed() > Duration::from_secs(10) {
                bail!("the server process did not start");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let idle = rss_of(child.id());
        throughput(addr, "/v1/act", bodies, 4, seconds)?;
        Ok((idle, rss_of(child.id())))
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// Runs the benchmark.
pub fn run(a: ServeBenchArgs) -> anyhow::Result<()> {
    let threads = a.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    anyhow::ensure!(a.requests >= 100, "--requests must be at least 100");
    let tmp = std::env::temp_dir().join(format!("tactician-serve-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let mut config = ServeConfig::new(&a.state.state);
    config.cache_capacity = 0;
    let shared = Shared::new(config).context("cannot load the state folder")?;
    let model = shared
        .model()
        .with_context(|| format!("no active model in {}", a.state.state.display()))?;

    // Real rows: the states of a few battles of the built-in game, or synthetic rows.
    let mut rows: Vec<(Vec<f32>, Vec<bool>)> = Vec::new();
    if model.encoder_hash == SkirmishEncoder::feature_spec().hash() {
        for seed in 0..16 {
            let mut b = Battle::new(seed, GameConfig::default());
            let mut them = tactician_game::strategy::by_name("aggressive", seed)?;
            while let Some(actor) = b.actor() {
                let legal = b.legal();
                let mut x = vec![0.0; model.features];
                SkirmishEncoder::encode_unit(&b, actor, legal, &mut x);
                rows.push((
                    x,
                    (0..model.actions)
                        .map(|i| legal.contains_index(i))
                        .collect(),
                ));
                let action = them.choose(&b, legal);
                b.step(action)?;
                if rows.len() >= 256 {
                    break;
                }
            }
        }
    } else {
        for r in 0..256 {
            let x = (0..model.features)
                .map(|i| ((r * 31 + i * 7) % 13) as f32 / 13.0)
                .collect();
            rows.push((x, vec![true; model.actions]));
        }
    }
    let bodies: Vec<Vec<u8>> = rows
        .iter()
        .map(|(x, l)| {
            serde_json::to_vec(&ActRequest {
                features: Some(x.clone()),
                legal: Some(l.clone()),
                ..ActRequest::default()
            })
        })
        .collect::<Result<_, _>>()?;
    // The same rows as binary bodies: little-endian f32 features, then one byte per action.
    let binary: Vec<Vec<u8>> = rows
        .iter()
        .map(|(x, l)| {
            let mut b: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
            b.extend(l.iter().map(|&f| u8::from(f)));
            b
        })
        .collect();
    // The floor: the same server, the same body read, a constant answer of the same shape.
    let constant = {
        let mut conn_policy = Policy::load(
            &std::fs::read(a.state.state.join("current/model.tflite"))?,
            &PolicyOptions::default(),
        )?;
        let d = conn_policy.act(&rows[0].0, &rows[0].1)?;
        serde_json::to_vec(&serde_json::json!({
            "action": d.action, "action_name": model.action_names[d.action],
            "probabilities": d.probabilities, "value": d.value,
            "model_version": model.version, "latency_us": 0.0, "cached": false,
        }))?
    };
    let floor = axum::Router::new().route(
        "/floor",
        post(move |body: axum::body::Bytes| {
            let constant = constant.clone();
            async move {
                std::hint::black_box(body);
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    constant,
                )
            }
        }),
    );
    // The floor goes through the same limits and deadline as the API.
    let app = router_with(shared.clone(), floor);
    let socket = tmp.join("bench.sock");
    let running = start_app(
        shared.clone(),
        app,
        &Listen {
            tcp: Some("127.0.0.1:0".parse()?),
            socket: Some(socket.clone()),
        },
        threads,
    )?;
    let addr = running.tcp.context("no TCP address")?;

    let n = a.requests;
    let mut latency = Vec::new();
    let mut t = tcp(addr)?;
    let pair = ["/floor", "/v1/act"];
    let json_type = "application/json";
    let bin_type = tactician_serve::server::BINARY_ROW;
    let [floor_tcp, act_tcp] = time_requests(&mut t, pair, json_type, &bodies, n)?;
    let [floor_tcp_bin, act_tcp_bin] = time_requests(&mut t, pair, bin_type, &binary, n)?;
    let mut u = Conn::new(UnixStream::connect(&socket)?);
    let [floor_unix, act_unix] = time_requests(&mut u, pair, json_type, &bodies, n)?;
    let [floor_unix_bin, act_unix_bin] = time_requests(&mut u, pair, bin_type, &binary, n)?;
    // The engine alone, on the same rows.
    let mut policy = Policy::load(
        &std::fs::read(a.state.state.join("current/model.tflite"))?,
        &PolicyOptions::default(),
    )?;
    let mut times = Vec::with_capacity(n);
    for (x, l) in rows.iter().cycle().take(n) {
        let t = Instant::now();
        std::hint::black_box(policy.act(x, l)?.action);
        times.push(t.elapsed().as_secs_f64());
    }
    let engine = percentiles(times);
    for (what, (p50, p99)) in [
        ("engine alone (Policy::act)", engine),
        ("TCP: constant answer (floor)", floor_tcp),
        ("TCP: /v1/act", act_tcp),
        ("Unix socket: constant answer (floor)", floor_unix),
        ("Unix socket: /v1/act", act_unix),
        ("TCP: floor, binary row", floor_tcp_bin),
        ("TCP: /v1/act, binary row", act_tcp_bin),
        ("Unix socket: floor, binary row", floor_unix_bin),
        ("Unix socket: /v1/act, binary row", act_unix_bin),
    ] {
        latency.push(LatencyRow {
            what,
            p50_us: p50,
            p99_us: p99,
        });
    }
    let mut rows_out = Vec::new();
    for clients in [1, 4, 16] {
        rows_out.push(ThroughputRow {
            clients,
            act_per_second: throughput(addr, "/v1/act", &bodies, clients, a.seconds)?,
            floor_per_second: throughput(addr, "/floor", &bodies, clients, a.seconds)?,
        });
    }
    running.stop();
    let _ = std::fs::remove_dir_all(&tmp);
    let (idle, after) = server_memory(&a.state.state, &bodies, threads, a.seconds)?;
    let report = Report {
        model_version: model.version.clone(),
        model_over_floor_tcp: act_tcp.0 / floor_tcp.0,
        model_over_floor_unix: act_unix.0 / floor_unix.0,
        model_over_floor_tcp_binary: act_tcp_bin.0 / floor_tcp_bin.0,
        model_over_floor_unix_binary: act_unix_bin.0 / floor_unix_bin.0,
        latency,
        throughput: rows_out,
        server_rss_idle_bytes: idle,
        server_rss_after_bytes: after,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let mut text = format!(
        "## serving model {} ({} threads, decision cache off)\n\n| | p50 | p99 |\n|---|---:|---:|\n",
        report.model_version, threads
    );
    for r in &report.latency {
        text.push_str(&format!(
            "| {} | {:.1} µs | {:.1} µs |\n",
            r.what, r.p50_us, r.p99_us
        ));
    }
    text.push_str(&format!(
        "\nThe model adds {:+.1}% to the floor's p50 over TCP, {:+.1}% over the Unix socket \
         (JSON rows); {:+.1}% and {:+.1}% with binary rows.\n\n\
         | clients | /v1/act per second | floor per second |\n|---:|---:|---:|\n",
        100.0 * (report.model_over_floor_tcp - 1.0),
        100.0 * (report.model_over_floor_unix - 1.0),
        100.0 * (report.model_over_floor_tcp_binary - 1.0),
        100.0 * (report.model_over_floor_unix_binary - 1.0)
    ));
    for r in &report.throughput {
        text.push_str(&format!(
            "| {} | {:.0} | {:.0} |\n",
            r.clients, r.act_per_second, r.floor_per_second
        ));
    }
    let mib = |b: Option<u64>| b.map_or("-".into(), |b| format!("{:.1} MiB", b as f64 / 1048576.0));
    text.push_str(&format!(
        "\nA `tactician-device serve` process: {} resident idle, {} after {:.0} s of 4 clients.\n",
        mib(report.server_rss_idle_bytes),
        mib(report.server_rss_after_bytes),
        a.seconds
    ));
    print!("{text}");
    Ok(())
}
