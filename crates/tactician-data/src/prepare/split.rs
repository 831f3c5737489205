//! Assigning battles to the train, validation and test splits.
//!
//! A battle's split depends only on its id, the seed and the ratios: `u = top 53 bits of the
//! first 8 bytes (little-endian) of BLAKE3(seed as 8 little-endian bytes ‖ battle id) / 2^53`;
//! the battle is in train when `u < train`, in val when `u < train + val`, in test otherwise.
//! Adding battles to a dataset therefore never moves an existing battle to another split, and
//! every decision of a battle lands in the same split.

/// One of the three splits (the prepared format's own names and file names).
pub use tactician_formats::prepared::SplitName as Split;

/// The rule, as written in the manifest.
pub const RULE: &str = "u = (u64::from_le_bytes(blake3(seed.to_le_bytes() ++ battle_id)[0..8]) >> 11) / 2^53; \
train if u < train, val if u < train + val, else test";

/// The point in `[0, 1)` that decides a battle's split.
pub fn battle_point(seed: u64, battle_id: &str) -> f64 {
    let mut h = blake3::Hasher::new();
    h.update(&seed.to_le_bytes());
    h.update(battle_id.as_bytes());
    let bytes = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64
}

/// The split of `battle_id` under `seed` and the train and val ratios.
pub fn assign(seed: u64, battle_id: &str, train: f64, val: f64) -> Split {
    let u = battle_point(seed, battle_id);
    if u < train {
        Split::Train
    } else if u < train + val {
        Split::Val
    } else {
        Split::Test
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ratios_are_respected_roughly() {
        let mut counts = [0u32; 3];
        for i in 0..20_000 {
            counts[assign(7, &format!("b{i:08x}"), 0.8, 0.1) as usize] += 1;
        }
        assert!((15_600..16_400).contains(&counts[0]), "{counts:?}");
        assert!((1_800..2_200).contains(&counts[1]), "{counts:?}");
        assert!((1_800..2_200).contains(&counts[2]), "{counts:?}");
    }

    proptest! {
        #[test]
        fn point_is_in_unit_interval_and_seeded(id in "[a-z0-9]{1,24}", seed in any::<u64>()) {
            let u = battle_point(seed, &id);
            prop_assert!((0.0..1.0).contains(&u));
            prop_assert_eq!(u, battle_point(seed, &id));
        }
    }
}
