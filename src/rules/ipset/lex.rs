//! The lexical layer of `ipset restore`: splitting a line into arguments as ipset's
//! `build_argv` does, and reading the numbers and addresses its parsers accept.
//!
//! - Spaces, tabs, `\r` and `\n` separate arguments; a double quote toggles quoting and is
//!   dropped (`"a b"c` is the one argument `a bc`); there is no escape character; an empty
//!   argument (`""`) disappears.
//! - A line holds at most 30 arguments (ipset's `newargv[32]` less the program name and the
//!   terminator); one more character after the 30th is "Line is too long to parse".
//! - Numbers are C `strtoull(s, &end, 0)`: decimal, `0x` hex, leading-`0` octal.
//! - IPv4 addresses are what glibc's `getaddrinfo` takes numerically (`inet_aton`: `1.2.3` is
//!   1.2.0.3, `010.0.0.1` is 8.0.0.1); host names are not resolved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One argument of a line and the column (1-based, in characters) where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub text: String,
    pub col: u32,
}

/// ipset's argument limit per line, program name excluded.
pub const MAX_ARGS: usize = 30;

/// Splits a line into arguments. `line` includes its `\n` when the file has one: ipset
/// counts that character against the argument limit. Errors carry a column.
pub fn split_line(line: &str) -> Result<Vec<Arg>, (u32, String)> {
    let mut out: Vec<Arg> = Vec::new();
    let mut cur = String::new();
    let mut start: Option<u32> = None;
    let mut quoted = false;
    let mut quote_col = 0u32;
    for (i, ch) in line.chars().enumerate() {
        let col = i as u32 + 1;
        if out.len() == MAX_ARGS {
            return Err((
                col,
                format!("too many arguments: ipset restore takes at most {MAX_ARGS} on a line"),
            ));
        }
        match ch {
            '"' => {
                start.get_or_insert(col);
                quoted = !quoted;
                quote_col = col;
            }
            ' ' | '\t' | '\r' | '\n' if !quoted => {
                if !cur.is_empty() {
                    out.push(Arg {
                        text: std::mem::take(&mut cur),
                        col: start.unwrap_or(col),
                    });
                }
                start = None;
            }
            _ => {
                start.get_or_insert(col);
                cur.push(ch);
            }
        }
    }
    if quoted {
        // ipset keeps reading the rest of the line into the argument and then drops it
        // silently, so the command fails later with a confusing message; say what happened.
        return Err((quote_col, "unterminated double quote".to_string()));
    }
    if !cur.is_empty() {
        out.push(Arg {
            text: cur,
            col: start.unwrap_or(1),
        });
    }
    Ok(out)
}

/// Why a number did not parse, worded as ipset words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumError {
    Invalid,
    Range,
}

/// `strtoull(s, &end, 0)` with ipset's checks (`string_to_number_ll`): the whole string must
/// be a number, within `min..=max`.
pub fn parse_num(s: &str, min: u64, max: u64) -> Result<u64, NumError> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (digits, radix) = if (t.starts_with("0x") || t.starts_with("0X"))
        && t.as_bytes().get(2).is_some_and(u8::is_ascii_hexdigit)
    {
        (&t[2..], 16)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(NumError::Invalid);
    }
    let v = u64::from_str_radix(digits, radix).map_err(|_| NumError::Range)?;
    // strtoull negates a value with a leading minus; any non-zero result is then huge.
    let v = if neg { v.wrapping_neg() } else { v };
    if v < min || v > max {
        return Err(NumError::Range);
    }
    Ok(v)
}

/// A number with the message ipset gives for a bad one.
pub fn num(s: &str, min: u64, max: u64) -> Result<u64, String> {
    parse_num(s, min, max).map_err(|e| match e {
        NumError::Invalid => format!("`{s}' is not a number"),
        NumError::Range => format!("`{s}' is out of range {min}-{max}"),
    })
}

