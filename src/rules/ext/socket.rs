//! Matches on the local socket a packet belongs to: `-m owner` (the user and group of the
//! socket's file) and `-m socket` (an established or listening local socket exists).
//!
//! Both only make sense where the kernel knows the socket, and the kernel enforces it: xt_owner
//! registers for OUTPUT and POSTROUTING only, xt_socket for PREROUTING and INPUT only
//! ([`Extension::hooks`]).
//!
//! iptables resolves user and group names with getpwnam/getgrnam when parsing and saves the
//! numbers; `-L` without `-n` turns a single id back into a name. We read `/etc/passwd` and
//! `/etc/group` for that, as libc's `files` service does, and nothing else (no NSS modules).

use std::fmt::Write;
use std::sync::OnceLock;

use super::util::{once, save_invert, strtoul_prefix, OptArg};
use super::{Arity, ExtError, Extension, Opt, ParseCtx, PrintCtx};
use crate::rules::model::{Hook, Neg};

/// Users and groups by name and id, from `/etc/passwd` and `/etc/group`.
#[derive(Debug, Default)]
pub struct Accounts {
    /// (name, uid) in file order: the first entry wins both ways, as with getpwnam/getpwuid.
    users: Vec<(String, u32)>,
    groups: Vec<(String, u32)>,
}

impl Accounts {
    /// The system's accounts, read once.
    pub fn system() -> &'static Accounts {
        static ACCOUNTS: OnceLock<Accounts> = OnceLock::new();
        ACCOUNTS.get_or_init(|| {
            let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
            Accounts::from_texts(&read("/etc/passwd"), &read("/etc/group"))
        })
    }

    /// Both files share the layout `name:password:id:...`.
    pub fn from_texts(passwd: &str, group: &str) -> Accounts {
        let entries = |text: &str| -> Vec<(String, u32)> {
            text.lines()
                .filter_map(|line| {
                    let mut f = line.split(':');
                    let name = f.next()?;
                    let id = f.nth(1)?.parse().ok()?;
                    // `+`/`-` lines are NIS compat markers, not accounts.
                    (!name.is_empty() && !name.starts_with(['+', '-', '#']))
                        .then(|| (name.to_string(), id))
                })
                .collect()
        };
        Accounts {
            users: entries(passwd),
            groups: entries(group),
        }
    }

    fn find_id(list: &[(String, u32)], name: &str) -> Option<u32> {
        list.iter().find(|(n, _)| n == name).map(|e| e.1)
    }

    fn find_name(list: &[(String, u32)], id: u32) -> Option<&str> {
        list.iter().find(|e| e.1 == id).map(|e| e.0.as_str())
    }
}

/// An inclusive uid or gid range (`uid_min`..`uid_max`; one id is a range of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    pub min: u32,
    pub max: u32,
}

/// The largest id iptables takes: `(uid_t)-1` means "no id".
const ID_MAX: u64 = u32::MAX as u64 - 1;

/// `--uid-owner`/`--gid-owner`'s argument (owner_mt_parse): a name from the accounts file,
/// else `N`, `N-M` or `N:M` (numbers as xtables_strtoui reads them). The kernel refuses a
/// reversed range (owner_check).
fn parse_ids(o: &OptArg, lookup: impl Fn(&str) -> Option<u32>) -> Result<IdRange, ExtError> {
    let arg = o.arg();
    if let Some(id) = lookup(arg) {
        return Ok(IdRange { min: id, max: id });
    }
    let bad = || {
        o.bad(format!(
            "owner: Bad value for \"--{}\" option: \"{arg}\" (a known name, a number or a range N-M)",
            o.name
        ))
    };
    let id = |s| strtoul_prefix(s).filter(|(v, _)| *v <= ID_MAX);
    let (min, rest) = id(arg).ok_or_else(bad)?;
    let (max, rest) = match rest.strip_prefix(['-', ':']) {
        Some(hi) => id(hi).ok_or_else(bad)?,
        None => (min, rest),
    };
    if !rest.is_empty() {
        return Err(bad());
    }
    if min > max {
        return Err(o.bad(format!(
            "owner: range {min}-{max} is reversed (the kernel refuses it)"
        )));
    }
    Ok(IdRange {
        min: min as u32,
        max: max as u32,
    })
}

/// `-m owner` (revision 1, `xt_owner_match_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// `--socket-exists`: XT_OWNER_SOCKET.
    pub socket_exists: Option<Neg<()>>,
    pub uid: Option<Neg<IdRange>>,
    pub gid: Option<Neg<IdRange>>,
    /// `--suppl-groups`: XT_OWNER_SUPPL_GROUPS, also look at the supplementary groups.
    pub suppl_groups: bool,
}

