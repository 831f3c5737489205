//! A small, strict FlatBuffers reader and a deterministic back-to-front builder.
//!
//! Only what the TFLite schema needs: tables with scalar, offset and union fields, vectors of
//! scalars, of strings and of tables, and strings. The reader checks every offset, vtable,
//! alignment and length against the buffer before touching it, and charges every element it
//! decodes to a budget proportional to the buffer size, so that a file whose offsets alias the
//! same data many times cannot make parsing quadratic.

use crate::error::ReadError;

/// A decoding budget: the number of elements (bytes, scalars, tables) the reader may still
/// decode. Shared by all views onto one buffer.
#[derive(Debug)]
pub(crate) struct Budget(std::cell::Cell<u64>);

impl Budget {
    pub(crate) fn for_len(len: usize) -> Self {
        // Every element of a well-formed file is decoded once; twice the byte count plus a
        // constant leaves room for the few legitimately shared items (vtables, strings).
        Budget(std::cell::Cell::new(2 * len as u64 + 4096))
    }

    fn charge(&self, n: u64) -> Result<(), ReadError> {
        let left = self.0.get();
        if n > left {
            return Err(ReadError::malformed(
                "the file's offsets alias the same data too many times (decoding budget exhausted)",
            ));
        }
        self.0.set(left - n);
        Ok(())
    }
}

/// A view on the whole buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buf<'a> {
    pub(crate) bytes: &'a [u8],
    budget: &'a Budget,
}

fn oob(what: &str, pos: usize) -> ReadError {
    ReadError::malformed(format!("{what} at byte {pos} lies outside the file"))
}

impl<'a> Buf<'a> {
    pub(crate) fn new(bytes: &'a [u8], budget: &'a Budget) -> Self {
        Buf { bytes, budget }
    }

