//! Matches on the devices and routes a packet uses beyond `-i`/`-o`: `-m physdev` (the bridge
//! ports of a bridged packet), `-m devgroup` (the device group of the in/out device) and
//! `-m rpfilter` (reverse path filtering: would the reply leave by the device the packet came
//! in on).
//!
//! Mirrors iptables 1.8.9's libxt_physdev.c, libxt_devgroup.c and libxt_rpfilter.c, and the
//! hook and table checks of the kernel's xt_physdev.c, xt_devgroup.c and xt_rpfilter.c,
//! checked against the real binary.

use std::fmt::Write;
use std::sync::OnceLock;

use super::addrx::ALL_HOOKS;
use super::util::{flag, once, save_invert, strtoul_prefix, OptArg};
use super::{Arity, ExtError, Extension, Opt, ParseCtx, PrintCtx};
use crate::rules::model::{Hook, Neg, TableKind};

/// IFNAMSIZ - 1: the longest interface name.
const IFNAME_MAX: usize = 15;

/// `-m physdev` (`xt_physdev_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Physdev {
    /// `--physdev-in NAME`: the bridge port it came in on (`+` suffix: any with the prefix,
    /// empty: any).
    pub physindev: Option<Neg<String>>,
    pub physoutdev: Option<Neg<String>>,
    /// `--physdev-is-in`: it came in through a bridge port.
    pub is_in: Option<Neg<()>>,
    pub is_out: Option<Neg<()>>,
    /// `--physdev-is-bridged`: it is being bridged, not routed.
    pub is_bridged: Option<Neg<()>>,
}

/// xtables_parse_interface: any text shorter than IFNAMSIZ, kept as written (even empty).
fn parse_ifname(o: &OptArg) -> Result<Neg<String>, ExtError> {
    let name = o.arg();
    if name.len() > IFNAME_MAX {
        return Err(o.bad(format!(
            "interface name `{name}' must be shorter than IFNAMSIZ ({IFNAME_MAX})"
        )));
    }
    Ok(Neg::new(o.invert, name.to_string()))
}

impl Extension for Physdev {
    const NAME: &'static str = "physdev";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("physdev-in", Arity::One, true),
        Opt::new("physdev-out", Arity::One, true),
        Opt::new("physdev-is-in", Arity::Zero, true),
        Opt::new("physdev-is-out", Arity::Zero, true),
        Opt::new("physdev-is-bridged", Arity::Zero, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let present = |name| Ok::<_, ExtError>(once(opts, name)?.map(|o| Neg::new(o.invert, ())));
        let p = Physdev {
            physindev: once(opts, "physdev-in")?.map(parse_ifname).transpose()?,
            physoutdev: once(opts, "physdev-out")?.map(parse_ifname).transpose()?,
            is_in: present("physdev-is-in")?,
            is_out: present("physdev-is-out")?,
            is_bridged: present("physdev-is-bridged")?,
        };
        if opts.is_empty() {
            return Err(ExtError::whole("PHYSDEV: no physdev option specified"));
        }
        Ok(p)
    }

    /// physdev_save: names are printed as they are, unquoted (so `--physdev-in "a b"` saves
    /// as a line iptables-restore reads differently; that is iptables' doing).
    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        let flag = |out: &mut String, f: &Option<Neg<()>>, opt: &str| {
            if let Some(f) = f {
                save_invert(out, f.invert);
                let _ = write!(out, " --{opt}");
            }
        };
        let name = |out: &mut String, n: &Option<Neg<String>>, opt: &str| {
            if let Some(n) = n {
                save_invert(out, n.invert);
                let _ = write!(out, " --{opt} {}", n.value);
            }
        };
        flag(out, &self.is_in, "physdev-is-in");
        name(out, &self.physindev, "physdev-in");
        flag(out, &self.is_out, "physdev-is-out");
        name(out, &self.physoutdev, "physdev-out");
        flag(out, &self.is_bridged, "physdev-is-bridged");
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" PHYSDEV match");
        self.save(out, ctx);
    }

    /// physdev_mt_check: in OUTPUT the output port is not known yet unless the packet is
    /// surely bridged.
    fn hooks(&self) -> Option<u8> {
        let about_out = self.physoutdev.is_some() || self.is_out.is_some();
        let surely_bridged = self.is_bridged.as_ref().is_some_and(|b| !b.invert);
        (about_out && !surely_bridged).then_some(ALL_HOOKS & !Hook::Output.bit())
    }
}