/// An IPv4 address as `inet_aton` reads it (one to four parts, the last filling the
/// remaining bytes; each part decimal, octal or hex).
pub fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut vals = Vec::with_capacity(parts.len());
    for p in &parts {
        if p.is_empty() || p.starts_with(['+', '-', ' ']) {
            return None;
        }
        vals.push(parse_num(p, 0, u64::from(u32::MAX)).ok()?);
    }
    let (last, head) = vals.split_last()?;
    if head.iter().any(|&v| v > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 32 && *last >= 1u64 << rest_bits {
        return None;
    }
    let mut v: u32 = 0;
    for (i, b) in head.iter().enumerate() {
        v |= (*b as u32) << (24 - 8 * i as u32);
    }
    Some(Ipv4Addr::from(v | *last as u32))
}

/// An address of the given family (`v6`), without resolving names. ipset's `[...]` escape
/// (for host names holding a `-`) is accepted around it.
pub fn parse_addr(s: &str, v6: bool) -> Result<IpAddr, String> {
    let inner = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    let parsed = if v6 {
        inner.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        parse_ipv4(inner).map(IpAddr::V4)
    };
    parsed.ok_or_else(|| {
        format!(
            "`{s}' is not an {} address (fwbench does not resolve host names)",
            if v6 { "IPv6" } else { "IPv4" }
        )
    })
}

/// ipset's `ipset_strchr`: the first `sep` in `s`, but only when `s` neither starts nor
/// ends with it (so `-1` or `1.2.3.4-` are not ranges).
pub fn find_sep(s: &str, sep: char) -> Option<usize> {
    if s.starts_with(sep) || s.ends_with(sep) {
        return None;
    }
    s.find(sep)
}

/// The range separator of `s`, skipping a leading `[...]` escape (`find_range_separator`).
pub fn find_range_sep(s: &str) -> Option<usize> {
    if s.starts_with('[') {
        let close = s.find(']')?;
        return (s[close + 1..].starts_with('-')).then_some(close + 1);
    }
    find_sep(s, '-')
}

/// `addr` with all but the first `prefix` bits cleared.
pub fn mask_addr(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(prefix))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(prefix))),
    }
}

pub fn mask_v4(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p if p >= 32 => u32::MAX,
        p => u32::MAX << (32 - u32::from(p)),
    }
}

pub fn mask_v6(prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p if p >= 128 => u128::MAX,
        p => u128::MAX << (128 - u32::from(p)),
    }
}

/// The bitwise AND of an address and a mask of the same family.
pub fn and_addr(a: IpAddr, m: IpAddr) -> IpAddr {
    match (a, m) {
        (IpAddr::V4(a), IpAddr::V4(m)) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & u32::from(m))),
        (IpAddr::V6(a), IpAddr::V6(m)) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & u128::from(m))),
        (a, _) => a,
    }
}

/// An address as glibc's `inet_ntop` prints it. Differs from Rust's `Display` for the
/// deprecated IPv4-compatible form: glibc prints `::1.2.3.4` where Rust prints `::102:304`.
pub fn fmt_addr(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => fmt_v6(v6),
    }
}

