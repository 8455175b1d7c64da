//! The names iptables gives to values of the traffic class byte (IPv4 TOS, IPv6 traffic
//! class), shared by the matches that test it (`-m tos`, `-m dscp`, in `header.rs`) and the
//! targets that rewrite it (`-j TOS`, `-j DSCP`, in `tos.rs`): libxtables' TOS names
//! (tos_values.c, read by `xtopt_parse_tosmask`) and the DiffServ classes (dscp_helper.c).
//!
//! Each caller words its own errors, as iptables' extensions do.

use crate::rules::num::{parse_value_mask, ValueMaskError};

/// The TOS names iptables knows (tos_values.c), in the order it tries them when printing.
/// Each names a value under [`TOS_NAME_MASK`].
const TOS_NAMES: &[(&str, u8)] = &[
    ("Minimize-Delay", 0x10),
    ("Maximize-Throughput", 0x08),
    ("Maximize-Reliability", 0x04),
    ("Minimize-Cost", 0x02),
    ("Normal-Service", 0x00),
];

/// The mask a TOS name stands for: the six bits above the two ECN bits (revision 1 of the
/// tos match and of the TOS target leave ECN alone).
pub const TOS_NAME_MASK: u8 = 0x3f;

/// The name iptables prints for a TOS value (under [`TOS_NAME_MASK`]), if it has one.
pub fn tos_name(value: u8) -> Option<&'static str> {
    TOS_NAMES
        .iter()
        .find(|&&(_, v)| v == value)
        .map(|&(name, _)| name)
}

/// Why a TOS argument did not read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TosError {
    /// A number with a bad mask or trailing text (`0x10/`, `0x10x`).
    Illegal,
    /// Neither a number up to 255 nor a TOS name (`256` is an unknown name).
    UnknownName,
}

/// `value[/mask]` or a TOS name, as `xtopt_parse_tosmask` reads `--tos` and `--set-tos`:
/// text that starts with a number up to 255 is `value[/mask]` (mask 0xff when absent);
/// anything else must be a name (case-insensitive), which gets [`TOS_NAME_MASK`].
pub fn parse_tos(s: &str) -> Result<(u8, u8), TosError> {
    match parse_value_mask(s, 0xff) {
        Ok((value, mask)) => Ok((value as u8, mask as u8)),
        Err(ValueMaskError::Value) => TOS_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, value)| (value, TOS_NAME_MASK))
            .ok_or(TosError::UnknownName),
        Err(ValueMaskError::Mask | ValueMaskError::Trailing) => Err(TosError::Illegal),
    }
}

/// The largest DSCP (six bits).
pub const DSCP_MAX: u8 = 0x3f;

/// DiffServ class names (dscp_helper.c), in its table order.
const DSCP_CLASSES: &[(&str, u8)] = &[
    ("CS0", 0x00),
    ("CS1", 0x08),
    ("CS2", 0x10),
    ("CS3", 0x18),
    ("CS4", 0x20),
    ("CS5", 0x28),
    ("CS6", 0x30),
    ("CS7", 0x38),
    ("BE", 0x00),
    ("AF11", 0x0a),
    ("AF12", 0x0c),
    ("AF13", 0x0e),
    ("AF21", 0x12),
    ("AF22", 0x14),
    ("AF23", 0x16),
    ("AF31", 0x1a),
    ("AF32", 0x1c),
    ("AF33", 0x1e),
    ("AF41", 0x22),
    ("AF42", 0x24),
    ("AF43", 0x26),
    ("EF", 0x2e),
];

/// The DSCP of a class name (`--dscp-class`, `--set-dscp-class`). class_to_dscp compares
/// only as many characters as the known name has (strncasecmp), so `EFX` is EF and `AF111`
/// is AF11.
pub fn dscp_class(s: &str) -> Option<u8> {
    let s = s.as_bytes();
    DSCP_CLASSES
        .iter()
        .find(|(name, _)| {
            s.len() >= name.len() && s[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        })
        .map(|&(_, dscp)| dscp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tos_values_and_names() {
        assert_eq!(parse_tos("0x10"), Ok((0x10, 0xff)));
        assert_eq!(parse_tos("+5/0x3f"), Ok((5, 0x3f)));
        assert_eq!(parse_tos("minimize-delay"), Ok((0x10, 0x3f)));
        assert_eq!(parse_tos("256"), Err(TosError::UnknownName));
        assert_eq!(parse_tos("0x10/0x100"), Err(TosError::Illegal));
        assert_eq!(parse_tos("0x10x"), Err(TosError::Illegal));
        assert_eq!(tos_name(0x08), Some("Maximize-Throughput"));
        assert_eq!(tos_name(0x01), None);
    }

    #[test]
    fn dscp_classes_compare_a_prefix() {
        assert_eq!(dscp_class("ef"), Some(0x2e));
        assert_eq!(dscp_class("EFX"), Some(0x2e));
        assert_eq!(dscp_class("BE"), Some(0));
        assert_eq!(dscp_class("cs"), None);
        assert_eq!(dscp_class("CS8"), None);
    }
}
