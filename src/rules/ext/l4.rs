//! Transport-protocol matches beyond tcp and udp: `-m sctp` and `-m dccp`, ports and their
//! chunk or packet types. `-m multiport` lives in `multiport.rs`, ICMP in `icmp.rs`.
//!
//! sctp and dccp keep xt_sctp's and xt_dccp's "flags" idea: an option that was given is
//! printed back by `iptables-save` even when it says nothing (`--dport 0:65535`), while
//! `iptables -L` hides a full, non-inverted port range.

use std::fmt::Write;

use super::proto::PortRange;
use super::util::{once, parse_num, parse_port, save_invert};
use super::xtaddr::parse_service_port;
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::model::Neg;
use crate::rules::names::Names;

fn bad_port(o: &OptArg, s: &str) -> ExtError {
    o.bad(format!("invalid port/service `{s}' specified"))
}

/// `port[:port]` as libxt_sctp's parse_sctp_ports reads it: an empty side is 0 or 65535, and
/// a reversed range is refused.
fn parse_sctp_ports(o: &OptArg, names: &Names) -> Result<PortRange, ExtError> {
    let s = o.arg();
    let (lo, hi) = match s.split_once(':') {
        None => {
            let p = parse_port(s, "sctp", names).ok_or_else(|| bad_port(o, s))?;
            (p, p)
        }
        Some((lo, hi)) => {
            let side = |t: &str, default| match t {
                "" => Ok(default),
                _ => parse_port(t, "sctp", names).ok_or_else(|| bad_port(o, t)),
            };
            (side(lo, 0)?, side(hi, 65535)?)
        }
    };
    if lo > hi {
        return Err(o.bad("invalid portrange (min > max)"));
    }
    Ok(PortRange {
        lo,
        hi,
        invert: o.invert,
    })
}

/// `port[:port]` as libxtables' `XTTYPE_PORTRC` reads it (xtopt_parse_mport): at most two
/// parts, an empty one is 0 or 65535, and the order is not checked: `90:80` is taken and
/// matches nothing.
fn parse_portrc(o: &OptArg, names: &Names) -> Result<PortRange, ExtError> {
    let parts: Vec<&str> = o.arg().split(':').collect();
    if parts.len() > 2 {
        return Err(o.bad(format!("too many components for --{} (at most 2)", o.name)));
    }
    let mut ends = [0u16, 65535];
    for (i, p) in parts.iter().enumerate() {
        if !p.is_empty() {
            ends[i] = parse_service_port(p, names)
                .ok_or_else(|| o.bad(format!("port \"{p}\" does not resolve to anything")))?;
        }
    }
    if parts.len() == 1 {
        ends[1] = ends[0];
    }
    Ok(PortRange {
        lo: ends[0],
        hi: ends[1],
        invert: o.invert,
    })
}

const PORT_OPTIONS: [Opt; 2] = [
    Opt::new("sport", Arity::One, true).alias(&["source-port"]),
    Opt::new("dport", Arity::One, true).alias(&["destination-port"]),
];

/// How `--chunk-types` combines the chunk types it lists (`SCTP_CHUNK_MATCH_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkMatch {
    /// At least one of the listed chunk types is present.
    Any,
    /// Every listed chunk type is present.
    All,
    /// Only listed chunk types are present.
    Only,
}

impl ChunkMatch {
    fn name(self) -> &'static str {
        match self {
            ChunkMatch::Any => "any",
            ChunkMatch::All => "all",
            ChunkMatch::Only => "only",
        }
    }
}

/// Flag bits a chunk must have (`struct xt_sctp_flag_info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkFlags {
    /// The chunk type this applies to. libxt_sctp stores its name table's index here, which
    /// is the chunk type for the three chunks that have named flags (DATA, ABORT,
    /// SHUTDOWN_COMPLETE) but not for the last three names: `ASCONF:-` tests a flag of chunk
    /// type 15, and `-L` and save leave it out. Kept as iptables stores it.
    pub chunktype: u8,
    pub flag: u8,
    pub flag_mask: u8,
}

