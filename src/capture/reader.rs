//! The reader: a file (memory-mapped), bytes in memory, or a stream (standard input) in; one
//! packet at a time out, borrowed from the reader's bytes so nothing is copied.
//!
//! Invariants: the format is chosen once, from the magic number; parsing steps never panic
//! and never allocate by a length read from the file; after the first error (damage or I/O)
//! the reader is finished and [`Reader::next_packet`] returns `Ok(None)`. The same bytes give
//! the same packets and the same error whether they are mapped or streamed.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use memmap2::{Advice, Mmap};

use super::error::Error;
use super::input::{Input, Memory};
use super::interface::Interface;
use super::link::{self, Link, LinkError};
use super::linktype::LinkType;
use super::pcap::{self, Pcap};
use super::pcapng::{self, PcapNg};
use super::step::Step;

/// One packet, borrowed from the reader until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Nanoseconds since the Unix epoch (negative before 1970, possible with a pcapng
    /// `if_tsoffset`). A Simple Packet Block has no timestamp and reads as 0.
    pub ts_ns: i64,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// The length on the wire; larger than `data.len()` when the capture was cut by snaplen.
    pub orig_len: u32,
    pub link: LinkType,
    /// Index into [`Reader::interfaces`]; always set by this reader (a classic pcap file has
    /// one implicit interface, index 0). `None` is for packets made by other means.
    pub interface: Option<u32>,
    /// Byte offset of the packet's record (pcap record header or pcapng block) in the file;
    /// Wireshark's `frame.file_off`.
    pub offset: u64,
}

impl Packet<'_> {
    /// Decodes the link-layer header: where the network layer starts, VLAN tags, and so on.
    #[inline]
    pub fn link_info(&self) -> Result<Link, LinkError> {
        link::decode(self.link, self.data)
    }
}

/// The container format of a file, as its magic number says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Pcap {
        nanosecond: bool,
        big_endian: bool,
        /// Kuznetzov's "modified" pcap (magic 0xa1b2cd34).
        modified: bool,
    },
    PcapNg,
}

enum Parser {
    Pcap(Pcap),
    PcapNg(PcapNg),
}

/// Reads packets from a pcap or pcapng file.
pub struct Reader {
    name: String,
    input: Input,
    parser: Parser,
    format: FileFormat,
    interfaces: Vec<Interface>,
    done: bool,
}