/// Device group names from `/etc/iproute2/group`, as xtables_lmap_init reads that file.
fn group_names() -> &'static [(u32, String)] {
    static GROUPS: OnceLock<Vec<(u32, String)>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        parse_group_file(&std::fs::read_to_string("/etc/iproute2/group").unwrap_or_default())
    })
}

/// Lines `ID NAME`: the id decimal or `0x` hex, 0..=255 (iproute2's bounds); comments and
/// malformed lines are skipped. File order is kept: the first entry wins both ways.
fn parse_group_file(text: &str) -> Vec<(u32, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (id, rest) = line.split_once([' ', '\t'])?;
            let id = match id.strip_prefix("0x") {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => id.parse().ok()?,
            };
            let name = rest.split_whitespace().next()?;
            (id <= 255 && !name.starts_with('#')).then(|| (id, name.to_string()))
        })
        .collect()
}

/// A device group and mask (`src_group`/`src_mask`); the mask is all ones when not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupMask {
    pub group: u32,
    pub mask: u32,
}

/// `value[/mask]` or a group name (xtables_parse_val_mask with the group map).
fn parse_group(o: &OptArg, names: &[(u32, String)]) -> Result<GroupMask, ExtError> {
    let arg = o.arg();
    let by_name = || {
        names
            .iter()
            .find(|(_, n)| n == arg)
            .map(|(id, _)| GroupMask {
                group: *id,
                mask: u32::MAX,
            })
            .ok_or_else(|| {
                o.bad(format!(
                    "devgroup: could not map name {arg} to an integer value for option \"--{}\" \
                     (names come from /etc/iproute2/group)",
                    o.name
                ))
            })
    };
    let number = |s| strtoul_prefix(s).filter(|(v, _)| *v <= u32::MAX.into());
    let Some((group, rest)) = number(arg) else {
        return by_name();
    };
    let group = group as u32;
    if rest.is_empty() {
        return Ok(GroupMask {
            group,
            mask: u32::MAX,
        });
    }
    let Some(mask) = rest.strip_prefix('/') else {
        return by_name();
    };
    match number(mask) {
        Some((mask, "")) => Ok(GroupMask {
            group,
            mask: mask as u32,
        }),
        Some(_) => Err(o.bad(format!(
            "devgroup: trailing garbage after value for option \"--{}\"",
            o.name
        ))),
        None => Err(o.bad(format!(
            "devgroup: bad integer value for option \"--{}\", or out of range",
            o.name
        ))),
    }
}

/// xtables_print_val_mask: `0xV/0xM`, else a name when there is one (and names are wanted),
/// else `0xV`.
fn write_group(out: &mut String, g: GroupMask, names: Option<&[(u32, String)]>) {
    if g.mask != u32::MAX {
        let _ = write!(out, "0x{:x}/0x{:x}", g.group, g.mask);
        return;
    }
    match names.and_then(|list| list.iter().find(|(id, _)| *id == g.group)) {
        Some((_, name)) => out.push_str(name),
        None => {
            let _ = write!(out, "0x{:x}", g.group);
        }
    }
}

/// `-m devgroup` (`xt_devgroup_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevGroup {
    /// `--src-group`: the group of the incoming device.
    pub src: Option<Neg<GroupMask>>,
    /// `--dst-group`: the group of the outgoing device.
    pub dst: Option<Neg<GroupMask>>,
}

impl Extension for DevGroup {
    const NAME: &'static str = "devgroup";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("src-group", Arity::One, true),
        Opt::new("dst-group", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let group = |name| -> Result<Option<Neg<GroupMask>>, ExtError> {
            once(opts, name)?
                .map(|o| Ok(Neg::new(o.invert, parse_group(o, group_names())?)))
                .transpose()
        };
        let d = DevGroup {
            src: group("src-group")?,
            dst: group("dst-group")?,
        };
        if d.src.is_none() && d.dst.is_none() {
            return Err(ExtError::whole(
                "devgroup match: You must specify either '--src-group' or '--dst-group'",
            ));
        }
        Ok(d)
    }

