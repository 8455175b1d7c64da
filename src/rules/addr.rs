//! Addresses with masks (`-s`, `-d`, and extensions that take `addr[/mask]`) and interface
//! names (`-i`, `-o`), parsed and printed the way iptables does; and the address helpers
//! that extensions and `ipset restore` share: prefix masks, glibc's `inet_aton` and
//! `inet_ntop`.
//!
//! iptables reads IPv4 addresses two ways, and the two differ on purpose (each is what the
//! kernel gets from real iptables): `-s`/`-d` and iprange go through libxtables'
//! [`numeric_to_ipaddr`] (each part a byte, missing parts zero: `10.1` is 10.1.0.0), while
//! the extension option types that take a host and ipset go through `getaddrinfo`, that is
//! [`inet_aton`] (the last part fills the remaining bytes: `10.1` is 10.0.0.1).

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::names::Names;
use super::num::{parse_num, strtoul_prefix};

/// An address and its mask. The address is stored already masked, as iptables stores it
/// (`-s 35.126.36.215/24` is kept as `35.126.36.0/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Net {
    pub addr: IpAddr,
    pub mask: IpAddr,
}

impl Net {
    pub fn v4(addr: Ipv4Addr, prefix: u8) -> Net {
        let mask = Ipv4Addr::from(prefix_mask_v4(prefix));
        Net {
            addr: IpAddr::V4(Ipv4Addr::from(u32::from(addr) & u32::from(mask))),
            mask: IpAddr::V4(mask),
        }
    }

    pub fn v6(addr: Ipv6Addr, prefix: u8) -> Net {
        let mask = prefix_mask_v6(prefix);
        Net {
            addr: IpAddr::V6(Ipv6Addr::from(u128::from(addr) & mask)),
            mask: IpAddr::V6(Ipv6Addr::from(mask)),
        }
    }

    /// The prefix length when the mask is contiguous (`/24`), `None` for masks such as
    /// `255.0.255.0`, which iptables accepts and prints in dotted form.
    pub fn prefix_len(&self) -> Option<u32> {
        prefix_len(self.mask).map(u32::from)
    }

    pub fn is_any(&self) -> bool {
        match self.mask {
            IpAddr::V4(m) => m.is_unspecified(),
            IpAddr::V6(m) => m.is_unspecified(),
        }
    }

    pub fn is_host(&self) -> bool {
        self.prefix_len() == Some(if self.addr.is_ipv4() { 32 } else { 128 })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, self.mask, ip) {
            (IpAddr::V4(a), IpAddr::V4(m), IpAddr::V4(x)) => {
                u32::from(x) & u32::from(m) == u32::from(a)
            }
            (IpAddr::V6(a), IpAddr::V6(m), IpAddr::V6(x)) => {
                u128::from(x) & u128::from(m) == u128::from(a)
            }
            _ => false,
        }
    }

    /// Parses `addr`, `addr/len` or `addr/mask` as iptables' `xtables_ipparse_any` does for
    /// numeric input. Host names are not resolved: a ruleset must not depend on DNS.
    pub fn parse(text: &str, v6: bool) -> Result<Net, String> {
        let (host, mask) = match text.split_once('/') {
            Some((h, m)) => (h, Some(m)),
            None => (text, None),
        };
        if v6 {
            let addr: Ipv6Addr = host
                .parse()
                .map_err(|_| format!("host/network `{host}' not found"))?;
            let mask = match mask {
                None => u128::MAX,
                Some(m) => match m.parse::<u32>() {
                    Ok(n) if n <= 128 => prefix_mask_v6(n as u8),
                    _ => u128::from(
                        m.parse::<Ipv6Addr>()
                            .map_err(|_| format!("invalid mask `{m}' specified"))?,
                    ),
                },
            };
            let a = Ipv6Addr::from(u128::from(addr) & mask);
            return Ok(Net {
                addr: IpAddr::V6(a),
                mask: IpAddr::V6(Ipv6Addr::from(mask)),
            });
        }
        let addr =
            numeric_to_ipaddr(host).ok_or_else(|| format!("host/network `{host}' not found"))?;
        let mask = match mask {
            None => u32::MAX,
            // parse_ipmask: a dotted mask, else a prefix length read by xtables_strtoui.
            Some(m) if !m.contains('.') => match parse_num(m, 0, 32) {
                Some(n) => prefix_mask_v4(n as u8),
                None => return Err(format!("invalid mask `{m}' specified")),
            },
            Some(m) => u32::from(
                numeric_to_ipaddr(m).ok_or_else(|| format!("invalid mask `{m}' specified"))?,
            ),
        };
        Ok(Net {
            addr: IpAddr::V4(Ipv4Addr::from(u32::from(addr) & mask)),
            mask: IpAddr::V4(Ipv4Addr::from(mask)),
        })
    }

    /// `addr/len` (or `addr/mask` for a non-contiguous mask), as `iptables-save` writes it.
    pub fn save_text(&self) -> String {
        match self.prefix_len() {
            Some(n) => format!("{}/{n}", addr_text(self.addr)),
            None => format!("{}/{}", addr_text(self.addr), addr_text(self.mask)),
        }
    }

    /// How `iptables -L` shows it: `anywhere` (or `0.0.0.0/0` with `-n`), a host name from
    /// the hosts file unless numeric, and the mask left out for a single host.
    pub fn list_text(&self, numeric: bool, names: &Names) -> String {
        // iptables tests the IPv4 mask (`0.0.0.0/0`), ip6tables the IPv6 address: any rule on
        // `::`, whatever its prefix (`::/128`, `::/64`), lists as anywhere (measured).
        let anywhere = match self.addr {
            IpAddr::V4(_) => self.is_any(),
            IpAddr::V6(a) => a.is_unspecified(),
        };
        if anywhere && !numeric {
            return "anywhere".to_string();
        }
        let mut s = String::new();
        match (numeric, names.host_name(self.addr)) {
            (false, Some(name)) => s.push_str(name),
            _ => {
                fmt_addr(&mut s, self.addr);
            }
        }
        s.push_str(&self.mask_suffix());
        s
    }

    /// `xtables_ipmask_to_numeric`: empty for a host mask, `/len`, or `/dotted.mask`.
    pub fn mask_suffix(&self) -> String {
        if self.is_host() {
            return String::new();
        }
        match self.prefix_len() {
            Some(n) => format!("/{n}"),
            None => format!("/{}", addr_text(self.mask)),
        }
    }
}

