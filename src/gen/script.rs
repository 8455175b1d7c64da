//! A line-based traffic description: the packets of a verify scenario, written so that a
//! reader sees the conversation and a writer does not count sequence numbers.
//!
//! ```text
//! # IFACE|local  PROTO  SRC > DST  [details...]
//! eth0  tcp   203.0.113.5:40000 > 192.168.0.2:22   flags=S
//! cni0  tcp   10.0.0.5:8080 > 203.0.113.5:40000    flags=SA
//! eth0  tcp   203.0.113.5:40000 > 192.168.0.2:22   flags=A data="hello"
//! cni0  udp   10.0.0.2:5353 > 172.30.0.10:53       len=40 x3
//! eth0  icmp  203.0.113.5 > 192.168.0.2            echo-request id=7
//! local tcp   192.168.0.2:40000 > 10.0.0.5:80      flags=S
//! eth0  icmp  198.51.100.1 > 192.168.0.2  type=3 code=4 mtu=1400 | tcp 192.168.0.2:80 > 203.0.113.5:40000
//! eth0  tcp   [2001:db8::9]:1234 > [2001:db8::1]:80 flags=S hl=1
//! eth0  47    203.0.113.5 > 10.0.0.5               len=24
//! ```
//!
//! - `IFACE` is the host interface the frame arrives on (its Ethernet destination is that
//!   interface's MAC); `local` makes the packet the host's own, sent through OUTPUT.
//! - `PROTO` is `tcp`, `udp`, `icmp`, `icmp6` (also `icmpv6`) or an IP protocol number. The
//!   family follows the addresses; IPv6 addresses with a port are written `[ADDR]:PORT`.
//! - IP details: `ttl=N` (`hl=N`), `tos=N`, `dscp=N`, `ecn=N`, `id=N`, `df`, `nodf` (TCP
//!   defaults to DF as Linux sends it, other protocols to no DF), `mf`, `fragoff=BYTES`,
//!   `frag=BYTES` (split into fragments with that much payload each, a multiple of 8),
//!   `badipsum`, `ipopts=HEX` (IPv4 options, padded to 4 bytes).
//! - Link details: `src-mac=MAC`, `dst-mac=MAC|broadcast|multicast`.
//! - Payload: `len=N` (N pattern bytes), `data="text"`, `hex=0011..`.
//! - TCP: `flags=` letters `F S R P A U E C` (or `none`), `seq=N`, `ack=N`, `win=N`,
//!   `opts=mss:1460,sackok,ws:7,ts:1:0,nop,eol` (or `opts=none`; SYNs default to Linux's
//!   MSS/SACK/window-scale set), `badsum`, `peer=ADDR:PORT`.
//!   Sequence numbers follow the conversation by themselves: every endpoint (address, port)
//!   that sends gets its own initial sequence number and advances by SYN, FIN and payload
//!   (a line with an explicit `seq=` leaves that state alone);
//!   an ACK acknowledges everything the destination endpoint sent so far. When a reply is
//!   addressed to a translated address (SNAT, MASQUERADE), `peer=` names the endpoint whose
//!   sequence it acknowledges.
//! - UDP: `badsum`, `nosum` (checksum 0).
//! - ICMP/ICMPv6: `echo-request`, `echo-reply` (or `ping`/`pong`), `type=N`, `code=N`,
//!   `id=N`, `seq=N`, `mtu=N` (for "fragmentation needed" / "packet too big"), `badsum`; an
//!   error quotes the packet described after ` | ` (same syntax, without interface), whole.
//! - `xN` (or `repeat=N`) sends the line N times (sequence numbers advance between copies).
//!
//! Packets get one millisecond of capture time each, in order, as the lab sends them.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::packet::{echo, tcp_segment, udp, Seg};
use crate::host::Host;
use crate::verify::{Injected, Timed};
use crate::wire::tcp::flags as tf;

/// A mistake in a traffic description, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for ScriptError {}

/// Source MAC of frames sent into the host unless a line names one.
pub const PEER_MAC: [u8; 6] = [0x02, 0xfb, 0, 0, 0, 0xfe];

