//! One `fwbench verify` run: the same packets through the real kernel (a [`Lab`]) and through
//! fwbench's emulation ([`Stack`]), and the comparison of what each did.
//!
//! Both sides get exactly the same input: the capture is turned into a list of
//! [`Injected`] packets once (frames addressed to their arrival interface's MAC; packets
//! whose source is a host address sent from inside the host), the emulation runs first to
//! learn which neighbours the host hands packets to, then the lab is built with those as
//! permanent neighbour entries and the kernel gets the list.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::Path;

use super::{
    compare, parse_conntrack, CompareOptions, Comparison, Injected, Lab, Observation, VerifyError,
};
use crate::capture;
use crate::engine::LinkHeader;
use crate::host::Host;
use crate::netfilter::stack::{Config, Stack};
use crate::rules::ext::TargetExt;
use crate::rules::ipset::IpSets;
use crate::rules::{Family, Ruleset, Target};

/// What a verify run needs.
pub struct VerifyInputs<'a> {
    pub packets: Vec<Timed>,
    pub rules_text: &'a str,
    pub ruleset: &'a Ruleset,
    pub ipsets_text: Option<&'a str>,
    pub host: &'a Host,
    pub config: Config,
}

/// One packet with its capture time.
#[derive(Clone, Debug)]
pub struct Timed {
    pub ts_ns: i64,
    pub packet: Injected,
}

/// The result: both observations, the comparison, the lab's settings.
pub struct VerifyReport {
    pub kernel: Observation,
    pub emulated: Observation,
    pub comparison: Comparison,
    pub settings: Vec<String>,
    pub resent: usize,
}

/// Reads a capture into the packets both sides get: each frame on its arrival interface
/// (the capture's interface name when the host has it, else `in_interface`, else the first
/// interface), its destination MAC set to that interface's when it was unicast; packets from
/// one of the host's own addresses as locally generated.
pub fn packets_of_capture(
    path: &Path,
    host: &Host,
    in_interface: Option<&str>,
) -> Result<Vec<Timed>, VerifyError> {
    let name = path.display().to_string();
    let mut reader = capture::open(path).map_err(|e| VerifyError::Usage(format!("{name}: {e}")))?;
    let names: Vec<Option<String>> = reader.interfaces().iter().map(|i| i.name.clone()).collect();
    let mut out = Vec::new();
    while let Some(p) = reader
        .next_packet()
        .map_err(|e| VerifyError::Usage(format!("{name}: {e}")))?
    {
        let link = p
            .link_info()
            .map_err(|e| VerifyError::Usage(format!("{name}: {e}")))?;
        let ip = p.data.get(link.network..).unwrap_or(&[]).to_vec();
        let Ok(info) = crate::wire::ip::parse(&ip) else {
            continue;
        };
        if host.is_local(info.src) {
            out.push(Timed {
                ts_ns: p.ts_ns,
                packet: Injected::Local { ip },
            });
            continue;
        }
        let captured = p
            .interface
            .and_then(|i| names.get(i as usize).cloned().flatten());
        let iface = captured
            .filter(|n| host.interface(n).is_some())
            .or_else(|| in_interface.map(str::to_string))
            .or_else(|| host.first_interface().map(|i| i.name.clone()))
            .ok_or_else(|| VerifyError::Usage("the host model has no interface".into()))?;
        let mac = host.interface(&iface).and_then(|i| i.mac).unwrap_or([0; 6]);
        let mut frame = Vec::with_capacity(14 + ip.len());
        let ethertype: u16 = if info.is_ipv6() { 0x86dd } else { 0x0800 };
        let (dst, src) = if p.link == capture::LinkType::Ethernet && p.data.len() >= 12 {
            let mut d = [0u8; 6];
            let mut s = [0u8; 6];
            d.copy_from_slice(&p.data[..6]);
            s.copy_from_slice(&p.data[6..12]);
            (if d[0] & 1 == 0 { mac } else { d }, s)
        } else {
            (mac, [0x02, 0xfb, 0, 0, 0, 0xfe])
        };
        frame.extend_from_slice(&dst);
        frame.extend_from_slice(&src);
        frame.extend_from_slice(&ethertype.to_be_bytes());
        frame.extend_from_slice(&ip);
        out.push(Timed {
            ts_ns: p.ts_ns,
            packet: Injected::Frame { iface, frame },
        });
    }
    Ok(out)
}

