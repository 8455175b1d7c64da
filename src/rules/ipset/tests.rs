//! Whole-file tests of the restore reader and the save printer. Expected outputs come from
//! the kernel: `tests/ipset/kernel_save.txt` is `ipset save` (ipset 7.17, kernel 6.18) after
//! `ipset restore` of `tests/ipset/restore_input.txt` (element timeouts rounded back up);
//! the other expectations were checked with `ipset restore` in a network namespace.

use super::*;
use crate::rules::names::Names;

const KERNEL_SAVE: &str = include_str!("../../../tests/ipset/kernel_save.txt");
const RESTORE_INPUT: &str = include_str!("../../../tests/ipset/restore_input.txt");

fn names() -> Names {
    Names::from_texts(
        "ssh 22/tcp\ndomain 53/tcp\ndomain 53/udp\nhttp 80/tcp www\n",
        "",
        "tcp 6 TCP\nudp 17 UDP\nicmp 1 ICMP\nipv6-icmp 58 IPv6-ICMP\ngre 47 GRE\n\
         udplite 136 UDPLite\nsctp 132 SCTP\n",
    )
}

fn parse(text: &str) -> Result<IpSets, Diagnostics> {
    IpSets::parse_with(text, "t.ipset", &names())
}

fn ok(text: &str) -> IpSets {
    match parse(text) {
        Ok(s) => s,
        Err(d) => panic!("{d}"),
    }
}

fn err(text: &str) -> Diagnostics {
    match parse(text) {
        Ok(s) => panic!("accepted:\n{}", s.save_with(&names())),
        Err(d) => d,
    }
}

#[test]
fn kernel_save_output_round_trips_byte_for_byte() {
    let sets = ok(KERNEL_SAVE);
    assert_eq!(sets.save_with(&names()), KERNEL_SAVE);
}