/// Reads a whole traffic description into the packets a verify run sends.
pub fn parse(text: &str, file: &str, host: &Host) -> Result<Vec<Timed>, ScriptError> {
    let mut state = Conversations::default();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| ScriptError {
            file: file.to_string(),
            line: i + 1,
            message,
        };
        let packets = parse_line(line, host, &mut state).map_err(err)?;
        for packet in packets {
            out.push(Timed {
                ts_ns: out.len() as i64 * 1_000_000,
                packet,
            });
        }
    }
    Ok(out)
}

/// Removes a `#` comment that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits at whitespace, keeping `key="a b"` together (quotes removed).
fn tokens(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

/// Sequence-number state of every TCP endpoint seen so far.
#[derive(Default)]
struct Conversations {
    next_seq: HashMap<(IpAddr, u16), u32>,
}

impl Conversations {
    /// The next sequence number of `ep`, inventing an initial one the first time.
    fn seq(&mut self, ep: (IpAddr, u16)) -> u32 {
        let n = self.next_seq.len() as u32;
        *self
            .next_seq
            .entry(ep)
            .or_insert(1_000_000u32.wrapping_mul(n + 1).wrapping_add(1))
    }
}

/// One line: the interface, then the packet.
fn parse_line(line: &str, host: &Host, st: &mut Conversations) -> Result<Vec<Injected>, String> {
    let (outer, quoted) = match line.split_once(" | ") {
        Some((a, b)) => (a, Some(b)),
        None => (line, None),
    };
    let toks = tokens(outer)?;
    let Some((iface, rest)) = toks.split_first() else {
        return Err("empty line".into());
    };
    let local = iface == "local";
    let iface_mac = if local {
        None
    } else {
        let i = host
            .interface(iface)
            .ok_or_else(|| format!("the host has no interface `{iface}'"))?;
        Some(i.mac.unwrap_or([0; 6]))
    };
    let quoted = match quoted {
        Some(q) => {
            let qt = tokens(q)?;
            let spec = Spec::parse(&qt)?;
            let mut scratch = Conversations::default();
            let mut p = spec.build(&mut scratch, None)?;
            if p.len() != 1 {
                return Err("a quoted packet cannot be repeated or fragmented".into());
            }
            p.pop()
        }
        None => None,
    };
    let spec = Spec::parse(rest)?;
    let mut out = Vec::new();
    for ip in spec.build(st, quoted.as_deref())? {
        match iface_mac {
            None => out.push(Injected::Local { ip }),
            Some(mac) => {
                let dst = spec.dst_mac.unwrap_or(mac);
                let mut frame = Vec::with_capacity(14 + ip.len());
                frame.extend_from_slice(&dst);
                frame.extend_from_slice(&spec.src_mac.unwrap_or(PEER_MAC));
                let ethertype: u16 = if ip.first().map(|b| b >> 4) == Some(6) {
                    0x86dd
                } else {
                    0x0800
                };
                frame.extend_from_slice(&ethertype.to_be_bytes());
                frame.extend_from_slice(&ip);
                out.push(Injected::Frame {
                    iface: iface.clone(),
                    frame,
                });
            }
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
    Icmp,
    Icmp6,
    Other(u8),
}

impl Proto {
    fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Icmp => 1,
            Proto::Icmp6 => 58,
            Proto::Other(n) => n,
        }
    }
}

/// Everything a line says about its packet.
#[derive(Default)]
struct Spec {
    proto: Option<Proto>,
    src: Option<(IpAddr, Option<u16>)>,
    dst: Option<(IpAddr, Option<u16>)>,
    kv: Vec<(String, String)>,
    src_mac: Option<[u8; 6]>,
    dst_mac: Option<[u8; 6]>,
}

impl Spec {
    /// `PROTO SRC > DST details...`
    fn parse(toks: &[String]) -> Result<Spec, String> {
        let [proto, src, gt, dst, details @ ..] = toks else {
            return Err("expected `PROTO SRC > DST [details]'".into());
        };
        if gt != ">" {
            return Err(format!("expected `>' between the addresses, found `{gt}'"));
        }
        let proto = match proto.as_str() {
            "tcp" => Proto::Tcp,
            "udp" => Proto::Udp,
            "icmp" => Proto::Icmp,
            "icmp6" | "icmpv6" | "ipv6-icmp" => Proto::Icmp6,
            n => Proto::Other(n.parse().map_err(|_| {
                format!("unknown protocol `{n}' (tcp, udp, icmp, icmp6 or a number)")
            })?),
        };
        let mut spec = Spec {
            proto: Some(proto),
            src: Some(endpoint(src)?),
            dst: Some(endpoint(dst)?),
            ..Spec::default()
        };
        for d in details {
            let (k, v) = match d.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (d.clone(), String::new()),
            };
            match k.as_str() {
                "src-mac" => spec.src_mac = Some(mac(&v)?),
                "dst-mac" => spec.dst_mac = Some(mac(&v)?),
                _ => spec.kv.push((k, v)),
            }
        }
        Ok(spec)
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.kv
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, key: &str) -> bool {
        self.kv.iter().any(|(k, _)| k == key)
    }

    fn num(&self, key: &str) -> Result<Option<u64>, String> {
        self.get(key).map(|v| number(key, v)).transpose()
    }

    /// How many times the line is sent.
    fn repeat(&self) -> Result<u64, String> {
        if let Some(n) = self.num("repeat")? {
            return Ok(n);
        }
        for (k, v) in &self.kv {
            if let Some(n) = k.strip_prefix('x').filter(|_| v.is_empty()) {
                if let Ok(n) = n.parse() {
                    return Ok(n);
                }
            }
        }
        Ok(1)
    }

    /// Builds the IP packet(s) of the line.
    fn build(&self, st: &mut Conversations, quoted: Option<&[u8]>) -> Result<Vec<Vec<u8>>, String> {
        self.check_keys()?;
        let proto = self.proto.ok_or("no protocol")?;
        let (src, sport) = self.src.ok_or("no source")?;
        let (dst, dport) = self.dst.ok_or("no destination")?;
        if src.is_ipv6() != dst.is_ipv6() {
            return Err("source and destination are of different families".into());
        }
        let ports = matches!(proto, Proto::Tcp | Proto::Udp);
        if ports && (sport.is_none() || dport.is_none()) {
            return Err("TCP and UDP need ADDR:PORT on both sides".into());
        }
        let mut out = Vec::new();
        for _ in 0..self.repeat()? {
            let l4 = self.l4(proto, src, sport, dst, dport, st, quoted)?;
            let mut ip = self.ip_header(proto, src, dst, l4.len())?;
            ip.extend_from_slice(&l4);
            crate::wire::verify::recompute(&mut ip).map_err(|e| format!("checksums: {e}"))?;
            if proto == Proto::Udp {
                udp_checksum(&mut ip);
            }
            self.spoil(&mut ip, proto);
            match self.num("frag")? {
                Some(size) => out.extend(fragments(&ip, size as usize)?),
                None => out.push(ip),
            }
        }
        Ok(out)
    }

    fn check_keys(&self) -> Result<(), String> {
        const KEYS: &[&str] = &[
            "ttl",
            "hl",
            "tos",
            "dscp",
            "ecn",
            "id",
            "df",
            "nodf",
            "mf",
            "fragoff",
            "frag",
            "badipsum",
            "ipopts",
            "len",
            "data",
            "hex",
            "flags",
            "seq",
            "ack",
            "win",
            "opts",
            "badsum",
            "nosum",
            "peer",
            "echo-request",
            "echo-reply",
            "ping",
            "pong",
            "type",
            "code",
            "mtu",
            "repeat",
        ];
        for (k, v) in &self.kv {
            let repeat = k.starts_with('x') && v.is_empty() && k[1..].parse::<u64>().is_ok();
            if !repeat && !KEYS.contains(&k.as_str()) {
                return Err(format!("unknown detail `{k}'"));
            }
        }
        Ok(())
    }

    fn payload(&self) -> Result<Vec<u8>, String> {
        if let Some(d) = self.get("data") {
            return Ok(d.as_bytes().to_vec());
        }
        if let Some(h) = self.get("hex") {
            return hex(h);
        }
        let n = self.num("len")?.unwrap_or(0) as usize;
        Ok((0..n).map(|i| b'a' + (i % 26) as u8).collect())
    }

    #[allow(clippy::too_many_arguments)]
    fn l4(
        &self,
        proto: Proto,
        src: IpAddr,
        sport: Option<u16>,
        dst: IpAddr,
        dport: Option<u16>,
        st: &mut Conversations,
        quoted: Option<&[u8]>,
    ) -> Result<Vec<u8>, String> {
        let payload = self.payload()?;
        match proto {
            Proto::Tcp => {
                let (sport, dport) = (sport.unwrap_or(0), dport.unwrap_or(0));
                self.tcp(st, (src, sport), (dst, dport), &payload)
            }
            Proto::Udp => Ok(udp(sport.unwrap_or(0), dport.unwrap_or(0), &payload)),
            Proto::Icmp | Proto::Icmp6 => self.icmp(proto == Proto::Icmp6, &payload, quoted),
            Proto::Other(_) => Ok(payload),
        }
    }

    fn tcp(
        &self,
        st: &mut Conversations,
        me: (IpAddr, u16),
        them: (IpAddr, u16),
        payload: &[u8],
    ) -> Result<Vec<u8>, String> {
        let flags = tcp_flags(self.get("flags").unwrap_or("A"))?;
        let seq = match self.num("seq")? {
            Some(s) => s as u32,
            None => st.seq(me),
        };
        let peer = match self.get("peer") {
            Some(p) => match endpoint(p)? {
                (a, Some(port)) => (a, port),
                _ => return Err("peer= needs ADDR:PORT".into()),
            },
            None => them,
        };
        let ack = match self.num("ack")? {
            Some(a) => a as u32,
            None if flags & tf::ACK != 0 => st.next_seq.get(&peer).copied().unwrap_or(0),
            None => 0,
        };
        let advance = u32::from(flags & tf::SYN != 0)
            + u32::from(flags & tf::FIN != 0)
            + payload.len() as u32;
        if self.num("seq")?.is_none() {
            st.next_seq.insert(me, seq.wrapping_add(advance));
        }
        let seg = Seg {
            flags,
            seq,
            ack,
            payload,
        };
        let mut t = tcp_segment(me.1, them.1, &seg);
        if let Some(o) = self.get("opts") {
            let opts = tcp_options(o)?;
            let doff = usize::from(t[12] >> 4) * 4;
            let mut n = t[..20].to_vec();
            n.extend_from_slice(&opts);
            n.extend_from_slice(&t[doff..]);
            n[12] = (((20 + opts.len()) / 4) as u8) << 4;
            t = n;
        }
        if let Some(w) = self.num("win")? {
            t[14..16].copy_from_slice(&(w as u16).to_be_bytes());
        }
        Ok(t)
    }

    fn icmp(&self, v6: bool, payload: &[u8], quoted: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let id = self.num("id")?.unwrap_or(1) as u16;
        let seq = self.num("seq")?.unwrap_or(1) as u16;
        let (req, rep) = if v6 { (128, 129) } else { (8, 0) };
        let typ = if self.has("echo-request") || self.has("ping") {
            req
        } else if self.has("echo-reply") || self.has("pong") {
            rep
        } else {
            self.num("type")?
                .ok_or("ICMP needs echo-request, echo-reply or type=N")? as u8
        };
        let code = self.num("code")?.unwrap_or(0) as u8;
        if typ == req || typ == rep {
            let mut m = echo(typ, id, seq);
            m[1] = code;
            if self.has("len") || self.has("data") || self.has("hex") {
                m.truncate(8);
                m.extend_from_slice(payload);
            }
            return Ok(m);
        }
        let mut m = vec![typ, code, 0, 0, 0, 0, 0, 0];
        if let Some(mtu) = self.num("mtu")? {
            if v6 {
                m[4..8].copy_from_slice(&(mtu as u32).to_be_bytes());
            } else {
                m[6..8].copy_from_slice(&(mtu as u16).to_be_bytes());
            }
        }
        match quoted {
            Some(q) => m.extend_from_slice(q),
            None => m.extend_from_slice(payload),
        }
        Ok(m)
    }

    fn ip_header(
        &self,
        proto: Proto,
        src: IpAddr,
        dst: IpAddr,
        l4_len: usize,
    ) -> Result<Vec<u8>, String> {
        let ttl = self.num("ttl")?.or(self.num("hl")?).unwrap_or(64) as u8;
        let mut tos = self.num("tos")?.unwrap_or(0) as u8;
        if let Some(d) = self.num("dscp")? {
            tos = (tos & 0x03) | ((d as u8) << 2);
        }
        if let Some(e) = self.num("ecn")? {
            tos = (tos & 0xfc) | (e as u8 & 3);
        }
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let opts = match self.get("ipopts") {
                    Some(h) => {
                        let mut o = hex(h)?;
                        while o.len() % 4 != 0 {
                            o.push(0);
                        }
                        o
                    }
                    None => Vec::new(),
                };
                let hl = 20 + opts.len();
                let total = hl + l4_len;
                if total > 65535 || hl > 60 {
                    return Err("packet too large".into());
                }
                let df = if self.has("nodf") {
                    false
                } else {
                    self.has("df") || proto == Proto::Tcp
                };
                let fragoff = self.num("fragoff")?.unwrap_or(0);
                if fragoff % 8 != 0 {
                    return Err("fragoff must be a multiple of 8".into());
                }
                let frag = (u16::from(df) << 14)
                    | (u16::from(self.has("mf")) << 13)
                    | ((fragoff / 8) as u16 & 0x1fff);
                let id = self
                    .num("id")?
                    .filter(|_| !matches!(proto, Proto::Icmp))
                    .unwrap_or(0x1234) as u16;
                let mut h = vec![0x40 | (hl / 4) as u8, tos];
                h.extend_from_slice(&(total as u16).to_be_bytes());
                h.extend_from_slice(&id.to_be_bytes());
                h.extend_from_slice(&frag.to_be_bytes());
                h.extend_from_slice(&[ttl, proto.number(), 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h.extend_from_slice(&opts);
                Ok(h)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let mut h = vec![0x60 | (tos >> 4), tos << 4, 0, 0];
                h.extend_from_slice(&(l4_len as u16).to_be_bytes());
                h.push(proto.number());
                h.push(ttl);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                Ok(h)
            }
            _ => Err("mixed families".into()),
        }
    }

    /// Breaks the checksums the line asks to break.
    fn spoil(&self, ip: &mut [u8], proto: Proto) {
        let v6 = ip[0] >> 4 == 6;
        let l4 = if v6 {
            40
        } else {
            usize::from(ip[0] & 0x0f) * 4
        };
        let at = match proto {
            Proto::Tcp => Some(l4 + 16),
            Proto::Udp => Some(l4 + 6),
            Proto::Icmp | Proto::Icmp6 => Some(l4 + 2),
            Proto::Other(_) => None,
        };
        if let Some(at) = at.filter(|a| a + 2 <= ip.len()) {
            if self.has("nosum") && proto == Proto::Udp {
                ip[at] = 0;
                ip[at + 1] = 0;
            } else if self.has("badsum") {
                ip[at] ^= 0x5a;
            }
        }
        if self.has("badipsum") && !v6 {
            ip[10] ^= 0x5a;
        }
    }
}

