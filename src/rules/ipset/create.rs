//! The options of a `create` line: which each type takes, how ipset reads them, and how the
//! kernel normalises them (checked on the kernel: `hashsize 100` becomes 128 and `10` becomes
//! 64; `bucketsize 3` becomes 4, `7` becomes 8, `13` or more becomes 12; `list:set size 1`
//! becomes 4; a `bitmap:ip` range is widened to its netmask).

use std::net::{IpAddr, Ipv4Addr};

use super::elem::{self, AddrSpec, IPPROTO_TCP, IPPROTO_UDP};
use super::lex::{self, Arg};
use super::{Extensions, Family, HashHeader, Header, SetType};
use crate::rules::addr::{prefix_mask, prefix_mask_v4};
use crate::rules::names::Names;

/// What a create line asks for, normalised as the kernel would store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub family: Family,
    pub header: Header,
    pub ext: Extensions,
}

/// An error at an argument (index into the line's arguments) or at the line.
pub type OptError = (Option<usize>, String);

/// The create options of a type, in the order `ipset help TYPE` lists them.
fn allowed(t: SetType) -> Vec<&'static str> {
    const EXT: [&str; 5] = ["timeout", "counters", "comment", "forceadd", "skbinfo"];
    let hash_ext = EXT.iter().copied().chain(["bucketsize", "initval"]);
    let mut v: Vec<&'static str> = Vec::new();
    match t {
        SetType::BitmapIp => v.extend(["range", "netmask"]),
        SetType::BitmapPort => v.push("range"),
        SetType::ListSet => v.push("size"),
        SetType::HashMac => v.extend(["hashsize", "maxelem"]),
        SetType::HashIp => v.extend([
            "family", "-4", "-6", "hashsize", "maxelem", "netmask", "bitmask",
        ]),
        _ => v.extend(["family", "-4", "-6", "hashsize", "maxelem"]),
    }
    if t.is_hash() {
        v.extend(hash_ext);
        if t == SetType::HashIpPort {
            v.extend(["netmask", "bitmask"]);
        }
        // Accepted and ignored, for old files (ipset warns).
        v.extend(["probes", "resize", "gc"]);
    } else {
        v.extend(EXT.iter().filter(|o| **o != "forceadd"));
    }
    v
}

fn takes_value(opt: &str) -> bool {
    !matches!(
        opt,
        "counters" | "comment" | "skbinfo" | "forceadd" | "-4" | "-6"
    )
}

