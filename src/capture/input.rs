//! Where a reader's bytes come from: a memory-mapped file (or bytes already in memory), or a
//! stream such as standard input read through a bounded buffer.
//!
//! Both present the same view: a slice holding the current position and everything read
//! after it, so the format parsers never know which one they read. Invariants of the stream
//! buffer: it is at most twice the larger of one read chunk and the largest record, and it
//! doubles only when it is full of bytes actually read, never because a length field asks
//! (a block that claims 16 MiB on a stream that ends after 100 bytes costs one chunk).

use std::io::{self, Read};

use memmap2::Mmap;

/// How much a stream read asks for at a time.
const CHUNK: usize = 256 * 1024;

/// Bytes that are all there from the start.
pub(crate) enum Memory {
    Map(Mmap),
    Owned(Vec<u8>),
}

impl Memory {
    #[inline]
    fn bytes(&self) -> &[u8] {
        match self {
            Memory::Map(m) => m,
            Memory::Owned(v) => v,
        }
    }
}

pub(crate) enum Input {
    Memory {
        mem: Memory,
        pos: usize,
    },
    Stream {
        src: Box<dyn Read + Send>,
        /// Initialised storage; `buf[start..end]` is read and not yet consumed.
        buf: Vec<u8>,
        start: usize,
        end: usize,
        /// File offset of `buf[0]`.
        base: u64,
        eof: bool,
    },
}

impl Input {
    pub(crate) fn memory(mem: Memory) -> Input {
        Input::Memory { mem, pos: 0 }
    }

    pub(crate) fn stream(src: Box<dyn Read + Send>) -> Input {
        Input::Stream {
            src,
            buf: Vec::new(),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// All bytes held and the index of the current position in them.
    #[inline]
    pub(crate) fn window(&self) -> (&[u8], usize) {
        match self {
            Input::Memory { mem, pos } => (mem.bytes(), *pos),
            Input::Stream {
                buf, start, end, ..
            } => (&buf[..*end], *start),
        }
    }

    /// The file offset of the current position.
    pub(crate) fn offset(&self) -> u64 {
        match self {
            Input::Memory { pos, .. } => *pos as u64,
            Input::Stream { start, base, .. } => base + *start as u64,
        }
    }

    /// Moves the position `n` bytes on; the caller has seen that they are there. Bytes before
    /// the position stay where they are until the next [`Input::fill`].
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        match self {
            Input::Memory { pos, .. } => *pos += n,
            Input::Stream { start, .. } => *start += n,
        }
    }

    /// Makes at least `need` bytes available from the position on; `Ok(false)` when the input
    /// ends first. `need` must already be capped by the caller's record-size limit.
    pub(crate) fn fill(&mut self, need: usize) -> io::Result<bool> {
        let Input::Stream {
            src,
            buf,
            start,
            end,
            base,
            eof,
        } = self
        else {
            return Ok(false);
        };
        while *end - *start < need {
            if *eof {
                return Ok(false);
            }
            if *start > 0 && buf.len() - *start < need.max(CHUNK) {
                // Move the unconsumed tail to the front.
                buf.copy_within(*start..*end, 0);
                *base += *start as u64;
                *end -= *start;
                *start = 0;
            }
            if *end == buf.len() {
                // Full of bytes actually read: double it. Never sized by `need`, so a length
                // field cannot make it grow faster than the input does.
                let mut bigger = vec![0u8; (buf.len() * 2).max(CHUNK)];
                bigger[..*end].copy_from_slice(&buf[..*end]);
                *buf = bigger;
            }
            let got = loop {
                match src.read(&mut buf[*end..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            *end += got;
            if got == 0 {
                *eof = true;
            }
        }
        Ok(true)
    }

    /// Bytes available from the position on without reading more.
    pub(crate) fn available(&self) -> usize {
        let (b, at) = self.window();
        b.len() - at
    }
}
