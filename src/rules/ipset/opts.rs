//! The options after the element of an `add`/`del` line (`timeout`, `packets`, `bytes`,
//! `comment`, `skbmark`, `skbprio`, `skbqueue`, `nomatch`, `wildcard`, `before`/`after`),
//! read as ipset reads them and checked against the set's extensions as the kernel checks
//! them (`ip_set_get_extensions`: "Timeout cannot be used: set was created without timeout
//! support", and so on).

use super::create;
use super::elem::MAX_NAME;
use super::lex::{self, Arg};
use super::{Entry, EntryExt, IpSet, SetType};

/// Comments are at most 255 bytes (`IPSET_MAX_COMMENT_SIZE`).
const MAX_COMMENT: usize = 255;

/// The options after the element of an `add`/`del` line.
pub struct ElemOpts {
    pub ext: EntryExt,
    /// Packets and bytes as given (`None`: keep the old value on `-exist` re-add).
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    pub nomatch: bool,
    pub wildcard: bool,
    pub position: Option<(bool, String)>,
}

/// Parses `args[3..]`, the options after the element, and checks them against the set's
/// extensions. Errors name the argument index.
pub fn parse(del: bool, set: &IpSet, args: &[Arg]) -> Result<ElemOpts, (usize, String)> {
    let t = set.set_type;
    let mut seen: Vec<&str> = Vec::new();
    let mut o = ElemOpts {
        ext: EntryExt::default(),
        packets: None,
        bytes: None,
        nomatch: false,
        wildcard: false,
        position: None,
    };
    let mut timeout = None;
    let mut i = 3;
    while i < args.len() {
        let word = args[i].text.strip_prefix("--").unwrap_or(&args[i].text);
        let known: &[&str] = match (del, t) {
            (true, SetType::ListSet) => &["before", "after"],
            (true, _) => &[],
            (_, SetType::ListSet) => &[
                "before", "after", "timeout", "packets", "bytes", "comment", "skbmark", "skbprio",
                "skbqueue",
            ],
            (_, SetType::HashNetIface) => &[
                "timeout", "nomatch", "wildcard", "packets", "bytes", "comment", "skbmark",
                "skbprio", "skbqueue",
            ],
            (_, t) if t.has_nomatch() => &[
                "timeout", "nomatch", "packets", "bytes", "comment", "skbmark", "skbprio",
                "skbqueue",
            ],
            _ => &[
                "timeout", "packets", "bytes", "comment", "skbmark", "skbprio", "skbqueue",
            ],
        };
        let Some(&opt) = known.iter().find(|k| **k == word) else {
            let cmd = if del { "del" } else { "add" };
            return Err((
                i,
                format!("unknown option `{}' for {cmd} {}", args[i].text, t.name()),
            ));
        };
        let key = if opt == "after" { "before" } else { opt };
        if seen.contains(&key) {
            return Err((i, format!("{key} already specified")));
        }
        seen.push(key);
        if matches!(opt, "nomatch" | "wildcard") {
            o.nomatch |= opt == "nomatch";
            o.wildcard |= opt == "wildcard";
            i += 1;
            continue;
        }
        let Some(v) = args.get(i + 1) else {
            return Err((i, format!("option `{opt}' needs a value")));
        };
        let vi = i + 1;
        let bad = |m: String| (vi, format!("{opt}: {m}"));
        match opt {
            "timeout" => timeout = Some(lex::num(&v.text, 0, create::MAX_TIMEOUT).map_err(bad)?),
            "packets" => o.packets = Some(lex::num(&v.text, 0, u64::MAX - 1).map_err(bad)?),
            "bytes" => o.bytes = Some(lex::num(&v.text, 0, u64::MAX - 1).map_err(bad)?),
            "comment" => {
                if v.text.len() > MAX_COMMENT {
                    return Err(bad(format!("longer than {MAX_COMMENT} characters")));
                }
                o.ext.comment = Some(v.text.clone());
            }
            "skbmark" => {
                o.ext.skbmark = skbmark(&v.text)
                    .ok_or_else(|| bad("expected 0xMARK or 0xMARK/0xMASK".to_string()))?
            }
            "skbprio" => {
                o.ext.skbprio = skbprio(&v.text)
                    .ok_or_else(|| bad("expected MAJOR:MINOR in hex".to_string()))?
            }
            "skbqueue" => o.ext.skbqueue = lex::num(&v.text, 0, 65535).map_err(bad)? as u16,
            "before" | "after" => {
                if v.text.len() > MAX_NAME {
                    return Err(bad(format!("longer than {MAX_NAME} characters")));
                }
                o.position = Some((opt == "before", v.text.clone()));
            }
            _ => {}
        }
        i += 2;
    }
    // The kernel refuses extensions the set was not created with (ip_set_get_extensions).
    let need = |present: bool, what: &str, flag: &str| -> Result<(), (usize, String)> {
        if present {
            let i = args
                .iter()
                .position(|a| a.text.trim_start_matches('-') == what)
                .unwrap_or(2);
            return Err((
                i,
                format!(
                    "{what} cannot be used: set `{}' was created without {flag}",
                    set.name
                ),
            ));
        }
        Ok(())
    };
    if set.ext.timeout.is_none() {
        need(timeout.is_some(), "timeout", "timeout")?;
    }
    if !set.ext.counters {
        need(o.packets.is_some(), "packets", "counters")?;
        need(o.bytes.is_some(), "bytes", "counters")?;
    }
    if !set.ext.comment {
        need(o.ext.comment.is_some(), "comment", "comment")?;
    }
    if !set.ext.skbinfo {
        need(seen.contains(&"skbmark"), "skbmark", "skbinfo")?;
        need(seen.contains(&"skbprio"), "skbprio", "skbinfo")?;
        need(seen.contains(&"skbqueue"), "skbqueue", "skbinfo")?;
    }
    o.ext.timeout = timeout.map(|t| t as u32).or(set.ext.timeout);
    if set.ext.counters {
        o.ext.counters = Some((o.packets.unwrap_or(0), o.bytes.unwrap_or(0)));
    }
    Ok(o)
}

