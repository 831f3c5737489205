//! Numbers: the RFC 8259 number scan, and the readers of `f32` (with fast paths for small
//! integers, short decimals and runs of single digits), `f64`, `u64` and `i64`.

use super::error::{ErrorKind, JsonError, Result};
use super::parser::Parser;
use super::string::word_at;

impl<'a> Parser<'a> {
    /// Scans a number token (RFC 8259 grammar) and returns its text and whether it is an
    /// integer; classifies `NaN`/`Infinity` as non-finite.
    #[inline(always)]
    pub(super) fn number_text(&mut self) -> Result<(&'a [u8], bool)> {
        let b = self.peek()?;
        let buf = self.buf;
        let start = self.pos;
        let mut p = start;
        if b == b'-' {
            p += 1;
        }
        // Integer part: `0`, or a non-zero digit followed by digits.
        match buf.get(p) {
            Some(b'0') => p += 1,
            Some(b'1'..=b'9') => {
                p += 1;
                while p < buf.len() && buf[p].is_ascii_digit() {
                    p += 1;
                }
            }
            other => return self.number_start_error(b, other.copied(), p),
        }
        let mut integral = true;
        if p < buf.len() && buf[p] == b'.' {
            integral = false;
            p += 1;
            let d = p;
            while p < buf.len() && buf[p].is_ascii_digit() {
                p += 1;
            }
            if p == d {
                return self.digit_error(p);
            }
        }
        if p < buf.len() && (buf[p] | 0x20) == b'e' {
            integral = false;
            p += 1;
            if p < buf.len() && (buf[p] == b'+' || buf[p] == b'-') {
                p += 1;
            }
            let d = p;
            while p < buf.len() && buf[p].is_ascii_digit() {
                p += 1;
            }
            if p == d {
                return self.digit_error(p);
            }
        }
        if p < buf.len() && buf[p].is_ascii_digit() {
            // `01`: a leading zero followed by digits.
            self.pos = p;
            return self.err(ErrorKind::Syntax("no leading zeros"));
        }
        self.pos = p;
        Ok((&buf[start..p], integral))
    }

    #[cold]
    fn digit_error<T>(&mut self, p: usize) -> Result<T> {
        self.pos = p;
        if p >= self.buf.len() {
            self.err(ErrorKind::Eof)
        } else {
            self.err(ErrorKind::Syntax("a digit"))
        }
    }

    #[cold]
    fn number_start_error<T>(&mut self, first: u8, at: Option<u8>, p: usize) -> Result<T> {
        if first == b'N' || first == b'I' || (first == b'-' && at == Some(b'I')) {
            return self.err(ErrorKind::NonFinite);
        }
        if matches!(first, b'"' | b'{' | b'[' | b't' | b'f' | b'n') {
            return self.type_error("a number");
        }
        if first == b'-' && at.is_none() {
            self.pos = p;
            return self.err(ErrorKind::Eof);
        }
        self.err(ErrorKind::Syntax("a value"))
    }

    /// Reads a number as `f32` (correctly rounded); non-finite results are an error.
    #[inline(always)]
    pub fn f32(&mut self) -> Result<f32> {
        let at = self.pos;
        let (text, integral) = self.number_text()?;
        // Fast path for the small integers that dominate feature vectors.
        if integral && text.len() <= 7 {
            let (neg, digits) = match text.split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, text),
            };
            let v = digits
                .iter()
                .fold(0i32, |v, &d| v * 10 + i32::from(d - b'0'));
            return Ok(if neg { -(v as f32) } else { v as f32 });
        }
        // Short decimals (`0.0`, `1.0`, `0.13` as rewards and materials are written).
        if let Some((neg, m, k, len)) = simple_decimal(text, 10)
            && len == text.len()
            && m <= 1 << 24
        {
            let v = m as f32 / POW10_F32[k];
            return Ok(if neg { -v } else { v });
        }
        match fast_float2::parse::<f32, _>(text) {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(JsonError {
                kind: ErrorKind::NonFinite,
                at,
            }),
        }
    }

    /// Reads an array of numbers as `f32`, appending them to `out`. Same results as calling
    /// [`Parser::f32`] per element, with fast paths for the shapes encoders write most: runs of
    /// single digits (`0,1,0,0,`, read four at a time from one 64-bit word) and short decimals.
    pub fn f32_array(&mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.peek()? != b'[' {
            return self.type_error("an array");
        }
        self.pos += 1;
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        let buf = self.buf;
        let mut p = self.pos;
        loop {
            while let Some(w) = word_at(buf, p) {
                // Up to four `d,` pairs: write all four values, keep the pairs' (no branch on
                // which of them are pairs, which a decimal among the digits would mispredict).
                let n = digit_pairs(w);
                let d = w & 0x000F_000F_000F_000F;
                out.extend_from_slice(&[
                    (d & 0xF) as f32,
                    (d >> 16 & 0xF) as f32,
                    (d >> 32 & 0xF) as f32,
                    (d >> 48 & 0xF) as f32,
                ]);
                out.truncate(out.len() - (4 - n));
                p += 2 * n;
                if n < 4 {
                    break;
                }
            }
            let v = match (buf.get(p), buf.get(p + 1)) {
                (Some(&d @ b'0'..=b'9'), Some(b',' | b']')) => {
                    p += 1;
                    f32::from(d - b'0')
                }
                _ => match short_decimal(&buf[p..]) {
                    Some((v, len)) => {
                        p += len;
                        v
                    }
                    None => {
                        self.pos = p;
                        self.ws();
                        let v = self.f32()?;
                        p = self.pos;
                        v
                    }
                },
            };
            out.push(v);
            match buf.get(p) {
                Some(b',') => p += 1,
                Some(b']') => {
                    self.pos = p + 1;
                    return Ok(());
                }
                _ => {
                    self.pos = p;
                    match self.peek()? {
                        b',' => p = self.pos + 1,
                        b']' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return self.err(ErrorKind::Syntax("',' or ']'")),
                    }
                }
            }
        }
    }

    /// Reads a number as `f64`; non-finite results are an error.
    pub fn f64(&mut self) -> Result<f64> {
        let at = self.pos;
        let (text, integral) = self.number_text()?;
        // Integers of up to 15 digits (event amounts) are exact in `f64`.
        if integral && text.len() <= 15 {
            let (neg, digits) = match text.split_first() {
                Some((b'-', rest)) => (true, rest),
                _ => (false, text),
            };
            let v = digits
                .iter()
                .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
            return Ok(if neg { -(v as f64) } else { v as f64 });
        }
        // Short decimals: `m / 10^k` with `m < 2^53` and `k <= 15`, both exact in `f64`, is
        // one correctly rounded division (Clinger's fast path).
        if let Some((neg, m, k, len)) = simple_decimal(text, 15)
            && len == text.len()
            && m < 1 << 53
        {
            let v = m as f64 / POW10_F64[k];
            return Ok(if neg { -v } else { v });
        }
        match fast_float2::parse::<f64, _>(text) {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(JsonError {
                kind: ErrorKind::NonFinite,
                at,
            }),
        }
    }

    /// Reads a non-negative integer that fits `u64`.
    pub fn u64(&mut self) -> Result<u64> {
        let at = self.pos;
        let (text, integral) = self.number_text()?;
        if !integral || text.first() == Some(&b'-') {
            return Err(JsonError {
                kind: ErrorKind::Type("a non-negative integer"),
                at,
            });
        }
        let mut v: u64 = 0;
        for &d in text {
            v = match v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => v,
                None => {
                    return Err(JsonError {
                        kind: ErrorKind::Type("an integer below 2^64"),
                        at,
                    });
                }
            };
        }
        Ok(v)
    }

    /// Reads an integer that fits `i64`.
    pub fn i64(&mut self) -> Result<i64> {
        let at = self.pos;
        let (text, integral) = self.number_text()?;
        let bad = || JsonError {
            kind: ErrorKind::Type("an integer"),
            at,
        };
        if !integral {
            return Err(bad());
        }
        std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(bad)
    }
}