impl Extension for Owner {
    const NAME: &'static str = "owner";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("uid-owner", Arity::One, true),
        Opt::new("gid-owner", Arity::One, true),
        Opt::new("socket-exists", Arity::Zero, true),
        Opt::new("suppl-groups", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        let accounts = Accounts::system();
        let uid = once(opts, "uid-owner")?
            .map(|o| -> Result<_, ExtError> {
                let ids = parse_ids(o, |n| Accounts::find_id(&accounts.users, n))?;
                Ok(Neg::new(o.invert, ids))
            })
            .transpose()?;
        let gid_opt = once(opts, "gid-owner")?;
        let gid = gid_opt
            .map(|o| -> Result<_, ExtError> {
                let ids = parse_ids(o, |n| Accounts::find_id(&accounts.groups, n))?;
                Ok(Neg::new(o.invert, ids))
            })
            .transpose()?;
        let socket_exists = once(opts, "socket-exists")?.map(|o| Neg::new(o.invert, ()));
        let suppl = once(opts, "suppl-groups")?;
        if let Some(s) = suppl {
            // owner_mt_parse tests this when it meets --suppl-groups, so order matters.
            let pos = |name| opts.iter().position(|o| o.name == name);
            if !pos("gid-owner").is_some_and(|g| pos("suppl-groups").is_some_and(|s| g < s)) {
                return Err(s.err(
                    "owner: Bad value for \"--suppl-groups\" option: \"you need to use --gid-owner first\"",
                ));
            }
        }
        if uid.is_none() && gid_opt.is_none() && socket_exists.is_none() {
            return Err(ExtError::whole(
                "owner: At least one of --uid-owner, --gid-owner or --socket-exists is required",
            ));
        }
        Ok(Owner {
            socket_exists,
            uid,
            gid,
            suppl_groups: suppl.is_some(),
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        if let Some(s) = &self.socket_exists {
            save_invert(out, s.invert);
            out.push_str(" --socket-exists");
        }
        for (opt, ids) in [("uid-owner", &self.uid), ("gid-owner", &self.gid)] {
            if let Some(ids) = ids {
                save_invert(out, ids.invert);
                let _ = write!(out, " --{opt}");
                write_ids(out, ids.value, None);
            }
        }
        if self.suppl_groups {
            out.push_str(" --suppl-groups");
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        let accounts = Accounts::system();
        if let Some(s) = &self.socket_exists {
            save_invert(out, s.invert);
            out.push_str(" owner socket exists");
        }
        let names = |list| (!ctx.numeric).then_some(list);
        for (label, ids, list) in [
            ("UID", &self.uid, &accounts.users),
            ("GID", &self.gid, &accounts.groups),
        ] {
            if let Some(ids) = ids {
                save_invert(out, ids.invert);
                let _ = write!(out, " owner {label} match");
                write_ids(out, ids.value, names(list.as_slice()));
            }
        }
        if self.suppl_groups {
            out.push_str(" incl. suppl. groups");
        }
    }

    /// xt_owner's `.hooks`: the socket is known only on the way out.
    fn hooks(&self) -> Option<u8> {
        Some(Hook::Output.bit() | Hook::Postrouting.bit())
    }
}

/// ` N`, ` N-M`, or (with names) ` name` for a single id that has one (owner_mt_print_item).
fn write_ids(out: &mut String, ids: IdRange, names: Option<&[(String, u32)]>) {
    if ids.min != ids.max {
        let _ = write!(out, " {}-{}", ids.min, ids.max);
        return;
    }
    match names.and_then(|list| Accounts::find_name(list, ids.min)) {
        Some(name) => {
            out.push(' ');
            out.push_str(name);
        }
        None => {
            let _ = write!(out, " {}", ids.min);
        }
    }
}

/// `-m socket` (revision 3, `xt_socket_mtinfo3`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    /// `--transparent`: only sockets with IP_TRANSPARENT.
    pub transparent: bool,
    /// `--nowildcard`: also listening sockets bound to 0.0.0.0.
    pub nowildcard: bool,
    /// `--restore-skmark`: copy the socket's mark to the packet.
    pub restore_skmark: bool,
}

impl Extension for Socket {
    const NAME: &'static str = "socket";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("transparent", Arity::Zero, false),
        Opt::new("nowildcard", Arity::Zero, false),
        Opt::new("restore-skmark", Arity::Zero, false),
    ];

    fn parse(opts: &[OptArg], _ctx: &ParseCtx) -> Result<Self, ExtError> {
        Ok(Socket {
            transparent: once(opts, "transparent")?.is_some(),
            nowildcard: once(opts, "nowildcard")?.is_some(),
            restore_skmark: once(opts, "restore-skmark")?.is_some(),
        })
    }

    fn save(&self, out: &mut String, _ctx: &PrintCtx) {
        for (on, opt) in [
            (self.transparent, " --transparent"),
            (self.nowildcard, " --nowildcard"),
            (self.restore_skmark, " --restore-skmark"),
        ] {
            if on {
                out.push_str(opt);
            }
        }
    }

    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        out.push_str(" socket");
        self.save(out, ctx);
    }