/// The IPv4 mask with the first `prefix` bits set (all of them from 32 up).
pub fn prefix_mask_v4(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// The IPv6 mask with the first `prefix` bits set (all of them from 128 up).
pub fn prefix_mask_v6(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    }
}

/// The mask with the first `prefix` bits set, of the family (`v6` or not).
pub fn prefix_mask(prefix: u8, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(prefix_mask_v6(prefix)))
    } else {
        IpAddr::V4(Ipv4Addr::from(prefix_mask_v4(prefix)))
    }
}

/// The prefix length of a contiguous mask (`xtables_ipmask_to_cidr`), `None` for masks such
/// as `255.0.255.0`.
pub fn prefix_len(mask: IpAddr) -> Option<u8> {
    let (bits, width) = match mask {
        IpAddr::V4(m) => (u128::from(u32::from(m)) << 96, 32),
        IpAddr::V6(m) => (u128::from(m), 128),
    };
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones.min(width) as u8)
}

/// An IPv4 address as libxtables' `xtables_numeric_to_ipaddr` reads it (used by iprange, and
/// by iptables for `-s`/`-d`): one to four dot-separated parts, each a number in 0..=255
/// read by `xtables_strtoui` (so `010` is octal 8, `0x10` is 16, `+1` and ` 1` are 1);
/// missing trailing parts are zero (`10.1` is `10.1.0.0`). iptables copies the text into a
/// 20-byte buffer first, so only its first 19 bytes count.
pub fn numeric_to_ipaddr(text: &str) -> Option<Ipv4Addr> {
    let mut end = text.len().min(19);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let parts: Vec<&str> = text[..end].split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (i, part) in parts.iter().enumerate() {
        octets[i] = parse_num(part, 0, 255)? as u8;
    }
    Some(Ipv4Addr::from(octets))
}

/// An IPv4 address as glibc's `inet_aton` reads it, which is what `getaddrinfo` takes as a
/// numeric host: one to four parts separated by dots, each decimal, octal (`010`) or hex
/// (`0x0a`), the last part filling the remaining bytes (`1.2.3` is 1.2.0.3, `10` is
/// 0.0.0.10). Unlike [`numeric_to_ipaddr`], a part must start with a digit, and `0x` needs a
/// hex digit after it.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut value: u32 = 0;
    for (i, part) in parts.iter().enumerate() {
        // Unlike strtoul, inet_aton takes neither white space nor a sign.
        if !part.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (v, rest) = strtoul_prefix(part)?;
        if !rest.is_empty() {
            return None;
        }
        let last = i == parts.len() - 1;
        let bits = if last { 32 - 8 * i as u32 } else { 8 };
        if bits < 32 && v >> bits != 0 || v > u64::from(u32::MAX) {
            return None;
        }
        value |= if last {
            v as u32
        } else {
            (v as u32) << (24 - 8 * i)
        };
    }
    Some(Ipv4Addr::from(value))
}

/// An address as glibc's `inet_ntop` prints it (what `xtables_ipaddr_to_numeric`,
/// `xtables_ip6addr_to_numeric` and ipset print). Rust's `Display` agrees except for
/// IPv4-compatible IPv6 addresses (`::1.2.3.4`), which glibc prints with a dotted tail and
/// Rust in hex.
/// [`fmt_addr`] into a new string.
pub fn addr_text(addr: IpAddr) -> String {
    let mut s = String::new();
    fmt_addr(&mut s, addr);
    s
}

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