/// Fills the UDP checksum, which `recompute` leaves 0 (over IPv4, "no checksum"): senders
/// fill it, and a datagram without one takes other paths in the kernel (`nosum` asks for it).
fn udp_checksum(ip: &mut [u8]) {
    use crate::wire::checksum;
    let v6 = ip[0] >> 4 == 6;
    let off = if v6 {
        40
    } else {
        usize::from(ip[0] & 0x0f) * 4
    };
    if ip.len() < off + 8 {
        return;
    }
    let len = ip.len() - off;
    let pseudo = if v6 {
        let (mut s, mut d) = ([0u8; 16], [0u8; 16]);
        s.copy_from_slice(&ip[8..24]);
        d.copy_from_slice(&ip[24..40]);
        checksum::pseudo_header_v6(&s, &d, 17, len as u32)
    } else {
        let (mut s, mut d) = ([0u8; 4], [0u8; 4]);
        s.copy_from_slice(&ip[12..16]);
        d.copy_from_slice(&ip[16..20]);
        checksum::pseudo_header_v4(&s, &d, 17, len as u16)
    };
    ip[off + 6] = 0;
    ip[off + 7] = 0;
    let c = match checksum::finish(checksum::combine(&[pseudo, checksum::data(&ip[off..])])) {
        0 => 0xffff,
        c => c,
    };
    ip[off + 6..off + 8].copy_from_slice(&c.to_be_bytes());
}

