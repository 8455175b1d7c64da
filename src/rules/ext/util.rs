//! What extensions share: the options handed to them, their errors, and the parsing and
//! printing helpers that iptables' libxtables provides (numbers, ports, strings).

use std::fmt::Write;

use super::PrintCtx;
use crate::rules::names::Names;
pub use crate::rules::num::{parse_num, parse_num_range, strtoul_prefix};

/// One option given to an extension, as the rule parser collected it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptArg {
    /// The option's canonical name (without `--`), whatever alias was written.
    pub name: &'static str,
    pub invert: bool,
    pub args: Vec<String>,
    /// Column of the option word, and of each argument.
    pub col: u32,
    pub arg_cols: Vec<u32>,
}

impl OptArg {
    /// The first argument (options of arity One always have it).
    pub fn arg(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or("")
    }

    /// An error about this option's argument.
    pub fn bad(&self, message: impl Into<String>) -> ExtError {
        ExtError {
            message: message.into(),
            col: self.arg_cols.first().copied().or(Some(self.col)),
        }
    }

    /// An error about the option itself.
    pub fn err(&self, message: impl Into<String>) -> ExtError {
        ExtError {
            message: message.into(),
            col: Some(self.col),
        }
    }
}

/// An extension's complaint, with the column it is about when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtError {
    pub message: String,
    pub col: Option<u32>,
}

impl ExtError {
    /// An error about the extension as a whole (a missing option, a bad combination).
    pub fn whole(message: impl Into<String>) -> ExtError {
        ExtError {
            message: message.into(),
            col: None,
        }
    }
}

/// The option `name`, if given; an error if it was given twice (iptables: "multiple ... flags
/// not allowed" / "Only one ... allowed").
pub fn once<'a>(opts: &'a [OptArg], name: &str) -> Result<Option<&'a OptArg>, ExtError> {
    let mut found = opts.iter().filter(|o| o.name == name);
    let first = found.next();
    if let Some(second) = found.next() {
        return Err(second.err(format!("multiple --{name} options are not allowed")));
    }
    Ok(first)
}

/// Whether the flag `name` was given (once).
pub fn flag(opts: &[OptArg], name: &str) -> Result<bool, ExtError> {
    Ok(once(opts, name)?.is_some())
}

/// An unsigned number as `strtoul(s, &end, 0)` reads it (decimal, `0x` hex, leading-`0`
/// octal), rejecting trailing garbage and values above `max`.
pub fn parse_uint(s: &str, max: u64) -> Option<u64> {
    let v = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()?
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()?
    } else {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()?
    };
    (v <= max).then_some(v)
}

/// `value[/mask]` as marks are written (`--mark 0x4000/0x4000`); the mask defaults to all ones.
pub fn parse_value_mask(s: &str) -> Option<(u32, u32)> {
    let (v, m) = match s.split_once('/') {
        Some((v, m)) => (v, Some(m)),
        None => (s, None),
    };
    let v = parse_uint(v, u32::MAX.into())? as u32;
    let m = match m {
        Some(m) => parse_uint(m, u32::MAX.into())? as u32,
        None => u32::MAX,
    };
    Some((v, m))
}

/// The short protocol names iptables knows without `/etc/protocols` (`xtables_chain_protos`).
pub fn proto_short_name(num: u8) -> Option<&'static str> {
    Some(match num {
        6 => "tcp",
        132 => "sctp",
        17 => "udp",
        136 => "udplite",
        1 => "icmp",
        58 => "ipv6-icmp",
        50 => "esp",
        51 => "ah",
        135 => "mh",
        0 => "all",
        _ => return None,
    })
}

/// A port by number or service name, as `xtables_parse_port` takes it.
pub fn parse_port(s: &str, proto: &str, names: &Names) -> Option<u16> {
    if let Some(n) = parse_uint(s, 65535) {
        return Some(n as u16);
    }
    names.service_port(s, proto)
}

/// `lo:hi`, `lo:` (to 65535), `:hi` (from 0), or a single port (`lo:lo`). iptables swaps a
/// reversed range silently? No: it refuses it ("invalid portrange"), and so do we.
pub fn parse_port_range(s: &str, proto: &str, names: &Names) -> Option<(u16, u16)> {
    match s.split_once(':') {
        None => parse_port(s, proto, names).map(|p| (p, p)),
        Some((lo, hi)) => {
            let lo = if lo.is_empty() {
                0
            } else {
                parse_port(lo, proto, names)?
            };
            let hi = if hi.is_empty() {
                65535
            } else {
                parse_port(hi, proto, names)?
            };
            (lo <= hi).then_some((lo, hi))
        }
    }
}

/// A port as `-L` prints it: a service name unless numeric.
pub fn list_port(out: &mut String, port: u16, ctx: &PrintCtx, proto: &str) {
    match (ctx.numeric, ctx.names.service_name(port, proto)) {
        (false, Some(name)) => out.push_str(name),
        _ => {
            let _ = write!(out, "{port}");
        }
    }
}

/// A string argument as `iptables-save` writes it (`xtables_save_string`): bare when it is
/// made only of letters, digits, `_` and `-`; else in double quotes with `"`, `\` and `'`
/// escaped by a backslash. Starts with the separating space.
pub fn save_string(out: &mut String, value: &str) {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    out.push(' ');
    if plain {
        out.push_str(value);
        return;
    }
    out.push('"');
    for ch in value.chars() {
        if matches!(ch, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
}

/// ` !` before an inverted option in save output (iptables prints `! --opt`).
pub fn save_invert(out: &mut String, invert: bool) {
    if invert {
        out.push_str(" !");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_like_numbers() {
        assert_eq!(parse_uint("0x4000", u32::MAX.into()), Some(0x4000));
        assert_eq!(parse_uint("010", 255), Some(8));
        assert_eq!(parse_uint("0", 255), Some(0));
        assert_eq!(parse_uint("256", 255), None);
        assert_eq!(parse_uint("12a", 1000), None);
        assert_eq!(parse_value_mask("0x1/0xff"), Some((1, 0xff)));
        assert_eq!(parse_value_mask("7"), Some((7, u32::MAX)));
    }

    #[test]
    fn save_string_quotes_like_iptables() {
        let mut s = String::new();
        save_string(&mut s, "KUBE-SVC_1");
        save_string(&mut s, "kubernetes service portals");
        save_string(&mut s, r#"say "hi""#);
        save_string(&mut s, "");
        assert_eq!(
            s,
            r#" KUBE-SVC_1 "kubernetes service portals" "say \"hi\"" """#
        );
    }
}
