//! Legal-action masks over a fixed-size action space.

use std::fmt;

/// Errors from building or parsing an [`ActionMask`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MaskError {
    /// The bit string has a length different from the action count.
    #[error("legal mask has {got} entries, expected {expected}")]
    WrongLength {
        /// Entries expected (the action count).
        expected: usize,
        /// Entries found.
        got: usize,
    },
    /// The bit string holds a character other than `0` or `1`.
    #[error("legal mask holds {0:?}, only '0' and '1' are allowed")]
    BadChar(char),
    /// A bit is set beyond the action count.
    #[error("legal mask sets bit {bit} but there are only {actions} actions")]
    BitOutOfRange {
        /// The offending bit.
        bit: usize,
        /// The action count.
        actions: usize,
    },
}

/// Which actions of a fixed-size action space are legal.
///
/// Stored as 64-bit words; action `i` is legal when bit `i % 64` of word `i / 64` is set.
/// Its text form (used in battle logs) is a string of `0` and `1`, one character per action,
/// action 0 first.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ActionMask {
    len: usize,
    words: Vec<u64>,
}

impl ActionMask {
    /// A mask of `len` actions with none legal.
    pub fn none(len: usize) -> Self {
        Self {
            len,
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// A mask of up to 64 actions from the low bits of `bits`.
    pub fn from_bits(len: usize, bits: u64) -> Result<Self, MaskError> {
        let mut mask = Self::none(len);
        for bit in 0..64 {
            if bits >> bit & 1 == 1 {
                if bit >= len {
                    return Err(MaskError::BitOutOfRange { bit, actions: len });
                }
                mask.set(bit, true);
            }
        }
        Ok(mask)
    }

    /// Parses the text form: one `0` or `1` per action.
    pub fn from_bitstring(s: &str, expected_len: usize) -> Result<Self, MaskError> {
        let got = s.chars().count();
        if got != expected_len {
            return Err(MaskError::WrongLength {
                expected: expected_len,
                got,
            });
        }
        let mut mask = Self::none(expected_len);
        for (i, c) in s.chars().enumerate() {
            match c {
                '0' => {}
                '1' => mask.set(i, true),
                other => return Err(MaskError::BadChar(other)),
            }
        }
        Ok(mask)
    }

    /// The text form: one `0` or `1` per action, action 0 first.
    pub fn to_bitstring(&self) -> String {
        (0..self.len)
            .map(|i| if self.is_legal(i) { '1' } else { '0' })
            .collect()
    }

    /// Number of actions in the action space.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the action space is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether action `i` is legal (false for out-of-range `i`).
    pub fn is_legal(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Marks action `i` legal or illegal.
    ///
    /// # Panics
    /// When `i` is out of range: masks are built by games, which know their action count.
    pub fn set(&mut self, i: usize, legal: bool) {
        assert!(i < self.len, "action {i} out of range {}", self.len);
        let bit = 1u64 << (i % 64);
        if legal {
            self.words[i / 64] |= bit;
        } else {
            self.words[i / 64] &= !bit;
        }
    }

    /// Number of legal actions.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The legal actions in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&i| self.is_legal(i))
    }

    /// One byte per action (1 legal, 0 not), as training tensors store masks.
    pub fn to_bytes(&self) -> Vec<u8> {
        (0..self.len).map(|i| u8::from(self.is_legal(i))).collect()
    }
}

impl fmt::Debug for ActionMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActionMask({})", self.to_bitstring())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bitstring_round_trips(bits in proptest::collection::vec(any::<bool>(), 0..200)) {
            let mut mask = ActionMask::none(bits.len());
            for (i, &b) in bits.iter().enumerate() {
                mask.set(i, b);
            }
            let text = mask.to_bitstring();
            prop_assert_eq!(text.len(), bits.len());
            let back = ActionMask::from_bitstring(&text, bits.len()).unwrap();
            prop_assert_eq!(&back, &mask);
            prop_assert_eq!(back.count(), bits.iter().filter(|&&b| b).count());
            let legal: Vec<usize> = back.iter().collect();
            let expected: Vec<usize> = bits.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| i).collect();
            prop_assert_eq!(legal, expected);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,80}", len in 0usize..100) {
            let _ = ActionMask::from_bitstring(&s, len);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            ActionMask::from_bitstring("01", 3),
            Err(MaskError::WrongLength {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            ActionMask::from_bitstring("0x1", 3),
            Err(MaskError::BadChar('x'))
        );
        assert_eq!(
            ActionMask::from_bits(3, 0b1000),
            Err(MaskError::BitOutOfRange { bit: 3, actions: 3 })
        );
        assert!(!ActionMask::none(3).is_legal(7));
    }
}