#[test]
fn restore_input_gives_the_kernel_state() {
    // Same sets and elements; hash sets print in insertion order here, so compare sorted.
    let ours = ok(RESTORE_INPUT).save_with(&names());
    let strip = |t: &str| {
        let mut v: Vec<String> = t
            .lines()
            .map(|l| match l.find(" initval ") {
                Some(i) if l.starts_with("create") => l[..i].to_string() + &l[i + 19..],
                _ => l.to_string(),
            })
            .map(|l| l.replace("timeout 599", "timeout 600"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(strip(&ours), strip(KERNEL_SAVE));
}

#[test]
fn lookups_and_dimensions() {
    let sets = ok(KERNEL_SAVE);
    let ipn = sets.get("ipn").expect("ipn");
    assert_eq!(
        (ipn.set_type, ipn.dimension(), ipn.len()),
        (SetType::HashIpPortNet, 3, 2)
    );
    assert_eq!(sets.get("l").map(IpSet::dimension), Some(1));
    assert!(sets.get("ip4nm").is_none(), "destroyed");
    let order: Vec<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    // `z` took the slot `ip4nm` left; list sets keep their index but print last.
    assert_eq!(
        order,
        [
            "ip4", "z", "ip4bm", "ip6p", "ippbm", "ipp6", "net4", "ni", "ipn", "bp", "bi", "l",
            "l2"
        ]
    );
}

#[test]
fn destroyed_slot_is_reused_and_lists_print_last() {
    // Kernel: after `destroy a`, `create d` prints first; list:set after all others.
    let s = ok(
        "create a hash:ip\ncreate b hash:ip\ncreate l list:set\ncreate c hash:ip\n\
                destroy a\ncreate d hash:net\ncreate e hash:net\n",
    );
    let creates: Vec<String> = s
        .save_with(&names())
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap_or("").to_string())
        .collect();
    assert_eq!(creates, ["d", "b", "c", "e", "l"]);
}

#[test]
fn create_options_are_normalised_like_the_kernel() {
    let s = ok("create a hash:ip hashsize 100 bucketsize 3 maxelem 10 netmask 30 timeout 5 \
                counters comment forceadd skbinfo initval 0x1\n\
                create b hash:ip hashsize 10 bucketsize 13\ncreate c hash:ip,port -6 \
                netmask 64 bucketsize 7\ncreate d list:set size 1\n\
                create e bitmap:ip range 10.0.0.5-10.0.3.0 netmask 24\n\
                create f bitmap:port range tcp:http-ssh\ncreate g hash:ip timeout 0x10 hashsize 010\n");
    let t = s.save_with(&names());
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(
        lines,
        [
            "create a hash:ip family inet hashsize 128 maxelem 10 netmask 30 timeout 5 counters \
             comment skbinfo bucketsize 4 initval 0x00000001",
            "create b hash:ip family inet hashsize 64 maxelem 65536 bucketsize 12",
            "create c hash:ip,port family inet6 hashsize 1024 maxelem 65536 bucketsize 8 \
             netmask 64",
            "create e bitmap:ip range 10.0.0.0-10.0.3.255 netmask 24",
            "create f bitmap:port range 22-80",
            "create g hash:ip family inet hashsize 64 maxelem 65536 timeout 16 bucketsize 12",
            "create d list:set size 4",
        ]
    );
}

#[test]
fn command_aliases_and_comments() {
    let s = ok(
        "-N a hash:ip\n-A a 1.1.1.1\nn b hash:ip\nc c hash:ip\n--create d hash:ip\n\
                new e hash:ip\na b 2.2.2.2\n--add c 3.3.3.3\n   # comment\n\n\
                add d   4.4.4.4   \nCOMMIT\ndel a 1.1.1.1\n-D b 2.2.2.2\nx e\n\
                create f hash:ip\ncreate g bitmap:ip range 1.1.1.0/24\nadd f 1.1.1.9\n\
                w f g\ne g h\ndes c\n-F d\n",
    );
    let t = s.save_with(&names());
    assert_eq!(
        t,
        "create a hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12\n\
         create b hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12\n\
         create d hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12\n\
         create f bitmap:ip range 1.1.1.0-1.1.1.255\n\
         create h hash:ip family inet hashsize 1024 maxelem 65536 bucketsize 12\n\
         add h 1.1.1.9\n"
    );
}

#[test]
fn exist_is_sticky_but_fixed_per_run_of_adds() {
    // Kernel: `-exist` on the second add of a run does not cover the third line.
    let d = err("create a hash:ip\nadd a 1.1.1.1\nadd a 1.1.1.2 -exist\nadd a 1.1.1.1\n");
    assert_eq!(d.errors[0].pos.line, 4);
    // A run for another set starts with the flag on.
    ok(
        "create a hash:ip\ncreate b hash:ip\nadd a 1.1.1.1\nadd b 1.1.1.2 -exist\n\
        add a 1.1.1.1\n",
    );
    // On a create line it applies at once; a create of another type still fails.
    ok("create a hash:ip\ncreate a hash:ip hashsize 2048 -exist\n");
    assert_eq!(
        err("create a hash:ip\ncreate a hash:net -exist\n").errors[0]
            .pos
            .line,
        2
    );
}

#[test]
fn exist_re_add_replaces_extensions_but_keeps_counters() {
    // Kernel: the re-add drops the comment, sets the new timeout, keeps packets/bytes.
    let s = ok("create a hash:ip timeout 100 counters comment\n\
                add -exist a 1.1.1.1 timeout 50 packets 5 bytes 6 comment \"one\"\n\
                add a 1.1.1.1 timeout 20\n");
    assert_eq!(
        s.save_with(&names()).lines().nth(1),
        Some("add a 1.1.1.1 timeout 20 packets 5 bytes 6")
    );
}

#[test]
fn list_set_positions() {
    // Kernel order after these lines: b d e c.
    let s = ok(
        "create b hash:ip\ncreate c hash:ip\ncreate d hash:ip\ncreate e hash:ip\n\
                create l list:set size 2\nadd l b\nadd l c\nadd l d after b\nadd l e before c\n",
    );
    let t = s.save_with(&names());
    assert!(t.ends_with("create l list:set size 4\nadd l b\nadd l d\nadd l e\nadd l c\n"));
    let d = err("create b hash:ip\ncreate l list:set\nadd l b\ndestroy b\nrename b z\n");
    let lines: Vec<u32> = d.errors.iter().map(|e| e.pos.line).collect();
    assert_eq!(lines, [4, 5]);
}

#[test]
fn quoting_follows_build_argv() {
    let s = ok("create a hash:ip comment\nadd a 1.1.1.1 comment \"a b\"c\n\
                add a 1.1.1.2 comment a\" b \"c\nadd a 1.1.1.3 comment \"x\" \"\"\n");
    let t = s.save_with(&names());
    assert!(t.contains("add a 1.1.1.1 comment \"a bc\"\n"), "{t}");
    assert!(t.contains("add a 1.1.1.2 comment \"a b c\"\n"), "{t}");
    assert!(t.contains("add a 1.1.1.3 comment \"x\"\n"), "{t}");
}

#[test]
fn all_errors_are_reported_with_position() {
    let d = err("create a hash:ip\n\
                 add a 1.2.3.4 timeout 5\n\
                 create b hash:nope\n\
                 add b 1.1.1.1\n\
                 add a 1.2.3.4,80\n\
                 create c hash:net\n\
                 add c 10.0.0.0/0\n\
                 frobnicate\n\
                 add a 1.1.1.1 comment \"open\n");
    let got: Vec<(u32, u32)> = d.errors.iter().map(|e| (e.pos.line, e.pos.col)).collect();
    // Line 4 names the set whose create failed: no second error for it.
    assert_eq!(got, [(2, 15), (3, 10), (5, 14), (7, 7), (8, 1), (9, 23)]);
    let text = d.to_string();
    assert!(text.starts_with(
        "t.ipset:2:15: error: timeout cannot be used: set `a' was created without timeout\n\
         add a 1.2.3.4 timeout 5\n              ^"
    ));
    assert!(text.contains("unknown set type `hash:nope'"), "{text}");
    assert!(text.contains("t.ipset: 6 errors"), "{text}");
}

#[test]
fn elements_parse_errors_point_into_the_element() {
    let d = err("create a hash:ip,port\nadd a 1.2.3.4,tcp:99999\n");
    assert_eq!((d.errors[0].pos.line, d.errors[0].pos.col), (2, 15));
    assert!(
        d.errors[0].message.contains("99999"),
        "{}",
        d.errors[0].message
    );
}

#[test]
fn hash_full_and_null_elements() {
    assert_eq!(
        err("create a hash:ip maxelem 2\nadd a 1.1.1.1-1.1.1.3\n")
            .errors
            .len(),
        1
    );
    assert!(err("create a hash:ip\nadd a 0.0.0.0\n").errors[0]
        .message
        .contains("null"));
    ok("create a hash:ip,port,ip\nadd a 0.0.0.0,tcp:80,0.0.0.0\n");
}

#[test]
fn wildcard_interfaces_are_the_same_element_as_their_extensions() {
    // Kernel: `eth wildcard` then `eth0` on the same network is "already added".
    let d = err("create a hash:net,iface\nadd a 10.0.0.0/8,eth wildcard\nadd a 10.0.0.0/8,eth0\n");
    assert_eq!(d.errors[0].pos.line, 3);
    // And `del` of `eth0` removes the wildcard element.
    let s = ok("create a hash:net,iface\nadd a 10.0.0.0/8,eth wildcard\ndel a 10.0.0.0/8,eth0\n");
    assert!(s.get("a").is_some_and(IpSet::is_empty));
}

#[test]
fn garbage_never_panics() {
    // A deterministic stream of lines built from the vocabulary of restore files.
    const WORDS: &[&str] = &[
        "create",
        "add",
        "del",
        "-exist",
        "destroy",
        "flush",
        "swap",
        "rename",
        "a",
        "b",
        "l",
        "hash:ip",
        "hash:net",
        "hash:ip,port",
        "hash:net,port",
        "hash:ip,port,ip",
        "hash:ip,port,net",
        "hash:net,iface",
        "hash:mac",
        "bitmap:ip",
        "bitmap:port",
        "list:set",
        "family",
        "inet6",
        "netmask",
        "0",
        "33",
        "bitmask",
        "255.0.255.0",
        "range",
        "size",
        "1.2.3.4",
        "1.2.3.4/0",
        "0.0.0.0-255.255.255.255",
        "1.2.3.4-1.2.3.1",
        "::",
        "::1/200",
        "1.2.3.4,",
        ",80",
        "1.2.3.4,icmp:",
        "1.2.3.4,tcp:0-65535,5.6.7.8/33",
        "10.0.0.0/8,eth0",
        "10.0.0.0/8,physdev:",
        "00:11:22:33:44:55",
        "a,before,",
        "timeout",
        "4294967296",
        "comment",
        "\"x",
        "\"\"",
        "skbmark",
        "0x",
        "skbprio",
        ":",
        "nomatch",
        "wildcard",
        "before",
        "after",
        "maxelem",
        "1",
        "hashsize",
        "0x80000001",
        "COMMIT",
        "#",
        "é",
        "€,€",
        "1.2.3.4,udp:1-2,1.1.1.1",
        "10.0.0.0/16",
        "tcp:1-2",
        "5-1",
        "-",
        "--",
        "--add",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    const TYPES: &[&str] = &[
        "hash:ip",
        "hash:net",
        "hash:ip,port",
        "hash:net,port",
        "hash:ip,port,ip",
        "hash:ip,port,net",
        "hash:net,iface",
        "hash:mac",
        "bitmap:ip range 1.2.3.0/24",
        "bitmap:port range 0-100",
        "list:set",
        "hash:ip family inet6",
        "hash:net timeout 5 \
         counters comment skbinfo",
        "hash:ip netmask 24",
    ];
    for _ in 0..2000 {
        let t = TYPES[(next() % TYPES.len() as u64) as usize];
        let mut text = format!("create a {t}\ncreate b hash:ip\ncreate l list:set\n");
        for _ in 0..(next() % 12) {
            let n = next() % 7;
            let mut line: Vec<&str> = if next() % 2 == 0 {
                vec!["add", "a"]
            } else {
                vec![]
            };
            line.extend((0..n).map(|_| WORDS[(next() % WORDS.len() as u64) as usize]));
            text.push_str(&line.join(if next() % 5 == 0 { "\t" } else { " " }));
            text.push('\n');
        }
        if let Ok(sets) = parse(&text) {
            let printed = sets.save_with(&names());
            let _ = parse(&printed);
            for s in sets.iter() {
                let _ = sets.test(&s.name, &[SetPart::Addr("1.2.3.4".parse().expect("ip"))]);
            }
        }
    }
}