/// The emulation's observation of `packets`, and the neighbours its output went to.
pub fn emulate(
    packets: &[Timed],
    ruleset: &Ruleset,
    host: &Host,
    ipsets: IpSets,
    config: Config,
) -> Result<(Observation, Vec<(String, IpAddr)>), VerifyError> {
    // The lab sends packets back to back, not at the capture's pace: the emulation's clock
    // follows the lab's (one millisecond per packet from the first timestamp), so timeouts
    // expire on both sides alike.
    let start = packets.first().map_or(0, |t| t.ts_ns);
    let mut stack = Stack::new(ruleset, host, ipsets, config);
    let mut emitted: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    let mut hops = BTreeSet::new();
    let mut last = 0;
    for (i, t) in packets.iter().enumerate() {
        let now = start + i as i64 * 1_000_000;
        last = now;
        let p = match &t.packet {
            Injected::Frame { iface, frame } => {
                let mut dst = [0; 6];
                let mut src = [0; 6];
                dst.copy_from_slice(&frame[..6]);
                src.copy_from_slice(&frame[6..12]);
                stack.receive(now, iface, Some(LinkHeader { src, dst }), &frame[14..])
            }
            Injected::Local { ip } => stack.send_local(now, ip),
        };
        for e in p.emitted {
            hops.insert((e.iface.clone(), e.next_hop));
            emitted.entry(e.iface).or_default().push(e.frame);
        }
    }
    let conntrack = parse_conntrack(&stack.conntrack_list(last).join("\n"))?;
    Ok((
        Observation {
            ruleset: stack.counted_ruleset(),
            emitted,
            conntrack,
        },
        hops.into_iter().collect(),
    ))
}

/// Runs both sides and compares them.
pub fn verify(inputs: VerifyInputs) -> Result<VerifyReport, VerifyError> {
    let ipsets = match inputs.ipsets_text {
        Some(t) => IpSets::parse(t, "ipsets"),
        None => IpSets::parse("", "none"),
    }
    .map_err(|d| VerifyError::Usage(d.to_string()))?;
    let (emulated, hops) = emulate(
        &inputs.packets,
        inputs.ruleset,
        inputs.host,
        ipsets,
        inputs.config.clone(),
    )?;
    // The kernel may choose other backends than the emulation where rules choose at
    // random: every DNAT address gets a neighbour entry too, so the kernel never ARPs.
    let mut hops: BTreeSet<(String, IpAddr)> = hops.into_iter().collect();
    for addr in dnat_addresses(inputs.ruleset) {
        if let Ok(r) = inputs.host.route_output(addr, None, 0) {
            if let Some(dev) = inputs.host.interface_by_index(r.dev) {
                hops.insert((dev.name.clone(), r.next_hop(addr)));
            }
        }
    }
    let next_hops: Vec<(String, IpAddr, Option<[u8; 6]>)> = hops
        .into_iter()
        .filter(|(iface, _)| iface != "lo")
        .map(|(i, a)| (i, a, None))
        .collect();
    let lab = Lab::new(inputs.host, &next_hops)?;
    let family = if inputs.ruleset.family == Family::Ipv6 {
        Family::Ipv6
    } else {
        Family::Ipv4
    };
    lab.load(
        inputs.rules_text,
        inputs.ipsets_text,
        family,
        inputs.config.backend,
    )?;
    let injected: Vec<Injected> = inputs.packets.iter().map(|t| t.packet.clone()).collect();
    let kernel = lab.run(&injected)?;
    let opts = CompareOptions::for_ruleset(inputs.ruleset);
    let comparison = compare(&kernel.observation, &emulated, &opts);
    Ok(VerifyReport {
        kernel: kernel.observation,
        emulated,
        comparison,
        settings: lab.settings(),
        resent: kernel.resent,
    })
}

/// Every address a DNAT rule can translate to (ranges of up to 256 addresses).
fn dnat_addresses(ruleset: &Ruleset) -> BTreeSet<IpAddr> {
    let mut out = BTreeSet::new();
    for t in &ruleset.tables {
        for c in t.chains() {
            for r in &c.rules {
                let Target::Ext(TargetExt::Dnat(d)) = &r.target else {
                    continue;
                };
                if let Some((IpAddr::V4(lo), IpAddr::V4(hi))) = d.range.addrs {
                    let (lo, hi) = (u32::from(lo), u32::from(hi));
                    if hi >= lo && hi - lo < 256 {
                        out.extend((lo..=hi).map(|a| IpAddr::V4(a.into())));
                    }
                } else if let Some((lo, _)) = d.range.addrs {
                    out.insert(lo);
                }
            }
        }
    }
    out
}
