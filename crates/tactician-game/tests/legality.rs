//! The legal-action mask is the engine's contract: every action it allows applies, every action
//! it forbids (and every action outside the action space) is refused with an error, never a
//! panic, and leaves the battle unchanged.

mod common;

use common::{bad_slot_actions, config, game_config, pick, pick_mixed};
use proptest::prelude::*;
use tactician_game::{Action, Battle, GameError, NUM_ACTIONS, Roll};

/// Tries every action on copies of `b` and checks each against the mask.
fn check_every_action(b: &Battle) -> Result<(), TestCaseError> {
    let legal = b.legal();
    prop_assert_eq!(legal.0 >> NUM_ACTIONS, 0, "bits beyond the action space");
    for i in 0..NUM_ACTIONS {
        let action = Action::from_index(i).unwrap();
        let mut by_index = *b;
        let mut by_action = *b;
        let mut by_roll = *b;
        let r_index = by_index.step_index(i);
        let r_action = by_action.step(action);
        let r_roll = by_roll.step_with_roll(action, Roll::default(), &mut ());
        if legal.contains_index(i) {
            prop_assert!(r_index.is_ok(), "legal {} refused: {:?}", action, r_index);
            prop_assert!(r_action.is_ok(), "legal {} refused: {:?}", action, r_action);
            prop_assert!(
                r_roll.is_ok(),
                "legal {} refused with a roll: {:?}",
                action,
                r_roll
            );
            prop_assert_eq!(by_index, by_action, "step_index and step disagree");
        } else {
            let expected = match b.actor() {
                None => GameError::BattleOver,
                Some(actor) => GameError::Illegal { action, actor },
            };
            prop_assert_eq!(r_index, Err(expected.clone()));
            prop_assert_eq!(r_action, Err(expected.clone()));
            prop_assert_eq!(r_roll, Err(expected));
            prop_assert_eq!(&by_index, b, "refused {} changed the battle", action);
            prop_assert_eq!(&by_action, b, "refused {} changed the battle", action);
            prop_assert_eq!(&by_roll, b, "refused {} changed the battle", action);
        }
    }
    Ok(())
}

/// Actions outside the action space: indices from 20 up, slots from 3 up.
fn check_invalid_actions(b: &Battle, big_index: usize) -> Result<(), TestCaseError> {
    for i in [
        NUM_ACTIONS,
        NUM_ACTIONS + 1,
        31,
        32,
        64,
        big_index,
        usize::MAX,
    ] {
        let mut c = *b;
        let r = c.step_index(i);
        prop_assert_eq!(r, Err(GameError::UnknownAction(i)));
        prop_assert_eq!(&c, b);
        prop_assert!(!b.legal().contains_index(i));
    }
    for action in bad_slot_actions() {
        let mut c = *b;
        let r = c.step(action);
        // Compare variants only: formatting an out-of-range action is covered by the
        // regression tests.
        match (b.actor(), r) {
            (None, Err(GameError::BattleOver)) => {}
            (
                Some(actor),
                Err(GameError::Illegal {
                    action: a,
                    actor: u,
                }),
            ) => {
                prop_assert!(a == action && u == actor);
            }
            (_, other) => prop_assert!(false, "{:?} gave {:?}", action, other.is_ok()),
        }
        prop_assert_eq!(&c, b);
        let r = c.step_with_roll(action, Roll::default(), &mut ());
        prop_assert!(r.is_err());
        prop_assert_eq!(&c, b);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    /// At every decision of a random battle, each of the 20 actions applies exactly when the
    /// mask allows it, and invalid actions are refused.
    #[test]
    fn mask_is_exactly_what_step_accepts(
        seed in any::<u64>(),
        rules in game_config(),
        choices in prop::collection::vec(any::<u32>(), 0..220),
        big_index in (NUM_ACTIONS..usize::MAX),
    ) {
        let mut b = Battle::new(seed, rules);
        check_every_action(&b)?;
        check_invalid_actions(&b, big_index)?;
        for c in choices {
            if b.is_over() {
                break;
            }
            let a = pick_mixed(&b, c);
            b.step(a).unwrap();
            check_every_action(&b)?;
        }
        // Whether or not the choices ran out, play to the end and check the finished battle.
        let mut n = 0u32;
        while !b.is_over() {
            n = n.wrapping_mul(31).wrapping_add(7);
            let a = pick(&b, n);
            b.step(a).unwrap();
        }
        check_every_action(&b)?;
        check_invalid_actions(&b, big_index)?;
    }

    /// The mask agrees with its own accessors: `contains`, `contains_index`, `iter`, `nth`,
    /// `count`, the bit string and the shared `ActionMask`.
    #[test]
    fn mask_accessors_agree(seed in any::<u64>(), choices in prop::collection::vec(any::<u32>(), 0..60)) {
        let mut b = Battle::new(seed, Default::default());
        common::play(&mut b, &choices);
        let legal = b.legal();
        let listed: Vec<Action> = legal.iter().collect();
        prop_assert_eq!(listed.len() as u32, legal.count());
        for (n, a) in listed.iter().enumerate() {
            prop_assert_eq!(legal.nth(n as u32), Some(*a));
            prop_assert!(legal.contains(*a));
        }
        prop_assert_eq!(legal.nth(legal.count()), None);
        let bits = legal.to_bitstring();
        prop_assert_eq!(bits.len(), NUM_ACTIONS);
        for i in 0..NUM_ACTIONS {
            let a = Action::from_index(i).unwrap();
            prop_assert_eq!(legal.contains_index(i), legal.contains(a));
            prop_assert_eq!(legal.contains_index(i), listed.contains(&a));
            prop_assert_eq!(bits.as_bytes()[i] == b'1', legal.contains(a));
        }
        prop_assert_eq!(legal.to_mask().to_bitstring(), bits);
    }
}

/// A stunned unit may only wait.
#[test]
fn stunned_units_only_wait() {
    let mut seen = 0;
    for seed in 0..300 {
        let mut b = Battle::new(seed, Default::default());
        let mut n = seed as u32;
        while let Some(actor) = b.actor() {
            if b.unit(actor).stun > 0 {
                assert_eq!(b.legal().iter().collect::<Vec<_>>(), vec![Action::Wait]);
                seen += 1;
            }
            n = n.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let a = pick(&b, n >> 8);
            b.step(a).unwrap();
        }
    }
    assert!(seen > 0, "no stunned unit in 300 random battles");
}
