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
//!
//! The C library pieces (strtoull, inet_aton, inet_ntop, prefix masks) are shared with
//! iptables' side, in [`crate::rules::num`] and [`crate::rules::addr`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::rules::addr::{inet_aton, prefix_mask_v4, prefix_mask_v6};
use crate::rules::num::strtoull;

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
    let n = strtoull(s).ok_or(NumError::Invalid)?;
    if !n.rest.is_empty() {
        return Err(NumError::Invalid);
    }
    let v = n.value.ok_or(NumError::Range)?;
    // strtoull negates a value with a leading minus; any non-zero result is then huge.
    let v = if n.negative { v.wrapping_neg() } else { v };
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
        inet_aton(inner).map(IpAddr::V4)
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
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & prefix_mask_v4(prefix))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & prefix_mask_v6(prefix))),
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
    fn separators_ignore_leading_and_trailing() {
        assert_eq!(find_sep("1.2.3.4-1.2.3.5", '-'), Some(7));
        assert_eq!(find_sep("-1", '-'), None);
        assert_eq!(find_sep("1.2.3.4-", '-'), None);
        assert_eq!(find_range_sep("[a-b]-[c-d]"), Some(5));
    }
}
