//! Fuzzes the strict reader: any bytes must give `Ok` or `Err`, never a panic, and a model
//! that parses must serialize and parse back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactician_tflite::Model;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = Model::parse(data) {
        let bytes = model.to_bytes().expect("a parsed model serializes");
        let again = Model::parse(&bytes).expect("a written model parses");
        assert_eq!(format!("{again:?}"), format!("{model:?}"));
    }
});