    /// xt_socket's `.hooks`: the socket lookup is for packets coming in.
    fn hooks(&self) -> Option<u8> {
        Some(Hook::Prerouting.bit() | Hook::Input.bit())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{check, fails, parse};
    use super::*;
    use crate::rules::model::Family;

    // Expected texts: iptables-save, iptables -L -v and -L -v -n on the real kernel (the
    // names are root's and daemon's, the same on every Linux system).

    #[test]
    fn accounts_first_entry_wins() {
        let a = Accounts::from_texts(
            "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/:/bin/sh\n+nis::::::\nbad line\n",
            "wheel:x:10:root\n",
        );
        assert_eq!(Accounts::find_name(&a.users, 0), Some("root"));
        assert_eq!(Accounts::find_id(&a.users, "toor"), Some(0));
        assert_eq!(Accounts::find_id(&a.users, "+nis"), None);
        assert_eq!(Accounts::find_id(&a.groups, "wheel"), Some(10));
    }

    #[test]
    fn names_are_saved_as_numbers_and_listed_as_names() {
        check::<Owner>(
            "--uid-owner root",
            " --uid-owner 0",
            " owner UID match root",
            " owner UID match 0",
        );
        check::<Owner>(
            "--uid-owner 1-1",
            " --uid-owner 1",
            " owner UID match daemon",
            " owner UID match 1",
        );
        check::<Owner>(
            "! --uid-owner 1000:2000",
            " ! --uid-owner 1000-2000",
            " ! owner UID match 1000-2000",
            " ! owner UID match 1000-2000",
        );
        check::<Owner>(
            "--gid-owner 0 ! --socket-exists",
            " ! --socket-exists --gid-owner 0",
            " ! owner socket exists owner GID match root",
            " ! owner socket exists owner GID match 0",
        );
    }

    #[test]
    fn ids_and_ranges() {
        let o: Owner = parse("--uid-owner +1 --gid-owner 0x10", Family::Ipv4).unwrap();
        let ids = |n: &Option<Neg<IdRange>>| n.as_ref().map(|n| (n.value.min, n.value.max));
        assert_eq!((ids(&o.uid), ids(&o.gid)), (Some((1, 1)), Some((16, 16))));
        for bad in [
            "4294967295",
            "5-",
            "2000-1000",
            "no-such-user-here",
            "1-2-3",
        ] {
            fails::<Owner>(&format!("--uid-owner {bad}"));
        }
        fails::<Owner>("");
    }

    #[test]
    fn suppl_groups_needs_gid_before_it() {
        check::<Owner>(
            "--gid-owner 0 --suppl-groups",
            " --gid-owner 0 --suppl-groups",
            " owner GID match root incl. suppl. groups",
            " owner GID match 0 incl. suppl. groups",
        );
        fails::<Owner>("--suppl-groups --gid-owner 0");
        fails::<Owner>("--gid-owner 0 ! --suppl-groups");
        fails::<Owner>("--suppl-groups");
    }

    #[test]
    fn socket_options_and_hooks() {
        check::<Socket>(
            "--restore-skmark --transparent",
            " --transparent --restore-skmark",
            " socket --transparent --restore-skmark",
            " socket --transparent --restore-skmark",
        );
        check::<Socket>("", "", " socket", " socket");
        fails::<Socket>("--nowildcard --nowildcard");
        let s: Socket = parse("", Family::Ipv4).unwrap();
        assert_eq!(s.hooks(), Some(Hook::Prerouting.bit() | Hook::Input.bit()));
        let o: Owner = parse("--socket-exists", Family::Ipv4).unwrap();
        assert_eq!(
            o.hooks(),
            Some(Hook::Output.bit() | Hook::Postrouting.bit())
        );
    }
}
