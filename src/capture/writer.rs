//! Writing captures: pcapng by default, classic pcap on request, streaming to any `Write`.
//!
//! pcapng output is one section in little-endian order: a Section Header Block naming fwbench
//! (`shb_userappl`), one Interface Description Block per output interface (`if_name`, link
//! type, snaplen 262144, `if_tsresol` = 9 so timestamps keep their nanoseconds), then an
//! Enhanced Packet Block per packet, with an `opt_comment` when the packet has one (Wireshark
//! shows it as `frame.comment`). Classic pcap output uses the nanosecond magic 0xa1b23c4d;
//! it has one link type, no interface names and no comments, so names and comments are lost.
//!
//! Each block is built in a reused buffer and handed to the sink in one `write_all`, so a
//! writer over an unbuffered file makes one system call per packet, not seven.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use super::linktype::LinkType;
use super::pcap::MAX_RECORD_DATA;

/// Which container to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    PcapNg,
    /// Classic pcap with nanosecond timestamps.
    Pcap,
}

/// One packet to write.
#[derive(Clone, Copy, Debug)]
pub struct OutPacket<'a> {
    /// An id returned by [`Writer::add_interface`].
    pub interface: u32,
    /// Nanoseconds since the Unix epoch; must not be negative (neither format can say so
    /// without per-interface offsets).
    pub ts_ns: i64,
    pub data: &'a [u8],
    /// The length on the wire; raised to `data.len()` if smaller.
    pub orig_len: u32,
    /// pcapng `opt_comment`; dropped by classic pcap.
    pub comment: Option<&'a str>,
}

/// Why a write failed.
#[derive(Debug)]
pub enum WriteError {
    Io(io::Error),
    /// The packet names an interface that was never added.
    NoInterface(u32),
    /// Classic pcap holds one link type; this interface has another.
    LinkTypeMismatch {
        first: LinkType,
        this: LinkType,
    },
    /// A timestamp before 1970, or past what the format's 32/64 bits hold.
    Timestamp(i64),
    /// A packet larger than readers accept (262144 bytes).
    TooLong(usize),
    /// An option (interface name, comment) longer than the 65535 bytes an option holds.
    OptionTooLong(usize),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Io(e) => write!(f, "write failed: {e}"),
            WriteError::NoInterface(i) => write!(f, "packet names interface {i}, never added"),
            WriteError::LinkTypeMismatch { first, this } => write!(
                f,
                "classic pcap holds one link type: {first:?}, not also {this:?} (write pcapng)"
            ),
            WriteError::Timestamp(t) => write!(f, "timestamp {t} ns cannot be written"),
            WriteError::TooLong(n) => write!(
                f,
                "packet of {n} bytes is larger than the {MAX_RECORD_DATA} bytes readers accept"
            ),
            WriteError::OptionTooLong(n) => {
                write!(f, "option of {n} bytes is longer than 65535")
            }
        }
    }
}

impl std::error::Error for WriteError {}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> WriteError {
        WriteError::Io(e)
    }
}

const SNAPLEN: u32 = MAX_RECORD_DATA;

/// Writes packets to `W`.
pub struct Writer<W: Write> {
    out: W,
    format: OutputFormat,
    /// Link type of each added interface.
    links: Vec<LinkType>,
    block: Vec<u8>,
}

impl Writer<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes to it through a buffer.
    pub fn create(path: impl AsRef<Path>, format: OutputFormat) -> Result<Self, WriteError> {
        Writer::new(BufWriter::new(File::create(path)?), format)
    }
}

impl<W: Write> Writer<W> {
    /// Starts a capture on `out`. pcapng writes its section header at once; classic pcap
    /// writes its file header with the first interface, which sets the link type.
    pub fn new(out: W, format: OutputFormat) -> Result<Self, WriteError> {
        let mut w = Writer {
            out,
            format,
            links: Vec::new(),
            block: Vec::with_capacity(2048),
        };
        if format == OutputFormat::PcapNg {
            w.begin(0x0a0d_0d0a);
            w.u32(0x1a2b_3c4d);
            w.u16(1); // major
            w.u16(0); // minor
            w.u64(u64::MAX); // section length -1: not given
            let appl = concat!("fwbench ", env!("CARGO_PKG_VERSION"));
            w.option(4, appl.as_bytes())?; // shb_userappl
            w.end_options();
            w.finish_block()?;
        }
        Ok(w)
    }

