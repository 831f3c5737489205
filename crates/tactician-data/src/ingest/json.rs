//! A small pull parser for one JSON document held in memory.
//!
//! Ingest reads hundreds of thousands of decisions per second; `serde_json` reaches about a
//! third of that on our records (measured: 95k decisions/s per core, most of the time in
//! generic float parsing and in scanning sub-objects we do not need). This parser reads
//! exactly the fields a record needs straight into column buffers, skips the rest with a
//! validating scan, and reports *why* a document is bad (truncated, not finite, wrong type),
//! which the quarantine needs. It accepts exactly RFC 8259 JSON except that it does not
//! reject duplicate keys (the last one wins, as in `serde_json`).

use std::borrow::Cow;
use std::fmt;

/// Nesting deeper than this is refused (a crafted document must not exhaust the stack).
pub const MAX_DEPTH: usize = 64;

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

/// A scanned string: its bytes when it has no escapes, else where it starts.
enum Raw<'a> {
    Plain(&'a [u8]),
    Escaped(usize),
}

/// Bytes that end the fast scan of a string: quote, backslash, control and non-ASCII bytes.
static STRING_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize;
        i += 1;
    }
    t
};

/// A cursor over one JSON document.
pub struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The bytes from `start` to the current offset (a value just skipped).
    pub fn raw(&self, start: usize) -> &'a [u8] {
        &self.buf[start..self.pos]
    }

    /// Current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn err<T>(&self, kind: ErrorKind) -> Result<T> {
        Err(JsonError { kind, at: self.pos })
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&b) = self.buf.get(self.pos) {
            if b > b' ' || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    /// The next non-space byte, without consuming it.
    #[inline(always)]
    pub fn peek(&mut self) -> Result<u8> {
        self.ws();
        match self.buf.get(self.pos) {
            Some(&b) => Ok(b),
            None => self.err(ErrorKind::Eof),
        }
    }

    #[inline]
    fn eat(&mut self, byte: u8, what: &'static str) -> Result<()> {
        if self.peek()? == byte {
            self.pos += 1;
            Ok(())
        } else {
            self.err(ErrorKind::Syntax(what))
        }
    }

    /// Checks that only white space follows the document.
    pub fn finish(&mut self) -> Result<()> {
        self.ws();
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            self.err(ErrorKind::Trailing)
        }
    }

    /// Reads an object, calling `field(parser, key)` for each member; `field` must consume the
    /// member's value (parse it, or [`Parser::skip`] it).
    #[inline]
    pub fn object(&mut self, mut field: impl FnMut(&mut Self, &[u8]) -> Result<()>) -> Result<()> {
        if self.peek()? != b'{' {
            return self.type_error("an object");
        }
        self.pos += 1;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return self.err(ErrorKind::Syntax("a key string"));
            }
            match self.string_raw()? {
                Raw::Plain(key) => {
                    self.eat(b':', "':'")?;
                    field(self, key)?;
                }
                Raw::Escaped(start) => {
                    self.pos = start;
                    let key = self.string()?.into_owned();
                    self.eat(b':', "':'")?;
                    field(self, key.as_bytes())?;
                }
            }
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.err(ErrorKind::Syntax("',' or '}'")),
            }
        }
    }

    /// Scans a string whose opening quote is next. Without escapes, returns its bytes
    /// (checked UTF-8); with escapes, returns where it started so [`Parser::string`] can decode it.
    #[inline(always)]
    fn string_raw(&mut self) -> Result<Raw<'a>> {
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

    /// Reads an array, calling `item(parser)` for each element, which it must consume.
    pub fn array(&mut self, mut item: impl FnMut(&mut Self) -> Result<()>) -> Result<()> {
        if self.peek()? != b'[' {
            return self.type_error("an array");
        }
        self.pos += 1;
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return self.err(ErrorKind::Syntax("',' or ']'")),
            }
        }
    }

    /// Whether the next value is `null` (consumed if so).
    pub fn null(&mut self) -> Result<bool> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        let end = self.pos + word.len();
        if end > self.buf.len() {
            if word.starts_with(&self.buf[self.pos..]) {
                self.pos = self.buf.len();
                return self.err(ErrorKind::Eof);
            }
            return self.err(ErrorKind::Syntax("a value"));
        }
        if &self.buf[self.pos..end] != word {
            return self.err(ErrorKind::Syntax("a value"));
        }
        self.pos = end;
        Ok(())
    }

    /// Reads a boolean.
    pub fn bool(&mut self) -> Result<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|_| true),
            b'f' => self.literal(b"false").map(|_| false),
            b'"' | b'{' | b'[' | b'n' | b'-' | b'0'..=b'9' => self.type_error("a boolean"),
            _ => self.err(ErrorKind::Syntax("a value")),
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

    /// Scans a number token (RFC 8259 grammar) and returns its text and whether it is an
    /// integer; classifies `NaN`/`Infinity` as non-finite.
    #[inline(always)]
    fn number_text(&mut self) -> Result<(&'a [u8], bool)> {
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

    fn type_error<T>(&mut self, what: &'static str) -> Result<T> {
        // A value of the wrong type is still checked for syntax, so a truncated document is
        // reported as truncated rather than as a type error.
        let at = self.pos;
        self.skip()?;
        Err(JsonError {
            kind: ErrorKind::Type(what),
            at,
        })
    }

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
fn fast_skip(buf: &[u8], mut p: usize) -> Option<usize> {
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

/// The offset of the first byte at or after `p` that ends the fast scan of a string
/// ([`STRING_SPECIAL`]), or `buf.len()`; eight bytes at a time (keys and short strings end
/// within a word or two, which a byte loop pays for in mispredicted exits).
#[inline(always)]
fn first_special(buf: &[u8], mut p: usize) -> usize {
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
fn word_at(buf: &[u8], p: usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(p..p.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(bytes))
}

/// How many of the word's byte pairs, from the first, read `d,` (a single digit followed by a
/// comma): 0 to 4. Each 16-bit lane is tested on its own, with no carry between lanes.
#[inline(always)]
fn digit_pairs(w: u64) -> usize {
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
fn short_decimal(s: &[u8]) -> Option<(f32, usize)> {
    let (neg, m, k, len) = simple_decimal(s, 10)?;
    if m > 1 << 24 || !matches!(s.get(len), Some(b',' | b']')) {
        return None;
    }
    let v = m as f32 / POW10_F32[k];
    Some((if neg { -v } else { v }, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn skip_all(s: &str) -> Result<()> {
        let mut p = Parser::new(s.as_bytes());
        p.skip()?;
        p.finish()
    }

    #[test]
    fn classifies_errors() {
        assert_eq!(skip_all(r#"{"a": [1, 2"#).unwrap_err().kind, ErrorKind::Eof);
        assert_eq!(skip_all(r#"{"a": tru"#).unwrap_err().kind, ErrorKind::Eof);
        assert_eq!(
            skip_all(r#"{"a": NaN}"#).unwrap_err().kind,
            ErrorKind::NonFinite
        );
        assert_eq!(
            skip_all(r#"{"a": -Infinity}"#).unwrap_err().kind,
            ErrorKind::NonFinite
        );
        assert!(matches!(
            skip_all(r#"{"a" 1}"#).unwrap_err().kind,
            ErrorKind::Syntax(_)
        ));
        assert!(matches!(
            skip_all(r#"{"a": 01}"#).unwrap_err().kind,
            ErrorKind::Syntax(_)
        ));
        assert_eq!(skip_all(r#"{} x"#).unwrap_err().kind, ErrorKind::Trailing);
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert_eq!(skip_all(&deep).unwrap_err().kind, ErrorKind::TooDeep);
        let mut p = Parser::new(b"1e39");
        assert_eq!(p.f32().unwrap_err().kind, ErrorKind::NonFinite);
        let mut p = Parser::new(b"\"x\"");
        assert_eq!(p.f32().unwrap_err().kind, ErrorKind::Type("a number"));
        let mut p = Parser::new(b"-1");
        assert!(matches!(p.u64().unwrap_err().kind, ErrorKind::Type(_)));
        let mut p = Parser::new(b"18446744073709551616");
        assert!(matches!(p.u64().unwrap_err().kind, ErrorKind::Type(_)));
    }

    #[test]
    fn reads_strings_with_escapes() {
        let mut p = Parser::new(br#""a\"b\\c\u00e9\ud83d\ude00\n""#);
        assert_eq!(p.string().unwrap(), "a\"b\\c\u{e9}\u{1F600}\n");
        let mut p = Parser::new(br#""\ud83d""#);
        assert!(p.string().is_err());
    }

    proptest! {
        /// Arrays of f32 written by serde_json read back exactly through the fast paths.
        #[test]
        fn f32_array_round_trips(v in proptest::collection::vec(
            prop_oneof![
                any::<f32>().prop_filter("finite", |v| v.is_finite()),
                (0u32..10).prop_map(|d| d as f32),
                (0u32..1_000_000, 1u32..7).prop_map(|(m, k)| m as f32 / 10f32.powi(k as i32)),
            ],
            0..40,
        )) {
            let text = serde_json::to_string(&v).unwrap();
            let mut p = Parser::new(text.as_bytes());
            let mut out = Vec::new();
            p.f32_array(&mut out).unwrap();
            p.finish().unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&out), bits(&v));
        }

        /// Arrays as encoders write them (runs of single digits, short decimals, integers,
        /// exponents, optional spaces) read the same through the fast paths as element by
        /// element, and malformed ones fail the same way.
        #[test]
        fn f32_array_matches_the_general_parser(
            items in proptest::collection::vec(
                prop_oneof![
                    4 => (0u8..10).prop_map(|d| d.to_string()),
                    1 => (0u32..100_000, 1usize..6).prop_map(|(m, k)| format!("{}.{:0k$}", m / 10_000, m % 10_000, k = k)),
                    1 => "-?[0-9]{1,3}(\\.[0-9]{1,9})?([eE][+-]?[0-9]{1,2})?",
                    1 => Just(" 1".to_string()),
                    1 => Just("1 ".to_string()),
                    1 => "[0-9a.,x\\]\\[ -]{1,3}",
                ],
                0..40,
            ),
            cut in 0usize..400,
        ) {
            let text = format!("[{}]", items.join(","));
            let text = &text[..text.len() - cut.min(text.len()) % 3];
            let mut fast = Vec::new();
            let a = Parser::new(text.as_bytes()).f32_array(&mut fast);
            let mut slow = Vec::new();
            let b = Parser::new(text.as_bytes()).array(|p| {
                slow.push(p.f32()?);
                Ok(())
            });
            prop_assert_eq!(&a, &b, "{}", text);
            if a.is_ok() {
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                prop_assert_eq!(bits(&fast), bits(&slow), "{}", text);
            }
        }

        /// The word-at-a-time string scan stops where the byte loop does.
        #[test]
        fn first_special_matches_the_table(
            bytes in proptest::collection::vec(prop_oneof![
                8 => 0x20u8..0x7f,
                1 => Just(b'"'),
                1 => Just(b'\\'),
                1 => any::<u8>(),
            ], 0..40),
            start in 0usize..8,
        ) {
            let start = start.min(bytes.len());
            let expected = (start..bytes.len())
                .find(|&i| STRING_SPECIAL[bytes[i] as usize])
                .unwrap_or(bytes.len());
            prop_assert_eq!(first_special(&bytes, start), expected);
        }

        /// The digit-pair count agrees with a byte-by-byte count.
        #[test]
        fn digit_pairs_matches_bytes(
            w in any::<u64>(),
            digits in proptest::collection::vec(0u8..10, 4),
            mask in 0u8..16,
            near in proptest::collection::vec(prop_oneof![Just(b'/'), Just(b':'), Just(b'+'), Just(b'-'), Just(b'.'), Just(b']'), Just(0xACu8), Just(0xB0u8)], 8),
            which in 0u8..=255,
        ) {
            let mut bytes = w.to_le_bytes();
            for (i, d) in digits.iter().enumerate() {
                if mask >> i & 1 == 1 {
                    bytes[2 * i] = b'0' + d;
                    bytes[2 * i + 1] = b',';
                }
            }
            // Bytes next to the digits and the comma in value, and with the high bit set.
            for (i, b) in near.iter().enumerate() {
                if which >> i & 1 == 1 {
                    bytes[i] = *b;
                }
            }
            let expected = bytes
                .chunks(2)
                .take_while(|c| c[0].is_ascii_digit() && c[1] == b',')
                .count();
            prop_assert_eq!(digit_pairs(u64::from_le_bytes(bytes)), expected);
        }

        /// The fast path agrees with the general parser on every short decimal.
        #[test]
        fn short_decimals_match_the_general_parser(int in 0u32..10, frac in "[0-9]{1,10}", neg in any::<bool>()) {
            let text = format!("{}{int}.{frac}]", if neg { "-" } else { "" });
            if let Some((v, len)) = short_decimal(text.as_bytes()) {
                let expected: f32 = text[..len].parse().unwrap();
                prop_assert_eq!(v.to_bits(), expected.to_bits());
            }
        }

        /// Short decimals read through the fast path are the correctly rounded `f32`, as the
        /// standard library parses it, in arrays and alone.
        #[test]
        fn short_decimals_are_correctly_rounded(
            items in proptest::collection::vec((any::<bool>(), 0u32..10, "[0-9]{1,11}"), 1..20),
        ) {
            let texts: Vec<String> = items
                .iter()
                .map(|(neg, int, frac)| format!("{}{int}.{frac}", if *neg { "-" } else { "" }))
                .collect();
            let expected: Vec<u32> = texts.iter().map(|t| t.parse::<f32>().unwrap().to_bits()).collect();
            let text = format!("[{}]", texts.join(","));
            let mut out = Vec::new();
            Parser::new(text.as_bytes()).f32_array(&mut out).unwrap();
            prop_assert_eq!(out.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), expected, "{}", text);
        }

        /// Every finite f32 printed by Rust's shortest round-trip `Display` (and the dyadic
        /// fractions encoders produce, such as 0.546875 or -0.125) reads back exactly from an
        /// array.
        #[test]
        fn f32_array_reads_rust_shortest_repr(v in proptest::collection::vec(
            prop_oneof![
                any::<f32>().prop_filter("finite", |v| v.is_finite()),
                (-64i32..=64, 0u32..8).prop_map(|(m, k)| m as f32 / (1u32 << k) as f32),
                (0u32..10_000).prop_map(|m| m as f32 / 10_000.0),
            ],
            1..40,
        )) {
            let text = format!(
                "[{}]",
                v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",")
            );
            let mut out = Vec::new();
            Parser::new(text.as_bytes()).f32_array(&mut out).unwrap();
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&out), bits(&v), "{}", text);
        }

        /// Single decimals of every shape (short ones through the fast paths, long ones, with
        /// exponents) read as the correctly rounded `f32` and `f64`, as the standard library
        /// parses them.
        #[test]
        fn single_numbers_are_correctly_rounded(
            text in prop_oneof![
                "-?[0-9]\\.[0-9]{1,17}",
                "-?[1-9][0-9]{0,2}\\.[0-9]{1,20}",
                "-?[0-9]\\.[0-9]{1,6}[eE][+-]?[0-9]{1,2}",
                // Many leading zeros: the most fraction digits the fast paths take, and more.
                "-?0\\.0{6,17}[1-9]{1,3}",
                // Digits just below and above 2^24 and 2^53, the limits of the fast paths.
                ((1u64 << 24) - 64..(1u64 << 24) + 64, 0usize..=10).prop_map(|(m, k)| decimal(m, k)),
                ((1u64 << 53) - 64..(1u64 << 53) + 64, 15usize..=16).prop_map(|(m, k)| decimal(m, k)),
                (1_000_000_000_000_000u64..10_000_000_000_000_000, 15usize..=17).prop_map(|(m, k)| decimal(m, k)),
            ],
        ) {
            let mut p = Parser::new(text.as_bytes());
            let expected = text.parse::<f32>().unwrap();
            if expected.is_finite() {
                prop_assert_eq!(p.f32().unwrap().to_bits(), expected.to_bits(), "{}", text);
            } else {
                prop_assert_eq!(p.f32().unwrap_err().kind, ErrorKind::NonFinite);
            }
            let mut p = Parser::new(text.as_bytes());
            let v = p.f64().unwrap();
            prop_assert_eq!(v.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{}", text);
        }

        /// Integers read as `f64` exactly, whatever their length.
        #[test]
        fn integers_read_exactly_as_f64(v in any::<i64>(), short in -99_999i64..100_000) {
            for v in [v, short] {
                let text = v.to_string();
                let mut p = Parser::new(text.as_bytes());
                prop_assert_eq!(p.f64().unwrap().to_bits(), text.parse::<f64>().unwrap().to_bits());
            }
        }

        /// Every f64 in Rust's shortest round-trip form reads back exactly.
        #[test]
        fn f64_round_trips(v in any::<f64>().prop_filter("finite", |v| v.is_finite())) {
            for text in [v.to_string(), format!("{v:e}"), serde_json::to_string(&v).unwrap()] {
                let mut p = Parser::new(text.as_bytes());
                prop_assert_eq!(p.f64().unwrap().to_bits(), v.to_bits(), "{}", text);
            }
        }

        /// Every f32 written by serde_json (shortest round-trip form) reads back exactly.
        #[test]
        fn f32_round_trips(v in any::<f32>().prop_filter("finite", |v| v.is_finite())) {
            let text = serde_json::to_string(&v).unwrap();
            let mut p = Parser::new(text.as_bytes());
            prop_assert_eq!(p.f32().unwrap().to_bits(), v.to_bits());
        }

        /// Integers written as integers read back exactly.
        #[test]
        fn small_ints_read_exactly(v in -9_999_999i32..=9_999_999) {
            let text = v.to_string();
            let mut p = Parser::new(text.as_bytes());
            prop_assert_eq!(p.f32().unwrap(), v as f32);
        }

        /// The parser agrees with serde_json on which documents are valid JSON.
        #[test]
        fn agrees_with_serde_json(s in "[\\[\\]{}\",:0-9.eE+\\-a-z \\\\]{0,40}") {
            let ours = skip_all(&s).is_ok();
            let theirs = serde_json::from_str::<serde_json::Value>(&s).is_ok();
            prop_assert_eq!(ours, theirs, "{:?}", s);
        }

        /// Arbitrary valid JSON values are accepted.
        #[test]
        fn accepts_valid_json(v in json_value()) {
            let text = serde_json::to_string(&v).unwrap();
            prop_assert!(skip_all(&text).is_ok(), "{}", text);
        }

        /// The fast skip ends where the general one does on valid JSON, compact or pretty, and
        /// takes every compact value whose strings are plain ASCII.
        #[test]
        fn fast_skip_agrees_on_valid_json(v in json_value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&v).unwrap()
            } else {
                serde_json::to_string(&v).unwrap()
            };
            same_skip(text.as_bytes())?;
            let plain = text.bytes().all(|b| (0x20..0x80).contains(&b) && b != b'\\');
            if plain && !pretty {
                prop_assert_eq!(fast_skip(text.as_bytes(), 0), Some(text.len()), "{}", text);
            }
        }

        /// On damaged records (a byte replaced, removed or inserted, the line cut short) the
        /// skip gives exactly the general skip's result: the same error at the same offset, or
        /// the same end.
        #[test]
        fn fast_skip_agrees_on_damaged_json(
            v in json_value(),
            edits in proptest::collection::vec(
                (0usize..10_000, 0u8..4, prop_oneof![
                    4 => proptest::sample::select(b"{}[]\",:-+.0123456789eEtfnul \\\n\t".to_vec()),
                    1 => any::<u8>(),
                ]),
                1..4,
            ),
        ) {
            let mut bytes = serde_json::to_vec(&v).unwrap();
            for (at, op, b) in edits {
                let i = at % (bytes.len() + 1);
                match op {
                    0 if i < bytes.len() => bytes[i] = b,
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    2 => bytes.insert(i, b),
                    _ => bytes.truncate(i),
                }
            }
            same_skip(&bytes)?;
        }

        /// Decision records as the collector writes them (state objects of small integers and
        /// short strings), intact or damaged, skip the same through both paths.
        #[test]
        fn fast_skip_agrees_on_state_objects(
            units in proptest::collection::vec((0u32..8, 0u32..6, 0u32..200, -5i32..100), 0..8),
            weather in "[a-z]{0,6}",
            rng in any::<u64>(),
            cut in 0usize..600,
            flip in 0usize..600,
            with in any::<u8>(),
        ) {
            let units: Vec<String> = units
                .iter()
                .map(|(x, y, hp, e)| format!(r#"{{"x":{x},"y":{y},"hp":{hp},"energy":{e}}}"#))
                .collect();
            let text = format!(
                r#"{{"round":0,"turn":5,"actor":[0,2],"queue":[[1,0],[0,1]],"weather":"{weather}","potions":[2,2],"bombs":[1,1],"units":[{}],"alive":true,"next":null,"rng":{rng}}}"#,
                units.join(",")
            );
            prop_assert_eq!(fast_skip(text.as_bytes(), 0), Some(text.len()));
            same_skip(text.as_bytes())?;
            let mut bytes = text.into_bytes();
            if flip < bytes.len() {
                bytes[flip] = with;
            }
            bytes.truncate(bytes.len() - cut.min(bytes.len()) % 7);
            same_skip(&bytes)?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        /// Short runs of JSON tokens, valid or not (`[1}`, `01`, `{"a" 1}`, `-`, `1.`, ...),
        /// skip the same through both paths: the fast scan never accepts what the general
        /// one rejects, nor stops elsewhere.
        #[test]
        fn fast_skip_agrees_on_token_soup(tokens in proptest::collection::vec(
            proptest::sample::select(vec![
                "{", "}", "[", "]", ",", ":", "\"a\"", "\"\"", "\"\\n\"", "0", "7", "01", "-", "-0", "1.5", "1.",
                ".5", "1e5", "1E+2", "1e", "2-", "true", "nul", "null", "false", " ", "\u{e9}",
            ]),
            0..14,
        )) {
            same_skip(tokens.concat().as_bytes())?;
        }
    }

    /// `m / 10^k` written as `D.DDD` with `k` fraction digits (`D` being the digits above).
    fn decimal(m: u64, k: usize) -> String {
        let digits = format!("{m:0>width$}", width = k + 1);
        let (int, frac) = digits.split_at(digits.len() - k);
        if k == 0 {
            format!("{int}.0")
        } else {
            format!("{int}.{frac}")
        }
    }

    /// `skip` and `skip_general` agree on `text` (result and end offset), and an offset from
    /// the fast scan is one the general skip accepts.
    fn same_skip(text: &[u8]) -> std::result::Result<(), TestCaseError> {
        let mut fast = Parser::new(text);
        let a = fast.skip();
        let mut general = Parser::new(text);
        let b = general.skip_general();
        let shown = String::from_utf8_lossy(text);
        prop_assert_eq!(&a, &b, "{}", shown);
        prop_assert_eq!(fast.offset(), general.offset(), "{}", shown);
        if let Some(end) = fast_skip(text, 0) {
            prop_assert!(b.is_ok(), "{}", shown);
            prop_assert_eq!(end, general.offset(), "{}", shown);
        }
        Ok(())
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,10}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
