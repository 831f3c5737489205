//! Round robin between scripted strategies, for tuning them.
//!
//! ```text
//! cargo run --release -p tactician-game --example round_robin -- [BATTLES] [NAME...]
//! ```
//!
//! Plays every pair of the named strategies (default: all) over `BATTLES / 2` seeds with both
//! side assignments, on all cores, and prints the win-rate table (row against column, draws
//! count as not won), the draw rates, and the average time per decision of each strategy.
//! `SEARCH_DEPTH=3` and `SEARCH_WEIGHTS=alive=30,exchange=0.5,...` override the search
//! player's settings, and `RUN_SEED` (default 1) picks the battle seeds: tune on seeds other
//! than the published table's. The timings come from `Instant` around every `choose` call.
//! `tactician_data::tournament` is the tool for recorded results.

use std::time::{Duration, Instant};
use tactician_game::strategy::{self, DEFAULT_DEPTH, Search, Strategy, Weights};
use tactician_game::{Battle, GameConfig, SplitMix64};

fn make(name: &str, seed: u64) -> Box<dyn Strategy> {
    if name == "search" {
        let depth = std::env::var("SEARCH_DEPTH")
            .ok()
            .and_then(|d| d.parse().ok())
            .unwrap_or(DEFAULT_DEPTH);
        return Box::new(Search::with(depth, weights()));
    }
    strategy::by_name(name, seed).unwrap_or_else(|e| panic!("{e}"))
}

fn weights() -> Weights {
    let mut w = Weights::default();
    let Ok(spec) = std::env::var("SEARCH_WEIGHTS") else {
        return w;
    };
    for kv in spec.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').expect("weights are key=value");
        let v: f32 = v.parse().expect("weight values are numbers");
        let slot = match k {
            "alive" => &mut w.alive,
            "exchange_turns" => {
                w.exchange_turns = v as u8;
                continue;
            }
            "danger" => &mut w.danger,
            "cohesion" => &mut w.cohesion,
            "focus" => &mut w.focus,
            "exchange" => &mut w.exchange,
            "exchange_heal" => &mut w.exchange_heal,
            "shield" => &mut w.shield,
            "shield_idle" => &mut w.shield_idle,
            "stun" => &mut w.stun,
            "energy" => &mut w.energy,
            "cooldown" => &mut w.cooldown,
            "potion" => &mut w.potion,
            "bomb" => &mut w.bomb,
            "forest" => &mut w.forest,
            "swamp" => &mut w.swamp,
            "approach" => &mut w.approach,
            "approach_ahead" => &mut w.approach_ahead,
            "comfort" => &mut w.comfort,
            "win" => &mut w.win,
            "draw" => &mut w.draw,
            other => panic!("unknown weight {other}"),
        };
        *slot = v;
    }
    w
}

/// Result of one battle for the strategy on side 0: 1 win, 0 draw, -1 loss; plus turns and the
/// time and count of decisions per side.
fn battle(names: [&str; 2], seed: u64) -> (i8, u32, [(Duration, u32); 2]) {
    let mut players = [
        make(names[0], SplitMix64::derive(seed, 1).next_u64()),
        make(names[1], SplitMix64::derive(seed, 2).next_u64()),
    ];
    let mut b = Battle::new(seed, GameConfig::default());
    let mut time = [(Duration::ZERO, 0u32); 2];
    while let Some(actor) = b.actor() {
        let s = actor.side() as usize;
        let legal = b.legal();
        let t = Instant::now();
        let a = players[s].choose(&b, legal);
        time[s].0 += t.elapsed();
        time[s].1 += 1;
        b.step(a).expect("strategies choose legal actions");
    }
    let o = b.outcome().expect("over");
    (o.value_for(0) as i8, b.turn(), time)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let battles: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let names: Vec<&str> = if args.len() > 1 {
        args[1..].iter().map(String::as_str).collect()
    } else {
        strategy::NAMES.to_vec()
    };
    let run_seed: u64 = std::env::var("RUN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let n = names.len();
    let mut jobs = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            for k in 0..battles / 2 {
                jobs.push((i, j, SplitMix64::derive(run_seed, k).next_u64()));
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let chunks: Vec<Vec<(usize, usize, u64)>> = (0..threads)
        .map(|t| jobs.iter().copied().skip(t).step_by(threads).collect())
        .collect();
    let start = Instant::now();
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let names = &names;
                s.spawn(move || {
                    let mut out = Vec::new();
                    for &(i, j, seed) in chunk {
                        let (r1, t1, m1) = battle([names[i], names[j]], seed);
                        let (r2, t2, m2) = battle([names[j], names[i]], seed);
                        out.push((i, j, r1, r2, t1 + t2, [m1, m2]));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut wins = vec![vec![0u32; n]; n];
    let mut draws = vec![vec![0u32; n]; n];
    let mut played = vec![vec![0u32; n]; n];
    let mut time = vec![(Duration::ZERO, 0u32); n];
    for (i, j, r1, r2, _, m) in results {
        // r1: i on side 0; r2: j on side 0.
        for (r, a, b) in [(r1, i, j), (-r2, i, j)] {
            played[a][b] += 1;
            played[b][a] += 1;
            match r {
                1 => wins[a][b] += 1,
                -1 => wins[b][a] += 1,
                _ => {
                    draws[a][b] += 1;
                    draws[b][a] += 1;
                }
            }
        }
        for (who, side) in [(i, 0), (j, 1)] {
            time[who].0 += m[0][side].0;
            time[who].1 += m[0][side].1;
        }
        for (who, side) in [(j, 0), (i, 1)] {
            time[who].0 += m[1][side].0;
            time[who].1 += m[1][side].1;
        }
    }
    println!(
        "{} battles per pair in {:.1}s; win % (draw %)",
        battles,
        start.elapsed().as_secs_f64()
    );
    print!("{:>11}", "");
    for name in &names {
        print!("{name:>13}");
    }
    println!("{:>10}", "ms/dec");
    for i in 0..n {
        print!("{:>11}", names[i]);
        for j in 0..n {
            if i == j {
                print!("{:>13}", "-");
            } else {
                let p = f64::from(played[i][j]);
                let w = 100.0 * f64::from(wins[i][j]) / p;
                let d = 100.0 * f64::from(draws[i][j]) / p;
                print!("{:>13}", format!("{w:.1} ({d:.0})"));
            }
        }
        let (t, c) = time[i];
        println!("{:>10.4}", t.as_secs_f64() * 1e3 / f64::from(c.max(1)));
    }
}
