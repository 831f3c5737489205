//! Streaming battle-log files into chunks of whole lines.
//!
//! A file is read in blocks, decompressed on the fly when it starts with the zstd magic
//! number, and cut at line ends, so memory stays bounded whatever the file size: one block,
//! plus the longest line (itself bounded by `max_line`).

use super::reason::Reason;
use super::work::Work;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// What the reader produces, in file order.
#[derive(Debug)]
pub enum Item {
    /// Lines, or zstd frames to decompress in parallel: a unit of work for the pool.
    Work(Work),
    /// Something that is not work, handled in input order with the results of the work.
    Event(Event),
}

/// The reader's items that are not work.
#[derive(Debug)]
pub enum Event {
    /// A record that cannot be read: an over-long line, or the unreadable rest of a file.
    Failure {
        /// File index.
        file: u32,
        /// Line number where it starts.
        line: u64,
        /// Why.
        reason: Reason,
        /// Details.
        detail: String,
    },
    /// The rest of a multi-frame file cannot be cut into frames (a corrupt or truncated frame
    /// header). The consumer assigns the line number.
    FramesBroken {
        /// File index.
        file: u32,
        /// What went wrong.
        detail: String,
    },
    /// A file was read to its end (or to an unrecoverable error, reported just before).
    FileDone {
        /// File index.
        file: u32,
        /// Bytes read from disk.
        bytes: u64,
        /// Whether it was zstd-compressed.
        compressed: bool,
    },
}

/// Reader settings.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Target size of a chunk of lines.
    pub chunk_bytes: usize,
    /// Longest line accepted; longer ones are quarantined as [`Reason::TooLarge`]. Also the
    /// largest zstd frame read whole in frame mode.
    pub max_line: usize,
}

/// A zstd file whose first frame ends within this many bytes is read frame by frame.
const FRAME_MODE_PROBE: usize = 8 << 20;

struct Counting<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Opens `path` and checks it can be read; the error names the file.
pub fn open(path: &Path) -> io::Result<File> {
    let f = File::open(path)?;
    if f.metadata()?.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    Ok(f)
}

/// Reads one file, sending items to `emit` until it returns `false` (the consumer stopped).
pub fn read_file(file_idx: u32, file: File, opts: ReadOptions, emit: &mut dyn FnMut(Item) -> bool) {
    let mut raw = BufReader::with_capacity(
        1 << 16,
        Counting {
            inner: file,
            bytes: 0,
        },
    );
    let compressed = match raw.fill_buf() {
        Ok(head) => head.len() >= 4 && head[..4] == ZSTD_MAGIC,
        Err(e) => {
            emit(Item::Event(Event::Failure {
                file: file_idx,
                line: 1,
                reason: Reason::ReadError,
                detail: format!("read error: {e}"),
            }));
            emit(Item::Event(Event::FileDone {
                file: file_idx,
                bytes: 0,
                compressed: false,
            }));
            return;
        }
    };
    let bytes = |r: &BufReader<Counting<File>>| r.get_ref().bytes;
    if compressed {
        let probed = probe(&mut raw);
        match probed {
            Ok(Probe::Frames { buf, eof }) => {
                if read_frames(&mut raw, buf, eof, file_idx, opts, emit) {
                    let n = bytes(&raw);
                    emit(Item::Event(Event::FileDone {
                        file: file_idx,
                        bytes: n,
                        compressed,
                    }));
                }
            }
            Ok(Probe::Stream(head)) => {
                let chained = io::Cursor::new(head).chain(&mut raw);
                match zstd::stream::read::Decoder::new(chained) {
                    Ok(mut dec) => {
                        if split_lines(&mut dec, file_idx, opts, Reason::CorruptCompression, emit) {
                            drop(dec);
                            let n = bytes(&raw);
                            emit(Item::Event(Event::FileDone {
                                file: file_idx,
                                bytes: n,
                                compressed,
                            }));
                        }
                    }
                    Err(e) => {
                        emit(Item::Event(Event::Failure {
                            file: file_idx,
                            line: 1,
                            reason: Reason::CorruptCompression,
                            detail: format!("zstd: {e}"),
                        }));
                        emit(Item::Event(Event::FileDone {
                            file: file_idx,
                            bytes: 0,
                            compressed,
                        }));
                    }
                }
            }
            Err(e) => {
                emit(Item::Event(Event::Failure {
                    file: file_idx,
                    line: 1,
                    reason: Reason::ReadError,
                    detail: format!("read error: {e}"),
                }));
                emit(Item::Event(Event::FileDone {
                    file: file_idx,
                    bytes: 0,
                    compressed,
                }));
            }
        }
    } else {
        let ok = split_lines(&mut raw, file_idx, opts, Reason::ReadError, emit);
        if ok {
            emit(Item::Event(Event::FileDone {
                file: file_idx,
                bytes: bytes(&raw),
                compressed,
            }));
        }
    }
}