    /// Adds an output interface; packets name it by the returned id (0, 1, ...). pcapng
    /// writes `name` as `if_name` (an empty name writes none, as for an unnamed input
    /// interface); classic pcap drops it.
    pub fn add_interface(&mut self, name: &str, link: LinkType) -> Result<u32, WriteError> {
        match self.format {
            OutputFormat::PcapNg => {
                self.begin(1);
                self.u16(link.number());
                self.u16(0);
                self.u32(SNAPLEN);
                if !name.is_empty() {
                    self.option(2, name.as_bytes())?; // if_name
                }
                self.option(9, &[9])?; // if_tsresol: 10^-9 s
                self.end_options();
                self.finish_block()?;
            }
            OutputFormat::Pcap => match self.links.first() {
                Some(&first) if first != link => {
                    return Err(WriteError::LinkTypeMismatch { first, this: link })
                }
                Some(_) => {}
                None => {
                    self.block.clear();
                    self.u32(0xa1b2_3c4d);
                    self.u16(2);
                    self.u16(4);
                    self.u32(0); // thiszone
                    self.u32(0); // sigfigs
                    self.u32(SNAPLEN);
                    self.u32(link.number() as u32);
                    self.out.write_all(&self.block)?;
                }
            },
        }
        self.links.push(link);
        Ok(self.links.len() as u32 - 1)
    }

    /// Writes one packet.
    pub fn write_packet(&mut self, p: &OutPacket<'_>) -> Result<(), WriteError> {
        if p.interface as usize >= self.links.len() {
            return Err(WriteError::NoInterface(p.interface));
        }
        if p.data.len() > MAX_RECORD_DATA as usize {
            return Err(WriteError::TooLong(p.data.len()));
        }
        if p.ts_ns < 0 {
            return Err(WriteError::Timestamp(p.ts_ns));
        }
        let caplen = p.data.len() as u32;
        let orig_len = p.orig_len.max(caplen);
        match self.format {
            OutputFormat::PcapNg => {
                let ts = p.ts_ns as u64;
                self.begin(6);
                self.u32(p.interface);
                self.u32((ts >> 32) as u32);
                self.u32(ts as u32);
                self.u32(caplen);
                self.u32(orig_len);
                self.bytes_padded(p.data);
                if let Some(c) = p.comment {
                    self.option(1, c.as_bytes())?; // opt_comment
                    self.end_options();
                }
                self.finish_block()
            }
            OutputFormat::Pcap => {
                let secs = p.ts_ns / 1_000_000_000;
                let secs = u32::try_from(secs).map_err(|_| WriteError::Timestamp(p.ts_ns))?;
                self.block.clear();
                self.u32(secs);
                self.u32((p.ts_ns % 1_000_000_000) as u32);
                self.u32(caplen);
                self.u32(orig_len);
                self.block.extend_from_slice(p.data);
                self.out.write_all(&self.block)?;
                Ok(())
            }
        }
    }

    /// Flushes and hands back the sink. A classic pcap writer that never got an interface
    /// writes no header (an empty file); add one first to get a valid empty capture.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// The sink, for flushing or inspection.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn begin(&mut self, block_type: u32) {
        self.block.clear();
        self.u32(block_type);
        self.u32(0); // total length, patched by finish_block
    }

    fn finish_block(&mut self) -> Result<(), WriteError> {
        let len = self.block.len() as u32 + 4;
        self.block[4..8].copy_from_slice(&len.to_le_bytes());
        self.u32(len);
        self.out.write_all(&self.block)?;
        Ok(())
    }

    fn option(&mut self, code: u16, val: &[u8]) -> Result<(), WriteError> {
        let len = u16::try_from(val.len()).map_err(|_| WriteError::OptionTooLong(val.len()))?;
        self.u16(code);
        self.u16(len);
        self.bytes_padded(val);
        Ok(())
    }

    fn end_options(&mut self) {
        self.u32(0); // opt_endofopt, length 0
    }

    fn bytes_padded(&mut self, b: &[u8]) {
        self.block.extend_from_slice(b);
        let pad = (4 - b.len() % 4) % 4;
        self.block.extend_from_slice(&[0; 3][..pad]);
    }

    fn u16(&mut self, v: u16) {
        self.block.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.block.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.block.extend_from_slice(&v.to_le_bytes());
    }
}
