//! How libxtables reads addresses, masks and ports given to extensions (`--ctorigsrc`,
//! `--connlimit-mask`, `--hashlimit-srcmask`, `recent --mask`, `--ctorigsrcport`). Printing
//! them back (glibc's `inet_ntop`) is [`crate::rules::addr::fmt_addr`].
//!
//! These option types (`XTTYPE_HOST`, `XTTYPE_HOSTMASK`, `XTTYPE_PLEN`, `XTTYPE_PLENMASK`,
//! `XTTYPE_PORTRC` in libxtables/xtoptions.c) do not share the parser of `-s`/`-d`: they go
//! through `getaddrinfo`, which takes `inet_aton` forms (`10.1` is 10.0.0.1), and a prefix
//! length that is out of range is tried once more as a dotted mask (`33` is the mask
//! 0.0.0.33). Those quirks decide what the kernel receives, so they are kept here. Host names
//! are not resolved: a ruleset must not depend on DNS.

use std::net::{IpAddr, Ipv6Addr};

use super::util::parse_num;
use crate::rules::addr::{inet_aton, prefix_len};
use crate::rules::names::Names;

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
/// (`xtables_strtoui`: base 0, so `0x10` is 16, and a leading `+` or blank is fine), or else
/// a numeric mask. `Ok(None)` is a mask that is
/// no prefix (`255.0.255.0`, or `33` read as 0.0.0.33), which `xtables_ipmask_to_cidr` turns
/// into -1: each extension decides what that becomes.
pub fn parse_plen(s: &str, v6: bool) -> Result<Option<u8>, String> {
    let w = width(v6);
    if let Some(n) = parse_num(s, 0, w.into()) {
        return Ok(Some(n as u8));
    }
    match parse_numeric(s, v6) {
        Some(mask) => Ok(prefix_len(mask)),
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

/// A port as libxtables' `xtables_getportbyname` finds it through glibc's `getaddrinfo`
/// (`XTTYPE_PORTRC`: `--ctorigsrcport`, dccp's ports): a decimal number (strtoul base 10, so
/// `080` is 80 and `0x50` is no number) cut to the `int` glibc keeps and then to 16 bits
/// (`65536` is port 0, `-1` and `2147483648` are negative and refused), else a service name
/// of any protocol.
pub fn parse_service_port(s: &str, names: &Names) -> Option<u16> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // strtoul saturates at ULONG_MAX on overflow, which is -1 as an int.
        let v = digits.parse::<u64>().unwrap_or(u64::MAX);
        let v = if negative { v.wrapping_neg() } else { v };
        let as_int = v as u32 as i32;
        // glibc then looks a negative number up as a name, which never finds one.
        return (as_int >= 0).then_some(as_int as u16);
    }
    names.service_port_any(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plen_falls_back_to_a_mask() {
        assert_eq!(parse_plen("24", false), Ok(Some(24)));
        assert_eq!(parse_plen("0x10", false), Ok(Some(16)));
        // `--tunnel-src 1.2.3.4/+8` is /8 in the kernel (policy.t).
        assert_eq!(parse_plen("+8", false), Ok(Some(8)));
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
    fn ports_as_getaddrinfo_reads_them() {
        let names = Names::from_texts("ssh 22/tcp\ndomain 53/udp\n", "", "");
        assert_eq!(parse_service_port("22", &names), Some(22));
        assert_eq!(parse_service_port("+5", &names), Some(5));
        assert_eq!(parse_service_port("65536", &names), Some(0));
        assert_eq!(parse_service_port("2147483647", &names), Some(65535));
        assert_eq!(parse_service_port("2147483648", &names), None);
        assert_eq!(parse_service_port("0x16", &names), None);
        assert_eq!(parse_service_port(" 22", &names), Some(22));
        assert_eq!(parse_service_port("-0", &names), Some(0));
        assert_eq!(parse_service_port("-1", &names), None);
        assert_eq!(parse_service_port("080", &names), Some(80));
        assert_eq!(parse_service_port("4294967296", &names), Some(0));
        assert_eq!(parse_service_port("ssh", &names), Some(22));
        assert_eq!(parse_service_port("domain", &names), Some(53));
    }
}