    fn slice(&self, pos: usize, len: usize, what: &str) -> Result<&'a [u8], ReadError> {
        let end = pos.checked_add(len).ok_or_else(|| oob(what, pos))?;
        self.bytes.get(pos..end).ok_or_else(|| oob(what, pos))
    }

    fn check_align(&self, pos: usize, align: usize, what: &str) -> Result<(), ReadError> {
        if pos % align != 0 {
            return Err(ReadError::malformed(format!(
                "{what} at byte {pos} is not aligned to {align} bytes"
            )));
        }
        Ok(())
    }

    pub(crate) fn u16_at(&self, pos: usize, what: &str) -> Result<u16, ReadError> {
        let s = self.slice(pos, 2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    pub(crate) fn u32_at(&self, pos: usize, what: &str) -> Result<u32, ReadError> {
        let s = self.slice(pos, 4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// Follows the unsigned offset stored at `pos` (relative to `pos`).
    pub(crate) fn follow(&self, pos: usize, what: &str) -> Result<usize, ReadError> {
        self.check_align(pos, 4, what)?;
        let off = self.u32_at(pos, what)? as usize;
        if off == 0 {
            return Err(ReadError::malformed(format!(
                "{what} at byte {pos} is a zero offset"
            )));
        }
        let target = pos.checked_add(off).ok_or_else(|| oob(what, pos))?;
        if target >= self.bytes.len() {
            return Err(oob(what, target));
        }
        Ok(target)
    }

    /// The table whose start is at `pos`.
    pub(crate) fn table(&self, pos: usize, what: &'static str) -> Result<Table<'a>, ReadError> {
        self.budget.charge(1)?;
        self.check_align(pos, 4, what)?;
        let soff = self.u32_at(pos, what)? as i32 as i64;
        let vt = pos as i64 - soff;
        if vt < 0 || vt as u64 >= self.bytes.len() as u64 {
            return Err(ReadError::malformed(format!(
                "{what} at byte {pos} has its vtable outside the file"
            )));
        }
        let vt = vt as usize;
        self.check_align(vt, 2, "vtable")?;
        let vt_len = self.u16_at(vt, "vtable")? as usize;
        let tbl_len = self.u16_at(vt + 2, "vtable")? as usize;
        if vt_len < 4 || vt_len % 2 != 0 {
            return Err(ReadError::malformed(format!(
                "{what} at byte {pos}: vtable size {vt_len} is invalid"
            )));
        }
        self.slice(vt, vt_len, "vtable")?;
        if tbl_len < 4 {
            return Err(ReadError::malformed(format!(
                "{what} at byte {pos}: table size {tbl_len} is invalid"
            )));
        }
        self.slice(pos, tbl_len, what)?;
        self.budget.charge((vt_len / 2) as u64)?;
        Ok(Table {
            buf: *self,
            pos,
            vt,
            vt_len,
            tbl_len,
            what,
        })
    }

    /// A vector whose length prefix is at `pos`, of `count` elements of `elem` bytes each,
    /// aligned to `align`. Returns the position of the first element and the count.
    fn vector(
        &self,
        pos: usize,
        elem: usize,
        align: usize,
        what: &str,
    ) -> Result<(usize, usize), ReadError> {
        self.check_align(pos, 4, what)?;
        let n = self.u32_at(pos, what)? as usize;
        let start = pos + 4;
        self.check_align(start, align.min(8), what)?;
        let bytes = n.checked_mul(elem).ok_or_else(|| oob(what, pos))?;
        self.slice(start, bytes, what)?;
        self.budget.charge(n as u64)?;
        Ok((start, n))
    }
}

/// A verified table: its vtable and inline size have been checked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table<'a> {
    buf: Buf<'a>,
    pos: usize,
    vt: usize,
    vt_len: usize,
    tbl_len: usize,
    what: &'static str,
}

impl<'a> Table<'a> {
    /// The position of field `id` inside the buffer, if present, checking that `size` bytes
    /// fit inside the table and that the field is aligned.
    fn field(&self, id: usize, size: usize) -> Result<Option<usize>, ReadError> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vt_len {
            return Ok(None);
        }
        let off = self.buf.u16_at(self.vt + slot, "vtable")? as usize;
        if off == 0 {
            return Ok(None);
        }
        if off < 4 || off + size > self.tbl_len {
            return Err(ReadError::malformed(format!(
                "{} at byte {}: field {id} lies outside its table",
                self.what, self.pos
            )));
        }
        let p = self.pos + off;
        self.buf.check_align(p, size.min(8), self.what)?;
        Ok(Some(p))
    }

    /// Whether field `id` is present.
    pub(crate) fn has(&self, id: usize) -> Result<bool, ReadError> {
        Ok(self.field(id, 1)?.is_some())
    }

    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>, ReadError> {
        match self.field(id, N)? {
            None => Ok(None),
            Some(p) => {
                let s = self.buf.slice(p, N, self.what)?;
                let mut a = [0u8; N];
                a.copy_from_slice(s);
                Ok(Some(a))
            }
        }
    }

    pub(crate) fn u8(&self, id: usize, default: u8) -> Result<u8, ReadError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |a| a[0]))
    }

    pub(crate) fn i8(&self, id: usize, default: i8) -> Result<i8, ReadError> {
        Ok(self.scalar::<1>(id)?.map_or(default, |a| a[0] as i8))
    }

    pub(crate) fn bool(&self, id: usize, default: bool) -> Result<bool, ReadError> {
        match self.scalar::<1>(id)? {
            None => Ok(default),
            Some([0]) => Ok(false),
            Some([1]) => Ok(true),
            Some([v]) => Err(ReadError::malformed(format!(
                "{} at byte {}: field {id} is a boolean with value {v}",
                self.what, self.pos
            ))),
        }
    }

    pub(crate) fn i32(&self, id: usize, default: i32) -> Result<i32, ReadError> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }

    pub(crate) fn u32(&self, id: usize, default: u32) -> Result<u32, ReadError> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }

    pub(crate) fn f32(&self, id: usize, default: f32) -> Result<f32, ReadError> {
        Ok(self.scalar::<4>(id)?.map_or(default, f32::from_le_bytes))
    }

    pub(crate) fn u64(&self, id: usize, default: u64) -> Result<u64, ReadError> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    fn offset(&self, id: usize, what: &str) -> Result<Option<usize>, ReadError> {
        match self.field(id, 4)? {
            None => Ok(None),
            Some(p) => self.buf.follow(p, what).map(Some),
        }
    }

    /// A sub-table field.
    pub(crate) fn table(
        &self,
        id: usize,
        what: &'static str,
    ) -> Result<Option<Table<'a>>, ReadError> {
        match self.offset(id, what)? {
            None => Ok(None),
            Some(p) => self.buf.table(p, what).map(Some),
        }
    }

    /// A string field (must be valid UTF-8 and NUL-terminated).
    pub(crate) fn string(&self, id: usize, what: &str) -> Result<Option<String>, ReadError> {
        match self.offset(id, what)? {
            None => Ok(None),
            Some(p) => read_string(&self.buf, p, what).map(Some),
        }
    }

    /// A vector of bytes; also returns the byte position of its first element.
    pub(crate) fn bytes(&self, id: usize, what: &str) -> Result<Option<&'a [u8]>, ReadError> {
        match self.offset(id, what)? {
            None => Ok(None),
            Some(p) => {
                let (start, n) = self.buf.vector(p, 1, 1, what)?;
                Ok(Some(&self.buf.bytes[start..start + n]))
            }
        }
    }

    fn scalars<const N: usize, T>(
        &self,
        id: usize,
        what: &str,
        conv: fn([u8; N]) -> T,
    ) -> Result<Option<Vec<T>>, ReadError> {
        match self.offset(id, what)? {
            None => Ok(None),
            Some(p) => {
                let (start, n) = self.buf.vector(p, N, N, what)?;
                let s = &self.buf.bytes[start..start + n * N];
                Ok(Some(
                    s.chunks_exact(N)
                        .map(|c| {
                            let mut a = [0u8; N];
                            a.copy_from_slice(c);
                            conv(a)
                        })
                        .collect(),
                ))
            }
        }
    }

    pub(crate) fn i32s(&self, id: usize, what: &str) -> Result<Option<Vec<i32>>, ReadError> {
        self.scalars::<4, i32>(id, what, i32::from_le_bytes)
    }

    pub(crate) fn f32s(&self, id: usize, what: &str) -> Result<Option<Vec<f32>>, ReadError> {
        self.scalars::<4, f32>(id, what, f32::from_le_bytes)
    }

    pub(crate) fn i64s(&self, id: usize, what: &str) -> Result<Option<Vec<i64>>, ReadError> {
        self.scalars::<8, i64>(id, what, i64::from_le_bytes)
    }

    /// A vector of tables.
    pub(crate) fn tables(
        &self,
        id: usize,
        what: &'static str,
    ) -> Result<Option<Vec<Table<'a>>>, ReadError> {
        match self.offset(id, what)? {
            None => Ok(None),
            Some(p) => {
                let (start, n) = self.buf.vector(p, 4, 4, what)?;
                let mut out = Vec::with_capacity(n.min(1 << 16));
                for i in 0..n {
                    let t = self.buf.follow(start + 4 * i, what)?;
                    out.push(self.buf.table(t, what)?);
                }
                Ok(Some(out))
            }
        }
    }
}

