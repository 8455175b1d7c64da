//! How libxtables reads addresses, masks and ports given to extensions (`--ctorigsrc`,
//! `--connlimit-mask`, `--hashlimit-srcmask`, `recent --mask`, `--ctorigsrcport`), and how
//! glibc prints IPv6 addresses back.
//!
//! These option types (`XTTYPE_HOST`, `XTTYPE_HOSTMASK`, `XTTYPE_PLEN`, `XTTYPE_PLENMASK`,
//! `XTTYPE_PORTRC` in libxtables/xtoptions.c) do not share the parser of `-s`/`-d`: they go
//! through `getaddrinfo`, which takes `inet_aton` forms (`10.1` is 10.0.0.1), and a prefix
//! length that is out of range is tried once more as a dotted mask (`33` is the mask
//! 0.0.0.33). Those quirks decide what the kernel receives, so they are kept here. Host names
//! are not resolved: a ruleset must not depend on DNS.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::util::parse_uint;
use crate::rules::names::Names;

/// An address as glibc's `inet_aton` reads it (what `getaddrinfo` uses for numeric IPv4):
/// one to four parts separated by dots, each decimal, octal (`0` prefix) or hex (`0x`), the
/// last part filling the remaining bytes (`1.2.3` is 1.2.0.3, `10` is 0.0.0.10).
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let mut parts = [0u64; 4];
    let mut count = 0;
    for part in s.split('.') {
        if count == 4 {
            return None;
        }
        parts[count] = aton_part(part)?;
        count += 1;
    }
    let p = &parts[..count];
    let ok = |max_last: u64| p[..count - 1].iter().all(|&v| v <= 0xff) && p[count - 1] <= max_last;
    let value = match count {
        1 if ok(0xffff_ffff) => p[0],
        2 if ok(0x00ff_ffff) => p[0] << 24 | p[1],
        3 if ok(0xffff) => p[0] << 24 | p[1] << 16 | p[2],
        4 if ok(0xff) => p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3],
        _ => return None,
    };
    Some(Ipv4Addr::from(value as u32))
}

/// One part of an `inet_aton` address: it must start with a digit; `0x` alone is zero, as
/// glibc has it.
fn aton_part(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else if !part.is_empty() {
            (part, 10)
        } else {
            return None;
        };
    digits.chars().try_fold(0u64, |acc, c| {
        let d = u64::from(c.to_digit(radix)?);
        acc.checked_mul(radix.into())?
            .checked_add(d)
            .filter(|&v| v <= 0xffff_ffff)
    })
}

/// A numeric address of the rule's family, as `getaddrinfo(..., AI_NUMERICHOST)` accepts it.
pub fn parse_numeric(s: &str, v6: bool) -> Option<IpAddr> {
    if v6 {
        s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        inet_aton(s).map(IpAddr::V4)
    }
}

/// `XTTYPE_HOST` (`xtopt_parse_host`): one address, no mask.
pub fn parse_host(s: &str, v6: bool) -> Result<IpAddr, String> {
    parse_numeric(s, v6).ok_or_else(|| {
        format!(
            "`{s}' is not a numeric {} address (host names are not resolved)",
            if v6 { "IPv6" } else { "IPv4" }
        )
    })
}

/// The width of an address of the family: 32 or 128 bits.
pub fn width(v6: bool) -> u8 {
    if v6 {
        128
    } else {
        32
    }
}

/// `XTTYPE_PLEN` (`xtopt_parse_plen`): a prefix length from 0 to the address width
/// (`strtoul` base 0, so `0x10` is 16), or else a numeric mask. `Ok(None)` is a mask that is
/// no prefix (`255.0.255.0`, or `33` read as 0.0.0.33), which `xtables_ipmask_to_cidr` turns
/// into -1: each extension decides what that becomes.
pub fn parse_plen(s: &str, v6: bool) -> Result<Option<u8>, String> {
    let w = width(v6);
    if let Some(n) = parse_uint(s, w.into()) {
        return Ok(Some(n as u8));
    }
    match parse_numeric(s, v6) {
        Some(mask) => Ok(prefix_of(mask)),
        None => Err(format!(
            "`{s}' is neither a valid network mask nor valid CIDR (0-{w})"
        )),
    }
}

/// `XTTYPE_PLENMASK` (`xtopt_parse_plenmask`): like [`parse_plen`], but the mask is rebuilt
/// from the length, and a mask that is no prefix leaves all bits set (its length -1 matches
/// none of the shifting cases), so it becomes the full width.
pub fn parse_plenmask(s: &str, v6: bool) -> Result<u8, String> {
    Ok(parse_plen(s, v6)?.unwrap_or(width(v6)))
}

/// `XTTYPE_HOSTMASK` (`xtopt_parse_hostmask`): `addr[/plenmask]`. The address is kept as
/// written, not masked (the kernel masks at match time).
pub fn parse_host_mask(s: &str, v6: bool) -> Result<(IpAddr, u8), String> {
    match s.split_once('/') {
        None => Ok((parse_host(s, v6)?, width(v6))),
        Some((host, mask)) => Ok((parse_host(host, v6)?, parse_plenmask(mask, v6)?)),
    }
}

/// The prefix length of a contiguous mask (`xtables_ipmask_to_cidr`), `None` otherwise.
pub fn prefix_of(mask: IpAddr) -> Option<u8> {
    let (bits, w) = match mask {
        IpAddr::V4(m) => (u128::from(u32::from(m)) << 96, 32u32),
        IpAddr::V6(m) => (u128::from(m), 128),
    };
    let ones = bits.leading_ones();
    let rest = bits.checked_shl(ones).unwrap_or(0);
    (rest == 0).then_some(ones.min(w) as u8)
}