/// `--chunk-types (any|all|only) LIST`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SctpChunks {
    pub match_type: ChunkMatch,
    /// One bit per chunk type (`chunkmap` in xt_sctp_info).
    pub chunkmap: [u32; 8],
    /// At most four entries (`XT_NUM_SCTP_FLAGS`).
    pub flag_info: Vec<ChunkFlags>,
    pub invert: bool,
}

/// `XT_NUM_SCTP_FLAGS`: how many chunk types may carry flag tests.
const SCTP_FLAG_ENTRIES: usize = 4;

/// libxt_sctp's chunk names, in its table order, with the letters of each chunk's flag bits
/// from bit 7 down (`-` for a bit without a name).
const SCTP_CHUNKS: &[(&str, u8, &str)] = &[
    ("DATA", 0, "----IUBE"),
    ("INIT", 1, "--------"),
    ("INIT_ACK", 2, "--------"),
    ("SACK", 3, "--------"),
    ("HEARTBEAT", 4, "--------"),
    ("HEARTBEAT_ACK", 5, "--------"),
    ("ABORT", 6, "-------T"),
    ("SHUTDOWN", 7, "--------"),
    ("SHUTDOWN_ACK", 8, "--------"),
    ("ERROR", 9, "--------"),
    ("COOKIE_ECHO", 10, "--------"),
    ("COOKIE_ACK", 11, "--------"),
    ("ECN_ECNE", 12, "--------"),
    ("ECN_CWR", 13, "--------"),
    ("SHUTDOWN_COMPLETE", 14, "-------T"),
    ("ASCONF", 193, "--------"),
    ("ASCONF_ACK", 128, "--------"),
    ("FORWARD_TSN", 192, "--------"),
];

impl SctpChunks {
    fn is_set(&self, chunk: u8) -> bool {
        self.chunkmap[usize::from(chunk / 32)] & (1 << (chunk % 32)) != 0
    }

    /// Reads `MATCH LIST` as libxt_sctp's parse_sctp_chunks does: `ALL` and `NONE` alone set
    /// or clear every bit; otherwise comma-separated names, each with optional `:FLAGS`
    /// (upper case: flag set, lower case: flag clear).
    fn parse(o: &OptArg) -> Result<SctpChunks, ExtError> {
        let arg_err = |i: usize, msg: String| ExtError {
            message: msg,
            col: o.arg_cols.get(i).copied().or(Some(o.col)),
        };
        let arg = |i: usize| o.args.get(i).map_or("", String::as_str);
        let match_type = match arg(0).to_ascii_lowercase().as_str() {
            "any" => ChunkMatch::Any,
            "all" => ChunkMatch::All,
            "only" => ChunkMatch::Only,
            _ => {
                return Err(arg_err(
                    0,
                    "match type has to be one of \"ALL\", \"ANY\" or \"ONLY\"".into(),
                ))
            }
        };
        let list = arg(1);
        // sctp_parse takes the second word only when it does not look like an option.
        if o.args.len() < 2 || list.starts_with(['-', '!']) {
            return Err(o.err("--chunk-types requires two args: any|all|only and a chunk list"));
        }
        let mut chunks = SctpChunks {
            match_type,
            chunkmap: [0; 8],
            flag_info: Vec::new(),
            invert: o.invert,
        };
        if list.eq_ignore_ascii_case("ALL") {
            chunks.chunkmap = [u32::MAX; 8];
            return Ok(chunks);
        }
        if list.eq_ignore_ascii_case("NONE") {
            return Ok(chunks);
        }
        // strtok: empty items between commas are skipped.
        for item in list.split(',').filter(|s| !s.is_empty()) {
            let (name, flags) = match item.split_once(':') {
                Some((n, f)) => (n, f),
                None => (item, ""),
            };
            let Some(index) = SCTP_CHUNKS
                .iter()
                .position(|c| c.0.eq_ignore_ascii_case(name))
            else {
                return Err(arg_err(1, format!("unknown sctp chunk `{name}'")));
            };
            let (_, chunk, letters) = SCTP_CHUNKS[index];
            chunks.chunkmap[usize::from(chunk / 32)] |= 1 << (chunk % 32);
            for ch in flags.chars() {
                let Some(pos) = letters.find(ch.to_ascii_uppercase()) else {
                    return Err(arg_err(
                        1,
                        format!("invalid flag `{ch}' for chunk type {name}"),
                    ));
                };
                let bit = 1u8 << (7 - pos);
                let i = match chunks
                    .flag_info
                    .iter()
                    .position(|f| usize::from(f.chunktype) == index)
                {
                    Some(i) => i,
                    None if chunks.flag_info.len() == SCTP_FLAG_ENTRIES => {
                        return Err(arg_err(
                            1,
                            format!("flags for at most {SCTP_FLAG_ENTRIES} chunk types"),
                        ))
                    }
                    None => {
                        chunks.flag_info.push(ChunkFlags {
                            chunktype: index as u8,
                            flag: 0,
                            flag_mask: 0,
                        });
                        chunks.flag_info.len() - 1
                    }
                };
                let entry = &mut chunks.flag_info[i];
                entry.flag_mask |= bit;
                if ch.is_ascii_uppercase() {
                    entry.flag |= bit;
                }
            }
        }
        Ok(chunks)
    }

