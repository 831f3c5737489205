//! Quick probe.
use tactician_game::*;
fn main() {
    let t = std::time::Instant::now();
    let mut turns = 0u64;
    let mut wins = [0u32; 3];
    let mut vict = std::collections::BTreeMap::new();
    let n = 20000;
    let mut r = SplitMix64::new(9);
    for seed in 0..n {
        let mut b = Battle::new(seed, GameConfig::default());
        while !b.is_over() {
            let l = b.legal();
            let a = l.nth(r.below(l.count())).unwrap();
            b.step(a).unwrap();
        }
        turns += b.turn() as u64;
        let o = b.outcome().unwrap();
        wins[o.winner.map(|w| w as usize).unwrap_or(2)] += 1;
        *vict.entry(format!("{:?}", o.victory)).or_insert(0) += 1;
    }
    let dt = t.elapsed().as_secs_f64();
    println!("{} turns/s, avg turns {:.1}, wins {:?} {:?}", turns as f64 / dt, turns as f64 / n as f64, wins, vict);
}
