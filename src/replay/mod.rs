//! Replaying captures: read every packet, decide its arrival interface and whether the host
//! sent it itself, run it through the emulated host ([`crate::netfilter::stack::Stack`]), and
//! gather the results: counters, one outcome per packet, what the host emitted, log lines,
//! the connection table.
//!
//! One thread, in capture order (the parallel replay comes later; the stack's state is
//! already plain data merged with `+=`).
//!
//! Invariant: [`Summary::read`] equals the sum of [`Summary::outcomes`]: every packet read
//! lands in exactly one category, also when it could not be decoded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::capture::{self, LinkType, OutPacket, OutputFormat, Writer};
use crate::engine::LinkHeader;
use crate::host::Host;
use crate::netfilter::stack::{Config, EmitKind, Outcome, Processed, RuleRef, Stack};
use crate::rules::ipset::IpSets;
use crate::rules::{Ruleset, TableKind};

/// Everything a replay needs.
pub struct Inputs<'a> {
    pub captures: &'a [PathBuf],
    pub ruleset: &'a Ruleset,
    pub host: &'a Host,
    pub ipsets: IpSets,
    pub config: Config,
    /// The arrival interface of packets whose capture does not name one.
    pub in_interface: Option<String>,
    /// Write what the host emitted (rewritten packets and its own answers) here.
    pub out: Option<PathBuf>,
    /// Write the packets read that were dropped or rejected here, each with its reason.
    pub drops: Option<PathBuf>,
    /// Trace the packet with this 1-based number in the captures and stop after it.
    pub trace: Option<u64>,
}

/// How the packets read ended, and what the host did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub read: u64,
    /// Packets per outcome category.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Packets the host answered with, by what became of them.
    pub host_replies: BTreeMap<&'static str, u64>,
    /// Frames written to the output capture.
    pub emitted: u64,
    /// Why packets could not be evaluated, with counts.
    pub unsupported: BTreeMap<String, u64>,
    /// Packets dropped or rejected per deciding rule or policy.
    pub decided_by: BTreeMap<RuleRef, u64>,
}

/// The result of a replay.
pub struct Report {
    /// The ruleset with the replay's counters.
    pub counted: Ruleset,
    pub summary: Summary,
    /// `conntrack -L` at the time of the last packet.
    pub conntrack: Vec<String>,
    pub log: Vec<String>,
    pub tracked: bool,
    /// The traced packet: where it arrived, its bytes, and what happened to it.
    pub traced: Option<Traced>,
    /// Why reading stopped early (a damaged capture): the report holds everything
    /// replayed before.
    pub stopped: Option<String>,
}

/// The packet `fwbench trace` follows.
pub struct Traced {
    pub number: u64,
    /// The arrival interface; `None` for a packet the host sent.
    pub iface: Option<String>,
    pub ip: Vec<u8>,
    pub processed: Processed,
}

/// A replay failure: a capture that cannot be read or an output that cannot be written.
#[derive(Debug)]
pub struct ReplayError(pub String);

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReplayError {}

/// One packet read, as the stack needs it.
pub struct Arrival<'p> {
    pub ts_ns: i64,
    /// The arrival interface; `None` when the host sent the packet itself.
    pub iface: Option<String>,
    pub link: Option<LinkHeader>,
    pub ip: &'p [u8],
}