enum Probe {
    /// The first frame ends within the probe window: read frame by frame.
    Frames { buf: Vec<u8>, eof: bool },
    /// Stream-decompress, starting with these already-read bytes.
    Stream(Vec<u8>),
}

/// Reads the start of a zstd file to decide how to read it: frame by frame when its first
/// frame is whole within [`FRAME_MODE_PROBE`] bytes, else as one stream.
fn probe(raw: &mut dyn Read) -> io::Result<Probe> {
    use zstd::zstd_safe;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    loop {
        let n = read_some(raw, &mut buf, 1 << 20)?;
        let whole = zstd_safe::find_frame_compressed_size(&buf).is_ok();
        if whole {
            return Ok(Probe::Frames { buf, eof: n == 0 });
        }
        if n == 0 || buf.len() >= FRAME_MODE_PROBE {
            return Ok(Probe::Stream(buf));
        }
    }
}

/// Reads a multi-frame zstd file frame by frame, starting with `buf` (already read), and
/// emits groups of whole compressed frames. Returns whether the consumer wants more.
fn read_frames(
    raw: &mut dyn Read,
    mut buf: Vec<u8>,
    mut eof: bool,
    file: u32,
    opts: ReadOptions,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    use zstd::zstd_safe;
    // Compressed bytes per group: battle logs compress about eight to one.
    let target = (opts.chunk_bytes / 8).max(1 << 12);
    let mut pos = 0;
    let mut chunk: Vec<u8> = Vec::with_capacity(target * 2);
    let mut ends: Vec<usize> = Vec::new();
    // A read error ends the input; the whole frames read before it are still used.
    let mut read_error: Option<io::Error> = None;
    loop {
        match zstd_safe::find_frame_compressed_size(&buf[pos..]) {
            Ok(n) => {
                chunk.extend_from_slice(&buf[pos..pos + n]);
                ends.push(chunk.len());
                pos += n;
                if chunk.len() >= target {
                    let data = std::mem::replace(&mut chunk, Vec::with_capacity(target * 2));
                    if !emit(Item::Work(Work::Frames {
                        file,
                        data,
                        ends: std::mem::take(&mut ends),
                    })) {
                        return false;
                    }
                }
            }
            Err(_) if !eof && buf.len() - pos <= opts.max_line => {
                buf.drain(..pos);
                pos = 0;
                match read_some(raw, &mut buf, 1 << 20) {
                    Ok(n) => eof = n == 0,
                    Err(e) => {
                        eof = true;
                        read_error = Some(e);
                    }
                }
            }
            Err(code) => {
                let rest = buf.len() - pos;
                let ok = flush_frames(file, chunk, ends, emit);
                if rest == 0 && read_error.is_none() {
                    return ok;
                }
                let detail = if let Some(e) = read_error {
                    format!("read error: {e}")
                } else if rest > opts.max_line {
                    format!(
                        "a zstd frame is larger than the {} byte limit",
                        opts.max_line
                    )
                } else {
                    format!(
                        "zstd: {} in the last {rest} bytes of the file",
                        zstd_safe::get_error_name(code)
                    )
                };
                return ok && emit(Item::Event(Event::FramesBroken { file, detail }));
            }
        }
    }
}

fn flush_frames(
    file: u32,
    data: Vec<u8>,
    ends: Vec<usize>,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    ends.is_empty() || emit(Item::Work(Work::Frames { file, data, ends }))
}

/// Appends up to `n` bytes read from `src` to `buf`; returns how many (0 at the end). On an
/// error, the bytes read before it are kept in `buf`.
fn read_some(src: &mut dyn Read, buf: &mut Vec<u8>, n: usize) -> io::Result<usize> {
    let start = buf.len();
    buf.resize(start + n, 0);
    let (got, error) = read_full(src, &mut buf[start..]);
    buf.truncate(start + got);
    match error {
        Some(e) => Err(e),
        None => Ok(got),
    }
}