/// Parses the options (`args[start..]`) of a create line for type `t`.
pub fn parse(t: SetType, args: &[Arg], start: usize, names: &Names) -> Result<Created, OptError> {
    let allowed = allowed(t);
    // Collect `option [value]` pairs; ipset strips two leading dashes from option names.
    let mut opts: Vec<(&'static str, usize, Option<&str>)> = Vec::new();
    let mut i = start;
    while i < args.len() {
        let word = args[i].text.strip_prefix("--").unwrap_or(&args[i].text);
        let Some(&opt) = allowed.iter().find(|o| **o == word) else {
            return Err((
                Some(i),
                format!(
                    "unknown option `{}' for {} (it takes: {})",
                    args[i].text,
                    t.name(),
                    allowed.join(", ")
                ),
            ));
        };
        // `-4`/`-6` are the family too, so either spelling counts once.
        let key = if matches!(opt, "-4" | "-6") {
            "family"
        } else {
            opt
        };
        if opts
            .iter()
            .any(|(o, _, _)| *o == key || (key == "family" && matches!(*o, "-4" | "-6")))
        {
            return Err((Some(i), format!("{key} already specified")));
        }
        let value = if takes_value(opt) {
            i += 1;
            match args.get(i) {
                Some(v) => Some(v.text.as_str()),
                None => return Err((Some(i - 1), format!("option `{opt}' needs a value"))),
            }
        } else {
            None
        };
        opts.push((opt, i, value));
        i += 1;
    }
    let get = |name: &str| opts.iter().find(|(o, _, _)| *o == name);
    let num = |name: &str, max: u64| -> Result<Option<u64>, OptError> {
        match get(name) {
            Some((_, at, Some(v))) => lex::num(v, 0, max)
                .map(Some)
                .map_err(|m| (Some(*at), format!("{name}: {m}"))),
            _ => Ok(None),
        }
    };

    // ipset parses the family before the other options, so `netmask` reads the right width
    // wherever `family` stands.
    let family = if !t.takes_family() {
        if t == SetType::BitmapIp {
            Family::Inet
        } else {
            Family::Unspec
        }
    } else if get("-6").is_some() {
        Family::Inet6
    } else if get("-4").is_some() {
        Family::Inet
    } else {
        match get("family") {
            Some((_, at, Some(v))) => match *v {
                "inet" | "ipv4" | "-4" => Family::Inet,
                "inet6" | "ipv6" | "-6" => Family::Inet6,
                "any" | "unspec" => {
                    return Err((
                        Some(*at),
                        "family any is not supported by the set type".into(),
                    ))
                }
                other => {
                    return Err((
                        Some(*at),
                        format!("unknown family `{other}' (expected inet or inet6)"),
                    ))
                }
            },
            _ => Family::Inet,
        }
    };
    let width = family.host_len();

    let ext = Extensions {
        timeout: num("timeout", MAX_TIMEOUT)?.map(|v| v as u32),
        counters: get("counters").is_some(),
        comment: get("comment").is_some(),
        skbinfo: get("skbinfo").is_some(),
    };
    for ignored in ["probes", "resize"] {
        num(ignored, 255)?;
    }
    num("gc", u64::from(u32::MAX))?;

    let netmask = match get("netmask") {
        Some((_, at, Some(v))) => Some(lex::num(v, 1, u64::from(width)).map_err(|_| {
            (
                Some(*at),
                format!("netmask is out of the inclusive range of 1-{width}"),
            )
        })? as u8),
        _ => None,
    };

    let header = match t {
        SetType::BitmapIp => bitmap_ip(get("range"), netmask)?,
        SetType::BitmapPort => bitmap_port(get("range"), names)?,
        SetType::ListSet => Header::List {
            // list_set_create: sizes below IP_SET_LIST_MIN_SIZE are raised to it.
            size: num("size", u64::from(u32::MAX))?.map_or(8, |s| (s as u32).max(4)),
        },
        _ => {
            let bitmask = match get("bitmask") {
                Some((_, at, Some(v))) => {
                    if netmask.is_some() {
                        return Err((
                            Some(*at),
                            "bitmask and netmask are mutually exclusive, provide only one".into(),
                        ));
                    }
                    Some(
                        lex::parse_addr(v, family == Family::Inet6)
                            .map_err(|m| (Some(*at), format!("bitmask: {m}")))?,
                    )
                }
                _ => None,
            };
            let hashsize = num("hashsize", u64::from(u32::MAX))?.unwrap_or(1024) as u32;
            if hashsize > 1 << 31 {
                let at = get("hashsize").map(|o| o.1);
                return Err((at, "hashsize is too large for the kernel".into()));
            }
            let nm = netmask.unwrap_or(width);
            Header::Hash(HashHeader {
                // fls(hashsize - 1) bits, at least IPSET_MIMINAL_HASHSIZE (64).
                hashsize: hashsize.max(64).next_power_of_two(),
                maxelem: num("maxelem", u64::from(u32::MAX))?.unwrap_or(65536) as u32,
                netmask: nm,
                bitmask: bitmask.unwrap_or_else(|| prefix_mask(nm, family == Family::Inet6)),
                bitmask_given: bitmask.is_some(),
                bucketsize: num("bucketsize", 255)?.map_or(12, |b| {
                    let b = (b as u8).clamp(4, 12);
                    b + (b & 1)
                }),
                initval: num("initval", u64::from(u32::MAX))?.map(|v| v as u32),
                forceadd: get("forceadd").is_some(),
            })
        }
    };
    Ok(Created {
        family,
        header,
        ext,
    })
}

/// Timeouts are seconds that the kernel keeps in milliseconds in 31 bits.
pub const MAX_TIMEOUT: u64 = (u32::MAX as u64 >> 1) / 1000;

type Opt<'a> = Option<&'a (&'static str, usize, Option<&'a str>)>;

/// `bitmap_ip_create`: range as `FROM-TO` (swapped if reversed) or `IP/CIDR` below /32,
/// widened to the netmask, at most 65536 entries, netmask longer than the range's block.
fn bitmap_ip(range: Opt<'_>, netmask: Option<u8>) -> Result<Header, OptError> {
    let Some((_, at, Some(v))) = range else {
        return Err((
            None,
            "bitmap:ip needs `range FROM-TO' or `range IP/CIDR'".into(),
        ));
    };
    let at = Some(*at);
    if lex::find_sep(v, '/').is_none() && lex::find_range_sep(v).is_none() {
        return Err((
            at,
            format!("`{v}': IP/cidr or IP-IP range must be specified"),
        ));
    }
    let spec = parse_range_addr(v).map_err(|m| (at, m))?;
    let v4 = |a: IpAddr| match a {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(_) => 0,
    };
    let (mut first, mut last) = match spec {
        AddrSpec::Range(a, b) => {
            let (a, b) = (v4(a), v4(b));
            (a.min(b), a.max(b))
        }
        AddrSpec::Cidr(a, c) => {
            if c >= 32 {
                return Err((at, "the prefix length of the range is invalid".into()));
            }
            let m = prefix_mask_v4(c);
            (v4(a) & m, (v4(a) & m) | !m)
        }
        AddrSpec::Single(_) => return Err((at, "range must be FROM-TO or IP/CIDR".into())),
    };
    let netmask = netmask.unwrap_or(32);
    let elements: u64 = if netmask == 32 {
        u64::from(last - first) + 1
    } else {
        let m = prefix_mask_v4(netmask);
        first &= m;
        last |= !m;
        // range_to_mask: the shortest prefix whose block of `first` reaches `last`.
        let mut bits = 32u8;
        let mut mask: u32 = 0xFFFF_FFFE;
        loop {
            bits -= 1;
            if bits == 0 || mask == 0 || (last & mask) == first {
                break;
            }
            mask <<= 1;
        }
        if (mask == 0 && (first != 0 || last != u32::MAX)) || netmask <= bits {
            return Err((at, "element is out of the range of the set".into()));
        }
        2u64 << (netmask - bits - 1)
    };
    if elements > 65536 {
        return Err((
            at,
            "the range you specified exceeds the size limit of the set type".into(),
        ));
    }
    Ok(Header::BitmapIp {
        first: Ipv4Addr::from(first),
        last: Ipv4Addr::from(last),
        netmask,
    })
}

fn parse_range_addr(v: &str) -> Result<AddrSpec, String> {
    if let Some(i) = lex::find_sep(v, '/') {
        let c = lex::num(&v[i + 1..], 0, 32).map_err(|m| format!("prefix length: {m}"))?;
        return Ok(AddrSpec::Cidr(lex::parse_addr(&v[..i], false)?, c as u8));
    }
    match lex::find_range_sep(v) {
        Some(i) => Ok(AddrSpec::Range(
            lex::parse_addr(&v[..i], false)?,
            lex::parse_addr(&v[i + 1..], false)?,
        )),
        None => Ok(AddrSpec::Single(lex::parse_addr(v, false)?)),
    }
}

/// `bitmap_port_create`: `range [PROTO:]FROM-TO`, the protocol only naming services.
fn bitmap_port(range: Opt<'_>, names: &Names) -> Result<Header, OptError> {
    let Some((_, at, Some(v))) = range else {
        return Err((None, "bitmap:port needs `range FROM-TO'".into()));
    };
    let at = Some(*at);
    let p = elem::proto_port(v, false, names).map_err(|m| (at, m))?;
    if !matches!(p.proto, IPPROTO_TCP | IPPROTO_UDP) {
        return Err((at, format!("`{v}': only tcp and udp ports are valid here")));
    }
    let Some(to) = p.to else {
        return Err((at, format!("`{v}': the range must be FROM-TO")));
    };
    Ok(Header::BitmapPort {
        first: p.from.min(to),
        last: p.from.max(to),
    })
}

/// Whether `ipset -exist create` of an existing set succeeds: the kernel compares the type
/// and the type's `same_set` (maximum, timeout, netmask, extensions, bitmap range, list size),
/// but not the hash size, bucket size, seed or the family (checked: `create a hash:net` then
/// `create a hash:net family inet6 -exist` succeeds and leaves the inet set).
pub fn same_set(t1: SetType, a: &Created, t2: SetType, b: &Created) -> bool {
    if t1 != t2 || a.ext != b.ext {
        return false;
    }
    match (&a.header, &b.header) {
        (Header::Hash(x), Header::Hash(y)) => {
            x.maxelem == y.maxelem && x.netmask == y.netmask && x.bitmask == y.bitmask
        }
        (h1, h2) => h1 == h2,
    }
}
