//! The parallel part of an ingest: decompressing frame groups and parsing chunks of lines.

use super::chunk::{ChunkResult, parse_chunk};
use super::record::DatasetEncoder;

/// A unit of parallel work, in input order.
#[derive(Debug)]
pub enum Work {
    /// Whole lines with absolute line numbers (plain or stream-decompressed files).
    Lines {
        /// File index.
        file: u32,
        /// Line number of the first line.
        first_line: u64,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Compressed frames of a multi-frame zstd file.
    Frames {
        /// File index.
        file: u32,
        /// Compressed frames.
        data: Vec<u8>,
        /// End offset of each frame.
        ends: Vec<usize>,
    },
}

/// What a unit of work produced.
#[derive(Debug)]
pub enum Done {
    /// Parsed lines. For frame groups, line numbers count from 1 within `data` and must be
    /// rebased; `data` is kept in case the group does not start at a line boundary.
    Parsed {
        /// File index.
        file: u32,
        /// Absolute number of the first line, or `None` for a frame group.
        first_line: Option<u64>,
        /// The parse result.
        result: Box<ChunkResult>,
        /// Lines in the group (newline count).
        lines: u64,
        /// The decompressed bytes of a frame group.
        data: Vec<u8>,
    },
    /// A frame group that does not end at a line boundary, or holds a corrupt frame: its
    /// frames' contents (or decompression errors), for the sequencer to handle in order.
    Raw {
        /// File index.
        file: u32,
        /// Per frame: its bytes, or why it could not be decompressed.
        frames: Vec<Result<Vec<u8>, String>>,
    },
}

/// Does one unit of work.
pub fn run(work: &Work, encoder: &DatasetEncoder) -> Done {
    match work {
        Work::Lines {
            file,
            first_line,
            data,
        } => Done::Parsed {
            file: *file,
            first_line: Some(*first_line),
            result: Box::new(parse_chunk(*file, *first_line, data, encoder)),
            lines: 0,
            data: Vec::new(),
        },
        Work::Frames { file, data, ends } => {
            let mut out: Vec<u8> = Vec::with_capacity(data.len() * 10);
            let mut start = 0;
            let mut failed = false;
            let mut frames: Vec<Result<(usize, usize), String>> = Vec::with_capacity(ends.len());
            let mut dctx = zstd::zstd_safe::DCtx::create();
            for &end in ends {
                let frame = &data[start..end];
                start = end;
                let from = out.len();
                match decompress_frame(&mut dctx, frame, &mut out) {
                    Ok(()) => frames.push(Ok((from, out.len()))),
                    Err(e) => {
                        out.truncate(from);
                        failed = true;
                        frames.push(Err(e));
                    }
                }
            }
            if !failed && out.last() == Some(&b'\n') {
                let result = Box::new(parse_chunk(*file, 1, &out, encoder));
                let lines = result.newlines;
                return Done::Parsed {
                    file: *file,
                    first_line: None,
                    result,
                    lines,
                    data: out,
                };
            }
            Done::Raw {
                file: *file,
                frames: frames
                    .into_iter()
                    .map(|f| f.map(|(a, b)| out[a..b].to_vec()))
                    .collect(),
            }
        }
    }
}

/// Decompresses one whole zstd frame, appending to `out` (no zero-filling, no extra copy).
fn decompress_frame(
    dctx: &mut zstd::zstd_safe::DCtx<'_>,
    frame: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    use zstd::zstd_safe;
    match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= 1 << 30 => {
            let start = out.len();
            out.reserve(size as usize);
            let mut cursor = std::io::Cursor::new(std::mem::take(out));
            cursor.set_position(start as u64);
            let result = dctx.decompress(&mut cursor, frame);
            *out = cursor.into_inner();
            match result {
                Ok(n) if n as u64 == size => Ok(()),
                Ok(n) => {
                    out.truncate(start);
                    Err(format!("zstd: frame declares {size} bytes but holds {n}"))
                }
                Err(code) => {
                    out.truncate(start);
                    Err(format!("zstd: {}", zstd_safe::get_error_name(code)))
                }
            }
        }
        _ => {
            let mut dec =
                zstd::stream::read::Decoder::new(frame).map_err(|e| format!("zstd: {e}"))?;
            std::io::copy(&mut dec, out)
                .map(drop)
                .map_err(|e| format!("zstd: {e}"))
        }
    }
}