/// How many of the word's byte pairs, from the first, read `d,` (a single digit followed by a
/// comma): 0 to 4. Each 16-bit lane is tested on its own, with no carry between lanes.
#[inline(always)]
pub(super) fn digit_pairs(w: u64) -> usize {
    const LOW: u64 = 0x00FF_00FF_00FF_00FF;
    const BIT8: u64 = 0x0100_0100_0100_0100;
    let digit = w & LOW;
    // Bit 8 of a lane: the digit byte is at least `0` (0x30), at least `:` (0x3A).
    let at_least_0 = digit + 0x00D0_00D0_00D0_00D0;
    let past_9 = digit + 0x00C6_00C6_00C6_00C6;
    // Bit 8 of a lane: the second byte is not a comma.
    let not_comma = ((w ^ 0x2C00_2C00_2C00_2C00) >> 8 & LOW) + 0x00FF_00FF_00FF_00FF;
    let pairs = at_least_0 & !past_9 & !not_comma & BIT8;
    ((!pairs & BIT8).trailing_zeros() / 16) as usize
}

/// Exact powers of ten as `f32` (all up to 10^10 are representable).
const POW10_F32: [f32; 11] = [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// Exact powers of ten as `f64` (all up to 10^22 are representable).
const POW10_F64: [f64; 16] = [
    1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Reads `-?D.DDDD` (one integer digit, 1 to `max_frac` fraction digits, no exponent) at the
/// start of `s`: its sign, its digits as one integer `m`, the number of fraction digits `k`
/// (the value is `m / 10^k`), and its length. `None` for other shapes, or more fraction digits
/// (`max_frac` at most 17, so `m` stays below 10^19: no overflow checks in the loop).
#[inline(always)]
fn simple_decimal(s: &[u8], max_frac: usize) -> Option<(bool, u64, usize, usize)> {
    let (neg, i) = if s.first() == Some(&b'-') {
        (true, 1)
    } else {
        (false, 0)
    };
    let int = *s.get(i)?;
    if !int.is_ascii_digit() || *s.get(i + 1)? != b'.' {
        return None;
    }
    let start = i + 2;
    let end = (start + max_frac + 1).min(s.len());
    let mut m = u64::from(int - b'0');
    let mut i = start;
    while i < end {
        let d = s[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        m = m * 10 + u64::from(d);
        i += 1;
    }
    let k = i - start;
    if k == 0 || k > max_frac {
        return None;
    }
    Some((neg, m, k, i))
}

/// Reads `-?D.DDDD` (one integer digit, up to 10 fraction digits, no exponent) followed by `,`
/// or `]`, when its digits fit 2^24: then `m / 10^k` with both operands exact in `f32` is one
/// correctly rounded division (Clinger's fast path). Returns the value and the token length.
#[inline(always)]
pub(super) fn short_decimal(s: &[u8]) -> Option<(f32, usize)> {
    let (neg, m, k, len) = simple_decimal(s, 10)?;
    if m > 1 << 24 || !matches!(s.get(len), Some(b',' | b']')) {
        return None;
    }
    let v = m as f32 / POW10_F32[k];
    Some((if neg { -v } else { v }, len))
}
