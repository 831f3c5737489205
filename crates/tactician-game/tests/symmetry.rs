//! Side symmetry: swapping the sides and mirroring the board (`x → 7 - x`) changes nothing a
//! unit can see or do. The encoder gives the same features to corresponding units, the legal
//! actions (side-relative) are the same, and the engine plays the mirrored battle as the
//! mirror image of the original. This is the groundwork for one policy serving both sides and
//! for doubling data by mirroring.

mod common;

use common::{Dice, config, game_config, mirror, mirrored, pick_mixed, play};
use proptest::prelude::*;
use tactician_battle::Encoder;
use tactician_game::{Battle, Legal, SkirmishEncoder, UnitId};

fn flip(u: UnitId) -> UnitId {
    UnitId::new(1 - u.side(), u.slot())
}

/// The encoder's view of every unit in `b` and in its mirror image, bit for bit.
fn check_views(b: &Battle, m: &Battle) -> Result<(), TestCaseError> {
    let n = SkirmishEncoder::num_features();
    let spec = SkirmishEncoder::feature_spec();
    prop_assert_eq!(m.actor(), b.actor().map(flip));
    prop_assert_eq!(m.legal(), b.legal());
    let (va, vb) = (SkirmishEncoder.encode(b), SkirmishEncoder.encode(m));
    if b.actor().is_some() {
        for i in 0..n {
            prop_assert!(
                va[i].to_bits() == vb[i].to_bits(),
                "feature {} differs: {} vs {} (mirrored)",
                spec.features()[i].name,
                va[i],
                vb[i]
            );
        }
    }
    for u in UnitId::all() {
        if !b.unit(u).alive() {
            continue;
        }
        let legal = if Some(u) == b.actor() {
            b.legal()
        } else {
            Legal(0)
        };
        let mut x = vec![0.0; n];
        let mut y = vec![0.0; n];
        SkirmishEncoder::encode_unit(b, u, legal, &mut x);
        SkirmishEncoder::encode_unit(m, flip(u), legal, &mut y);
        for i in 0..n {
            prop_assert!(
                x[i].to_bits() == y[i].to_bits(),
                "{:?}'s feature {} differs: {} vs {} (mirrored)",
                u,
                spec.features()[i].name,
                x[i],
                y[i]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    /// Every unit's features are identical in a battle and its mirror image.
    #[test]
    fn encoder_is_side_symmetric(
        seed in any::<u64>(),
        rules in game_config(),
        choices in prop::collection::vec(any::<u32>(), 0..200),
    ) {
        let mut b = Battle::new(seed, rules);
        for chunk in choices.chunks(5) {
            check_views(&b, &mirrored(&b))?;
            play(&mut b, chunk);
        }
        check_views(&b, &mirrored(&b))?;
    }

    /// Playing the same (side-relative) actions in a battle and in its mirror image keeps them
    /// mirror images of each other to the end, and the mirrored winner is the other side.
    #[test]
    fn engine_is_side_symmetric(
        seed in any::<u64>(),
        rules in game_config(),
        prefix in prop::collection::vec(any::<u32>(), 0..100),
        dice in any::<u64>(),
    ) {
        let mut b = Battle::new(seed, rules);
        play(&mut b, &prefix);
        let mut m = mirrored(&b);
        let mut dice = Dice(dice);
        while !b.is_over() {
            let a = pick_mixed(&b, dice.next());
            b.step(a).unwrap();
            m.step(a).unwrap();
            let (setup, snap) = mirror(&b.setup(), &b.snapshot());
            prop_assert_eq!(m.setup(), setup);
            prop_assert_eq!(m.snapshot(), snap);
            check_views(&b, &m)?;
        }
        let (o, mo) = (b.outcome().unwrap(), m.outcome().unwrap());
        prop_assert_eq!(mo.victory, o.victory);
        prop_assert_eq!(mo.winner, o.winner.map(|w| 1 - w));
    }
}

/// Generated maps are their own mirror image, so a battle's mirror is played on the same map
/// and neither side has the better ground.
#[test]
fn generated_maps_are_mirror_symmetric() {
    for seed in 0..2000 {
        let b = Battle::new(seed, Default::default());
        let setup = b.setup();
        let (mirrored_setup, _) = mirror(&setup, &b.snapshot());
        assert_eq!(mirrored_setup.map, setup.map, "seed {seed}");
    }
}