    /// ` any DATA:Be,INIT` (print_chunks): names, or `0x%04X` numbers under `-n`.
    fn print(&self, out: &mut String, numeric: bool) {
        out.push(' ');
        out.push_str(self.match_type.name());
        if self.chunkmap == [0; 8] {
            out.push_str(" NONE");
            return;
        }
        if self.chunkmap == [u32::MAX; 8] {
            out.push_str(" ALL");
            return;
        }
        let mut sep = ' ';
        for chunk in 0..=255u8 {
            if !self.is_set(chunk) {
                continue;
            }
            out.push(sep);
            sep = ',';
            if numeric {
                let _ = write!(out, "0x{chunk:04X}");
            } else if let Some(c) = SCTP_CHUNKS.iter().find(|c| c.1 == chunk) {
                out.push_str(c.0);
            }
            let letters = SCTP_CHUNKS.get(usize::from(chunk)).map_or("", |c| c.2);
            for f in self.flag_info.iter().filter(|f| f.chunktype == chunk) {
                if f.flag_mask != 0 {
                    out.push(':');
                }
                for bit in (0..8).rev() {
                    if f.flag_mask & (1 << bit) == 0 {
                        continue;
                    }
                    let letter = letters.as_bytes().get(7 - bit).copied().unwrap_or(b'-');
                    let letter = if f.flag & (1 << bit) != 0 {
                        letter
                    } else {
                        letter.to_ascii_lowercase()
                    };
                    out.push(char::from(letter));
                }
            }
        }
    }
}

/// `-m sctp`: ports and chunk types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sctp {
    pub sport: Option<PortRange>,
    pub dport: Option<PortRange>,
    pub chunk_types: Option<SctpChunks>,
}

impl Sctp {
    fn parse_with(opts: &[OptArg], names: &Names) -> Result<Sctp, ExtError> {
        let ports = |name| {
            once(opts, name)?
                .map(|o| parse_sctp_ports(o, names))
                .transpose()
        };
        Ok(Sctp {
            sport: ports("sport")?,
            dport: ports("dport")?,
            chunk_types: once(opts, "chunk-types")?
                .map(SctpChunks::parse)
                .transpose()?,
        })
    }
}

impl Extension for Sctp {
    const NAME: &'static str = "sctp";
    const OPTIONS: &'static [Opt] = &[
        PORT_OPTIONS[0],
        PORT_OPTIONS[1],
        Opt::new("chunk-types", Arity::Two, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        Sctp::parse_with(opts, Names::system())
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        if let Some(p) = &self.sport {
            p.save_given(out, "sport");
        }
        if let Some(p) = &self.dport {
            p.save_given(out, "dport");
        }
        if let Some(c) = &self.chunk_types {
            save_invert(out, c.invert);
            out.push_str(" --chunk-types");
            c.print(out, false);
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" sctp");
        if let Some(p) = &self.sport {
            p.list(out, "spt", ctx, "sctp");
        }
        if let Some(p) = &self.dport {
            p.list(out, "dpt", ctx, "sctp");
        }
        if let Some(c) = &self.chunk_types {
            if c.invert {
                out.push_str(" !");
            }
            c.print(out, ctx.numeric);
        }
    }
}

