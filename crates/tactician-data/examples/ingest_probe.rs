//! Probe: ingest logs into a dataset.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(&args[1]);
    let logs: Vec<std::path::PathBuf> = args[2..].iter().map(Into::into).collect();
    let game = tactician_game::game_spec().unwrap();
    let opts = tactician_data::ingest::IngestOptions {
        threads: std::env::var("T")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        ..Default::default()
    };
    match tactician_data::ingest::ingest(&out, &logs, &game, &opts, &|_| {}) {
        Ok(r) => println!(
            "{}\n{:.0} transitions/s",
            serde_json::to_string_pretty(&r).unwrap(),
            r.transitions as f64 / r.seconds
        ),
        Err(e) => println!("error: {e}"),
    }
}