    /// devgroup_show with names: iptables-save prints group names too.
    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.show(out, "--", Some(group_names()));
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        self.show(out, "", (!ctx.numeric).then(group_names));
    }

    /// devgroup_mt_checkentry: the incoming device exists only up to FORWARD, the outgoing
    /// one only from FORWARD on.
    fn hooks(&self) -> Option<u8> {
        let mut hooks = ALL_HOOKS;
        if self.src.is_some() {
            hooks &= Hook::Prerouting.bit() | Hook::Input.bit() | Hook::Forward.bit();
        }
        if self.dst.is_some() {
            hooks &= Hook::Forward.bit() | Hook::Output.bit() | Hook::Postrouting.bit();
        }
        Some(hooks)
    }
}

impl DevGroup {
    fn show(&self, out: &mut String, dashes: &str, names: Option<&[(u32, String)]>) {
        for (label, g) in [("src-group", &self.src), ("dst-group", &self.dst)] {
            if let Some(g) = g {
                save_invert(out, g.invert);
                let _ = write!(out, " {dashes}{label} ");
                write_group(out, g.value, names);
            }
        }
    }
}

/// `-m rpfilter` (`xt_rpfilter_info` flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpFilter {
    /// `--loose`: any route back will do, not only one through the incoming device.
    pub loose: bool,
    /// `--validmark`: use the packet's mark in the route lookup.
    pub validmark: bool,
    /// `--accept-local`: do not fail packets from a local address.
    pub accept_local: bool,
    /// `--invert`: match packets that fail the test (the option, not `!`, inverts).
    pub invert: bool,
}