/// The mask with the first `len` bits set, of the family.
pub fn mask_of(len: u8, v6: bool) -> IpAddr {
    let bits = u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0);
    if v6 {
        IpAddr::V6(Ipv6Addr::from(bits))
    } else {
        let len = u32::from(len.min(32));
        let v4 = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        IpAddr::V4(Ipv4Addr::from(v4))
    }
}

/// An address as `xtables_ipaddr_to_numeric` / `xtables_ip6addr_to_numeric` print it, that
/// is as glibc's `inet_ntop` does. Rust's `Display` agrees except for IPv4-compatible IPv6
/// addresses (`::1.2.3.4`), which glibc prints with a dotted tail and Rust in hex.
pub fn fmt_addr(out: &mut String, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            let _ = write!(out, "{a}");
        }
        IpAddr::V6(a) => fmt_ipv6(out, a),
    }
}

fn fmt_ipv6(out: &mut String, a: Ipv6Addr) {
    let w = a.segments();
    // The longest run of zero words (the first of equal ones), if at least two long.
    let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
    for (i, &seg) in w.iter().enumerate() {
        if seg == 0 {
            let run = cur.map_or((i, 1), |(b, l)| (b, l + 1));
            cur = Some(run);
            if run.1 > best.1 {
                best = run;
            }
        } else {
            cur = None;
        }
    }
    let (base, len) = if best.1 >= 2 { best } else { (usize::MAX, 0) };
    let mut i = 0;
    while i < 8 {
        if i == base {
            out.push_str("::");
            i += len;
            continue;
        }
        if i != 0 && i != base + len {
            out.push(':');
        }
        // inet_ntop6: an IPv4-compatible or -mapped address ends in dotted quad.
        if i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff)) {
            let o = a.octets();
            let _ = write!(out, "{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
            return;
        }
        let _ = write!(out, "{:x}", w[i]);
        i += 1;
    }
}

/// A port as `xtables_getportbyname` resolves it through `getaddrinfo(NULL, name)`: a
/// decimal number (an optional `+`, taken into an `int` and cut to 16 bits, so `65536` is 0
/// and anything that turns negative is refused), or a service name of any protocol.
pub fn parse_service_port(s: &str, names: &Names) -> Option<u16> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let v = digits.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        let as_int = v as u32 as i32;
        return (as_int >= 0).then_some(as_int as u16);
    }
    names
        .service_port(s, "tcp")
        .or_else(|| names.service_port(s, "udp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Option<String> {
        inet_aton(s).map(|a| a.to_string())
    }

    #[test]
    fn inet_aton_forms() {
        assert_eq!(v4("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(v4("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(v4("10").as_deref(), Some("0.0.0.10"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(v4("4294967295").as_deref(), Some("255.255.255.255"));
        for bad in [
            "",
            "1..2",
            "1.2.3.",
            "256.1.1.1",
            "1.2.3.4.5",
            "08",
            "a",
            "1.2.65536",
        ] {
            assert_eq!(v4(bad), None, "{bad}");
        }
    }

    #[test]
    fn plen_falls_back_to_a_mask() {
        assert_eq!(parse_plen("24", false), Ok(Some(24)));
        assert_eq!(parse_plen("0x10", false), Ok(Some(16)));
        assert_eq!(parse_plen("255.255.0.0", false), Ok(Some(16)));
        // 33 is out of range, so it is read as the address 0.0.0.33: no prefix.
        assert_eq!(parse_plen("33", false), Ok(None));
        assert_eq!(parse_plenmask("33", false), Ok(32));
        assert_eq!(parse_plenmask("255.0.255.0", false), Ok(32));
        assert!(parse_plen("-1", false).is_err());
        assert!(parse_plen("129", true).is_err());
        assert_eq!(parse_plen("ffff:ff00::", true), Ok(Some(24)));
    }

    #[test]
    fn host_mask_keeps_the_address() {
        let (a, l) = parse_host_mask("1.2.3.4/16", false).unwrap();
        assert_eq!((a.to_string(), l), ("1.2.3.4".to_string(), 16));
        assert!(parse_host_mask("example.org", false).is_err());
        assert!(parse_host_mask("10.0.0.1", true).is_err());
    }

    #[test]
    fn ipv6_printed_like_inet_ntop() {
        let p = |s: &str| {
            let mut out = String::new();
            fmt_addr(&mut out, s.parse().unwrap());
            out
        };
        assert_eq!(p("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(p("::ffff:1.2.3.4"), "::ffff:1.2.3.4");
        assert_eq!(p("::1"), "::1");
        assert_eq!(p("::"), "::");
        assert_eq!(p("2001:db8::1"), "2001:db8::1");
        assert_eq!(p("2001:db8:0:1:0:0:0:1"), "2001:db8:0:1::1");
        assert_eq!(p("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(p("ffff:ffff::"), "ffff:ffff::");
    }

    #[test]
    fn ports_as_getaddrinfo_reads_them() {
        let names = Names::from_texts("ssh 22/tcp\ndomain 53/udp\n", "", "");
        assert_eq!(parse_service_port("22", &names), Some(22));
        assert_eq!(parse_service_port("+5", &names), Some(5));
        assert_eq!(parse_service_port("65536", &names), Some(0));
        assert_eq!(parse_service_port("2147483647", &names), Some(65535));
        assert_eq!(parse_service_port("2147483648", &names), None);
        assert_eq!(parse_service_port("0x16", &names), None);
        assert_eq!(parse_service_port("ssh", &names), Some(22));
        assert_eq!(parse_service_port("domain", &names), Some(53));
    }
}