/// Replays `inputs.captures` in order.
pub fn replay(inputs: Inputs) -> Result<Report, ReplayError> {
    let mut stack = Stack::new(inputs.ruleset, inputs.host, inputs.ipsets, inputs.config);
    let mut summary = Summary::default();
    let mut out = inputs.out.as_deref().map(OutCapture::create).transpose()?;
    let mut drops = inputs
        .drops
        .as_deref()
        .map(OutCapture::create)
        .transpose()?;
    let mut log = Vec::new();
    let mut last_ts = 0;
    let mut traced = None;
    let mut stopped = None;
    'captures: for path in inputs.captures {
        let mut reader =
            capture::open(path).map_err(|e| ReplayError(format!("{}: {e}", path.display())))?;
        let names: Vec<Option<String>> =
            reader.interfaces().iter().map(|i| i.name.clone()).collect();
        loop {
            let packet = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    // Everything replayed so far stands; the report says where reading
                    // stopped.
                    stopped = Some(format!(
                        "{}: {e} (after {} packets)",
                        path.display(),
                        summary.read
                    ));
                    break 'captures;
                }
            };
            summary.read += 1;
            last_ts = packet.ts_ns;
            let captured_on = packet
                .interface
                .and_then(|i| names.get(i as usize).cloned().flatten());
            let tracing = inputs.trace == Some(summary.read);
            stack.set_tracing(tracing);
            let mut arrived = None;
            let processed = match arrival(
                inputs.host,
                &packet,
                captured_on.clone(),
                &inputs.in_interface,
            ) {
                Ok(Some(a)) => {
                    if tracing {
                        arrived = Some((a.iface.clone(), a.ip.to_vec()));
                    }
                    match &a.iface {
                        Some(iface) => stack.receive(a.ts_ns, iface, a.link, a.ip),
                        None => stack.send_local(a.ts_ns, a.ip),
                    }
                }
                Ok(None) => Processed {
                    outcome: Outcome::NotIp,
                    ..Processed::new()
                },
                Err(why) => Processed {
                    outcome: Outcome::InvalidHeader(why),
                    ..Processed::new()
                },
            };
            record(&mut summary, &processed);
            if let Some(o) = out.as_mut() {
                for e in &processed.emitted {
                    let note = match e.kind {
                        EmitKind::Packet => describe(inputs.ruleset, &processed.outcome),
                        EmitKind::HostReply => "sent by the host itself".to_string(),
                    };
                    o.write(&e.iface, packet.ts_ns, &e.frame, &note)?;
                    summary.emitted += 1;
                }
            }
            if let Some(d) = drops.as_mut() {
                if is_drop(&processed.outcome) {
                    let iface = captured_on.clone().unwrap_or_else(|| "capture".into());
                    let note = describe(inputs.ruleset, &processed.outcome);
                    d.write_raw(&iface, packet.link, packet.ts_ns, packet.data, &note)?;
                }
            }
            if tracing {
                let (iface, ip) = arrived.unwrap_or((captured_on, Vec::new()));
                traced = Some(Traced {
                    number: summary.read,
                    iface,
                    ip,
                    processed,
                });
                break 'captures;
            }
            log.extend(processed.log);
        }
    }
    for (k, v) in stack.host_replies() {
        summary.host_replies.insert(k, *v);
    }
    if let Some(o) = out {
        o.finish()?;
    }
    if let Some(d) = drops {
        d.finish()?;
    }
    Ok(Report {
        counted: stack.counted_ruleset(),
        summary,
        conntrack: stack.conntrack_list(last_ts),
        log,
        tracked: stack.tracks_connections(),
        traced,
        stopped,
    })
}

/// Decodes the link layer and picks the arrival interface: the capture's own interface
/// name when the host has it, else `--in-interface`, else the host's first interface;
/// `iface = None` for a packet whose source is an address of this host (sent by it).
/// `Ok(None)` for frames that are not IP.
fn arrival<'p>(
    host: &Host,
    packet: &capture::Packet<'p>,
    captured_on: Option<String>,
    in_interface: &Option<String>,
) -> Result<Option<Arrival<'p>>, String> {
    let link = packet.link_info().map_err(|e| e.to_string())?;
    if !matches!(
        link.protocol,
        capture::Protocol::Ipv4 | capture::Protocol::Ipv6
    ) {
        return Ok(None);
    }
    // A copy of a packet the capturing host sent (`tcpdump -i any`): the replay makes it.
    if link.packet_type == Some(capture::PacketType::Outgoing) {
        return Ok(None);
    }
    let ip = packet.data.get(link.network..).unwrap_or(&[]);
    let eth = (packet.link == LinkType::Ethernet && packet.data.len() >= 14).then(|| {
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(&packet.data[..6]);
        src.copy_from_slice(&packet.data[6..12]);
        LinkHeader { src, dst }
    });
    let src = crate::wire::ip::parse(ip).map(|i| i.src).ok();
    let from_host = src.is_some_and(|s| host.is_local(s));
    let iface = if from_host {
        None
    } else {
        let known = |n: &String| host.interface(n).is_some();
        Some(
            captured_on
                .filter(known)
                .or_else(|| in_interface.clone())
                .or_else(|| host.first_interface().map(|i| i.name.clone()))
                .ok_or_else(|| "the host model has no interface".to_string())?,
        )
    };
    Ok(Some(Arrival {
        ts_ns: packet.ts_ns,
        iface,
        link: eth,
        ip,
    }))
}

fn record(summary: &mut Summary, p: &Processed) {
    *summary.outcomes.entry(p.outcome.category()).or_insert(0) += 1;
    match &p.outcome {
        Outcome::Unsupported(why) => *summary.unsupported.entry(why.clone()).or_insert(0) += 1,
        Outcome::DroppedByRule(r)
        | Outcome::Rejected(r)
        | Outcome::DroppedByPolicy(r)
        | Outcome::HotDropped(r) => *summary.decided_by.entry(*r).or_insert(0) += 1,
        _ => {}
    }
}

