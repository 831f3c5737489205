//! JSON errors: what went wrong and at which byte ([`JsonError`], [`ErrorKind`]), and the
//! parser's helpers that report them, type errors included.

use super::MAX_DEPTH;
use super::parser::Parser;
use std::fmt;

/// What went wrong, and where (byte offset in the document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// The kind of problem.
    pub kind: ErrorKind,
    /// Byte offset where it was found.
    pub at: usize,
}

/// Kinds of JSON problems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The document ends in the middle of a value (a truncated line).
    Eof,
    /// A syntax error: something else was expected.
    Syntax(&'static str),
    /// `NaN`, `Infinity`, or a number too large for its type.
    NonFinite,
    /// A value of another JSON type than the field needs.
    Type(&'static str),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Bytes after the document.
    Trailing,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Eof => write!(f, "unexpected end of data at byte {}", self.at),
            ErrorKind::Syntax(what) => write!(f, "expected {what} at byte {}", self.at),
            ErrorKind::NonFinite => write!(f, "non-finite number at byte {}", self.at),
            ErrorKind::Type(what) => write!(f, "expected {what} at byte {}", self.at),
            ErrorKind::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH} at byte {}", self.at),
            ErrorKind::Trailing => {
                write!(f, "unexpected data after the document at byte {}", self.at)
            }
        }
    }
}

/// Result of a parse step.
pub type Result<T> = std::result::Result<T, JsonError>;

impl<'a> Parser<'a> {
    pub(super) fn err<T>(&self, kind: ErrorKind) -> Result<T> {
        Err(JsonError { kind, at: self.pos })
    }

    pub(super) fn type_error<T>(&mut self, what: &'static str) -> Result<T> {
        // A value of the wrong type is still checked for syntax, so a truncated document is
        // reported as truncated rather than as a type error.
        let at = self.pos;
        self.skip()?;
        Err(JsonError {
            kind: ErrorKind::Type(what),
            at,
        })
    }
}