/// Splits an IPv4 datagram into fragments carrying `size` bytes of payload each.
fn fragments(ip: &[u8], size: usize) -> Result<Vec<Vec<u8>>, String> {
    if ip[0] >> 4 != 4 {
        return Err("frag= is for IPv4 only".into());
    }
    if size == 0 || size % 8 != 0 {
        return Err("frag= must be a positive multiple of 8".into());
    }
    let hl = usize::from(ip[0] & 0x0f) * 4;
    let payload = &ip[hl..];
    let mut out = Vec::new();
    let mut off = 0;
    while off < payload.len() {
        let end = (off + size).min(payload.len());
        let mut f = ip[..hl].to_vec();
        f.extend_from_slice(&payload[off..end]);
        let total = f.len() as u16;
        f[2..4].copy_from_slice(&total.to_be_bytes());
        let df = u16::from_be_bytes([ip[6], ip[7]]) & 0x4000;
        let mf = if end < payload.len() { 0x2000 } else { 0 };
        f[6..8].copy_from_slice(&(df | mf | (off / 8) as u16).to_be_bytes());
        f[10] = 0;
        f[11] = 0;
        crate::wire::verify::recompute(&mut f).map_err(|e| format!("checksums: {e}"))?;
        out.push(f);
        off = end;
    }
    Ok(out)
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]:80`.
fn endpoint(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    let bad = || format!("`{s}' is not an address or ADDR:PORT");
    if let Some(rest) = s.strip_prefix('[') {
        let (a, p) = rest.split_once(']').ok_or_else(bad)?;
        let addr: Ipv6Addr = a.parse().map_err(|_| bad())?;
        let port = match p.strip_prefix(':') {
            Some(p) => Some(p.parse().map_err(|_| bad())?),
            None if p.is_empty() => None,
            None => return Err(bad()),
        };
        return Ok((IpAddr::V6(addr), port));
    }
    if let Ok(a) = s.parse::<IpAddr>() {
        return Ok((a, None));
    }
    let (a, p) = s.rsplit_once(':').ok_or_else(bad)?;
    let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
    Ok((IpAddr::V4(addr), Some(p.parse().map_err(|_| bad())?)))
}