/// `-exist` re-add: flags and extensions are replaced, except counters not given
/// (`ip_set_init_counter` skips them) — checked: a re-add without `comment` drops the comment
/// and keeps `packets 5 bytes 6`.
pub fn overwrite(e: &mut Entry, o: &ElemOpts) {
    e.nomatch = o.nomatch;
    let (p, b) = e.ext.counters.unwrap_or((0, 0));
    let counters = e
        .ext
        .counters
        .map(|_| (o.packets.unwrap_or(p), o.bytes.unwrap_or(b)));
    e.ext = EntryExt {
        counters,
        ..o.ext.clone()
    };
}

/// `sscanf(s, "0x%lx/0x%lx")`, else `sscanf(s, "0x%lx")` with an all-ones mask.
fn skbmark(s: &str) -> Option<(u32, u32)> {
    let rest = s.strip_prefix("0x")?;
    let (mark, after) = hex_prefix(rest)?;
    let mask = after
        .strip_prefix("/0x")
        .and_then(hex_prefix)
        .map_or(u32::MAX, |(m, _)| m);
    Some((mark, mask))
}

/// `sscanf(s, "%x:%x")`: trailing characters after the minor number are ignored.
fn skbprio(s: &str) -> Option<u32> {
    let (maj, rest) = hex_prefix(s)?;
    let (min, _) = hex_prefix(rest.strip_prefix(':')?)?;
    Some(maj << 16 | (min & 0xffff))
}

/// A `%x` conversion: optional `0x`, then hex digits; returns the value and the rest.
fn hex_prefix(s: &str) -> Option<(u32, &str)> {
    let t = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .filter(|r| r.starts_with(|c: char| c.is_ascii_hexdigit()))
        .unwrap_or(s);
    let end = t.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(t.len());
    if end == 0 {
        return None;
    }
    let v = u32::from_str_radix(&t[..end], 16).ok()?;
    Some((v, &t[end..]))
}
