//! Why a record was quarantined.

use serde::Serialize;
use std::fmt;

/// The reason codes of the quarantine, one per kind of defect (see `docs/battle-log.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Not valid JSON.
    MalformedJson,
    /// The line ends in the middle of the record (cut off).
    Truncated,
    /// The compressed stream is corrupt from here on; the rest of the file is unreadable.
    CorruptCompression,
    /// The file could not be read from here on (an I/O error).
    ReadError,
    /// A line longer than the configured limit.
    TooLarge,
    /// A required field is absent.
    MissingField,
    /// A field holds a value of the wrong type or outside its domain.
    InvalidValue,
    /// The record declares a format this version does not read.
    UnsupportedFormat,
    /// `NaN`, infinity, or a number too large for its type.
    NonFinite,
    /// The encoder hash is not known to this dataset.
    UnknownEncoder,
    /// A feature vector has the wrong length.
    FeatureLength,
    /// A feature value lies outside the range the spec declares for it.
    FeatureRange,
    /// A legal mask has the wrong length or characters other than `0`/`1`.
    MaskInvalid,
    /// The action index is outside the action space.
    ActionOutOfRange,
    /// The action is not legal under the decision's own mask.
    ActionIllegal,
    /// Decision turns are out of order, repeated or missing.
    TurnOrder,
    /// The battle has no decisions.
    EmptyBattle,
    /// The outcome contradicts the decisions or the final state.
    OutcomeInconsistent,
    /// A battle id seen before (in this ingest or already in the dataset).
    DuplicateBattle,
}

impl Reason {
    /// Every reason, in report order.
    pub const ALL: [Reason; 19] = [
        Reason::MalformedJson,
        Reason::Truncated,
        Reason::CorruptCompression,
        Reason::ReadError,
        Reason::TooLarge,
        Reason::MissingField,
        Reason::InvalidValue,
        Reason::UnsupportedFormat,
        Reason::NonFinite,
        Reason::UnknownEncoder,
        Reason::FeatureLength,
        Reason::FeatureRange,
        Reason::MaskInvalid,
        Reason::ActionOutOfRange,
        Reason::ActionIllegal,
        Reason::TurnOrder,
        Reason::EmptyBattle,
        Reason::OutcomeInconsistent,
        Reason::DuplicateBattle,
    ];

    /// The snake_case code written to the quarantine.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MalformedJson => "malformed_json",
            Reason::Truncated => "truncated",
            Reason::CorruptCompression => "corrupt_compression",
            Reason::ReadError => "read_error",
            Reason::TooLarge => "too_large",
            Reason::MissingField => "missing_field",
            Reason::InvalidValue => "invalid_value",
            Reason::UnsupportedFormat => "unsupported_format",
            Reason::NonFinite => "non_finite",
            Reason::UnknownEncoder => "unknown_encoder",
            Reason::FeatureLength => "feature_length",
            Reason::FeatureRange => "feature_range",
            Reason::MaskInvalid => "mask_invalid",
            Reason::ActionOutOfRange => "action_out_of_range",
            Reason::ActionIllegal => "action_illegal",
            Reason::TurnOrder => "turn_order",
            Reason::EmptyBattle => "empty_battle",
            Reason::OutcomeInconsistent => "outcome_inconsistent",
            Reason::DuplicateBattle => "duplicate_battle",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected record: the reason, a human-readable detail, and the battle id when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The reason code.
    pub reason: Reason,
    /// What exactly was wrong.
    pub detail: String,
    /// The battle id, when the record got that far.
    pub battle_id: Option<String>,
}

impl Reject {
    pub(crate) fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            battle_id: None,
        }
    }
}
