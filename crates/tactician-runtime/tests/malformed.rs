//! Malformed, truncated and mutated files, and unsupported graphs: errors, never panics.
//! (The bounded "fuzz" run of CI: a deterministic mutation loop over the fixtures, loader plus
//! one inference per survivor. Coverage-guided fuzzing: see fuzz/.)

mod common;

use tactician_runtime::graph::{DType, OpKind};
use tactician_runtime::{Engine, Error, Policy, PolicyOptions, load_engine};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// Loader plus one inference: anything but a panic is fine.
fn try_model(bytes: &[u8]) {
    if let Ok(mut e) = load_engine(bytes, 2) {
        let f = e.inputs()[0].row;
        if let Ok(x) = e.input_mut(0, 2) {
            for (i, v) in x.iter_mut().enumerate() {
                *v = (i % 7) as f32 - 3.0;
            }
        }
        let _ = e.run(2);
        let _ = f;
    }
    let _ = Policy::load(bytes, &PolicyOptions::default()).map(|mut p| {
        let (f, a) = (p.features(), p.actions());
        let _ = p.act(&vec![0.5; f], &vec![true; a]);
    });
}

#[test]
fn truncated_files_are_errors() {
    for name in [
        "small-f32.tflite",
        "value-int8.tflite",
        "mixed-dynamic.tflite",
    ] {
        let bytes = fixture(name);
        let step = (bytes.len() / 300).max(1);
        for len in (0..bytes.len()).step_by(step) {
            match load_engine(&bytes[..len], 1) {
                Err(Error::Malformed(_)) | Err(Error::Unsupported(_)) => {}
                Err(e) => panic!("{name}[..{len}]: unexpected error kind {e}"),
                Ok(_) => panic!("{name}[..{len}]: a truncated file loaded"),
            }
        }
    }
    assert!(matches!(load_engine(b"", 1), Err(Error::Malformed(_))));
    assert!(matches!(
        load_engine(b"not a model at all", 1),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn mutated_files_never_panic() {
    // xorshift-seeded mutations: byte flips, overwrites with boundary values, and splices.
    let mut s = 0x5EED_u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let iterations = if cfg!(debug_assertions) { 1500 } else { 6000 };
    for name in [
        "small-f32.tflite",
        "small-int8.tflite",
        "value-dynamic.tflite",
        "mixed-int8.tflite",
    ] {
        let base = fixture(name);
        for _ in 0..iterations {
            let mut m = base.clone();
            for _ in 0..1 + next() % 4 {
                let pos = (next() as usize) % m.len();
                match next() % 4 {
                    0 => m[pos] ^= 1 << (next() % 8),
                    1 => m[pos] = [0u8, 0xff, 0x7f, 0x80][(next() % 4) as usize],
                    2 => {
                        let v = (next() as u32).to_le_bytes();
                        let end = (pos + 4).min(m.len());
                        m[pos..end].copy_from_slice(&v[..end - pos]);
                    }
                    _ => m.truncate(pos.max(8)),
                }
            }
            try_model(&m);
        }
    }
}

#[test]
fn unsupported_operators_and_types_are_named() {
    let mut g = common::mlp(8, 4, 3, 1, false);
    g.ops[1].kind = OpKind::Unsupported {
        name: "CONV_2D".into(),
    };
    let e = Engine::new(&g, 1).unwrap_err().to_string();
    assert!(e.contains("CONV_2D") && e.contains("operator 1"), "{e}");

    let mut g = common::mlp(8, 4, 3, 1, false);
    g.tensors[1].dtype = DType::Other("FLOAT16".into());
    let e = Engine::new(&g, 1).unwrap_err().to_string();
    assert!(
        e.contains("FLOAT16") && e.contains("FULLY_CONNECTED"),
        "{e}"
    );

    // An operator reading a tensor nothing wrote.
    let mut g = common::mlp(8, 4, 3, 1, false);
    g.ops.swap(0, 1);
    let e = Engine::new(&g, 1).unwrap_err().to_string();
    assert!(e.contains("read before it is written"), "{e}");

    // Weights that do not match the input width.
    let mut g = common::mlp(8, 4, 3, 1, false);
    g.tensors[0].shape = vec![1, 9];
    assert!(Engine::new(&g, 1).is_err());

    // Indices out of range.
    let mut g = common::mlp(8, 4, 3, 1, false);
    g.ops[0].inputs[1] = 99;
    assert!(Engine::new(&g, 1).is_err());
    g.ops[0].inputs[1] = -5;
    assert!(Engine::new(&g, 1).is_err());
}
