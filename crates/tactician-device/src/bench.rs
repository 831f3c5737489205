//! `tactician-device bench` and `info`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tactician_runtime::{Engine, Isa, Kernels, Policy, PolicyOptions, load};

/// The peer: the official interpreter driven the way a Python game usually drives it
/// (`Interpreter`, `allocate_tensors`, then `set_tensor` / `invoke` / `get_tensor` per decision).
const DEPLOYER_PY: &str = include_str!("../../../bench/peer/deployer.py");

/// Arguments of `bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The .tflite files to measure, one after the other.
    #[arg(required = true)]
    models: Vec<PathBuf>,
    /// Timed decisions at batch 1 (and the basis of the batched runs' repetitions).
    #[arg(long, default_value_t = 20_000)]
    iterations: usize,
    /// Batch sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    batches: Vec<usize>,
    /// Also run the official interpreter (Python, ai-edge-litert) on the same file, driven the
    /// usual Python way (set_tensor / invoke / get_tensor per decision), and print the ratios.
    #[arg(long)]
    peer: bool,
    /// Python for --peer (default: $TACTICIAN_PYTHON, else python3 from PATH).
    #[arg(long)]
    python: Option<PathBuf>,
    /// Also run the second peer, tract-tflite, on the same file: BIN is the `tract-peer`
    /// binary built from bench/peer/tract (`cargo build --release --manifest-path
    /// bench/peer/tract/Cargo.toml`; a separate workspace, so the device build never pulls
    /// tract in). A file tract cannot load is reported as such.
    #[arg(long, value_name = "BIN")]
    tract: Option<PathBuf>,
    /// Seed of the synthetic features and legal-action masks.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Use the scalar reference kernels instead of the fastest this CPU supports.
    #[arg(long)]
    scalar: bool,
    /// Print JSON (one array, one object per model) instead of text.
    #[arg(long)]
    json: bool,
}

/// Latency percentiles of one measured operation.
#[derive(Debug, Clone, Serialize)]
struct Latency {
    p50_ns: f64,
    p90_ns: f64,
    p99_ns: f64,
    mean_ns: f64,
}

