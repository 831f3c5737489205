//! Simulator benchmarks: turns per second under random play (with and without recording
//! events), one step, `legal()` and `encode_into()` per call, and whole random battles.
//!
//! Run with `cargo bench -p tactician-game --bench sim`. Throughput is in elements: turns for
//! the play benchmarks, calls for `legal`/`encode_into`/`step`, battles for `battle`.

use criterion::{Criterion, Throughput, criterion_main};
use std::hint::black_box;
use tactician_battle::Encoder;
use tactician_game::{Action, Battle, Event, GameConfig, SkirmishEncoder, SplitMix64};

/// Battles per batch in the play benchmarks.
const BATTLES: u64 = 64;
/// States sampled for the per-call benchmarks.
const STATES: usize = 4096;

/// The uniformly random player used everywhere here.
fn choose(battle: &Battle, rng: &mut SplitMix64) -> Action {
    let legal = battle.legal();
    legal.nth(rng.below(legal.count())).unwrap_or(Action::Wait)
}

/// Plays battle `seed` to its end with random choices; returns the number of turns.
fn play_random(seed: u64) -> u32 {
    let mut battle = Battle::new(seed, GameConfig::default());
    let mut rng = SplitMix64::derive(seed, 1);
    while !battle.is_over() {
        let a = choose(&battle, &mut rng);
        battle.step(a).unwrap();
    }
    battle.turn()
}

/// The same, recording every event into a buffer that is cleared per decision (what the
/// recorder does).
fn play_random_recorded(seed: u64, events: &mut Vec<Event>) -> u32 {
    let mut battle = Battle::new(seed, GameConfig::default());
    let mut rng = SplitMix64::derive(seed, 1);
    while !battle.is_over() {
        let a = choose(&battle, &mut rng);
        events.clear();
        battle.step_with(a, events).unwrap();
    }
    battle.turn()
}

/// Decision points from random battles, spread over whole battles.
fn sample_states() -> Vec<Battle> {
    let mut states = Vec::with_capacity(STATES);
    let mut seed = 0;
    while states.len() < STATES {
        let mut battle = Battle::new(seed, GameConfig::default());
        let mut rng = SplitMix64::derive(seed, 2);
        while !battle.is_over() && states.len() < STATES {
            states.push(battle);
            let a = choose(&battle, &mut rng);
            battle.step(a).unwrap();
        }
        seed += 1;
    }
    states
}

fn play(c: &mut Criterion) {
    let turns: u64 = (0..BATTLES).map(|s| u64::from(play_random(s))).sum();
    let mut group = c.benchmark_group("play");
    group.throughput(Throughput::Elements(turns));
    group.bench_function("random_turns", |b| {
        b.iter(|| (0..BATTLES).map(|s| play_random(black_box(s))).sum::<u32>())
    });
    let mut events = Vec::with_capacity(64);
    group.bench_function("random_turns_recording_events", |b| {
        b.iter(|| {
            (0..BATTLES)
                .map(|s| play_random_recorded(black_box(s), &mut events))
                .sum::<u32>()
        })
    });
    group.finish();

    let mut group = c.benchmark_group("battle");
    group.throughput(Throughput::Elements(BATTLES));
    group.bench_function("whole_random_battle", |b| {
        b.iter(|| (0..BATTLES).map(|s| play_random(black_box(s))).sum::<u32>())
    });
    group.bench_function("new_battle", |b| {
        b.iter(|| {
            (0..BATTLES)
                .map(|s| Battle::new(black_box(s), GameConfig::default()).turn())
                .sum::<u32>()
        })
    });
    group.finish();
}

fn per_call(c: &mut Criterion) {
    let states = sample_states();
    let mut rng = SplitMix64::new(3);
    let actions: Vec<Action> = states.iter().map(|b| choose(b, &mut rng)).collect();
    let mut group = c.benchmark_group("per_call");
    group.throughput(Throughput::Elements(states.len() as u64));
    group.bench_function("legal", |b| {
        b.iter(|| {
            states
                .iter()
                .fold(0u32, |acc, s| acc ^ black_box(s).legal().0)
        })
    });
    group.bench_function("step", |b| {
        b.iter(|| {
            states.iter().zip(&actions).fold(0u32, |acc, (s, &a)| {
                let mut c = *black_box(s);
                c.step(a).unwrap();
                acc ^ c.turn()
            })
        })
    });
    let encoder = SkirmishEncoder;
    let mut out = vec![0.0f32; SkirmishEncoder::num_features()];
    group.bench_function("encode_into", |b| {
        b.iter(|| {
            states.iter().fold(0.0f32, |acc, s| {
                encoder.encode_into(black_box(s), &mut out);
                acc + out[0]
            })
        })
    });
    group.finish();
}

/// The generated group function lives in a private module: `criterion_group!` makes it `pub`
/// without docs.
mod groups {
    use super::{per_call, play};
    criterion::criterion_group!(benches, play, per_call);
}

criterion_main!(groups::benches);
