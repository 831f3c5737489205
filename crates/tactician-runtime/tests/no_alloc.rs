//! Inference allocates nothing: a counting global allocator watches `Engine::run` and
//! `Policy::act` (with and without the cache) after warm-up.
// A global allocator is `unsafe` by definition; it only forwards to the system allocator.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tactician_runtime::{Policy, PolicyOptions, load_engine};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// thread-local counter is const-initialized, so touching it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (r, ALLOCS.with(Cell::get) - before)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

#[test]
fn inference_does_not_allocate() {
    // The counter must see allocations at all, or the test proves nothing.
    let (_, n) = allocations(|| std::hint::black_box(vec![1u8; 64]));
    assert!(n >= 1);
    for name in [
        "large-f32.tflite",
        "large-dynamic.tflite",
        "large-int8.tflite",
        "value-int8.tflite",
        "mixed-int8.tflite",
        "mixed-f32.tflite",
    ] {
        let mut engine = load_engine(&fixture(name), 8).unwrap();
        let f = engine.inputs()[0].row;
        for batch in [1, 8] {
            engine.input_mut(0, batch).unwrap().fill(0.5);
            engine.run(batch).unwrap();
            let (r, n) = allocations(|| {
                for _ in 0..10 {
                    engine.run(batch).unwrap();
                }
            });
            let () = r;
            assert_eq!(
                n, 0,
                "{name}: Engine::run(batch {batch}) allocated {n} times"
            );
        }
        let bytes = fixture(name);
        for cache in [0, 4] {
            let mut p = Policy::load(
                &bytes,
                &PolicyOptions {
                    max_batch: 8,
                    cache_capacity: cache,
                    ..PolicyOptions::default()
                },
            )
            .unwrap();
            let a = p.actions();
            let legal = vec![true; a];
            let feats: Vec<Vec<f32>> = (0..6).map(|i| vec![i as f32 * 0.1; f]).collect();
            p.act(&feats[0], &legal).unwrap();
            let (_, n) = allocations(|| {
                // Misses, hits and evictions (6 keys through a 4-entry cache).
                for round in 0..3 {
                    for x in &feats {
                        std::hint::black_box(p.act(x, &legal).unwrap().action + round);
                    }
                }
            });
            assert_eq!(
                n, 0,
                "{name}: Policy::act (cache {cache}) allocated {n} times"
            );
            let fb: Vec<f32> = feats.concat()[..4 * f].to_vec();
            let lb = vec![true; 4 * a];
            p.act_batch(&fb, &lb, 4).unwrap();
            let (_, n) = allocations(|| {
                std::hint::black_box(p.act_batch(&fb, &lb, 4).unwrap().actions[0]);
            });
            assert_eq!(n, 0, "{name}: Policy::act_batch allocated {n} times");
        }
    }
}
