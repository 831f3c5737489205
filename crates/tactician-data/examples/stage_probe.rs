//! Probe: per-stage cost of an ingest, single thread, on 1 MB chunks as the pipeline uses.
use std::time::Instant;
use tactician_data::dataset::{batch, schema, table::TableWriter};
use tactician_data::ingest::{chunk::parse_chunk, record::DatasetEncoder};
fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let game = tactician_game::game_spec().unwrap();
    let enc = DatasetEncoder::for_game(&game);
    let comp: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let t = Instant::now();
    let plain: Vec<Vec<u8>> = comp
        .iter()
        .map(|c| zstd::stream::decode_all(&c[..]).unwrap())
        .collect();
    let d = t.elapsed().as_secs_f64();
    let mut chunks: Vec<&[u8]> = Vec::new();
    for p in &plain {
        let mut rest = &p[..];
        while !rest.is_empty() {
            let cut = (1 << 20).min(rest.len());
            let end = memchr::memchr(b'\n', &rest[cut - 1..]).map_or(rest.len(), |i| cut + i);
            chunks.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    let t = Instant::now();
    let mut results: Vec<_> = chunks.iter().map(|c| parse_chunk(0, 1, c, &enc)).collect();
    let p = t.elapsed().as_secs_f64();
    let rows: usize = results.iter().map(|r| r.rows.len()).sum();
    let tschema = schema::transitions(game.features());
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut w = TableWriter::new(
        dir.path(),
        "transitions",
        tschema.clone(),
        1,
        u64::MAX,
        1 << 16,
    );
    let mut conv = 0.0;
    for r in &mut results {
        let t0 = Instant::now();
        let b = batch::transitions(r, &tschema).unwrap();
        conv += t0.elapsed().as_secs_f64();
        w.write(&b).unwrap();
    }
    let files = w.finish().unwrap();
    let wr = t.elapsed().as_secs_f64();
    let mb: usize = plain.iter().map(|p| p.len()).sum();
    println!(
        "rows {rows}, {:.0} bytes/row, parquet {} bytes",
        mb as f64 / rows as f64,
        files[0].bytes
    );
    for (name, s) in [
        ("decompress", d),
        ("parse", p),
        ("arrow convert", conv),
        ("parquet write (incl convert)", wr),
    ] {
        println!("{name:>30}: {:.2} us/row", s * 1e6 / rows as f64);
    }
    println!(
        "{:>30}: {:.2} us/row",
        "total",
        (d + p + wr) * 1e6 / rows as f64
    );
}
