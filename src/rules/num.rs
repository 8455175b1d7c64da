//! Numbers as libxtables reads them (`xtables_strtoul`, `xtables_strtoui`, the
//! `XTTYPE_UINT*` range types): C's `strtoul` with base 0, so `010` is octal 8, `0x10` is 16,
//! and leading white space and `+` are taken. Base options (`-s` prefixes and dotted parts),
//! extensions and `ipset restore` share these rules.

/// What C's `strtoull(s, &end, 0)` read at the start of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Strtoull<'a> {
    /// The digits' value; `None` when it overflows (ERANGE).
    pub value: Option<u64>,
    /// A `-` led: strtoull negates the value (wrapping), which libxtables refuses.
    pub negative: bool,
    /// The text after the digits.
    pub rest: &'a str,
}

/// `strtoull(s, &end, 0)`: white space and one sign may lead, `0x` starts hex (when a hex
/// digit follows; else the `0` is the number and `x...` the rest), `0` octal. `None` when no
/// digit was read.
pub fn strtoull(s: &str) -> Option<Strtoull<'_>> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let b = t.as_bytes();
    let (radix, digits) =
        if b.len() > 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' && b[2].is_ascii_hexdigit() {
            (16, &t[2..])
        } else if b.first() == Some(&b'0') {
            (8, t)
        } else {
            (10, t)
        };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    Some(Strtoull {
        value: u64::from_str_radix(&digits[..end], radix).ok(),
        negative,
        rest: &digits[end..],
    })
}

/// `strtoumax(s, &end, 0)` as libxtables' `xtables_strtoul` calls it: white space and a `+`
/// may lead, a `-` is refused (strtoul would wrap it), `0x` starts hex and `0` octal. Returns
/// the value and the text after the digits, or `None` when no digit was read or the value
/// overflows (ERANGE). Callers decide what may follow: iptables' parsers differ on that.
pub fn strtoul_prefix(s: &str) -> Option<(u64, &str)> {
    match strtoull(s)? {
        Strtoull {
            value: Some(v),
            negative: false,
            rest,
        } => Some((v, rest)),
        _ => None,
    }
}

/// A whole argument as a number in `min..=max`, the way `xtables_strtoui(arg, NULL, ...)`
/// and the `XTTYPE_UINT*` option types take it (`+5` and `0x10` are fine, `5x` is not).
pub fn parse_num(s: &str, min: u64, max: u64) -> Option<u64> {
    match strtoul_prefix(s)? {
        (v, "") if (min..=max).contains(&v) => Some(v),
        _ => None,
    }
}

/// [`parse_num`] from 0: the common case of an option number with only an upper bound.
pub fn parse_uint(s: &str, max: u64) -> Option<u64> {
    parse_num(s, 0, max)
}

/// Why `value[/mask]` did not read (see [`parse_value_mask`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueMaskError {
    /// The text does not start with a number up to the maximum.
    Value,
    /// A `/` is not followed by a number up to the maximum.
    Mask,
    /// Something follows the value or the mask.
    Trailing,
}

/// `value[/mask]` as libxtables reads marks (`xtopt_parse_markmask`) and TOS values
/// (`xtopt_parse_tosmask`): each number as [`strtoul_prefix`] reads it, up to `max`; the mask
/// is `max` when absent; nothing may follow.
pub fn parse_value_mask(s: &str, max: u64) -> Result<(u64, u64), ValueMaskError> {
    let (value, rest) = strtoul_prefix(s)
        .filter(|&(v, _)| v <= max)
        .ok_or(ValueMaskError::Value)?;
    let (mask, rest) = match rest.strip_prefix('/') {
        Some(m) => strtoul_prefix(m)
            .filter(|&(v, _)| v <= max)
            .ok_or(ValueMaskError::Mask)?,
        None => (max, rest),
    };
    if !rest.is_empty() {
        return Err(ValueMaskError::Trailing);
    }
    Ok((value, mask))
}

