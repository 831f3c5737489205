//! `tract-peer MODEL [--iterations N] [--seed S]`: loads MODEL with tract-tflite, optimizes it
//! into a runnable plan and times `run` at batch 1 on synthetic features (the analogue of the
//! official interpreter's `invoke()`, inputs already built), plus a decision (input tensor built
//! from a feature slice, `run`, argmax of the first output). Prints one JSON line; a file tract
//! cannot load or run gives `{"loads": false, "error": ...}` and exit status 0, so that the
//! caller can report it.

use std::time::Instant;
use tract_tflite::prelude::*;

fn percentiles(ns: &mut [u64]) -> String {
    ns.sort_unstable();
    let pick = |q: f64| ns[((q * ns.len() as f64) as usize).min(ns.len() - 1)];
    let mean = ns.iter().sum::<u64>() as f64 / ns.len().max(1) as f64;
    format!(
        "{{\"p50_ns\":{},\"p90_ns\":{},\"p99_ns\":{},\"mean_ns\":{mean}}}",
        pick(0.5),
        pick(0.9),
        pick(0.99)
    )
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn bench(path: &str, iterations: usize, seed: u64) -> TractResult<String> {
    let model = tract_tflite::tflite().model_for_path(path)?;
    let fact = model.input_fact(0)?.clone();
    let shape: Vec<usize> = fact
        .shape
        .as_concrete()
        .map(|s| s.to_vec())
        .ok_or_else(|| tract_tflite::internal::format_err!("the input shape is not concrete"))?;
    let features: usize = shape.iter().product();
    let plan = model.into_optimized()?.into_runnable()?;
    // SplitMix64 features in [-1.5, 1.5): the values do not change float32 timings.
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 * 3.0 - 1.5
    };
    let pool: Vec<Vec<f32>> = (0..256)
        .map(|_| (0..features).map(|_| next()).collect())
        .collect();
    let tensors: Vec<TValue> = pool
        .iter()
        .map(|row| Ok(Tensor::from_shape(&shape, row)?.into_tvalue()))
        .collect::<TractResult<_>>()?;
    for t in tensors.iter().take(32) {
        plan.run(tvec!(t.clone()))?;
    }
    let mut run_ns = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let t = tensors[i % tensors.len()].clone();
        let start = Instant::now();
        let out = plan.run(tvec!(t))?;
        run_ns.push(start.elapsed().as_nanos() as u64);
        std::hint::black_box(out);
    }
    let mut decision_ns = Vec::with_capacity(iterations);
    let mut checksum = 0usize;
    for i in 0..iterations {
        let row = &pool[i % pool.len()];
        let start = Instant::now();
        let input = Tensor::from_shape(&shape, row)?.into_tvalue();
        let out = plan.run(tvec!(input))?;
        let first: &Tensor = &out[0];
        let logits = first.to_plain_array_view::<f32>()?;
        let best = logits
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |b, (k, &v)| if v > b.1 { (k, v) } else { b },
            );
        decision_ns.push(start.elapsed().as_nanos() as u64);
        checksum = checksum.wrapping_add(best.0);
    }
    Ok(format!(
        "{{\"loads\":true,\"engine\":\"tract-tflite 0.23.9\",\"run\":{},\"decision\":{},\"checksum\":{checksum}}}",
        percentiles(&mut run_ns),
        percentiles(&mut decision_ns)
    ))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut model = None;
    let (mut iterations, mut seed) = (20_000usize, 7u64);
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--iterations" => {
                i += 1;
                iterations = args
                    .get(i)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(iterations);
            }
            "--seed" => {
                i += 1;
                seed = args.get(i).and_then(|v| v.parse().ok()).unwrap_or(seed);
            }
            a => model = Some(a.to_string()),
        }
        i += 1;
    }
    let Some(model) = model else {
        eprintln!("usage: tract-peer MODEL [--iterations N] [--seed S]");
        std::process::exit(2);
    };
    match bench(&model, iterations.max(1), seed) {
        Ok(json) => println!("{json}"),
        Err(e) => println!(
            "{{\"loads\":false,\"engine\":\"tract-tflite 0.23.9\",\"error\":{}}}",
            json_string(&format!("{e:#}"))
        ),
    }
}
