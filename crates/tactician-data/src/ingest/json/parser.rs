//! The cursor over one JSON document ([`Parser`]): white space, single bytes, the end of the
//! document, and the structural readers (objects, arrays, `null`, booleans).

use super::error::{ErrorKind, Result};
use super::string::Raw;

/// A cursor over one JSON document.
pub struct Parser<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
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

    #[inline(always)]
    pub(super) fn ws(&mut self) {
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
    pub(super) fn eat(&mut self, byte: u8, what: &'static str) -> Result<()> {
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

    pub(super) fn literal(&mut self, word: &'static [u8]) -> Result<()> {
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
}