/// DCCP packet type names by type number (libxt_dccp's dccp_pkt_types). `INVALID` stands
/// for every type from 10 up (the header field has four bits).
const DCCP_TYPES: &[&str] = &[
    "REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC",
    "SYNCACK", "INVALID",
];
const DCCP_INVALID_BITS: u16 = 0xfc00;

/// `-m dccp`: ports, packet types, an option number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dccp {
    pub sport: Option<PortRange>,
    pub dport: Option<PortRange>,
    /// One bit per packet type (`typemask`).
    pub types: Option<Neg<u16>>,
    /// `--dccp-option N` (1..=255).
    pub option: Option<Neg<u8>>,
}

impl Dccp {
    fn parse_with(opts: &[OptArg], names: &Names) -> Result<Dccp, ExtError> {
        let ports = |name| {
            once(opts, name)?
                .map(|o| parse_portrc(o, names))
                .transpose()
        };
        let types = match once(opts, "dccp-types")? {
            None => None,
            Some(o) => {
                let mut mask = 0u16;
                for item in o.arg().split(',').filter(|s| !s.is_empty()) {
                    let i = DCCP_TYPES
                        .iter()
                        .position(|t| t.eq_ignore_ascii_case(item))
                        .ok_or_else(|| o.bad(format!("unknown DCCP type `{item}'")))?;
                    mask |= if i == 10 { DCCP_INVALID_BITS } else { 1 << i };
                }
                Some(Neg::new(o.invert, mask))
            }
        };
        let option = match once(opts, "dccp-option")? {
            None => None,
            Some(o) => {
                let n = parse_num(o.arg(), 1, 255).ok_or_else(|| {
                    o.bad("bad value for option \"--dccp-option\", or out of range (1-255)")
                })?;
                Some(Neg::new(o.invert, n as u8))
            }
        };
        Ok(Dccp {
            sport: ports("sport")?,
            dport: ports("dport")?,
            types,
            option,
        })
    }
}

