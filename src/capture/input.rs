//! Where a reader's bytes come from: a memory-mapped file (or bytes already in memory), or a
//! stream such as standard input read through a bounded buffer.
//!
//! Both present the same view: a slice holding the current position and everything read
//! after it, so the format parsers never know which one they read. Invariants of the stream
//! buffer: it holds at most one record more than one read chunk, and it only grows by bytes
//! actually read, never by a length field found in the file (a block that claims 16 MiB on a
//! stream that ends after 100 bytes allocates about 100 bytes plus one chunk).

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
        /// Bytes read and not yet dropped; `buf[start..]` is unconsumed.
        buf: Vec<u8>,
        start: usize,
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
            base: 0,
            eof: false,
        }
    }

    /// All bytes held and the index of the current position in them.
    #[inline]
    pub(crate) fn window(&self) -> (&[u8], usize) {
        match self {
            Input::Memory { mem, pos } => (mem.bytes(), *pos),
            Input::Stream { buf, start, .. } => (buf, *start),
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
            base,
            eof,
        } = self
        else {
            return Ok(false);
        };
        while buf.len() - *start < need {
            if *eof {
                return Ok(false);
            }
            if *start > 0 {
                buf.drain(..*start);
                *base += *start as u64;
                *start = 0;
            }
            let old = buf.len();
            buf.resize(old + CHUNK, 0);
            let got = loop {
                match src.read(&mut buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            buf.truncate(old + got);
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