impl Latency {
    fn of(ns: &mut [u64]) -> Latency {
        ns.sort_unstable();
        let pick = |q: f64| ns[((q * ns.len() as f64) as usize).min(ns.len() - 1)] as f64;
        Latency {
            p50_ns: pick(0.50),
            p90_ns: pick(0.90),
            p99_ns: pick(0.99),
            mean_ns: ns.iter().sum::<u64>() as f64 / ns.len() as f64,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
struct BatchReport {
    batch: usize,
    /// Per call (the whole batch).
    latency: Latency,
    /// p50 per decision (call p50 / batch).
    per_decision_p50_ns: f64,
    /// Decisions per second over the timed calls (wall clock).
    decisions_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
struct Limits {
    /// Weight bytes streamed per inference divided by the engine's p50 at batch 1.
    achieved_weight_gbps: f64,
    /// Reading a cache-resident buffer of the weights' size, measured in this run.
    read_peak_gbps: f64,
    /// Multiply-accumulates per second at batch 1 (engine p50) and at the largest batch.
    achieved_macs_per_s: f64,
    achieved_macs_per_s_largest_batch: f64,
    /// Register-only loop of the kernel's multiply-accumulate instructions, this run.
    mac_peak_per_s: f64,
    /// "f32" or "int8": which peak applies.
    mac_kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
struct PeerRatios {
    /// Peer decision p50 / our decision p50.
    decision_p50: f64,
    /// Peer invoke() p50 / our decision p50 (>1: our whole decision beats their invoke alone).
    invoke_p50_vs_our_decision: f64,
    /// Peer invoke() p50 / our engine run p50: the like-for-like comparison (both run the
    /// graph on inputs already in place).
    invoke_p50_vs_our_engine: f64,
    /// Peer resident memory / ours.
    rss: f64,
    /// Per batch: peer call p50 / our call p50.
    batches: Vec<(usize, f64)>,
}

#[derive(Debug, Clone, Serialize)]
struct Report {
    model: String,
    file_bytes: u64,
    isa: &'static str,
    features: usize,
    actions: usize,
    weight_bytes: usize,
    macs_per_decision: usize,
    arena_bytes: usize,
    load_us: f64,
    iterations: usize,
    /// `Policy::act`: features in, masked probabilities and action out.
    decision: Latency,
    decisions_per_s: f64,
    /// `Engine::run` alone (the analogue of the interpreter's `invoke()`).
    engine_run: Latency,
    batches: Vec<BatchReport>,
    /// Resident memory (VmRSS) after the batch-1 decisions, with only the policy loaded.
    rss_kib: u64,
    /// VmHWM at that point.
    peak_rss_kib: u64,
    limits: Limits,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ratios: Option<PeerRatios>,
    /// tract-tflite's measurements (`--tract`), or why it could not run the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    tract: Option<serde_json::Value>,
}

/// A SplitMix64 stream for the synthetic inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Roughly normal(0, 1.5): a sum of uniforms.
    fn normal(&mut self) -> f32 {
        ((0..4).map(|_| self.unit()).sum::<f32>() - 2.0) * 1.5 * 1.732
    }
}

fn python(args: &BenchArgs) -> PathBuf {
    if let Some(p) = &args.python {
        return p.clone();
    }
    if let Some(p) = std::env::var_os("TACTICIAN_PYTHON") {
        return p.into();
    }
    "python3".into()
}

fn run_peer(args: &BenchArgs, model: &Path) -> Result<serde_json::Value> {
    let py = python(args);
    let batches: Vec<String> = args.batches.iter().map(|b| b.to_string()).collect();
    let mut child = Command::new(&py)
        .arg("-")
        .arg(model)
        .arg("--iterations")
        .arg(args.iterations.to_string())
        .arg("--batches")
        .arg(batches.join(","))
        .arg("--seed")
        .arg(args.seed.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting the peer with {}", py.display()))?;
    child
        .stdin
        .take()
        .context("peer stdin")?
        .write_all(DEPLOYER_PY.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!(
            "the peer ({} bench/peer/deployer.py) failed: {}\n(it needs numpy and ai-edge-litert; \
             choose the Python with --python or TACTICIAN_PYTHON)",
            py.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    last_json(&out.stdout, "the peer")
}

/// The last line of a peer's output that holds a JSON object, parsed.
fn last_json(stdout: &[u8], who: &str) -> Result<serde_json::Value> {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("{who} printed no JSON"))?;
    Ok(serde_json::from_str(line)?)
}

fn run_tract(args: &BenchArgs, bin: &Path, model: &Path) -> Result<serde_json::Value> {
    let out = Command::new(bin)
        .arg(model)
        .arg("--iterations")
        .arg(args.iterations.to_string())
        .arg("--seed")
        .arg(args.seed.to_string())
        .stdin(Stdio::null())
        .output()
        .with_context(|| {
            format!(
                "starting the tract peer {} (build it with `cargo build --release \
                 --manifest-path bench/peer/tract/Cargo.toml`)",
                bin.display()
            )
        })?;
    if !out.status.success() {
        bail!(
            "the tract peer {} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    last_json(&out.stdout, "the tract peer")
}

fn best_rate(mut f: impl FnMut() -> u64) -> f64 {
    // Best of several short runs: the least disturbed measurement of a peak.
    (0..7)
        .map(|_| {
            let t = Instant::now();
            let work = f();
            work as f64 / t.elapsed().as_secs_f64().max(1e-9)
        })
        .fold(0.0, f64::max)
}

fn bench_model(args: &BenchArgs, path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let max_batch = args.batches.iter().copied().max().unwrap_or(1).max(1);
    let kernels = if args.scalar {
        Kernels::new(Isa::Scalar)
    } else {
        Kernels::default()
    };
    let t = Instant::now();
    let graph =
        load::graph_from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
    let mut policy = Policy::from_graph_with_kernels(
        &graph,
        &PolicyOptions {
            max_batch,
            ..PolicyOptions::default()
        },
        kernels,
    )?;
    let load_us = t.elapsed().as_secs_f64() * 1e6;
    let file_bytes = bytes.len() as u64;
    // What a device keeps is the policy alone: free the file and the decoded graph before the
    // decision loop so that the resident memory measured after it is the serving footprint.
    drop(graph);
    drop(bytes);
    let (f, a) = (policy.features(), policy.actions());
    let stats = policy.engine().stats();

    let mut rng = Rng(args.seed);
    const POOL: usize = 256;
    let feats: Vec<f32> = (0..POOL * f).map(|_| rng.normal()).collect();
    let mut legal: Vec<bool> = (0..POOL * a).map(|_| rng.unit() < 0.6).collect();
    for row in legal.chunks_exact_mut(a) {
        row[0] = true;
    }
    let n = args.iterations.max(100);
    let mut ns = vec![0u64; n];
    let mut sink = 0usize;
    for i in 0..n.min(2000) {
        let r = i % POOL;
        sink += policy
            .act(&feats[r * f..(r + 1) * f], &legal[r * a..(r + 1) * a])?
            .action;
    }
    let wall = Instant::now();
    for (i, slot) in ns.iter_mut().enumerate() {
        let r = i % POOL;
        let t = Instant::now();
        sink += policy
            .act(&feats[r * f..(r + 1) * f], &legal[r * a..(r + 1) * a])?
            .action;
        *slot = t.elapsed().as_nanos() as u64;
    }
    let decisions_per_s = n as f64 / wall.elapsed().as_secs_f64();
    let decision = Latency::of(&mut ns);
    let memory = tactician_os::process::memory().unwrap_or_default();
    let (rss_kib, peak_rss_kib) = (memory.rss_bytes / 1024, memory.peak_rss_bytes / 1024);

    // A second engine for `run` alone (the analogue of `invoke()`).
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut engine = Engine::with_kernels(&load::graph_from_bytes(&bytes)?, max_batch, kernels)?;
    drop(bytes);

    for (i, slot) in ns.iter_mut().enumerate() {
        let r = i % POOL;
        engine
            .input_mut(0, 1)?
            .copy_from_slice(&feats[r * f..(r + 1) * f]);
        let t = Instant::now();
        engine.run(1)?;
        *slot = t.elapsed().as_nanos() as u64;
    }
    let engine_run = Latency::of(&mut ns);

    let mut batches = Vec::new();
    for &b in &args.batches {
        if b == 0 {
            continue;
        }
        let reps = (n / b).max(200);
        let bf: Vec<f32> = (0..b * f).map(|i| feats[i % (POOL * f)]).collect();
        let bl: Vec<bool> = (0..b * a).map(|i| legal[i % (POOL * a)]).collect();
        let mut times = vec![0u64; reps];
        for _ in 0..20 {
            sink += policy.act_batch(&bf, &bl, b)?.actions[0];
        }
        let wall = Instant::now();
        for slot in times.iter_mut() {
            let t = Instant::now();
            sink += policy.act_batch(&bf, &bl, b)?.actions[0];
            *slot = t.elapsed().as_nanos() as u64;
        }
        let dps = (reps * b) as f64 / wall.elapsed().as_secs_f64();
        let latency = Latency::of(&mut times);
        batches.push(BatchReport {
            batch: b,
            per_decision_p50_ns: latency.p50_ns / b as f64,
            latency,
            decisions_per_s: dps,
        });
    }
    std::hint::black_box(sink);

    // This core's limits, measured now.
    let int8 = stats.int8_macs;
    let mac_peak = if int8 {
        best_rate(|| {
            let (macs, v) = kernels.i8_peak(200_000);
            std::hint::black_box(v);
            macs
        })
    } else {
        best_rate(|| {
            let (macs, v) = kernels.fma_peak(200_000);
            std::hint::black_box(v);
            macs
        })
    };
    let probe = vec![1.0f32; (stats.weight_bytes / 4).max(1024)];
    let read_peak = best_rate(|| {
        let mut bytes = 0u64;
        for _ in 0..50 {
            std::hint::black_box(kernels.read_sum(std::hint::black_box(&probe)));
            bytes += probe.len() as u64 * 4;
        }
        bytes
    });
    let largest = batches.iter().max_by_key(|b| b.batch);
    let limits = Limits {
        achieved_weight_gbps: stats.weight_bytes as f64 / engine_run.p50_ns,
        read_peak_gbps: read_peak / 1e9,
        achieved_macs_per_s: stats.macs_per_row as f64 / (engine_run.p50_ns * 1e-9),
        achieved_macs_per_s_largest_batch: largest
            .map(|b| (stats.macs_per_row * b.batch) as f64 / (b.latency.p50_ns * 1e-9))
            .unwrap_or(0.0),
        mac_peak_per_s: mac_peak,
        mac_kind: if int8 { "int8" } else { "f32" },
    };

    let mut report = Report {
        model: path.display().to_string(),
        file_bytes,
        isa: kernels.isa().name(),
        features: f,
        actions: a,
        weight_bytes: stats.weight_bytes,
        macs_per_decision: stats.macs_per_row,
        arena_bytes: stats.arena_bytes,
        load_us,
        iterations: n,
        decision,
        decisions_per_s,
        engine_run,
        batches,
        rss_kib,
        peak_rss_kib,
        limits,
        peer: None,
        ratios: None,
        tract: None,
    };
    if args.peer {
        let peer = run_peer(args, path)?;
        let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let ours = &report;
        report.ratios = Some(PeerRatios {
            decision_p50: num(&peer["decision"]["p50_ns"]) / ours.decision.p50_ns,
            invoke_p50_vs_our_decision: num(&peer["invoke"]["p50_ns"]) / ours.decision.p50_ns,
            invoke_p50_vs_our_engine: num(&peer["invoke"]["p50_ns"]) / ours.engine_run.p50_ns,
            rss: num(&peer["rss_kib"]) / ours.rss_kib.max(1) as f64,
            batches: ours
                .batches
                .iter()
                .map(|b| {
                    let key = b.batch.to_string();
                    (
                        b.batch,
                        num(&peer["batches"][&key]["p50_ns"]) / b.latency.p50_ns,
                    )
                })
                .collect(),
        });
        report.peer = Some(peer);
    }
    if let Some(bin) = &args.tract {
        let mut t = run_tract(args, bin, path)?;
        let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        if t["loads"].as_bool() == Some(true) {
            let run = num(&t["run"]["p50_ns"]) / report.engine_run.p50_ns;
            let decision = num(&t["decision"]["p50_ns"]) / report.decision.p50_ns;
            t["ratio_run_vs_our_engine"] = run.into();
            t["ratio_decision"] = decision.into();
        }
        report.tract = Some(t);
    }
    Ok(report)
}

fn us(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} µs", ns / 1e3)
    }
}

/// The cause in tract's error chain, which interleaves debug dumps of the operator: the text
/// after the last `}: `, or the refused operator's name.
fn tract_cause(error: &str) -> String {
    let tail = error.rsplit("}: ").next().unwrap_or(error).trim();
    if tail.starts_with("Unsupported") {
        // The last `builtin_code` (the first may be `deprecated_builtin_code`).
        if let Some(op) = tail
            .rsplit("builtin_code: ")
            .next()
            .filter(|_| tail.contains("builtin_code: "))
            .and_then(|r| r.split([',', '\n']).next())
        {
            return format!("unsupported operator {}", op.trim());
        }
    }
    tail.lines().next().unwrap_or(tail).to_string()
}

fn print_tract(t: &serde_json::Value) {
    let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let engine = t["engine"].as_str().unwrap_or("tract-tflite");
    if t["loads"].as_bool() != Some(true) {
        let error = t["error"].as_str().unwrap_or("no reason given");
        println!(
            "  second peer: {engine} does not run this file ({})",
            tract_cause(error)
        );
        return;
    }
    println!("  second peer: {engine} (Rust), same file, same run");
    for (name, key, ratio) in [
        ("tract run() alone", "run", "ratio_run_vs_our_engine"),
        ("tract decision", "decision", "ratio_decision"),
    ] {
        println!(
            "  {:<22} {:>10} {:>10} {:>10}   {:.2}x",
            name,
            us(num(&t[key]["p50_ns"])),
            us(num(&t[key]["p90_ns"])),
            us(num(&t[key]["p99_ns"])),
            num(&t[ratio])
        );
    }
}

fn print_text(r: &Report) {
    println!(
        "{}  ({} bytes, {} features, {} actions, kernels {})",
        r.model, r.file_bytes, r.features, r.actions, r.isa
    );
    println!(
        "  {:<22} {:>10} {:>10} {:>10} {:>14}",
        "", "p50", "p90", "p99", "decisions/s"
    );
    let line = |name: &str, l: &Latency, dps: Option<f64>| {
        println!(
            "  {:<22} {:>10} {:>10} {:>10} {:>14}",
            name,
            us(l.p50_ns),
            us(l.p90_ns),
            us(l.p99_ns),
            dps.map(|d| format!("{d:.0}")).unwrap_or_default()
        );
    };
    line("decision (batch 1)", &r.decision, Some(r.decisions_per_s));
    line("engine run alone", &r.engine_run, None);
    for b in &r.batches {
        line(
            &format!("batch {} (per call)", b.batch),
            &b.latency,
            Some(b.decisions_per_s),
        );
    }
    println!(
        "  resident memory        {:.1} MiB (peak {:.1} MiB); arena {} bytes; load {:.0} µs",
        r.rss_kib as f64 / 1024.0,
        r.peak_rss_kib as f64 / 1024.0,
        r.arena_bytes,
        r.load_us
    );
    let l = &r.limits;
    println!(
        "  weight streaming       {} KB per decision at {:.1} GB/s; this core reads a cache-resident \
         buffer of that size at {:.1} GB/s ({:.0}%)",
        r.weight_bytes / 1000,
        l.achieved_weight_gbps,
        l.read_peak_gbps,
        100.0 * l.achieved_weight_gbps / l.read_peak_gbps
    );
    println!(
        "  multiply-accumulates   {:.2} G/s at batch 1, {:.2} G/s at the largest batch; {} peak {:.1} G/s \
         ({:.0}% / {:.0}%)",
        l.achieved_macs_per_s / 1e9,
        l.achieved_macs_per_s_largest_batch / 1e9,
        l.mac_kind,
        l.mac_peak_per_s / 1e9,
        100.0 * l.achieved_macs_per_s / l.mac_peak_per_s,
        100.0 * l.achieved_macs_per_s_largest_batch / l.mac_peak_per_s
    );
    if let (Some(p), Some(x)) = (&r.peer, &r.ratios) {
        let num = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        println!(
            "  peer: official interpreter (ai-edge-litert), driven the usual Python way, same file, same run"
        );
        println!(
            "  {:<22} {:>10} {:>10} {:>10}   ratio peer/ours (p50)",
            "", "p50", "p90", "p99"
        );
        let pl = |name: &str, v: &serde_json::Value, ratio: f64| {
            println!(
                "  {:<22} {:>10} {:>10} {:>10}   {:.2}x",
                name,
                us(num(&v["p50_ns"])),
                us(num(&v["p90_ns"])),
                us(num(&v["p99_ns"])),
                ratio
            );
        };
        pl("peer decision", &p["decision"], x.decision_p50);
        pl(
            "peer invoke() alone",
            &p["invoke"],
            x.invoke_p50_vs_our_decision,
        );
        println!(
            "  {:<22} {:>32}   {:.2}x",
            "  vs our engine run", "(like for like)", x.invoke_p50_vs_our_engine
        );
        for (b, ratio) in &x.batches {
            pl(
                &format!("peer batch {b}"),
                &p["batches"][b.to_string()],
                *ratio,
            );
        }
        println!(
            "  peer resident memory   {:.1} MiB ({:.1}x ours)",
            num(&p["rss_kib"]) / 1024.0,
            x.rss
        );
    }
    if let Some(t) = &r.tract {
        print_tract(t);
    }
}

/// `bench`.
pub fn run(args: &BenchArgs) -> Result<()> {
    let mut reports = Vec::new();
    for m in &args.models {
        let r = bench_model(args, m)?;
        if !args.json {
            print_text(&r);
            println!();
        }
        reports.push(r);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(())
}

/// `info`.
pub fn info(path: &Path, json: bool) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let graph =
        load::graph_from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))?;
    let engine = Engine::new(&graph, 1)?;
    let meta = tactician_runtime::graph_metadata(&graph)?;
    let ops: Vec<&str> = graph.ops.iter().map(|o| o.kind.name()).collect();
    let stats = engine.stats();
    let v = serde_json::json!({
        "model": path.display().to_string(),
        "bytes": bytes.len(),
        "operators": ops,
        "inputs": engine.inputs().iter().map(|p| serde_json::json!({"name": p.name, "values": p.row})).collect::<Vec<_>>(),
        "outputs": engine.outputs().iter().map(|p| serde_json::json!({"name": p.name, "values": p.row, "probabilities": p.probabilities})).collect::<Vec<_>>(),
        "metadata": meta,
        "weight_bytes": stats.weight_bytes,
        "macs_per_row": stats.macs_per_row,
        "arena_bytes": stats.arena_bytes,
        "kernels": engine.isa().name(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!(
            "{}: {} bytes, kernels {}",
            path.display(),
            bytes.len(),
            engine.isa().name()
        );
        println!("  operators: {}", ops.join(", "));
        for p in engine.inputs() {
            println!("  input  {} ({} values per row)", p.name, p.row);
        }
        for p in engine.outputs() {
            println!(
                "  output {} ({} values per row{})",
                p.name,
                p.row,
                if p.probabilities {
                    ", probabilities"
                } else {
                    ""
                }
            );
        }
        match meta {
            Some(m) => println!(
                "  metadata: version {}, encoder {}, {} actions, value head {}",
                m.model_version,
                m.encoder_hash,
                m.action_names.len(),
                m.value_head
            ),
            None => println!("  metadata: none (no \"tactician\" entry)"),
        }
        println!(
            "  {} weight bytes, {} multiply-accumulates per row, {} arena bytes",
            stats.weight_bytes, stats.macs_per_row, stats.arena_bytes
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tract_causes_are_found_in_its_error_chains() {
        let unsupported = "Translating: Operator {\n    opcode_index: 0,\n}: Unsupported: \
            OperatorCode {\n    deprecated_builtin_code: 114,\n    version: 1,\n    builtin_code: QUANTIZE,\n}, inputs: [\n    1,192,F32,\n]";
        assert_eq!(
            super::tract_cause(unsupported),
            "unsupported operator QUANTIZE"
        );
        let condition = "Operator {\n}: Opcode is OperatorCode {\n    version: 12,\n}: \
            Condition failed: `!options.asymmetric_quantize_inputs()`";
        assert_eq!(
            super::tract_cause(condition),
            "Condition failed: `!options.asymmetric_quantize_inputs()`"
        );
        assert_eq!(super::tract_cause("file not found"), "file not found");
    }
}