fn number(key: &str, v: &str) -> Result<u64, String> {
    let r = match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => v.parse(),
    };
    r.map_err(|_| format!("{key}=`{v}' is not a number"))
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| *c != ':' && *c != '_').collect();
    if s.len() % 2 != 0 {
        return Err(format!("`{s}' has an odd number of hex digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("`{s}' is not hex")))
        .collect()
}

fn mac(s: &str) -> Result<[u8; 6], String> {
    match s {
        "broadcast" => return Ok([0xff; 6]),
        "multicast" => return Ok([0x01, 0x00, 0x5e, 0x00, 0x00, 0x01]),
        _ => {}
    }
    let b = hex(s)?;
    b.try_into()
        .map_err(|_| format!("`{s}' is not a MAC address"))
}

fn tcp_flags(s: &str) -> Result<u8, String> {
    if s == "none" {
        return Ok(0);
    }
    s.chars()
        .map(|c| match c {
            'F' => Ok(tf::FIN),
            'S' => Ok(tf::SYN),
            'R' => Ok(tf::RST),
            'P' => Ok(tf::PSH),
            'A' => Ok(tf::ACK),
            'U' => Ok(tf::URG),
            'E' => Ok(tf::ECE),
            'C' => Ok(tf::CWR),
            c => Err(format!("unknown TCP flag `{c}' (FSRPAUEC)")),
        })
        .try_fold(0, |acc, f| f.map(|f| acc | f))
}

/// `mss:1460,sackok,ws:7,ts:1:0,nop,eol`, padded with EOL to 4 bytes.
fn tcp_options(s: &str) -> Result<Vec<u8>, String> {
    let mut o = Vec::new();
    if s != "none" {
        for item in s.split(',') {
            let mut parts = item.split(':');
            let name = parts.next().unwrap_or("");
            let args: Vec<u64> = parts.map(|p| number(name, p)).collect::<Result<_, _>>()?;
            match (name, args.as_slice()) {
                ("mss", [m]) => o.extend_from_slice(&[2, 4, (*m >> 8) as u8, *m as u8]),
                ("sackok", []) => o.extend_from_slice(&[4, 2]),
                ("ws", [w]) => o.extend_from_slice(&[3, 3, *w as u8]),
                ("ts", [a, b]) => {
                    o.extend_from_slice(&[8, 10]);
                    o.extend_from_slice(&(*a as u32).to_be_bytes());
                    o.extend_from_slice(&(*b as u32).to_be_bytes());
                }
                ("nop", []) => o.push(1),
                ("eol", []) => o.push(0),
                _ => return Err(format!("unknown TCP option `{item}'")),
            }
        }
    }
    while o.len() % 4 != 0 {
        o.push(0);
    }
    if o.len() > 40 {
        return Err("TCP options longer than 40 bytes".into());
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(text: &str) -> Vec<Vec<u8>> {
        parse(text, "t", &Host::kubernetes_node())
            .expect("parses")
            .into_iter()
            .map(|t| match t.packet {
                Injected::Frame { frame, .. } => frame[14..].to_vec(),
                Injected::Local { ip } => ip,
            })
            .collect()
    }

    #[test]
    fn a_handshake_numbers_itself() {
        let p = ips("eth0 tcp 203.0.113.5:40000 > 10.0.0.5:80 flags=S\n\
             cni0 tcp 10.0.0.5:80 > 203.0.113.5:40000 flags=SA\n\
             eth0 tcp 203.0.113.5:40000 > 10.0.0.5:80 flags=PA data=\"hi\"\n\
             cni0 tcp 10.0.0.5:80 > 203.0.113.5:40000 flags=A\n");
        let seq = |p: &[u8]| u32::from_be_bytes([p[24], p[25], p[26], p[27]]);
        let ack = |p: &[u8]| u32::from_be_bytes([p[28], p[29], p[30], p[31]]);
        assert_eq!(ack(&p[1]), seq(&p[0]) + 1);
        assert_eq!(seq(&p[2]), seq(&p[0]) + 1);
        assert_eq!(ack(&p[2]), seq(&p[1]) + 1);
        assert_eq!(ack(&p[3]), seq(&p[2]) + 2);
        for q in &p {
            assert!(crate::wire::verify::verify(q).expect("parses").all_ok());
        }
    }

    #[test]
    fn details_reach_the_header() {
        let p = ips("eth0 udp 1.2.3.4:5 > 10.0.0.1:53 ttl=1 tos=0x10 len=3 badsum x2");
        assert_eq!(p.len(), 2);
        assert_eq!((p[0][8], p[0][1], p[0].len()), (1, 0x10, 31));
        assert!(!crate::wire::verify::verify(&p[0]).expect("parses").all_ok());
        let u = ips(
            "eth0 udp 1.2.3.4:5 > 10.0.0.1:53 len=3\neth0 udp [2001:db8::5]:5 > [2001:db8::1]:53",
        );
        assert!(u.iter().all(|q| q[26..28] != [0, 0] || q[46..48] != [0, 0]));
        assert!(u
            .iter()
            .all(|q| crate::wire::verify::verify(q).expect("parses").all_ok()));
        let f = ips("eth0 udp 1.2.3.4:5 > 10.0.0.1:53 len=100 frag=48");
        assert_eq!(f.len(), 3);
        assert_eq!(u16::from_be_bytes([f[1][6], f[1][7]]), 0x2000 | 6);
    }

    #[test]
    fn icmp_errors_quote_the_packet_after_the_bar() {
        let p = ips("eth0 icmp 198.51.100.1 > 192.168.0.2 type=3 code=3 | udp 192.168.0.2:5 > 198.51.100.7:53 len=4");
        assert_eq!(p[0].len(), 20 + 8 + 20 + 12);
        assert!(crate::wire::verify::verify(&p[0]).expect("parses").all_ok());
        let l = ips("local icmp6 2001:db8::1 > 2001:db8::9 echo-request");
        assert_eq!(l[0][0] >> 4, 6);
    }

    #[test]
    fn mistakes_name_the_line() {
        let e = parse(
            "# c\n\neth9 tcp 1.2.3.4:1 > 5.6.7.8:2",
            "traffic",
            &Host::kubernetes_node(),
        )
        .expect_err("no eth9");
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("traffic:3: "), "{e}");
        let e = parse(
            "eth0 tcp 1.2.3.4 > 5.6.7.8:2",
            "f",
            &Host::kubernetes_node(),
        )
        .expect_err("port");
        assert!(e.message.contains("ADDR:PORT"), "{e}");
        let e = parse(
            "eth0 udp 1.2.3.4:1 > 5.6.7.8:2 bogus=1",
            "f",
            &Host::kubernetes_node(),
        )
        .expect_err("key");
        assert!(e.message.contains("bogus"), "{e}");
    }
}
