//! The symmetries used for augmentation (`tactician_game::symmetry`): for random states and
//! every kind of symmetry, the state transform in the engine and the feature map agree.
//!
//! - encoding the transformed state equals applying the feature map to the encoding (1e-6);
//! - the legal mask maps onto the transformed state's legal mask;
//! - the transformed action in the transformed state leads to the transformed next state, for
//!   every roll, and so to the same outcome.

mod common;

use common::{Dice, config, game_config, pick_mixed, play};
use proptest::prelude::*;
use tactician_battle::Encoder;
use tactician_game::symmetry::{SLOT_PERMS, Symmetry};
use tactician_game::{Action, Battle, GameConfig, NUM_ACTIONS, SkirmishEncoder};

fn symmetry() -> impl Strategy<Value = Symmetry> {
    (any::<bool>(), 0..6usize, 0..6usize).prop_map(|(mirror_rows, a, e)| Symmetry {
        mirror_rows,
        allies: SLOT_PERMS[a],
        enemies: SLOT_PERMS[e],
    })
}

fn mask_bits(b: &Battle) -> Vec<bool> {
    let legal = b.legal();
    (0..NUM_ACTIONS)
        .map(|i| legal.contains(Action::from_index(i).unwrap()))
        .collect()
}

/// Checks features and legal mask of `b` against its image under `s`.
fn check_state(b: &Battle, s: &Symmetry) -> Result<Battle, TestCaseError> {
    let image = s
        .apply(b)
        .map_err(|e| TestCaseError::fail(format!("{}: image refused: {e}", s.name())))?;
    let fs = s.features();
    let x = SkirmishEncoder.encode(b);
    let want = SkirmishEncoder.encode(&image);
    let mut got = vec![0.0; x.len()];
    fs.apply_features(&x, &mut got);
    let spec = SkirmishEncoder::feature_spec();
    if b.actor().is_some() {
        for i in 0..x.len() {
            prop_assert!(
                (got[i] - want[i]).abs() <= 1e-6,
                "{}: feature {} is {} after the map, {} in the image",
                s.name(),
                spec.features()[i].name,
                got[i],
                want[i]
            );
        }
    }
    prop_assert_eq!(
        fs.apply_mask_bits(&mask_bits(b)),
        mask_bits(&image),
        "{}",
        s.name()
    );
    Ok(image)
}

/// Plays `prefix` from `seed`, then up to eight more decisions chosen by `dice`, checking each
/// state against its image under `sym`, and every roll of every legal action.
fn commute(
    seed: u64,
    rules: GameConfig,
    prefix: &[u32],
    sym: Symmetry,
    dice: u64,
) -> Result<(), TestCaseError> {
    let mut b = Battle::new(seed, rules);
    play(&mut b, prefix);
    let mut dice = Dice(dice);
    // A few more decisions, checking each state on the way.
    for _ in 0..8 {
        let Some(actor) = b.actor() else { break };
        let image = check_state(&b, &sym)?;
        for a in b.legal().iter() {
            let ma = sym.action(a);
            prop_assert!(image.legal().contains(ma));
            for (_, roll) in b.chances(a).iter() {
                let (mut next, mut mnext) = (b, image);
                next.step_with_roll(a, roll, &mut ()).unwrap();
                mnext.step_with_roll(ma, roll, &mut ()).unwrap();
                let (setup, snap) = sym.apply_parts(actor.side(), &next.setup(), &next.snapshot());
                prop_assert_eq!(&mnext.setup(), &setup, "{} {:?}", sym.name(), a);
                prop_assert_eq!(&mnext.snapshot(), &snap, "{} {:?}", sym.name(), a);
                prop_assert_eq!(mnext.outcome(), next.outcome());
            }
        }
        let a = pick_mixed(&b, dice.next());
        b.step(a).unwrap();
    }
    check_state(&b, &sym)?;
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    /// Random states, random symmetries: features, masks and every roll of every legal action.
    #[test]
    fn symmetries_commute_with_encoder_and_engine(
        seed in any::<u64>(),
        rules in game_config(),
        prefix in prop::collection::vec(any::<u32>(), 0..150),
        sym in symmetry(),
        dice in any::<u64>(),
    ) {
        commute(seed, rules, &prefix, sym, dice)?;
    }

    /// Whole battles: the image battle, played with the mapped actions and the same generator,
    /// stays the image to the end and ends with the same outcome.
    #[test]
    fn image_battles_end_alike(
        seed in any::<u64>(),
        sym in symmetry(),
        dice in any::<u64>(),
    ) {
        let mut b = Battle::new(seed, Default::default());
        let side = b.actor().unwrap().side();
        let mut m = sym.apply(&b).unwrap();
        let mut dice = Dice(dice);
        while !b.is_over() {
            let a = pick_mixed(&b, dice.next());
            // The map is fixed by the side it was taken from, not the actor's.
            let s = if b.actor().unwrap().side() == side {
                sym
            } else {
                Symmetry { allies: sym.enemies, enemies: sym.allies, ..sym }
            };
            b.step(a).unwrap();
            m.step(s.action(a)).unwrap();
        }
        prop_assert_eq!(m.outcome(), b.outcome());
        let (setup, snap) = sym.apply_parts(side, &b.setup(), &b.snapshot());
        prop_assert_eq!(m.setup(), setup);
        prop_assert_eq!(m.snapshot(), snap);
    }
}

