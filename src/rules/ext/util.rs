//! What extensions share: the options handed to them, their errors, and the parsing and
//! printing helpers that iptables' libxtables provides (numbers, ports, strings).

use std::fmt::{Display, Write};

use super::PrintCtx;
use crate::rules::names::Names;
pub use crate::rules::num::{
    parse_num, parse_num_range, parse_uint, parse_value_mask, strtoul_prefix, ValueMaskError,
};

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

/// The option `name`, which must be given (once); else the error libxtables gives for a
/// missing mandatory option.
pub fn required<'a>(opts: &'a [OptArg], ext: &str, name: &str) -> Result<&'a OptArg, ExtError> {
    once(opts, name)?
        .ok_or_else(|| ExtError::whole(format!("{ext}: option \"--{name}\" must be specified")))
}

/// Whether the flag `name` was given (once).
pub fn flag(opts: &[OptArg], name: &str) -> Result<bool, ExtError> {
    Ok(once(opts, name)?.is_some())
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

/// A protocol as `xtables_parse_protocol` takes it (`--ctproto`, policy's `--proto`): a
/// number up to 255, `all`, a name from `/etc/protocols`, or one of iptables' built-in
/// names (`xtables_chain_protos`, which also knows `icmpv6`).
pub fn parse_protocol(s: &str) -> Option<u8> {
    if let Some(n) = parse_num(s, 0, 255) {
        return Some(n as u8);
    }
    if s == "all" {
        return Some(0);
    }
    if let Some(n) = Names::system().protocol_number(s) {
        return Some(n);
    }
    if s == "icmpv6" {
        return Some(58);
    }
    (0..=255u8).find(|&n| proto_short_name(n) == Some(s))
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

/// `lo`, or `lo:hi` when the range holds more than one value, as iptables prints the ranges
/// it reads as `lo[:hi]` (`--length`, `--mss`, ports).
pub fn write_range<T: PartialEq + Display>(out: &mut String, lo: T, hi: T) {
    if lo == hi {
        let _ = write!(out, "{lo}");
    } else {
        let _ = write!(out, "{lo}:{hi}");
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
