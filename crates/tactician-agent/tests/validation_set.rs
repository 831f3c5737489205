//! The validation set's format: what is written reads back the same, and any other bytes
//! (truncated, extended, flipped) are refused with an error, never a panic.

use proptest::prelude::*;
use tactician_agent::{ValidationSet, ValidationSetError};

fn set() -> impl Strategy<Value = ValidationSet> {
    (1usize..6, 1usize..5, 0usize..8, any::<bool>()).prop_flat_map(|(f, a, rows, values)| {
        (
            prop::collection::vec(-1e3f32..1e3, rows * f),
            prop::collection::vec(0u8..=1, rows * a),
            prop::collection::vec(-1e3f32..1e3, rows * a),
            prop::collection::vec(-1f32..1.0, rows),
            "[a-z0-9-]{0,12}",
        )
            .prop_map(move |(x, legal, logits, v, enc)| ValidationSet {
                encoder_hash: enc,
                features: f,
                actions: a,
                x,
                legal,
                logits,
                values: values.then_some(v),
            })
    })
}

proptest! {
    #[test]
    fn round_trips(s in set()) {
        let bytes = s.to_bytes();
        prop_assert_eq!(ValidationSet::from_bytes(&bytes).unwrap(), s);
    }

    #[test]
    fn damaged_bytes_are_refused_without_panicking(s in set(), cut in 0usize..4096, extra in 1usize..9, flip in any::<prop::sample::Index>()) {
        let bytes = s.to_bytes();
        let cut = cut % bytes.len();
        prop_assert!(ValidationSet::from_bytes(&bytes[..cut]).is_err());
        let mut longer = bytes.clone();
        longer.extend(std::iter::repeat_n(0u8, extra));
        prop_assert!(ValidationSet::from_bytes(&longer).is_err());
        let mut flipped = bytes.clone();
        let i = flip.index(flipped.len());
        flipped[i] ^= 0x80;
        // A flipped float is still a set; a flipped magic, header or flag is not: either way
        // no panic, and a success must describe a set of the same shape.
        if let Ok(t) = ValidationSet::from_bytes(&flipped) {
            prop_assert_eq!((t.features, t.actions, t.rows()), (s.features, s.actions, s.rows()));
        }
    }
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(
        ValidationSet::from_bytes(b"not a set"),
        Err(ValidationSetError::Magic)
    );
    let s = ValidationSet {
        encoder_hash: "e".into(),
        features: 2,
        actions: 2,
        x: vec![0.0; 2],
        legal: vec![1, 2],
        logits: vec![0.0; 2],
        values: None,
    };
    let err = ValidationSet::from_bytes(&s.to_bytes()).unwrap_err();
    assert!(err.to_string().contains("expected 0 or 1"), "{err}");
}
