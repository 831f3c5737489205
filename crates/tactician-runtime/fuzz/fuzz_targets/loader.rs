//! Any bytes: load them as a model and, if that succeeds, run one decision. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tactician_runtime::{Policy, PolicyOptions, load_engine};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut engine) = load_engine(data, 2) {
        if let Ok(x) = engine.input_mut(0, 2) {
            x.iter_mut()
                .enumerate()
                .for_each(|(i, v)| *v = (i % 5) as f32 - 2.0);
        }
        let _ = engine.run(2);
    }
    if let Ok(mut p) = Policy::load(data, &PolicyOptions::default()) {
        let (f, a) = (p.features(), p.actions());
        let _ = p.act(&vec![0.5; f], &vec![true; a]);
    }
});
