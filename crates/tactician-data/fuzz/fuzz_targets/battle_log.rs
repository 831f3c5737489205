//! Fuzzes what ingest does with the bytes of a battle log, for the built-in game and for an
//! external game (`docs/examples/external/spec.json`, with its declared victories):
//!
//! - the record parser and validator (`parse_chunk`) on the bytes as JSON Lines: never a
//!   panic; every record is accepted or rejected (records = accepted + rejected), and the
//!   accepted battles' rows are exactly their decisions;
//! - the reader (zstd detection, frame or stream decompression, line cutting, size limits) on
//!   the bytes as a file, with every unit of work it emits run as ingest runs it: never a
//!   panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{Seek, Write};
use std::sync::OnceLock;
use tactician_battle::GameSpec;
use tactician_data::ingest::chunk::parse_chunk;
use tactician_data::ingest::reader::{Item, ReadOptions, read_file};
use tactician_data::ingest::record::DatasetEncoder;
use tactician_data::ingest::work::run;

fn encoders() -> &'static [DatasetEncoder; 2] {
    static ENCODERS: OnceLock<[DatasetEncoder; 2]> = OnceLock::new();
    ENCODERS.get_or_init(|| {
        let builtin = tactician_game::game_spec().expect("the built-in game");
        let external =
            GameSpec::from_json(include_bytes!("../../../../docs/examples/external/spec.json"))
                .expect("the example spec parses");
        [
            DatasetEncoder::for_game(&builtin),
            DatasetEncoder::for_game(&external),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    for encoder in encoders() {
        let result = parse_chunk(0, 1, data, encoder);
        assert_eq!(
            result.records as usize,
            result.battles.len() + result.rejects.len(),
            "every record is accepted or rejected"
        );
        let decisions: usize = result.battles.iter().map(|b| b.turns as usize).sum();
        assert_eq!(
            result.rows.len(),
            decisions,
            "rows are the accepted decisions"
        );
        assert!(
            result
                .rows
                .battle
                .iter()
                .all(|&b| (b as usize) < result.battles.len())
        );
    }

    // The same bytes as a log file. Small limits, so that chunking and the record size limit
    // are reached by small inputs too.
    let mut file = tempfile::tempfile().expect("temporary file");
    file.write_all(data).expect("write the input");
    file.rewind().expect("rewind");
    let opts = ReadOptions {
        chunk_bytes: 4096,
        max_line: 64 << 10,
    };
    let encoder = &encoders()[0];
    read_file(0, file, opts, &mut |item| {
        if let Item::Work(work) = item {
            let _ = run(&work, encoder);
        }
        true
    });
});