fn is_drop(o: &Outcome) -> bool {
    matches!(
        o,
        Outcome::DroppedByRule(_)
            | Outcome::Rejected(_)
            | Outcome::DroppedByPolicy(_)
            | Outcome::HotDropped(_)
            | Outcome::NoRoute(_)
            | Outcome::TtlExceeded
            | Outcome::Queued { accepted: false }
    )
}

/// Names a rule or policy as a user finds it in `iptables -L --line-numbers`.
pub fn rule_name(ruleset: &Ruleset, r: &RuleRef) -> String {
    let chain = ruleset
        .table(r.table)
        .and_then(|t| t.chains().get(r.chain))
        .map_or("?", |c| c.name.as_str());
    match r.rule {
        Some(n) => format!("{} {} rule {}", r.table.name(), chain, n + 1),
        None => format!("{} {} policy", r.table.name(), chain),
    }
}

/// One line on what happened to a packet.
pub fn describe(ruleset: &Ruleset, o: &Outcome) -> String {
    match o {
        Outcome::Forwarded { out } => format!("forwarded out of {out}"),
        Outcome::Sent { out } => format!("sent out of {out}"),
        Outcome::DroppedByRule(r) => format!("dropped by {}", rule_name(ruleset, r)),
        Outcome::Rejected(r) => format!("rejected by {}", rule_name(ruleset, r)),
        Outcome::DroppedByPolicy(r) => format!("dropped by {}", rule_name(ruleset, r)),
        Outcome::HotDropped(r) => format!(
            "dropped as malformed by a match of {}",
            rule_name(ruleset, r)
        ),
        Outcome::NoRoute(why) => format!("no route: {why}"),
        Outcome::InvalidHeader(why) => format!("invalid header: {why}"),
        Outcome::Unsupported(why) => format!("not evaluated: {why}"),
        other => other.category().to_string(),
    }
}

/// A pcapng output with one interface block per interface name.
struct OutCapture {
    path: PathBuf,
    writer: Writer<std::io::BufWriter<std::fs::File>>,
    ifaces: BTreeMap<(String, u16), u32>,
}

impl OutCapture {
    fn create(path: &Path) -> Result<OutCapture, ReplayError> {
        let writer = Writer::create(path, OutputFormat::PcapNg)
            .map_err(|e| ReplayError(format!("{}: {e}", path.display())))?;
        Ok(OutCapture {
            path: path.to_path_buf(),
            writer,
            ifaces: BTreeMap::new(),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> ReplayError {
        ReplayError(format!("{}: {e}", self.path.display()))
    }

    fn write(
        &mut self,
        iface: &str,
        ts_ns: i64,
        frame: &[u8],
        note: &str,
    ) -> Result<(), ReplayError> {
        self.write_raw(iface, LinkType::Ethernet, ts_ns, frame, note)
    }

    fn write_raw(
        &mut self,
        iface: &str,
        link: LinkType,
        ts_ns: i64,
        data: &[u8],
        note: &str,
    ) -> Result<(), ReplayError> {
        let key = (iface.to_string(), link.number());
        let id = match self.ifaces.get(&key) {
            Some(id) => *id,
            None => {
                let id = self
                    .writer
                    .add_interface(iface, link)
                    .map_err(|e| self.err(e))?;
                self.ifaces.insert(key, id);
                id
            }
        };
        let p = OutPacket {
            interface: id,
            ts_ns: ts_ns.max(0),
            data,
            orig_len: data.len() as u32,
            comment: Some(note),
        };
        self.writer.write_packet(&p).map_err(|e| self.err(e))
    }

    fn finish(self) -> Result<(), ReplayError> {
        let path = self.path.clone();
        self.writer
            .finish()
            .map(|_| ())
            .map_err(|e| ReplayError(format!("{}: {e}", path.display())))
    }
}

/// The tables a listing shows by default: those of the ruleset, in the order
/// `iptables-save` of the nf_tables variant prints them.
pub fn listed_tables(ruleset: &Ruleset) -> Vec<TableKind> {
    [
        TableKind::Raw,
        TableKind::Mangle,
        TableKind::Nat,
        TableKind::Filter,
        TableKind::Security,
    ]
    .into_iter()
    .filter(|k| ruleset.table(*k).is_some())
    .collect()
}
