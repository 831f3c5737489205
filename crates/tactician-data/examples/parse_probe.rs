//! Probe: parser speed on a decompressed log.
use tactician_data::ingest::{
    columns::Transitions,
    json::Parser,
    record::{DatasetEncoder, Source, parse_battle},
};
fn main() {
    let data = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let game = tactician_game::game_spec().unwrap();
    let enc = DatasetEncoder::for_game(&game);
    let t = std::time::Instant::now();
    if std::env::var("NOSKIP").is_err() {
        for l in &lines {
            let mut p = Parser::new(l);
            p.skip().unwrap();
        }
    }
    let dt = t.elapsed().as_secs_f64();
    println!("skip: {:.0} MB/s", data.len() as f64 / dt / 1e6);
    let t = std::time::Instant::now();
    let mut rows = 0;
    for (i, l) in lines.iter().enumerate() {
        let mut out = Transitions::default();
        parse_battle(
            l,
            &enc,
            Source {
                file: 0,
                line: i as u64,
            },
            0,
            &mut out,
        )
        .unwrap();
        rows += out.len();
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "parse: {:.0} MB/s, {:.0} rows/s",
        data.len() as f64 / dt / 1e6,
        rows as f64 / dt
    );
}