impl Reader {
    /// Opens a capture file, or standard input for `-`. Regular files are memory-mapped;
    /// anything else (a pipe, a device) is streamed through a bounded buffer.
    pub fn open(path: impl AsRef<Path>) -> Result<Reader, Error> {
        let path = path.as_ref();
        let name = path.display().to_string();
        if path == Path::new("-") {
            return Reader::from_read("<stdin>", io::stdin());
        }
        let open_err = |error| Error::Open {
            file: name.clone(),
            error,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if !meta.is_file() {
            return Reader::from_read(&name, file);
        }
        if meta.len() == 0 {
            // mmap(2) refuses an empty mapping; an empty file is handled like any short one.
            return Reader::start(name, Input::memory(Memory::Owned(Vec::new())));
        }
        // SAFETY: the map is read-only and private to this reader. If another process
        // truncates the file while it is read, touching the lost pages raises SIGBUS; that is
        // the documented limit of mapping files (ripgrep and memmap2 accept the same), and
        // capture files are not rewritten in place while being replayed.
        let map = unsafe { Mmap::map(&file) }.map_err(open_err)?;
        // Sequential read-ahead; failing to advise only costs speed.
        let _ = map.advise(Advice::Sequential);
        Reader::start(name, Input::memory(Memory::Map(map)))
    }

    /// Reads a capture held in memory; `name` appears in error messages.
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<Reader, Error> {
        Reader::start(name.to_string(), Input::memory(Memory::Owned(bytes)))
    }

    /// Reads a capture from a stream, holding at most one record and one read chunk.
    pub fn from_read(name: &str, src: impl Read + Send + 'static) -> Result<Reader, Error> {
        Reader::start(name.to_string(), Input::stream(Box::new(src)))
    }

    fn start(name: String, mut input: Input) -> Result<Reader, Error> {
        let io_err = |name: &str, error| Error::Io {
            file: name.to_string(),
            offset: 0,
            error,
        };
        let damaged = |name: &str, what: String| Error::Damaged {
            file: name.to_string(),
            offset: 0,
            what,
        };
        if !input.fill(4).map_err(|e| io_err(&name, e))? && input.available() < 4 {
            return Err(damaged(
                &name,
                format!(
                    "{} bytes are too short for a pcap or pcapng file",
                    input.available()
                ),
            ));
        }
        let (b, at) = input.window();
        let head = &b[at..at + 4];
        let mut reader = if let Some((order, m)) = pcap::magic(head) {
            if !input.fill(pcap::HEADER_LEN).map_err(|e| io_err(&name, e))?
                && input.available() < pcap::HEADER_LEN
            {
                return Err(damaged(
                    &name,
                    format!(
                        "pcap file header truncated after {} bytes",
                        input.available()
                    ),
                ));
            }
            let (b, at) = input.window();
            let p = Pcap::header(&b[at..]).map_err(|w| damaged(&name, w))?;
            input.consume(pcap::HEADER_LEN);
            let iface = Interface {
                name: None,
                description: None,
                link: p.link,
                snaplen: p.snaplen,
                ts_units_per_sec: if p.nanos { 1_000_000_000 } else { 1_000_000 },
                ts_offset_s: 0,
                section: 0,
            };
            Reader {
                format: FileFormat::Pcap {
                    nanosecond: p.nanos,
                    big_endian: order.big,
                    modified: m == pcap::MAGIC_MODIFIED,
                },
                name,
                input,
                parser: Parser::Pcap(p),
                interfaces: vec![iface],
                done: false,
            }
        } else if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == pcapng::SHB {
            Reader {
                format: FileFormat::PcapNg,
                name,
                input,
                parser: Parser::PcapNg(PcapNg::new()),
                interfaces: Vec::new(),
                done: false,
            }
        } else {
            return Err(damaged(
                &name,
                format!(
                    "magic number {:02x} {:02x} {:02x} {:02x} is neither pcap nor pcapng",
                    head[0], head[1], head[2], head[3]
                ),
            ));
        };
        reader.read_headers()?;
        Ok(reader)
    }

    /// Reads the blocks before the first packet (pcapng section header and interfaces), so
    /// that [`Reader::interfaces`] is filled before the first packet is asked for. A bad
    /// first section header means the file is not pcapng and fails the open; damage after it
    /// is left for [`Reader::next_packet`] to report, after any packets before it.
    fn read_headers(&mut self) -> Result<(), Error> {
        let Parser::PcapNg(ng) = &mut self.parser else {
            return Ok(());
        };
        loop {
            let (b, at) = self.input.window();
            match ng.step(&b[at..], &mut self.interfaces) {
                Step::Skip(n) => self.input.consume(n),
                Step::NeedMore(n) => match self.input.fill(n) {
                    Ok(true) => {}
                    // Let next_packet report the truncation (or the clean end).
                    Ok(false) if self.input.offset() > 0 => return Ok(()),
                    Ok(false) => {
                        return Err(self.damage(
                            0,
                            format!(
                                "section header truncated: it needs {n} bytes, the file has {}",
                                self.input.available()
                            ),
                        ))
                    }
                    Err(error) => return Err(self.io(error)),
                },
                Step::Damaged { at, what } if self.input.offset() == 0 => {
                    self.done = true;
                    return Err(self.damage(at, what));
                }
                Step::Damaged { .. } | Step::Packet(_) => return Ok(()),
            }
        }
    }

    /// The next packet; `Ok(None)` at the end of the capture. Damage or an I/O failure is
    /// returned once, with the byte offset of the record that could not be read; every
    /// packet before it has been returned.
    #[inline]
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        loop {
            if self.done {
                return Ok(None);
            }
            let (b, at) = self.input.window();
            let step = match &mut self.parser {
                Parser::Pcap(p) => p.step(&b[at..]),
                Parser::PcapNg(p) => p.step(&b[at..], &mut self.interfaces),
            };
            let f = match step {
                Step::Packet(f) => f,
                other => {
                    self.other_step(other)?;
                    continue;
                }
            };
            let offset = self.input.offset();
            self.input.consume(f.next);
            let (b, _) = self.input.window();
            let start = at + f.data_start;
            return Ok(Some(Packet {
                ts_ns: f.ts_ns,
                data: &b[start..start + f.data_len],
                orig_len: f.orig_len,
                link: f.link,
                interface: Some(f.interface),
                offset,
            }));
        }
    }

    /// Everything but a packet: a block to skip, more bytes to read, the end, or damage.
    /// Kept out of line so that the packet path stays small enough to inline.
    #[cold]
    #[inline(never)]
    fn other_step(&mut self, step: Step) -> Result<(), Error> {
        match step {
            Step::Packet(_) => {}
            Step::Skip(n) => self.input.consume(n),
            Step::NeedMore(n) => match self.input.fill(n) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    let have = self.input.available();
                    if have > 0 {
                        return Err(self.damage(
                            0,
                            format!(
                                "truncated: the record needs {n} bytes, the file ends {have} \
                                 bytes into it"
                            ),
                        ));
                    }
                }
                Err(error) => {
                    self.done = true;
                    return Err(self.io(error));
                }
            },
            Step::Damaged { at, what } => {
                self.done = true;
                return Err(self.damage(at, what));
            }
        }
        Ok(())
    }

    /// The interfaces described so far (a pcapng file may describe more further on).
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    pub fn format(&self) -> FileFormat {
        self.format
    }

    /// The name used in error messages: the path, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes read so far: the offset of the next record.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Damage in the record at the current position, `at` bytes into it. The error's offset
    /// is the record's start (everything before it was good); the message names the byte.
    fn damage(&self, at: usize, what: String) -> Error {
        let offset = self.input.offset();
        let what = if at == 0 {
            what
        } else {
            format!("{what} (byte {})", offset + at as u64)
        };
        Error::Damaged {
            file: self.name.clone(),
            offset,
            what,
        }
    }

    fn io(&self, error: io::Error) -> Error {
        Error::Io {
            file: self.name.clone(),
            offset: self.input.offset(),
            error,
        }
    }
}