/// An interface name as `-i`/`-o` take it: up to 15 bytes, a trailing `+` matches any suffix.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Iface {
    /// The name as written, `+` included.
    pub name: String,
}

impl Iface {
    pub fn parse(text: &str) -> Result<Iface, String> {
        if text.len() > 15 {
            return Err(format!(
                "interface name `{text}' must be shorter than 16 characters"
            ));
        }
        if text.is_empty() {
            return Err("empty interface name".to_string());
        }
        Ok(Iface {
            name: text.to_string(),
        })
    }

    /// True when `dev` matches, with `+` as a prefix wildcard (the kernel's `ifname_compare`).
    pub fn matches(&self, dev: &str) -> bool {
        match self.name.strip_suffix('+') {
            Some(prefix) => dev.starts_with(prefix),
            None => dev == self.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_cleared_as_iptables_does() {
        let n = Net::parse("35.126.36.215/24", false).unwrap();
        assert_eq!(n.save_text(), "35.126.36.0/24");
    }

    #[test]
    fn non_contiguous_mask_keeps_dotted_form() {
        let n = Net::parse("10.0.0.0/255.0.255.0", false).unwrap();
        assert_eq!(n.prefix_len(), None);
        assert_eq!(n.save_text(), "10.0.0.0/255.0.255.0");
        let d = Net::parse("10.1.0.0/255.255.0.0", false).unwrap();
        assert_eq!(d.save_text(), "10.1.0.0/16");
    }

    #[test]
    fn host_without_mask_is_slash_32() {
        let n = Net::parse("1.2.3.4", false).unwrap();
        assert_eq!(n.save_text(), "1.2.3.4/32");
        assert_eq!(n.mask_suffix(), "");
        assert!(Net::parse("1.2.3.4/33", false).is_err());
        assert!(Net::parse("example.com", false).is_err());
    }

    #[test]
    fn ipv6_prefix() {
        let n = Net::parse("2001:db8::1/64", true).unwrap();
        assert_eq!(n.save_text(), "2001:db8::/64");
    }

    #[test]
    fn inet_aton_forms() {
        let v4 = |s: &str| inet_aton(s).map(|a| a.to_string());
        assert_eq!(v4("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(v4("1.2.3").as_deref(), Some("1.2.0.3"));
        assert_eq!(v4("1.2.256").as_deref(), Some("1.2.1.0"));
        assert_eq!(v4("10").as_deref(), Some("0.0.0.10"));
        assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("0x7f000001").as_deref(), Some("127.0.0.1"));
        assert_eq!(v4("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(v4("4294967295").as_deref(), Some("255.255.255.255"));
        // getaddrinfo refuses these (checked with iptables: `--ctorigsrc 1.2.0x` is looked up
        // as a host name).
        for bad in [
            "",
            "1..2",
            "1.2.3.",
            "256.1.1.1",
            "1.2.3.256",
            "1.2.3.4.5",
            "08",
            "a",
            "host",
            "1.2.65536",
            "1.2.0x",
            "+1.2.3.4",
            " 1.2.3.4",
        ] {
            assert_eq!(v4(bad), None, "{bad}");
        }
        // -s reads the same text differently.
        assert_eq!(numeric_to_ipaddr("1.2.3"), Some(Ipv4Addr::new(1, 2, 3, 0)));
    }

    #[test]
    fn addresses_printed_like_inet_ntop() {
        // Checked against `ipset save` and iptables' listings.
        for (input, printed) in [
            ("0:0:0:0:0:0:102:304", "::1.2.3.4"),
            ("::ffff:102:304", "::ffff:1.2.3.4"),
            ("::1", "::1"),
            ("::", "::"),
            ("1::", "1::"),
            ("0:0:1::", "0:0:1::"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:1:0:1:0:1", "1::1:0:1:0:1"),
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"),
            ("ffff:ffff::", "ffff:ffff::"),
            ("10.1.2.3", "10.1.2.3"),
        ] {
            let mut out = String::new();
            fmt_addr(&mut out, input.parse().expect("valid"));
            assert_eq!(out, printed, "{input}");
        }
    }

    #[test]
    fn masks_and_prefix_lengths() {
        assert_eq!(prefix_mask(24, false).to_string(), "255.255.255.0");
        assert_eq!(prefix_mask(40, false).to_string(), "255.255.255.255");
        assert_eq!(prefix_mask(0, true).to_string(), "::");
        assert_eq!(prefix_mask(24, true).to_string(), "ffff:ff00::");
        assert_eq!(prefix_len(prefix_mask(24, true)), Some(24));
        assert_eq!(prefix_len("255.0.255.0".parse().unwrap()), None);
        assert_eq!(prefix_len("0.0.0.0".parse().unwrap()), Some(0));
    }

    #[test]
    fn iface_wildcard() {
        let i = Iface::parse("eth+").unwrap();
        assert!(i.matches("eth0") && !i.matches("lo"));
        assert!(Iface::parse("abcdefghijklmnop").is_err());
    }
}