impl Extension for RpFilter {
    const NAME: &'static str = "rpfilter";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("loose", Arity::Zero, false),
        Opt::new("validmark", Arity::Zero, false),
        Opt::new("accept-local", Arity::Zero, false),
        Opt::new("invert", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        // rpfilter_check: the route lookup must happen before NAT and filtering.
        if !matches!(ctx.table, TableKind::Raw | TableKind::Mangle) {
            return Err(ExtError::whole(format!(
                "rpfilter match: only valid in 'raw' or 'mangle' table, not '{}'",
                ctx.table
            )));
        }
        Ok(RpFilter {
            loose: flag(opts, "loose")?,
            validmark: flag(opts, "validmark")?,
            accept_local: flag(opts, "accept-local")?,
            invert: flag(opts, "invert")?,
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        self.show(out, "--");
    }

    fn list(&self, out: &mut String, _ctx: &PrintCtx) {
        out.push_str(" rpfilter");
        self.show(out, "");
    }

    /// xt_rpfilter's `.hooks`: a route lookup before routing. (Its table check is in
    /// `parse`.)
    fn hooks(&self) -> Option<u8> {
        Some(Hook::Prerouting.bit())
    }
}

impl RpFilter {
    fn show(&self, out: &mut String, dashes: &str) {
        for (on, word) in [
            (self.loose, "loose"),
            (self.validmark, "validmark"),
            (self.accept_local, "accept-local"),
            (self.invert, "invert"),
        ] {
            if on {
                let _ = write!(out, " {dashes}{word}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, check_once, fails, opts_for, parse, print};
    use super::*;
    use crate::rules::model::{Family, Proto};

    // Expected texts: iptables-save, iptables -L -v and -L -v -n on the real kernel.

    #[test]
    fn physdev_prints_in_its_own_order() {
        check::<Physdev>(
            "--physdev-is-bridged ! --physdev-out br0 ! --physdev-is-out ! --physdev-in x --physdev-is-in",
            " --physdev-is-in ! --physdev-in x ! --physdev-is-out ! --physdev-out br0 --physdev-is-bridged",
            " PHYSDEV match --physdev-is-in ! --physdev-in x ! --physdev-is-out ! --physdev-out br0 --physdev-is-bridged",
            " PHYSDEV match --physdev-is-in ! --physdev-in x ! --physdev-is-out ! --physdev-out br0 --physdev-is-bridged",
        );
        // Names are printed raw, even an empty one (which iptables-restore cannot read back).
        check_once::<Physdev>(
            "--physdev-in \"\"",
            " --physdev-in ",
            " PHYSDEV match --physdev-in ",
            " PHYSDEV match --physdev-in ",
        );
        fails::<Physdev>("--physdev-in abcdefghijklmnop");
        fails::<Physdev>("--physdev-in a --physdev-in b");
        fails::<Physdev>("");
    }

    #[test]
    fn physdev_out_in_output_needs_bridged() {
        let hooks = |args| parse::<Physdev>(args, Family::Ipv4).unwrap().hooks();
        let not_output = Some(ALL_HOOKS & !Hook::Output.bit());
        assert_eq!(hooks("--physdev-out eth0"), not_output);
        assert_eq!(hooks("--physdev-is-out"), not_output);
        assert_eq!(hooks("--physdev-is-out ! --physdev-is-bridged"), not_output);
        assert_eq!(hooks("--physdev-out eth0 --physdev-is-bridged"), None);
        assert_eq!(hooks("--physdev-in eth0"), None);
    }

    #[test]
    fn group_file_and_values() {
        let names =
            parse_group_file("# device group names\n0\tdefault\n0x10 ten # c\n300 big\nx y\n");
        assert_eq!(names, [(0, "default".to_string()), (16, "ten".to_string())]);
        let o = |arg: &str| OptArg {
            name: "src-group",
            invert: false,
            args: vec![arg.to_string()],
            col: 1,
            arg_cols: vec![1],
        };
        let g = |arg| parse_group(&o(arg), &names);
        assert_eq!(
            g("ten"),
            Ok(GroupMask {
                group: 16,
                mask: u32::MAX
            })
        );
        assert_eq!(g("010/07"), Ok(GroupMask { group: 8, mask: 7 }));
        for bad in ["1/", "1/2x", "1x", "4294967296", "nosuch"] {
            assert!(g(bad).is_err(), "{bad}");
        }
        let mut s = String::new();
        write_group(
            &mut s,
            GroupMask {
                group: 16,
                mask: u32::MAX,
            },
            Some(&names),
        );
        write_group(
            &mut s,
            GroupMask {
                group: 16,
                mask: u32::MAX,
            },
            None,
        );
        write_group(
            &mut s,
            GroupMask {
                group: 16,
                mask: 0xff,
            },
            Some(&names),
        );
        assert_eq!(s, "ten0x100x10/0xff");
    }

    #[test]
    fn devgroup_lists_and_hooks() {
        check::<DevGroup>(
            "! --dst-group 2 --src-group 3",
            " --src-group 0x3 ! --dst-group 0x2",
            " src-group 0x3 ! dst-group 0x2",
            " src-group 0x3 ! dst-group 0x2",
        );
        check::<DevGroup>(
            "! --src-group 010/07",
            " ! --src-group 0x8/0x7",
            " ! src-group 0x8/0x7",
            " ! src-group 0x8/0x7",
        );
        let hooks = |args| parse::<DevGroup>(args, Family::Ipv4).unwrap().hooks();
        let fwd = Hook::Forward.bit();
        assert_eq!(
            hooks("--src-group 1"),
            Some(Hook::Prerouting.bit() | Hook::Input.bit() | fwd)
        );
        assert_eq!(
            hooks("--dst-group 1"),
            Some(fwd | Hook::Output.bit() | Hook::Postrouting.bit())
        );
        assert_eq!(hooks("--src-group 1 --dst-group 2"), Some(fwd));
    }

    #[test]
    fn rpfilter_only_in_prerouting_of_raw_and_mangle() {
        let rp = |table, args| {
            let ctx = ParseCtx {
                family: Family::Ipv4,
                table,
                proto: Proto::ALL,
                proto_inverted: false,
            };
            RpFilter::parse(&opts_for::<RpFilter>(args)?, &ctx).map_err(|e| e.message)
        };
        let r = rp(TableKind::Raw, "--invert --loose").unwrap();
        let [save, list, list_n] = print(&r, Family::Ipv4);
        assert_eq!(
            [save.as_str(), &list, &list_n],
            [
                " --loose --invert",
                " rpfilter loose invert",
                " rpfilter loose invert"
            ]
        );
        assert_eq!(r.hooks(), Some(Hook::Prerouting.bit()));
        assert!(rp(TableKind::Mangle, "--validmark --accept-local").is_ok());
        assert!(rp(TableKind::Nat, "").is_err());
        assert!(rp(TableKind::Filter, "").is_err());
        assert!(rp(TableKind::Raw, "--loose --loose").is_err());
    }
}