/// A state found by the property test above (1 case in about 5,000 failed): two enemies tie
/// exactly in the evaluation's exchange of blows. Ties once broke by slot order, so a
/// permutation of the enemies changed the one-ply values (`wait_gap` 0.412 against 0.464).
/// They now break by initiative, which travels with its unit.
#[test]
fn exchange_ties_do_not_depend_on_slot_order() {
    let prefix = [
        1986097580, 3265687021, 114681881, 715534417, 1462038464, 2103337957, 1059622885,
        128238027, 1856085163, 158007111, 3536393551, 1111404643, 155905197, 1165674206,
        2180425961, 3416190340, 631654491, 35482464, 505559, 229640194, 3871022334, 1462492184,
        642924647, 2205127029, 1836782781, 3308123892, 731461373, 593929570, 1142063646,
        3862524705, 574664925, 591630077, 2420167318, 261961622, 1836793888, 3988659447,
        2733244548, 2012304996, 0, 0, 3572305800, 1473373749, 3065438268, 2838181631, 2713309, 0,
        1557411640, 365903456, 1055264713, 3186432445, 1277517267, 0, 3077985291, 2583326985,
        791318058, 1138155105, 2113951104, 0, 2027221804, 1020163728, 253909619, 2798643189,
        2147469484, 0, 3066224560, 212023107,
    ];
    let sym = Symmetry {
        mirror_rows: false,
        allies: [0, 1, 2],
        enemies: [1, 0, 2],
    };
    let rules = GameConfig {
        max_rounds: 30,
        points_margin_pct: 10,
    };
    if let Err(e) = commute(5452463497352321279, rules, &prefix, sym, 0) {
        panic!("{e}");
    }
}

/// Every symmetry's feature map is a bijection, and mapping by a symmetry and its inverse
/// gives back the input.
#[test]
fn feature_maps_invert() {
    let b = Battle::new(7, Default::default());
    let x = SkirmishEncoder.encode(&b);
    for s in Symmetry::all() {
        let inv = Symmetry {
            mirror_rows: s.mirror_rows,
            allies: invert(s.allies),
            enemies: invert(s.enemies),
        };
        let (mut y, mut z) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        s.features().apply_features(&x, &mut y);
        inv.features().apply_features(&y, &mut z);
        for (a, b) in x.iter().zip(&z) {
            assert!((a - b).abs() <= 1e-6, "{}", s.name());
        }
    }
}

fn invert(p: [u8; 3]) -> [u8; 3] {
    let mut q = [0; 3];
    for (k, &v) in p.iter().enumerate() {
        q[usize::from(v)] = k as u8;
    }
    q
}
