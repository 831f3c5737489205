//! Probe: zstd frame decompression speed.
use std::time::Instant;
fn main() {
    let data = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let n = zstd::zstd_safe::find_frame_compressed_size(&data[pos..]).unwrap();
        frames.push(&data[pos..pos + n]);
        pos += n;
    }
    let mut dctx = zstd::zstd_safe::DCtx::create();
    let mut out: Vec<u8> = Vec::with_capacity(200 << 20);
    let t = Instant::now();
    for f in &frames {
        let size = zstd::zstd_safe::get_frame_content_size(f).unwrap().unwrap() as usize;
        out.reserve(size);
        let start = out.len();
        let mut cur = std::io::Cursor::new(std::mem::take(&mut out));
        cur.set_position(start as u64);
        dctx.decompress(&mut cur, f).unwrap();
        out = cur.into_inner();
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "{} frames, {:.0} MB/s decompressed",
        frames.len(),
        out.len() as f64 / dt / 1e6
    );
}