/// ` REQUEST,ACK` / ` 0,3` (print_types): every type number under `-n`, `INVALID` once for
/// the types from 10 up otherwise.
fn print_dccp_types(out: &mut String, mask: u16, numeric: bool) {
    out.push(' ');
    let mut first = true;
    for i in 0..16 {
        if mask & (1 << i) == 0 {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        if numeric {
            let _ = write!(out, "{i}");
        } else {
            // Types 10..=15 share the last name and print it once.
            out.push_str(DCCP_TYPES[i.min(10)]);
            if i >= 10 {
                break;
            }
        }
    }
}

impl Extension for Dccp {
    const NAME: &'static str = "dccp";
    const OPTIONS: &'static [Opt] = &[
        PORT_OPTIONS[0],
        PORT_OPTIONS[1],
        Opt::new("dccp-types", Arity::One, true),
        Opt::new("dccp-option", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        Dccp::parse_with(opts, Names::system())
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        if let Some(p) = &self.sport {
            p.save_given(out, "sport");
        }
        if let Some(p) = &self.dport {
            p.save_given(out, "dport");
        }
        if let Some(t) = &self.types {
            save_invert(out, t.invert);
            out.push_str(" --dccp-types");
            print_dccp_types(out, t.value, false);
        }
        if let Some(o) = &self.option {
            save_invert(out, o.invert);
            let _ = write!(out, " --dccp-option {}", o.value);
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" dccp");
        if let Some(p) = &self.sport {
            p.list(out, "spt", ctx, "dccp");
        }
        if let Some(p) = &self.dport {
            p.list(out, "dpt", ctx, "dccp");
        }
        if let Some(t) = &self.types {
            if t.invert {
                out.push_str(" !");
            }
            print_dccp_types(out, t.value, ctx.numeric);
        }
        if let Some(o) = &self.option {
            let _ = write!(
                out,
                " option={}{}",
                if o.invert { "!" } else { "" },
                o.value
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_lists, names, rule};
    use super::*;
    use crate::rules::model::Family::Ipv4;

    /// Rows copied from `iptables -L -v` and `iptables -L -v -n` (iptables 1.8.9, nf_tables).
    #[test]
    fn lists_like_iptables() {
        let cases = [
            ("-p sctp -m sctp --dport 80", " sctp dpt:80", " sctp dpt:80"),
            (
                "-p sctp -m sctp ! --sport 1:2 --chunk-types any DATA:Be,INIT",
                " sctp spts:!1:2 any DATA:Be,INIT",
                " sctp spts:!1:2 any 0x0000:Be,0x0001",
            ),
            (
                "-p sctp -m sctp --chunk-types only ALL",
                " sctp only ALL",
                " sctp only ALL",
            ),
            (
                "-p sctp -m sctp ! --chunk-types any none",
                " sctp ! any NONE",
                " sctp ! any NONE",
            ),
            (
                "-p sctp -m sctp --chunk-types all INIT,SACK,ASCONF,FORWARD_TSN,ASCONF_ACK",
                " sctp all INIT,SACK,ASCONF_ACK,FORWARD_TSN,ASCONF",
                " sctp all 0x0001,0x0003,0x0080,0x00C0,0x00C1",
            ),
            (
                "-p sctp -m sctp --chunk-types only abort:T,shutdown_complete:t,data:iUbE",
                " sctp only DATA:iUbE,ABORT:T,SHUTDOWN_COMPLETE:t",
                " sctp only 0x0000:iUbE,0x0006:T,0x000E:t",
            ),
            ("-p sctp -m sctp --dport 0:65535", " sctp", " sctp"),
            (
                "-p sctp -m sctp --chunk-types any DATA:-,INIT:-,ASCONF:-,ABORT:t",
                " sctp any DATA:-,INIT:-,ABORT:t,ASCONF",
                " sctp any 0x0000:-,0x0001:-,0x0006:t,0x00C1",
            ),
            (
                "-p sctp -m sctp --dport 5672",
                " sctp dpt:amqp",
                " sctp dpt:5672",
            ),
            (
                "-p sctp -m sctp --sport 80:",
                " sctp spts:80:65535",
                " sctp spts:80:65535",
            ),
            (
                "-p dccp -m dccp ! --sport 1:1023 --dccp-types REQUEST,ack ! --dccp-option 2",
                " dccp spts:!1:1023 REQUEST,ACK option=!2",
                " dccp spts:!1:1023 0,3 option=!2",
            ),
            (
                "-p dccp -m dccp ! --dccp-types REQUEST,INVALID",
                " dccp ! REQUEST,INVALID",
                " dccp ! 0,10,11,12,13,14,15",
            ),
            (
                "-p dccp -m dccp --dport 90:80",
                " dccp dpts:90:80",
                " dccp dpts:90:80",
            ),
            ("-p dccp -m dccp --dport 0:65535", " dccp", " dccp"),
        ];
        for (text, list, list_n) in cases {
            assert_lists(Ipv4, text, list, list_n);
        }
    }

    #[test]
    fn sctp_service_names_are_sctp_services() {
        let n = names();
        let opt = |arg: &str| OptArg {
            name: "dport",
            invert: false,
            args: vec![arg.to_string()],
            col: 1,
            arg_cols: vec![2],
        };
        let s = Sctp::parse_with(&[opt("amqp")], &n).unwrap();
        assert_eq!(s.dport.map(|p| p.lo), Some(5672));
        assert!(Sctp::parse_with(&[opt("http")], &n).is_err());
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |t: &str| rule(Ipv4, t).unwrap_err();
        assert!(err("-p sctp -m sctp --dport 90:80").contains("min > max"));
        assert!(err("-p sctp -m sctp --chunk-types some INIT").contains("match type"));
        assert!(err("-p dccp -m dccp --dccp-option 0").contains("1-255"));
    }
}