fn read_string(buf: &Buf<'_>, pos: usize, what: &str) -> Result<String, ReadError> {
    let (start, n) = buf.vector(pos, 1, 1, what)?;
    let term = buf.slice(start + n, 1, what)?;
    if term[0] != 0 {
        return Err(ReadError::malformed(format!(
            "{what} at byte {pos} is not NUL-terminated"
        )));
    }
    std::str::from_utf8(&buf.bytes[start..start + n])
        .map(str::to_owned)
        .map_err(|_| ReadError::malformed(format!("{what} at byte {pos} is not valid UTF-8")))
}

/// The root table of a buffer with file identifier `ident`.
pub(crate) fn root<'a>(buf: Buf<'a>, ident: &[u8; 4]) -> Result<Table<'a>, ReadError> {
    if buf.bytes.len() < 8 {
        return Err(ReadError::malformed(format!(
            "the file is {} bytes long, too short for a FlatBuffer",
            buf.bytes.len()
        )));
    }
    if &buf.bytes[4..8] != ident {
        return Err(ReadError::NotTflite {
            found: buf.bytes[4..8].to_vec(),
        });
    }
    let p = buf.follow(0, "root table offset")?;
    buf.table(p, "model")
}

// ------------------------------------------------------------------------------------------
// Builder
// ------------------------------------------------------------------------------------------

/// A reference to something already written: its distance from the END of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Off(usize);

/// A back-to-front FlatBuffers builder: bytes are prepended, so every offset points forward
/// (towards the end), as the format requires. Output is a pure function of the calls made.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    /// The buffer, reversed: `rev[0]` is the last byte of the final file.
    rev: Vec<u8>,
}

/// One inline field of a table under construction.
enum Field {
    Scalar(Vec<u8>),
    Offset(Off),
}

/// A table under construction: fields are given by id, in any order.
#[derive(Default)]
pub(crate) struct TableBuilder {
    fields: Vec<(usize, Field)>,
}