fn fmt_v6(a: Ipv6Addr) -> String {
    let w = a.segments();
    // The longest run of zero words (the first of equal runs), if at least two long.
    let (mut best, mut cur): ((usize, usize), Option<(usize, usize)>) = ((0, 0), None);
    for (i, &x) in w.iter().enumerate() {
        if x == 0 {
            let c = cur.map_or((i, 1), |(b, l)| (b, l + 1));
            cur = Some(c);
            if c.1 > best.1 {
                best = c;
            }
        } else {
            cur = None;
        }
    }
    let run = (best.1 >= 2).then_some(best);
    let mut s = String::new();
    let mut i = 0;
    while i < 8 {
        if let Some((b, l)) = run {
            if i == b {
                s.push(':');
                i += l;
                if i == 8 {
                    s.push(':');
                }
                continue;
            }
        }
        if i != 0 {
            s.push(':');
        }
        let v4_tail = run.is_some_and(|(b, l)| b == 0 && (l == 6 || (l == 5 && w[5] == 0xffff)));
        if i == 6 && v4_tail {
            let o = a.octets();
            s.push_str(&Ipv4Addr::new(o[12], o[13], o[14], o[15]).to_string());
            break;
        }
        s.push_str(&format!("{:x}", w[i]));
        i += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split_line(line)
            .expect("splits")
            .into_iter()
            .map(|a| a.text)
            .collect()
    }

    #[test]
    fn quotes_join_and_empty_arguments_vanish() {
        // Checked on the kernel: `"a b"c` stored as `a bc`, `a" b "c` as `a b c`.
        assert_eq!(texts(r#"add a x comment "a b"c"#)[4], "a bc");
        assert_eq!(texts(r#"add a x comment a" b "c"#)[4], "a b c");
        assert_eq!(texts(r#"add a x comment "x" """#).len(), 5);
        assert_eq!(texts("add\ta   b\r"), vec!["add", "a", "b"]);
        assert!(split_line(r#"add a x comment "x"#).is_err());
    }

    #[test]
    fn columns_point_at_arguments() {
        let a = split_line(r#"add  set "q r" z"#).expect("splits");
        let cols: Vec<u32> = a.iter().map(|a| a.col).collect();
        assert_eq!(cols, vec![1, 6, 10, 16]);
    }

    #[test]
    fn argument_limit() {
        let ok = vec!["x"; 30].join(" ");
        assert_eq!(texts(&ok).len(), 30);
        let too_many = vec!["x"; 31].join(" ");
        assert!(split_line(&too_many).is_err());
        // The character after the 30th argument's separator is one too many for ipset.
        assert!(split_line(&format!("{ok} \n")).is_err());
        assert!(split_line(&format!("{ok}\n")).is_ok());
    }

    #[test]
    fn strtoull_numbers() {
        assert_eq!(parse_num("0x10", 0, 100), Ok(16));
        assert_eq!(parse_num("010", 0, 100), Ok(8));
        assert_eq!(parse_num("0", 0, 100), Ok(0));
        assert_eq!(parse_num("08", 0, 100), Err(NumError::Invalid));
        assert_eq!(parse_num("101", 0, 100), Err(NumError::Range));
        assert_eq!(parse_num("-1", 0, 100), Err(NumError::Range));
        assert_eq!(parse_num("1x", 0, 100), Err(NumError::Invalid));
        assert_eq!(parse_num("0x", 0, 100), Err(NumError::Invalid));
    }

    #[test]
    fn inet_aton_forms() {
        // Checked on the kernel: `add a 1.2.3` stores 1.2.0.3, `01.2.3.4` stores 1.2.3.4.
        assert_eq!(parse_ipv4("1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(parse_ipv4("01.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(parse_ipv4("0x7f000001"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(parse_ipv4("1.2.3.256"), None);
        assert_eq!(parse_ipv4("1.2.256"), Some(Ipv4Addr::new(1, 2, 1, 0)));
        assert_eq!(parse_ipv4("1..3"), None);
        assert_eq!(parse_ipv4("host"), None);
    }

    #[test]
    fn ipv6_printed_like_glibc() {
        // Each pair checked against `ipset save` output.
        for (input, printed) in [
            ("0:0:0:0:0:0:102:304", "::1.2.3.4"),
            ("::ffff:102:304", "::ffff:1.2.3.4"),
            ("1::", "1::"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:0:1:0:1:0:1", "1::1:0:1:0:1"),
            ("0:0:1::", "0:0:1::"),
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
            ("::", "::"),
        ] {
            let a: Ipv6Addr = input.parse().expect("valid");
            assert_eq!(fmt_addr(IpAddr::V6(a)), printed, "{input}");
        }
    }

    #[test]
    fn separators_ignore_leading_and_trailing() {
        assert_eq!(find_sep("1.2.3.4-1.2.3.5", '-'), Some(7));
        assert_eq!(find_sep("-1", '-'), None);
        assert_eq!(find_sep("1.2.3.4-", '-'), None);
        assert_eq!(find_range_sep("[a-b]-[c-d]"), Some(5));
    }
}