/// `lo[:hi]` as libxtables' `xtopt_parse_mint` reads the `XTTYPE_UINT16RC`-style range
/// options (`--length`, `--mss`): an empty side means 0 (left) or `max` (right), so `:` is
/// `0:max`; one number `n` is `n:n`. The order of the two is not checked here.
pub fn parse_num_range(s: &str, max: u64) -> Result<(u64, u64), String> {
    let mut parts = s.split(':');
    let mut side = |default: u64| -> Result<Option<u64>, String> {
        let Some(p) = parts.next() else {
            return Ok(None);
        };
        if p.is_empty() {
            return Ok(Some(default));
        }
        match strtoul_prefix(p) {
            Some((v, "")) if v <= max => Ok(Some(v)),
            Some((v, rest)) if v <= max => Err(format!("unexpected characters near \"{rest}\"")),
            _ => Err(format!("bad value near \"{p}\", or out of range (0-{max})")),
        }
    };
    let lo = side(0)?.unwrap_or(0);
    let hi = side(max)?;
    if parts.next().is_some() {
        return Err("too many components (at most 2)".to_string());
    }
    Ok((lo, hi.unwrap_or(lo)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_prefix_reads_like_glibc() {
        assert_eq!(strtoul_prefix("0x10/0x3f"), Some((16, "/0x3f")));
        assert_eq!(strtoul_prefix(" +0x10/x"), Some((16, "/x")));
        assert_eq!(strtoul_prefix("80-90"), Some((80, "-90")));
        // `0x` without a hex digit is the number 0 followed by `x`, as strtoul reads it;
        // `080` is octal 0 followed by `80`.
        assert_eq!(strtoul_prefix("0x"), Some((0, "x")));
        assert_eq!(strtoul_prefix("0xg"), Some((0, "xg")));
        assert_eq!(strtoul_prefix("080"), Some((0, "80")));
        assert_eq!(strtoul_prefix("-0"), None);
        assert_eq!(strtoul_prefix("-1"), None);
        assert_eq!(strtoul_prefix("x1"), None);
        assert_eq!(strtoul_prefix("http"), None);
        assert_eq!(strtoul_prefix("99999999999999999999"), None);
    }

    #[test]
    fn strtoull_keeps_sign_and_overflow() {
        let n = strtoull("-5x").expect("digits");
        assert_eq!((n.value, n.negative, n.rest), (Some(5), true, "x"));
        let n = strtoull("99999999999999999999").expect("digits");
        assert_eq!((n.value, n.negative, n.rest), (None, false, ""));
        assert_eq!(strtoull("- 1"), None);
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(parse_num("+5", 0, 255), Some(5));
        assert_eq!(parse_num("5x", 0, 255), None);
        assert_eq!(parse_num("256", 0, 255), None);
        assert_eq!(parse_num("4", 5, 255), None);
        assert_eq!(parse_uint("0x4000", u32::MAX.into()), Some(0x4000));
        assert_eq!(parse_uint("010", 255), Some(8));
        assert_eq!(parse_uint("0", 255), Some(0));
        assert_eq!(parse_uint("12a", 1000), None);
        // A sign belongs before the prefix only (iptables refuses `0+5` and `0x+5`).
        assert_eq!(parse_uint("0+5", 255), None);
        assert_eq!(parse_uint("0x+5", 255), None);
    }

    #[test]
    fn value_and_mask() {
        let max = u64::from(u32::MAX);
        assert_eq!(parse_value_mask("0x1/0xff", max), Ok((1, 0xff)));
        assert_eq!(parse_value_mask("+7", max), Ok((7, max)));
        assert_eq!(parse_value_mask("256", 255), Err(ValueMaskError::Value));
        assert_eq!(parse_value_mask("1/", 255), Err(ValueMaskError::Mask));
        assert_eq!(
            parse_value_mask("1/2/3", 255),
            Err(ValueMaskError::Trailing)
        );
        assert_eq!(parse_value_mask("1x", 255), Err(ValueMaskError::Trailing));
    }

    #[test]
    fn ranges_fill_empty_sides() {
        assert_eq!(parse_num_range("100", 65535), Ok((100, 100)));
        assert_eq!(parse_num_range(":", 65535), Ok((0, 65535)));
        assert_eq!(parse_num_range("1000:", 65535), Ok((1000, 65535)));
        assert_eq!(parse_num_range("0x10:020", 65535), Ok((16, 16)));
        // An empty argument is one empty side: 0 (iptables-restore takes `--length ""`).
        assert_eq!(parse_num_range("", 65535), Ok((0, 0)));
        assert_eq!(parse_num_range("200:100", 65535), Ok((200, 100)));
        assert!(parse_num_range("1:2:3", 65535).is_err());
        assert!(parse_num_range("65536", 65535).is_err());
        assert!(parse_num_range("5x", 65535).is_err());
    }
}
