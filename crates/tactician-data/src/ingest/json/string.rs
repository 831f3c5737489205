//! Strings: the fast scan of a string's bytes (eight at a time), the checked UTF-8 of plain
//! strings, and the decoding of escapes, `\u` surrogate pairs included.

use super::error::{ErrorKind, JsonError, Result};
use super::parser::Parser;
use std::borrow::Cow;

/// A scanned string: its bytes when it has no escapes, else where it starts.
pub(super) enum Raw<'a> {
    Plain(&'a [u8]),
    Escaped(usize),
}

/// Bytes that end the fast scan of a string: quote, backslash, control and non-ASCII bytes.
pub(super) static STRING_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize;
        i += 1;
    }
    t
};

impl<'a> Parser<'a> {
    /// Scans a string whose opening quote is next. Without escapes, returns its bytes
    /// (checked UTF-8); with escapes, returns where it started so [`Parser::string`] can decode it.
    #[inline(always)]
    pub(super) fn string_raw(&mut self) -> Result<Raw<'a>> {
        let start = self.pos;
        self.pos += 1;
        let body = self.pos;
        let buf = self.buf;
        let p = first_special(buf, body);
        match buf.get(p) {
            None => {
                self.pos = buf.len();
                self.err(ErrorKind::Eof)
            }
            Some(b'"') => {
                let bytes = &buf[body..p];
                self.pos = p + 1;
                if !bytes.is_ascii() && std::str::from_utf8(bytes).is_err() {
                    return Err(JsonError {
                        kind: ErrorKind::Syntax("UTF-8 text"),
                        at: body,
                    });
                }
                Ok(Raw::Plain(bytes))
            }
            Some(b'\\') => Ok(Raw::Escaped(start)),
            Some(&b) if b >= 0x80 => {
                // Non-ASCII text: find the end of the string, then check it as a whole.
                let mut q = p;
                while q < buf.len() && buf[q] != b'"' && buf[q] != b'\\' && buf[q] >= 0x20 {
                    q += 1;
                }
                match buf.get(q) {
                    Some(b'"') => {
                        let bytes = &buf[body..q];
                        self.pos = q + 1;
                        if std::str::from_utf8(bytes).is_err() {
                            return Err(JsonError {
                                kind: ErrorKind::Syntax("UTF-8 text"),
                                at: body,
                            });
                        }
                        Ok(Raw::Plain(bytes))
                    }
                    Some(b'\\') => Ok(Raw::Escaped(start)),
                    None => {
                        self.pos = buf.len();
                        self.err(ErrorKind::Eof)
                    }
                    Some(_) => {
                        self.pos = q;
                        self.err(ErrorKind::Syntax("no control characters in strings"))
                    }
                }
            }
            Some(_) => {
                self.pos = p;
                self.err(ErrorKind::Syntax("no control characters in strings"))
            }
        }
    }

    /// Reads a string.
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        match self.peek()? {
            b'"' => {}
            b'{' | b'[' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9' => {
                return self.type_error("a string");
            }
            _ => return self.err(ErrorKind::Syntax("a value")),
        }
        let opening = self.pos;
        if let Raw::Plain(bytes) = self.string_raw()? {
            // Checked by `string_raw`.
            return Ok(Cow::Borrowed(
                std::str::from_utf8(bytes).unwrap_or_default(),
            ));
        }
        self.pos = opening + 1;
        let start = self.pos;
        while self.buf[self.pos] != b'\\' {
            self.pos += 1;
        }
        let mut out: Vec<u8> = self.buf[start..self.pos].to_vec();
        loop {
            match self.buf.get(self.pos) {
                None => return self.err(ErrorKind::Eof),
                Some(b'"') => {
                    self.pos += 1;
                    return String::from_utf8(out)
                        .map(Cow::Owned)
                        .map_err(|_| JsonError {
                            kind: ErrorKind::Syntax("UTF-8 text"),
                            at: start,
                        });
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(&e) = self.buf.get(self.pos) else {
                        return self.err(ErrorKind::Eof);
                    };
                    self.pos += 1;
                    match e {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let c = self.unicode_escape()?;
                            let mut tmp = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                        }
                        _ => {
                            self.pos -= 1;
                            return self.err(ErrorKind::Syntax("a valid escape"));
                        }
                    }
                }
                Some(&b) if b < 0x20 => {
                    return self.err(ErrorKind::Syntax("no control characters in strings"));
                }
                Some(&b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let end = self.pos + 4;
        if end > self.buf.len() {
            self.pos = self.buf.len();
            return self.err(ErrorKind::Eof);
        }
        let mut v = 0u32;
        for &b in &self.buf[self.pos..end] {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => return self.err(ErrorKind::Syntax("four hex digits")),
            };
            v = v * 16 + u32::from(d);
        }
        self.pos = end;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> Result<char> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.buf.get(self.pos..self.pos + 2) != Some(b"\\u") {
                return self.err(ErrorKind::Syntax("a low surrogate escape"));
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return self.err(ErrorKind::Syntax("a low surrogate"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).map_or_else(|| self.err(ErrorKind::Syntax("a valid code point")), Ok)
    }
}

/// The offset of the first byte at or after `p` that ends the fast scan of a string
/// ([`STRING_SPECIAL`]), or `buf.len()`; eight bytes at a time (keys and short strings end
/// within a word or two, which a byte loop pays for in mispredicted exits).
#[inline(always)]
pub(super) fn first_special(buf: &[u8], mut p: usize) -> usize {
    while let Some(w) = word_at(buf, p) {
        let m = special_bytes(w);
        if m != 0 {
            return p + (m.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while p < buf.len() && !STRING_SPECIAL[buf[p] as usize] {
        p += 1;
    }
    p
}

/// A mask whose lowest set bit is the high bit of the first [`STRING_SPECIAL`] byte of the
/// word (little-endian), zero if there is none. Bits above the lowest may be false positives
/// (borrows), which is why only the lowest is used.
#[inline(always)]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero(w ^ (ONES * u64::from(b'"')));
    let backslash = zero(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    quote | backslash | control | (w & HIGH)
}

/// The eight bytes at `p` as a little-endian word, if there are eight.
#[inline(always)]
pub(super) fn word_at(buf: &[u8], p: usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(p..p.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}