impl TableBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }
    pub(crate) fn u8(&mut self, id: usize, v: u8) -> &mut Self {
        self.fields.push((id, Field::Scalar(vec![v])));
        self
    }
    pub(crate) fn bool(&mut self, id: usize, v: bool) -> &mut Self {
        self.u8(id, v as u8)
    }
    pub(crate) fn i32(&mut self, id: usize, v: i32) -> &mut Self {
        self.fields
            .push((id, Field::Scalar(v.to_le_bytes().to_vec())));
        self
    }
    pub(crate) fn u32(&mut self, id: usize, v: u32) -> &mut Self {
        self.fields
            .push((id, Field::Scalar(v.to_le_bytes().to_vec())));
        self
    }
    pub(crate) fn f32(&mut self, id: usize, v: f32) -> &mut Self {
        self.fields
            .push((id, Field::Scalar(v.to_le_bytes().to_vec())));
        self
    }
    #[cfg(test)]
    pub(crate) fn u64(&mut self, id: usize, v: u64) -> &mut Self {
        self.fields
            .push((id, Field::Scalar(v.to_le_bytes().to_vec())));
        self
    }
    pub(crate) fn offset(&mut self, id: usize, o: Off) -> &mut Self {
        self.fields.push((id, Field::Offset(o)));
        self
    }
}

