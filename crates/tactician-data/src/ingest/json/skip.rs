//! Skipping a value while checking its syntax: a tight scan of compact JSON as our writers
//! produce it, and the general state machine for everything else, errors included.

use super::MAX_DEPTH;
use super::error::{ErrorKind, Result};
use super::parser::Parser;
use super::string::{Raw, first_special};

impl<'a> Parser<'a> {
    /// Skips one value, checking its syntax.
    ///
    /// Compact JSON as our writers produce it (no white space, ASCII strings without escapes)
    /// takes a tight scan ([`fast_skip`]) that only ever accepts what [`Parser::skip_general`]
    /// accepts, ending at the same offset; anything else (white space, escapes, non-ASCII
    /// text, and every error) is scanned again by the general state machine, so errors and
    /// their offsets are exactly the general ones.
    #[inline]
    pub fn skip(&mut self) -> Result<()> {
        self.ws();
        match fast_skip(self.buf, self.pos) {
            Some(end) => {
                self.pos = end;
                Ok(())
            }
            None => self.skip_general(),
        }
    }

    /// Skips one value, checking its syntax: an iterative state machine with an explicit
    /// stack of open containers (one bit per level), so deep documents cost no recursion.
    pub fn skip_general(&mut self) -> Result<()> {
        let mut stack: u64 = 0; // bit i set: level i is an object
        let mut depth: usize = 0;
        loop {
            // Expecting a value.
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.buf[self.pos] == b'{';
                    if depth >= MAX_DEPTH {
                        return self.err(ErrorKind::TooDeep);
                    }
                    self.pos += 1;
                    let close = if object { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.pos += 1;
                    } else {
                        if object {
                            stack |= 1 << depth;
                        } else {
                            stack &= !(1 << depth);
                        }
                        depth += 1;
                        if object {
                            self.key_colon()?;
                        }
                        continue;
                    }
                }
                b'"' => match self.string_raw()? {
                    Raw::Plain(_) => {}
                    Raw::Escaped(start) => {
                        self.pos = start;
                        self.string()?;
                    }
                },
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => {
                    self.number_text()?;
                }
            }
            // After a value: close containers or move to the next member.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let object = stack >> (depth - 1) & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if object {
                            self.key_colon()?;
                        }
                        break;
                    }
                    b'}' if object => {
                        self.pos += 1;
                        depth -= 1;
                    }
                    b']' if !object => {
                        self.pos += 1;
                        depth -= 1;
                    }
                    _ => {
                        return self.err(ErrorKind::Syntax(if object {
                            "',' or '}'"
                        } else {
                            "',' or ']'"
                        }));
                    }
                }
            }
        }
    }

    /// Reads `"key":` inside an object being skipped.
    #[inline(always)]
    fn key_colon(&mut self) -> Result<()> {
        if self.peek()? != b'"' {
            return self.err(ErrorKind::Syntax("a key string"));
        }
        if let Raw::Escaped(start) = self.string_raw()? {
            self.pos = start;
            self.string()?;
        }
        self.eat(b':', "':'")
    }
}

/// Skips the compact JSON value at `p` and returns where it ends, or `None` when the value is
/// not compact valid JSON of the simple kind (white space, an escape, non-ASCII text, nesting
/// as deep as [`MAX_DEPTH`], or any error): the caller then scans it with the general parser.
/// Whenever it returns an offset, [`Parser::skip_general`] accepts the same value and ends at
/// the same offset.
#[inline]
pub(super) fn fast_skip(buf: &[u8], mut p: usize) -> Option<usize> {
    let mut stack: u64 = 0; // bit i set: level i is an object
    let mut depth: usize = 0;
    loop {
        // Expecting a value.
        match *buf.get(p)? {
            open @ (b'{' | b'[') => {
                if depth + 1 >= MAX_DEPTH {
                    return None;
                }
                p += 1;
                let object = open == b'{';
                let close = if object { b'}' } else { b']' };
                if *buf.get(p)? == close {
                    p += 1;
                } else {
                    if object {
                        stack |= 1 << depth;
                        p = fast_key(buf, p)?;
                    } else {
                        stack &= !(1 << depth);
                    }
                    depth += 1;
                    continue;
                }
            }
            b'"' => p = fast_string(buf, p)?,
            b'-' | b'0'..=b'9' => p = fast_number(buf, p)?,
            b't' => p = fast_literal(buf, p, b"true")?,
            b'f' => p = fast_literal(buf, p, b"false")?,
            b'n' => p = fast_literal(buf, p, b"null")?,
            _ => return None,
        }
        // After a value: close containers or move to the next member.
        loop {
            if depth == 0 {
                return Some(p);
            }
            let object = stack >> (depth - 1) & 1 == 1;
            match (*buf.get(p)?, object) {
                (b',', true) => {
                    p = fast_key(buf, p + 1)?;
                    break;
                }
                (b',', false) => {
                    p += 1;
                    break;
                }
                (b'}', true) | (b']', false) => {
                    p += 1;
                    depth -= 1;
                }
                _ => return None,
            }
        }
    }
}

/// `"key":` at `p` (compact, ASCII, no escapes): the offset after the colon.
#[inline(always)]
fn fast_key(buf: &[u8], p: usize) -> Option<usize> {
    if *buf.get(p)? != b'"' {
        return None;
    }
    let p = fast_string(buf, p)?;
    (*buf.get(p)? == b':').then_some(p + 1)
}

/// The string whose quote is at `p` (ASCII, no escapes, no control bytes): the offset after
/// its closing quote.
#[inline(always)]
fn fast_string(buf: &[u8], p: usize) -> Option<usize> {
    let q = first_special(buf, p + 1);
    (*buf.get(q)? == b'"').then_some(q + 1)
}

/// A number at `p`, as RFC 8259 writes them: the offset after it. `None` for anything else,
/// including a digit right after it (`01`).
#[inline(always)]
fn fast_number(buf: &[u8], mut p: usize) -> Option<usize> {
    let digits = |mut p: usize| {
        while buf.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        p
    };
    if buf[p] == b'-' {
        p += 1;
    }
    match *buf.get(p)? {
        b'0' => p += 1,
        b'1'..=b'9' => p = digits(p + 1),
        _ => return None,
    }
    if buf.get(p) == Some(&b'.') {
        let q = digits(p + 1);
        if q == p + 1 {
            return None;
        }
        p = q;
    }
    if buf.get(p).is_some_and(|&b| b | 0x20 == b'e') {
        p += 1;
        if matches!(buf.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        let q = digits(p);
        if q == p {
            return None;
        }
        p = q;
    }
    if buf.get(p).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some(p)
}

/// `word` (`true`, `false`, `null`) at `p`: the offset after it.
#[inline(always)]
fn fast_literal(buf: &[u8], p: usize, word: &[u8]) -> Option<usize> {
    let end = p + word.len();
    (buf.get(p..end)? == word).then_some(end)
}
