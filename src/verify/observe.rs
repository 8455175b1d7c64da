//! What one side (the kernel or the emulation) did with a capture, in one shape so that
//! [`super::compare()`] can put them side by side: the counters of every table, the frames
//! the host emitted per interface, and the connection table.
//!
//! The kernel's connection table is read as `conntrack -L` prints it
//! (`conntrack/src/conntrack.c`, the "extended" line without the layer-3 prefix):
//! `tcp 6 431999 ESTABLISHED src=A dst=B sport=P dport=Q [UNREPLIED] src=B dst=A sport=Q
//! dport=P [ASSURED] mark=0 use=1`; udp and icmp have no state word, icmp shows
//! `type= code= id=` instead of ports (NETFILTER.md §2).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::rules::Ruleset;

use super::error::VerifyError;

/// What one side did with a capture.
#[derive(Clone, Debug)]
pub struct Observation {
    /// Every table's counters as `iptables-save -c` reports them (rule and policy
    /// [`crate::rules::Counters`]).
    pub ruleset: Ruleset,
    /// Frames the host emitted, per interface name, in order (whole Ethernet frames).
    pub emitted: BTreeMap<String, Vec<Vec<u8>>>,
    /// The connection table at the end, sorted ([`CtEntry`]'s order).
    pub conntrack: Vec<CtEntry>,
}

/// One direction's tuple of a connection.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CtTuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// TCP/UDP/SCTP/DCCP/UDPLITE ports.
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// ICMP / ICMPv6 type, code and identifier.
    pub icmp: Option<(u8, u8, u16)>,
}

impl fmt::Display for CtTuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "src={} dst={}", self.src, self.dst)?;
        if let (Some(s), Some(d)) = (self.sport, self.dport) {
            write!(f, " sport={s} dport={d}")?;
        }
        if let Some((t, c, id)) = self.icmp {
            write!(f, " type={t} code={c} id={id}")?;
        }
        Ok(())
    }
}

/// One connection table entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CtEntry {
    /// Layer-4 protocol name (`tcp`, `udp`, `icmp`, `icmpv6`, ...) and number.
    pub proto: String,
    pub proto_num: u8,
    pub original: CtTuple,
    pub reply: CtTuple,
    /// TCP (and SCTP/DCCP) state word: `SYN_SENT`, `ESTABLISHED`, `TIME_WAIT`, ...
    pub state: Option<String>,
    /// No packet was seen in the reply direction.
    pub unreplied: bool,
    pub assured: bool,
    pub mark: u32,
    /// Seconds left; ticks during a run, so [`super::compare()`] does not compare it exactly.
    pub timeout: u64,
}

impl fmt::Display for CtEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.proto, self.timeout)?;
        if let Some(s) = &self.state {
            write!(f, " {s}")?;
        }
        write!(f, " {}", self.original)?;
        if self.unreplied {
            f.write_str(" [UNREPLIED]")?;
        }
        write!(f, " {}", self.reply)?;
        if self.assured {
            f.write_str(" [ASSURED]")?;
        }
        write!(f, " mark={}", self.mark)
    }
}

/// Parses `conntrack -L` output (any number of lines; the summary line conntrack prints on
/// stderr is not part of it). Entries come back sorted: the kernel lists them in hash order.
pub fn parse_conntrack(text: &str) -> Result<Vec<CtEntry>, VerifyError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry = parse_line(line).map_err(|message| VerifyError::Parse {
            what: format!("conntrack -L line {}", n + 1),
            message: format!("{message}: {line}"),
        })?;
        out.push(entry);
    }
    out.sort();
    Ok(out)
}

/// Fields of one tuple while it is being read.
#[derive(Default)]
struct TupleParts {
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: Option<u16>,
    dport: Option<u16>,
    typ: Option<u8>,
    code: Option<u8>,
    id: Option<u16>,
}

impl TupleParts {
    fn finish(self) -> Result<CtTuple, String> {
        let icmp = match (self.typ, self.code, self.id) {
            (Some(t), Some(c), Some(id)) => Some((t, c, id)),
            (None, None, None) => None,
            _ => return Err("incomplete ICMP tuple".into()),
        };
        Ok(CtTuple {
            src: self.src.ok_or("tuple without src=")?,
            dst: self.dst.ok_or("tuple without dst=")?,
            sport: self.sport,
            dport: self.dport,
            icmp,
        })
    }
}