impl Builder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn len(&self) -> usize {
        self.rev.len()
    }

    /// Pads with zeros so that after `additional` more bytes, the buffer length (from the end)
    /// is a multiple of `align`.
    fn pad_for(&mut self, align: usize, additional: usize) {
        let pad = (align - (self.len() + additional) % align) % align;
        self.rev.extend(std::iter::repeat_n(0u8, pad));
    }

    /// Prepends `bytes` (in their natural order).
    fn prepend(&mut self, bytes: &[u8]) {
        self.rev.extend(bytes.iter().rev());
    }

    fn prepend_u32(&mut self, v: u32) {
        self.prepend(&v.to_le_bytes());
    }

    /// A vector of raw bytes whose data is aligned to `align` (≥ 4).
    pub(crate) fn bytes(&mut self, data: &[u8], align: usize) -> Off {
        let align = align.max(4);
        self.pad_for(align, data.len());
        self.prepend(data);
        self.pad_for(4, 4);
        self.prepend_u32(data.len() as u32);
        Off(self.len())
    }

    fn scalars<const N: usize>(&mut self, items: impl ExactSizeIterator<Item = [u8; N]>) -> Off {
        let n = items.len();
        let mut data = Vec::with_capacity(n * N);
        for it in items {
            data.extend_from_slice(&it);
        }
        self.pad_for(N.max(4), data.len());
        self.prepend(&data);
        self.prepend_u32(n as u32);
        Off(self.len())
    }

    pub(crate) fn i32s(&mut self, v: &[i32]) -> Off {
        self.scalars(v.iter().map(|x| x.to_le_bytes()))
    }
    pub(crate) fn f32s(&mut self, v: &[f32]) -> Off {
        self.scalars(v.iter().map(|x| x.to_le_bytes()))
    }
    pub(crate) fn i64s(&mut self, v: &[i64]) -> Off {
        self.scalars(v.iter().map(|x| x.to_le_bytes()))
    }

    pub(crate) fn string(&mut self, s: &str) -> Off {
        self.pad_for(4, s.len() + 1);
        self.prepend(&[0]);
        self.prepend(s.as_bytes());
        self.prepend_u32(s.len() as u32);
        Off(self.len())
    }

    /// A vector of offsets (to tables or strings).
    pub(crate) fn offsets(&mut self, items: &[Off]) -> Off {
        self.pad_for(4, 4 * items.len());
        for o in items.iter().rev() {
            // The element will sit at distance len+4 from the end; its value points forward.
            let here = self.len() + 4;
            self.prepend_u32((here - o.0) as u32);
        }
        self.prepend_u32(items.len() as u32);
        Off(self.len())
    }

    /// Writes a table and its vtable (placed just before it).
    pub(crate) fn table(&mut self, mut tb: TableBuilder) -> Off {
        // Largest fields first keeps padding small; ties by id keep the layout deterministic.
        tb.fields.sort_by_key(|(id, f)| {
            let size = match f {
                Field::Scalar(b) => b.len(),
                Field::Offset(_) => 4,
            };
            (std::cmp::Reverse(size), *id)
        });
        let mut layout = Vec::with_capacity(tb.fields.len());
        let mut size = 4usize; // the soffset to the vtable
        let mut max_align = 4usize;
        for (id, f) in &tb.fields {
            let n = match f {
                Field::Scalar(b) => b.len(),
                Field::Offset(_) => 4,
            };
            size = size.div_ceil(n) * n;
            layout.push((*id, size));
            size += n;
            max_align = max_align.max(n);
        }
        let size = size.div_ceil(4) * 4;
        self.pad_for(max_align, size);
        let table_end = self.len() + size; // distance from end of the table start
        let nfields = tb.fields.iter().map(|(id, _)| id + 1).max().unwrap_or(0);
        let vt_len = 4 + 2 * nfields;
        let mut inline = vec![0u8; size];
        inline[0..4].copy_from_slice(&(vt_len as i32).to_le_bytes());
        for ((_, f), (_, at)) in tb.fields.iter().zip(&layout) {
            match f {
                Field::Scalar(b) => inline[*at..*at + b.len()].copy_from_slice(b),
                Field::Offset(o) => {
                    let field_from_end = table_end - at;
                    let v = (field_from_end - o.0) as u32;
                    inline[*at..*at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
        self.prepend(&inline);
        let mut vt = vec![0u8; vt_len];
        vt[0..2].copy_from_slice(&(vt_len as u16).to_le_bytes());
        vt[2..4].copy_from_slice(&(size as u16).to_le_bytes());
        for ((id, _), (_, at)) in tb.fields.iter().zip(&layout) {
            vt[4 + 2 * id..6 + 2 * id].copy_from_slice(&(*at as u16).to_le_bytes());
        }
        self.prepend(&vt);
        Off(table_end)
    }

    /// Finishes the buffer with `root` as its root table and file identifier `ident`.
    pub(crate) fn finish(mut self, root: Off, ident: &[u8; 4]) -> Vec<u8> {
        self.pad_for(16, 8);
        self.prepend(ident);
        let here = self.len() + 4;
        self.prepend_u32((here - root.0) as u32);
        self.rev.reverse();
        self.rev
    }

    /// The number of bytes written so far.
    pub(crate) fn written(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trip() {
        let mut b = Builder::new();
        let s = b.string("hello");
        let v = b.i32s(&[1, -2, 3]);
        let data = b.bytes(&[9, 8, 7], 16);
        let mut tb = TableBuilder::new();
        tb.u8(0, 7)
            .offset(1, s)
            .offset(2, v)
            .f32(3, 1.5)
            .offset(5, data)
            .u64(6, 1 << 40);
        let t = b.table(tb);
        let bytes = b.finish(t, b"TEST");
        assert_eq!(bytes.len() % 16, 0);
        let budget = Budget::for_len(bytes.len());
        let buf = Buf::new(&bytes, &budget);
        let t = root(buf, b"TEST").unwrap();
        assert_eq!(t.u8(0, 0).unwrap(), 7);
        assert_eq!(t.string(1, "s").unwrap().as_deref(), Some("hello"));
        assert_eq!(t.i32s(2, "v").unwrap(), Some(vec![1, -2, 3]));
        assert_eq!(t.f32(3, 0.0).unwrap(), 1.5);
        assert_eq!(t.i32(4, 42).unwrap(), 42);
        let d = t.bytes(5, "d").unwrap().unwrap();
        assert_eq!(d, &[9, 8, 7]);
        assert_eq!((d.as_ptr() as usize - bytes.as_ptr() as usize) % 16, 0);
        assert_eq!(t.u64(6, 0).unwrap(), 1 << 40);
    }

    #[test]
    fn truncated_and_bad_offsets_are_errors() {
        let mut b = Builder::new();
        let s = b.string("x");
        let mut tb = TableBuilder::new();
        tb.offset(0, s);
        let t = b.table(tb);
        let bytes = b.finish(t, b"TEST");
        // Trailing zero padding may be cut without losing anything; any shorter cut must fail.
        let meaningful = bytes.len() - bytes.iter().rev().take_while(|&&b| b == 0).count();
        for cut in 0..meaningful {
            let budget = Budget::for_len(cut);
            let buf = Buf::new(&bytes[..cut], &budget);
            let r = root(buf, b"TEST").and_then(|t| t.string(0, "s"));
            assert!(r.is_err(), "cut at {cut} parsed");
        }
    }
}