/// Cuts a stream into chunks of whole lines. Returns `false` if the consumer stopped.
///
/// Lines longer than `max_line` bytes (without the newline) are quarantined as
/// [`Reason::TooLarge`], wherever they fall. A read error (or, for a zstd stream, damage)
/// keeps every whole line read before it; the partial line and the rest of the stream are one
/// unreadable record, numbered from that line.
fn split_lines(
    src: &mut dyn Read,
    file: u32,
    opts: ReadOptions,
    error_reason: Reason,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let mut buf: Vec<u8> = Vec::with_capacity(opts.chunk_bytes * 2);
    let mut next_line: u64 = 1;
    // While skipping the rest of an over-long line.
    let mut skipping = false;
    loop {
        let start = buf.len();
        let want = opts.chunk_bytes.max(1 << 12);
        buf.resize(start + want, 0);
        let (n, error) = read_full(src, &mut buf[start..]);
        buf.truncate(start + n);
        let end = n == 0 || error.is_some();
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    next_line += 1;
                    skipping = false;
                }
                None => buf.clear(),
            }
        }
        // Whole lines; at the end of the input, the last line too (it may lack its newline).
        let cut = if end && error.is_none() {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
        };
        if cut > 0 {
            let rest = buf[cut..].to_vec();
            buf.truncate(cut);
            let chunk = std::mem::replace(&mut buf, rest);
            if !emit_lines(file, &mut next_line, chunk, opts.max_line, emit) {
                return false;
            }
        }
        if let Some(e) = error {
            let what = if error_reason == Reason::CorruptCompression {
                "zstd"
            } else {
                "read error"
            };
            return emit(Item::Event(Event::Failure {
                file,
                // The line being skipped was already quarantined: the rest starts after it.
                line: next_line + u64::from(skipping),
                reason: error_reason,
                detail: format!(
                    "{what}: {e}; the rest of the file from this line could not be read"
                ),
            }));
        }
        if end {
            return true;
        }
        if !skipping && buf.len() > opts.max_line {
            if !emit(Item::Event(Event::Failure {
                file,
                line: next_line,
                reason: Reason::TooLarge,
                detail: format!("line is longer than the {} byte limit", opts.max_line),
            })) {
                return false;
            }
            buf.clear();
            skipping = true;
        }
        buf.reserve(opts.chunk_bytes);
    }
}

/// Emits `data` (whole lines, the last one perhaps without its newline) numbered from
/// `next_line`, which it advances; lines longer than `max_line` are cut out and reported as
/// [`Reason::TooLarge`]. Returns `false` if the consumer stopped.
fn emit_lines(
    file: u32,
    next_line: &mut u64,
    data: Vec<u8>,
    max_line: usize,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let first = *next_line;
    let mut lines = 0u64;
    let mut start = 0;
    let mut too_long = false;
    for nl in memchr::memchr_iter(b'\n', &data) {
        too_long |= nl - start > max_line;
        start = nl + 1;
        lines += 1;
    }
    let tail = data.len() > start;
    too_long |= data.len() - start > max_line;
    *next_line += lines + u64::from(tail);
    if !too_long {
        return emit(Item::Work(Work::Lines {
            file,
            first_line: first,
            data,
        }));
    }
    // Rare: cut the over-long lines out.
    let mut ends: Vec<(usize, usize)> = memchr::memchr_iter(b'\n', &data)
        .map(|i| (i, i + 1))
        .collect();
    if tail {
        ends.push((data.len(), data.len()));
    }
    let (mut seg, mut seg_line, mut line, mut start) = (0, first, first, 0);
    for (end, next) in ends {
        if end - start > max_line {
            if start > seg
                && !emit(Item::Work(Work::Lines {
                    file,
                    first_line: seg_line,
                    data: data[seg..start].to_vec(),
                }))
            {
                return false;
            }
            if !emit(Item::Event(Event::Failure {
                file,
                line,
                reason: Reason::TooLarge,
                detail: format!("line is longer than the {max_line} byte limit"),
            })) {
                return false;
            }
            seg = next;
            seg_line = line + 1;
        }
        start = next;
        line += 1;
    }
    data.len() <= seg
        || emit(Item::Work(Work::Lines {
            file,
            first_line: seg_line,
            data: data[seg..].to_vec(),
        }))
}

/// Reads until `buf` is full or the stream ends; returns the bytes read, and the error that
/// stopped it early, if any (the bytes read before an error are still valid).
fn read_full(src: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}
