//! Export speed against the official converter, in one run.
//!
//! `cargo bench -p tactician-export --bench export`
//!
//! Measures our float32 and int8 exports (int8 includes calibrating on 1,000 rows) of a
//! trainer-sized MLP with criterion, then, when a Python with tensorflow is available
//! (`$TACTICIAN_TF_PYTHON`), runs bench/peer/export_keras.py on
//! the same network and weights (`TFLiteConverter.from_keras_model(...).convert()`) and prints
//! the ratios. The network comes from `$TACTICIAN_BENCH_MODEL` (a model folder) when set.

use criterion::Criterion;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tactician_export::{ExportOptions, Precision, export};
use tactician_formats::model::{Activation, Mlp, ModelJson};

fn network() -> Mlp {
    match std::env::var_os("TACTICIAN_BENCH_MODEL") {
        Some(dir) => Mlp::load(Path::new(&dir)).expect("TACTICIAN_BENCH_MODEL"),
        None => {
            let meta = ModelJson::new(96, vec![256, 256], Activation::Relu, 16, true, "random");
            Mlp::random(meta, 7)
        }
    }
}

/// Seeded uniform rows in [-2, 4).
fn calibration(mlp: &Mlp) -> Vec<f32> {
    let mut state = 3u64;
    (0..1000 * mlp.inputs())
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 / (1u64 << 53) as f64) as f32 * 6.0 - 2.0
        })
        .collect()
}

/// Mean seconds per call of `f` over at least `min` time.
fn time(mut f: impl FnMut(), min: Duration) -> f64 {
    f();
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < min || n < 5 {
        f();
        n += 1;
    }
    start.elapsed().as_secs_f64() / f64::from(n)
}

fn peer_python() -> Option<PathBuf> {
    std::env::var_os("TACTICIAN_TF_PYTHON").map(PathBuf::from)
}

fn main() {
    let mlp = network();
    let calib = calibration(&mlp);
    let f32_opts = ExportOptions::new(Precision::Float32);
    let int8_opts = ExportOptions::new(Precision::Int8).with_calibration(&calib);

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("export");
    g.sample_size(20);
    g.bench_function("f32", |b| {
        b.iter(|| export(black_box(&mlp), &f32_opts).unwrap())
    });
    g.bench_function("int8 (1000-row calibration)", |b| {
        b.iter(|| export(black_box(&mlp), &int8_opts).unwrap())
    });
    g.finish();

    let ours_f32 = time(
        || drop(export(&mlp, &f32_opts).unwrap()),
        Duration::from_secs(1),
    );
    let ours_int8 = time(
        || drop(export(&mlp, &int8_opts).unwrap()),
        Duration::from_secs(1),
    );
    println!(
        "network: {} inputs, hidden {:?}, {} actions, value head {}",
        mlp.inputs(),
        mlp.hidden.iter().map(|d| d.outputs).collect::<Vec<_>>(),
        mlp.actions(),
        mlp.value.is_some()
    );
    println!(
        "ours: f32 {:.3} ms, int8 {:.3} ms",
        ours_f32 * 1e3,
        ours_int8 * 1e3
    );

    let Some(py) = peer_python() else {
        println!("peer: no Python with tensorflow (set TACTICIAN_TF_PYTHON): ratio not measured");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    mlp.write(dir.path(), &[]).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/peer/export_keras.py");
    for (q, ours) in [("none", ours_f32), ("int8", ours_int8)] {
        let out = Command::new(&py)
            .arg(&script)
            .arg("--model")
            .arg(dir.path())
            .args(["--repeats", "5", "--quantize", q])
            .output()
            .expect("run the peer");
        if !out.status.success() {
            println!("peer failed: {}", String::from_utf8_lossy(&out.stderr));
            return;
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(line).expect("peer JSON");
        let mut times: Vec<f64> = v["convert_seconds"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t.as_f64())
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let import = v["import_seconds"].as_f64().unwrap_or(0.0);
        println!(
            "peer ({q}): TFLiteConverter.from_keras_model median {:.3} s per conversion \
             (+{import:.2} s importing tensorflow {}), {} bytes; ours {:.3} ms: \
             {:.0}x faster per conversion, {:.0}x counting the import",
            median,
            v["tensorflow"].as_str().unwrap_or("?"),
            v["bytes"],
            ours * 1e3,
            median / ours,
            (median + import) / ours
        );
    }
}