fn parse_line(line: &str) -> Result<CtEntry, String> {
    let mut words = line.split_whitespace();
    let mut proto = words.next().ok_or("empty line")?;
    // `conntrack -L -o extended` starts with the layer-3 name and number.
    if proto == "ipv4" || proto == "ipv6" {
        words.next();
        proto = words.next().ok_or("no protocol")?;
    }
    let proto_num: u8 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or("no protocol number")?;
    let timeout: u64 = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or("no timeout")?;
    let mut entry = CtEntry {
        proto: proto.to_string(),
        proto_num,
        original: placeholder(),
        reply: placeholder(),
        state: None,
        unreplied: false,
        assured: false,
        mark: 0,
        timeout,
    };
    let mut tuples: Vec<TupleParts> = Vec::new();
    for w in words {
        let Some((key, value)) = w.split_once('=') else {
            match w {
                "[UNREPLIED]" => entry.unreplied = true,
                "[ASSURED]" => entry.assured = true,
                w if w.starts_with('[') => {}
                w if tuples.is_empty() && w.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                    entry.state = Some(w.to_string())
                }
                _ => {}
            }
            continue;
        };
        if key == "src" {
            tuples.push(TupleParts::default());
        }
        let bad = || format!("bad value in `{w}'");
        match key {
            "mark" => entry.mark = value.parse().map_err(|_| bad())?,
            "src" | "dst" | "sport" | "dport" | "type" | "code" | "id" => {
                let t = tuples
                    .last_mut()
                    .ok_or_else(|| format!("`{w}' before src="))?;
                match key {
                    "src" => t.src = Some(value.parse().map_err(|_| bad())?),
                    "dst" => t.dst = Some(value.parse().map_err(|_| bad())?),
                    "sport" => t.sport = Some(value.parse().map_err(|_| bad())?),
                    "dport" => t.dport = Some(value.parse().map_err(|_| bad())?),
                    "type" => t.typ = Some(value.parse().map_err(|_| bad())?),
                    "code" => t.code = Some(value.parse().map_err(|_| bad())?),
                    _ => t.id = Some(value.parse().map_err(|_| bad())?),
                }
            }
            // use=, zone=, secctx=, labels= ... are not compared.
            _ => {}
        }
    }
    if tuples.len() != 2 {
        return Err(format!("{} tuples instead of 2", tuples.len()));
    }
    let reply = tuples.pop().ok_or("no reply tuple")?;
    let original = tuples.pop().ok_or("no original tuple")?;
    entry.original = original.finish()?;
    entry.reply = reply.finish()?;
    Ok(entry)
}

fn placeholder() -> CtTuple {
    CtTuple {
        src: IpAddr::from([0u8; 4]),
        dst: IpAddr::from([0u8; 4]),
        sport: None,
        dport: None,
        icmp: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conntrack_lines_of_each_protocol() {
        let text = "\
tcp      6 118 SYN_SENT src=10.1.0.5 dst=198.51.100.20 sport=40000 dport=80 [UNREPLIED] src=198.51.100.20 dst=192.168.0.2 sport=80 dport=40000 mark=0 use=1
udp      17 29 src=10.1.0.5 dst=10.96.0.10 sport=5353 dport=53 src=10.244.1.3 dst=10.1.0.5 sport=53 dport=5353 [ASSURED] mark=16384 use=1
icmp     1 29 src=10.1.0.5 dst=192.168.0.2 type=8 code=0 id=1 src=192.168.0.2 dst=10.1.0.5 type=0 code=0 id=1 mark=0 use=1
tcp      6 431999 ESTABLISHED src=2001:db8::5 dst=2001:db8::1 sport=1 dport=22 src=2001:db8::1 dst=2001:db8::5 sport=22 dport=1 [ASSURED] mark=0 use=1
";
        let ct = parse_conntrack(text).unwrap();
        assert_eq!(ct.len(), 4);
        let syn = ct
            .iter()
            .find(|e| e.state.as_deref() == Some("SYN_SENT"))
            .unwrap();
        assert!(syn.unreplied && !syn.assured);
        assert_eq!(syn.reply.src, "198.51.100.20".parse::<IpAddr>().unwrap());
        assert_eq!(syn.reply.dst, "192.168.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(syn.original.dport, Some(80));
        let udp = ct.iter().find(|e| e.proto == "udp").unwrap();
        assert!(udp.assured && !udp.unreplied && udp.state.is_none());
        assert_eq!(udp.mark, 16384);
        let icmp = ct.iter().find(|e| e.proto == "icmp").unwrap();
        assert_eq!(icmp.original.icmp, Some((8, 0, 1)));
        assert_eq!(icmp.reply.icmp, Some((0, 0, 1)));
        assert_eq!(icmp.original.sport, None);
        assert!(ct.iter().any(|e| e.original.src.is_ipv6()));
        // Printing gives back the compared fields.
        assert!(syn.to_string().contains("SYN_SENT src=10.1.0.5"));
    }

    #[test]
    fn conntrack_errors_name_the_line() {
        let err =
            parse_conntrack("tcp 6 10 src=1.2.3.4 dst=5.6.7.8 sport=1 dport=2\n").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(parse_conntrack("tcp 6 10 src=1.2.3.4 dst=nonsense\n").is_err());
        assert_eq!(parse_conntrack("\n").unwrap(), Vec::new());
    }
}
