//! Unit tests of the stateful matches, with synthetic capture times.

use std::net::IpAddr;

use super::*;
use crate::rules::parse::{parse_ruleset, ParseOptions};
use crate::rules::TableKind;
use crate::wire::ip;

/// A ruleset of INPUT rules (`lines`, each without `-A INPUT`).
fn ruleset(lines: &[&str]) -> Ruleset {
    let mut text = String::from("*filter\n:INPUT ACCEPT [0:0]\n");
    for l in lines {
        text.push_str("-A INPUT ");
        text.push_str(l);
        text.push('\n');
    }
    text.push_str("COMMIT\n");
    parse_ruleset(&text, "t", ParseOptions::default()).unwrap_or_else(|d| panic!("{d}"))
}

/// The last match of rule `i`.
fn matcher(rs: &Ruleset, i: usize) -> &MatchExt {
    let chain = &rs.table(TableKind::Filter).expect("filter").chains()[0];
    &chain.rules[i].matches.last().expect("a match").ext
}

/// An IPv4 UDP packet `src` → 10.0.0.1 with `ttl` and `len` bytes in all.
fn udp4(src: &str, ttl: u8, len: u16) -> Vec<u8> {
    let s: std::net::Ipv4Addr = src.parse().expect("address");
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0, 0, ttl, 17, 0, 0];
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p.extend_from_slice(&s.octets());
    p.extend_from_slice(&[10, 0, 0, 1]);
    p.extend_from_slice(&[0x30, 0x39, 0, 53]);
    p.extend_from_slice(&(len - 20).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.resize(usize::from(len), 0);
    p
}

/// Asks `state` about match `m` for `bytes` at `now_ns` (packet `index`), received on eth0.
fn ask(state: &mut MatchState, m: &MatchExt, bytes: &[u8], now_ns: i64, index: u64) -> bool {
    let info = ip::parse(bytes).expect("packet parses");
    let facts = Facts {
        bytes,
        info: &info,
        now_ns,
        packet_index: index,
        ct: None,
        in_iface: Some("eth0"),
        out_iface: None,
        conns: None,
    };
    match state.eval_match(0, m, &facts) {
        Some(Ok(v)) => v,
        other => panic!("{} gave {other:?}", m.name()),
    }
}

fn state() -> MatchState {
    MatchState::new(7, IpSets::default())
}

const SEC: i64 = 1_000_000_000;

#[test]
fn nth_matches_packet_p_plus_one_first_and_wraps() {
    let rs = ruleset(&[
        "-m statistic --mode nth --every 3 --packet 0",
        "-m statistic --mode nth --every 3 --packet 2",
        "-m statistic --mode nth ! --every 2 --packet 1",
    ]);
    let mut st = state();
    let p = udp4("10.0.0.2", 64, 40);
    let hits = |st: &mut MatchState, i| {
        (0..7)
            .map(|n| ask(st, matcher(&rs, i), &p, 0, n))
            .collect::<Vec<_>>()
    };
    // Measured (both backends): the rule's packets 0, 3, 6, ... for --packet 0.
    assert_eq!(
        hits(&mut st, 0),
        [true, false, false, true, false, false, true]
    );
    assert_eq!(
        hits(&mut st, 1),
        [false, false, true, false, false, true, false]
    );
    // --every 2 --packet 1 inverted: all but packets 1, 3, 5.
    assert_eq!(
        hits(&mut st, 2),
        [true, false, true, false, true, false, true]
    );
}

#[test]
fn random_is_reproducible_and_follows_the_probability() {
    let rs = ruleset(&[
        "-m statistic --mode random --probability 0.25",
        "-m statistic --mode random --probability 1",
        "-m statistic --mode random --probability 0",
        "-m statistic --mode random ! --probability 0.25",
    ]);
    let p = udp4("10.0.0.2", 64, 40);
    let run = |seed| {
        let mut st = MatchState::new(seed, IpSets::default());
        (0..4000u64)
            .map(|n| ask(&mut st, matcher(&rs, 0), &p, 0, n))
            .collect::<Vec<_>>()
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
    let hits = a.iter().filter(|&&h| h).count();
    assert!((850..1150).contains(&hits), "{hits} of 4000 at p = 0.25");
    let mut st = state();
    for n in 0..200 {
        assert!(ask(&mut st, matcher(&rs, 1), &p, 0, n));
        assert!(!ask(&mut st, matcher(&rs, 2), &p, 0, n));
    }
    // Two draws for the same packet differ from each other but not between replays.
    let mut s1 = state();
    let mut s2 = state();
    let d1: Vec<u32> = (0..3).map(|_| s1.random_u32(5)).collect();
    let d2: Vec<u32> = (0..3).map(|_| s2.random_u32(5)).collect();
    assert_eq!(d1, d2);
    assert_ne!(d1[0], d1[1]);
    // The inverted rule matches exactly where a fresh draw fails.
    let mut s3 = state();
    let mut s4 = state();
    for n in 0..100 {
        assert_ne!(
            ask(&mut s3, matcher(&rs, 0), &p, 0, n),
            ask(&mut s4, matcher(&rs, 3), &p, 0, n)
        );
    }
}

#[test]
fn recent_set_then_rcheck_with_seconds_as_kube_proxy_uses_it() {
    let rs = ruleset(&[
        "-m recent --set --name SVC --mask 255.255.255.255 --rsource",
        "-m recent --rcheck --seconds 10800 --reap --name SVC --mask 255.255.255.255 --rsource",
    ]);
    let mut st = state();
    st.prepare(&rs);
    let a = udp4("10.0.0.2", 64, 40);
    let b = udp4("10.0.0.3", 64, 40);
    assert!(!ask(&mut st, matcher(&rs, 1), &a, 0, 0));
    assert!(ask(&mut st, matcher(&rs, 0), &a, 0, 1));
    assert!(ask(&mut st, matcher(&rs, 1), &a, 10 * SEC, 2));
    assert!(!ask(&mut st, matcher(&rs, 1), &b, 10 * SEC, 3));
    assert!(ask(&mut st, matcher(&rs, 1), &a, 10800 * SEC, 4));
    // One jiffy past the window: no longer recent, and --reap drops it.
    assert!(!ask(
        &mut st,
        matcher(&rs, 1),
        &a,
        10800 * SEC + 4_000_000,
        5
    ));
    assert!(st.recent_addresses("SVC").is_empty());
}

#[test]
fn recent_hitcount_update_remove_and_mask() {
    let rs = ruleset(&[
        "-m recent --set --name L --mask 255.255.255.0",
        "-m recent --update --seconds 10 --hitcount 3 --name L",
        "-m recent --remove --name L",
        "-m recent ! --rcheck --name L",
    ]);
    let mut st = state();
    st.prepare(&rs);
    let a = udp4("10.0.0.2", 64, 40);
    let a2 = udp4("10.0.0.77", 64, 40);
    assert!(ask(&mut st, matcher(&rs, 0), &a, 0, 0));
    // The table's mask (the first rule's) applies to every rule: .77 is the same entry.
    assert!(ask(&mut st, matcher(&rs, 0), &a2, SEC, 1));
    assert_eq!(
        st.recent_addresses("L"),
        ["10.0.0.0".parse::<IpAddr>().expect("ip")]
    );
    // Two stamps: --hitcount 3 fails and --update does not stamp a failed check.
    assert!(!ask(&mut st, matcher(&rs, 1), &a, 2 * SEC, 2));
    assert!(!ask(&mut st, matcher(&rs, 1), &a, 2 * SEC, 3));
    assert!(ask(&mut st, matcher(&rs, 0), &a, 3 * SEC, 4));
    // Three stamps within 10 s: match, and the update adds a fourth.
    assert!(ask(&mut st, matcher(&rs, 1), &a, 5 * SEC, 5));
    // At 11 s the window starts at 1 s, inclusive: 1, 3 and 5 s count; 11 s is stamped.
    assert!(ask(&mut st, matcher(&rs, 1), &a, 11 * SEC, 6));
    // At 14 s only 5 and 11 s are in the window.
    assert!(!ask(&mut st, matcher(&rs, 1), &a, 14 * SEC, 7));
    assert!(!ask(&mut st, matcher(&rs, 3), &a, 16 * SEC, 8));
    assert!(ask(&mut st, matcher(&rs, 2), &a, 16 * SEC, 9));
    assert!(!ask(&mut st, matcher(&rs, 2), &a, 16 * SEC, 10));
    assert!(ask(&mut st, matcher(&rs, 3), &a, 16 * SEC, 11));
}

#[test]
fn recent_rttl_and_list_size() {
    let rs = ruleset(&[
        "-m recent --set --name T",
        "-m recent --rcheck --rttl --name T",
    ]);
    let mut st = state();
    st.prepare(&rs);
    assert!(ask(
        &mut st,
        matcher(&rs, 0),
        &udp4("10.0.0.2", 64, 40),
        0,
        0
    ));
    assert!(ask(
        &mut st,
        matcher(&rs, 1),
        &udp4("10.0.0.2", 64, 40),
        0,
        1
    ));
    assert!(!ask(
        &mut st,
        matcher(&rs, 1),
        &udp4("10.0.0.2", 63, 40),
        0,
        2
    ));
    // ip_list_tot: the 101st address pushes out the least recently updated.
    for n in 0..100u32 {
        let src = format!("10.1.{}.{}", n / 200, n % 200 + 1);
        assert!(ask(&mut st, matcher(&rs, 0), &udp4(&src, 64, 40), SEC, 3));
    }
    let listed = st.recent_addresses("T");
    assert_eq!(listed.len(), 100);
    assert!(!listed.contains(&"10.0.0.2".parse::<IpAddr>().expect("ip")));
}

#[test]
fn quota_takes_ip_lengths_until_one_does_not_fit() {
    let rs = ruleset(&["-m quota --quota 100", "-m quota ! --quota 100"]);
    let mut st = state();
    let hits: Vec<bool> = [40u16, 50, 28, 28]
        .iter()
        .map(|&len| ask(&mut st, matcher(&rs, 0), &udp4("10.0.0.2", 64, len), 0, 0))
        .collect();
    // 40 + 50 fit; 28 does not and empties the quota, so the next 28 fails too.
    assert_eq!(hits, [true, true, false, false]);
    assert!(!ask(
        &mut st,
        matcher(&rs, 1),
        &udp4("10.0.0.2", 64, 100),
        0,
        0
    ));
    assert!(ask(
        &mut st,
        matcher(&rs, 1),
        &udp4("10.0.0.2", 64, 28),
        0,
        0
    ));
}

/// Applies rule `i`'s `-j SET` target to `bytes` at `now_ns`.
fn apply(state: &mut MatchState, rs: &Ruleset, i: usize, bytes: &[u8], now_ns: i64) {
    let chain = &rs.table(TableKind::Filter).expect("filter").chains()[0];
    let crate::rules::Target::Ext(t) = &chain.rules[i].target else {
        panic!("rule {i} has no extension target");
    };
    let info = ip::parse(bytes).expect("packet parses");
    let facts = Facts {
        bytes,
        info: &info,
        now_ns,
        packet_index: 0,
        ct: None,
        in_iface: Some("eth0"),
        out_iface: None,
        conns: None,
    };
    match state.eval_target(0, t, &facts) {
        Some(Ok(())) => {}
        other => panic!("SET gave {other:?}"),
    }
}

#[test]
fn set_target_adds_with_timeouts_that_expire_in_capture_time() {
    let sets = IpSets::parse(
        "create T hash:ip family inet hashsize 1024 maxelem 2 timeout 30\n\
         add T 10.0.0.9 timeout 5\n",
        "sets",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let rs = ruleset(&[
        "-m set --match-set T src",
        "-j SET --add-set T src --timeout 10",
        "-j SET --add-set T src --exist",
        "-j SET --del-set T src",
    ]);
    let mut st = MatchState::new(0, sets);
    let a = udp4("10.0.0.2", 64, 40);
    let b = udp4("10.0.0.3", 64, 40);
    let old = udp4("10.0.0.9", 64, 40);
    assert!(ask(&mut st, matcher(&rs, 0), &old, 0, 0));
    assert!(!ask(&mut st, matcher(&rs, 0), &a, 0, 1));
    apply(&mut st, &rs, 1, &a, SEC);
    assert!(ask(&mut st, matcher(&rs, 0), &a, 2 * SEC, 2));
    // The file's element had 5 s left from the first packet: gone after 5 s and a jiffy.
    assert!(ask(&mut st, matcher(&rs, 0), &old, 5 * SEC, 3));
    assert!(!ask(&mut st, matcher(&rs, 0), &old, 5 * SEC + 4_000_001, 4));
    // Without --exist an add leaves the element (and its timeout) alone...
    apply(&mut st, &rs, 1, &a, 9 * SEC);
    assert!(!ask(&mut st, matcher(&rs, 0), &a, 11 * SEC + 4_000_001, 5));
    // ...with --exist it is set again, to the set's default of 30 s.
    apply(&mut st, &rs, 1, &a, 12 * SEC);
    apply(&mut st, &rs, 2, &a, 20 * SEC);
    assert!(ask(&mut st, matcher(&rs, 0), &a, 49 * SEC, 6));
    // maxelem 2: a third address is not taken.
    apply(&mut st, &rs, 1, &b, 21 * SEC);
    apply(&mut st, &rs, 1, &old, 21 * SEC);
    assert!(!ask(&mut st, matcher(&rs, 0), &old, 22 * SEC, 7));
    apply(&mut st, &rs, 3, &b, 23 * SEC);
    assert!(!ask(&mut st, matcher(&rs, 0), &b, 23 * SEC, 8));
    assert!(ask(&mut st, matcher(&rs, 0), &a, 23 * SEC, 9));
}

#[test]
fn set_refuses_what_it_does_not_model() {
    let sets = IpSets::parse(
        "create N hash:net family inet hashsize 1024 maxelem 8 counters\nadd N 10.0.0.0/8\n",
        "sets",
    )
    .unwrap_or_else(|d| panic!("{d}"));
    let rs = ruleset(&[
        "-m set --match-set N src --packets-gt 3",
        "-m set --match-set N src --return-nomatch",
        "-m set --match-set missing src",
    ]);
    let mut st = MatchState::new(0, sets);
    let p = udp4("10.0.0.2", 64, 40);
    let info = ip::parse(&p).expect("parses");
    for i in 0..3 {
        let facts = Facts {
            bytes: &p,
            info: &info,
            now_ns: 0,
            packet_index: 0,
            ct: None,
            in_iface: Some("eth0"),
            out_iface: None,
            conns: None,
        };
        assert!(
            matches!(st.eval_match(0, matcher(&rs, i), &facts), Some(Err(_))),
            "rule {i}"
        );
    }
}

#[test]
fn connbytes_reads_the_connection_counters() {
    use crate::engine::ct::{CtConn, CtTuple};
    let rs = ruleset(&[
        "-m connbytes --connbytes 3 --connbytes-mode packets --connbytes-dir original",
        "-m connbytes ! --connbytes 2:4 --connbytes-mode packets --connbytes-dir both",
        "-m connbytes --connbytes 40:60 --connbytes-mode avgpkt --connbytes-dir reply",
        "-m connbytes --connbytes 0:10 --connbytes-mode bytes --connbytes-dir original",
    ]);
    let p = udp4("10.0.0.2", 64, 40);
    let info = ip::parse(&p).expect("parses");
    let t = CtTuple {
        src: info.src,
        dst: info.dst,
        protocol: 17,
        src_port: 1,
        dst_port: 2,
    };
    let view = |packets: [u64; 2], bytes: [u64; 2]| crate::engine::ct::CtView {
        state: crate::rules::ext::CtStates::ESTABLISHED,
        reply_dir: false,
        conn: Some(CtConn {
            original: t,
            reply: t,
            status: 0,
            mark: 0,
            expires_s: 30,
            packets,
            bytes,
        }),
    };
    let mut st = state();
    let mut hits = |ct: &crate::engine::ct::CtView| -> Vec<bool> {
        (0..4)
            .map(|i| {
                let facts = Facts {
                    bytes: &p,
                    info: &info,
                    now_ns: 0,
                    packet_index: 0,
                    ct: Some(ct),
                    in_iface: Some("eth0"),
                    out_iface: None,
                    conns: None,
                };
                match st.eval_match(0, matcher(&rs, i), &facts) {
                    Some(Ok(v)) => v,
                    other => panic!("{other:?}"),
                }
            })
            .collect()
    };
    assert_eq!(hits(&view([2, 0], [80, 0])), [false, false, false, false]);
    assert_eq!(hits(&view([3, 2], [120, 100])), [true, true, true, false]);
    // No reply packets: the average is 0.
    assert_eq!(hits(&view([1, 0], [10, 0])), [false, true, false, true]);
    // INVALID and UNTRACKED packets have no entry: no match, even for a range from 0.
    assert_eq!(hits(&crate::engine::ct::CtView::invalid()), [false; 4]);
}

#[test]
fn connlimit_counts_distinct_live_connections_per_group() {
    use crate::engine::ct::{CtConn, CtTuple, CtView};
    use std::cell::RefCell;
    let rs = ruleset(&[
        "-p udp -m connlimit --connlimit-above 1",
        "-p udp -m connlimit --connlimit-above 2",
        "-p udp -m connlimit --connlimit-upto 2 --connlimit-mask 24",
        "-p udp -m connlimit --connlimit-above 1 --connlimit-daddr",
    ]);
    // The table: confirmed tuples and whether they are closed.
    let table: RefCell<Vec<(CtTuple, bool)>> = RefCell::new(Vec::new());
    let lookup = |t: &CtTuple| table.borrow().iter().find(|e| e.0 == *t).map(|e| e.1);
    let mut st = state();
    // The kernel run of the module docs: (source, source port), all to 10.0.0.1:9.
    let plan = [
        ("10.0.0.5", 1000),
        ("10.0.0.5", 1000),
        ("10.0.0.5", 1000),
        ("10.0.0.5", 1001),
        ("10.0.0.5", 1001),
        ("10.0.0.5", 1002),
        ("10.0.0.6", 1000),
        ("10.0.0.5", 1000),
    ];
    let mut hits = [0; 4];
    for (n, (src, sport)) in plan.iter().enumerate() {
        let p = udp4(src, 64, 40);
        let info = ip::parse(&p).expect("parses");
        let t = CtTuple {
            src: info.src,
            dst: info.dst,
            protocol: 17,
            src_port: *sport,
            dst_port: 53,
        };
        let confirmed = lookup(&t).is_some();
        let view = CtView {
            state: crate::rules::ext::CtStates::NEW,
            reply_dir: false,
            conn: Some(CtConn {
                original: t,
                reply: t,
                status: if confirmed { 1 << 3 } else { 0 },
                mark: 0,
                expires_s: 30,
                packets: [1, 0],
                bytes: [40, 0],
            }),
        };
        for (i, h) in hits.iter_mut().enumerate() {
            let facts = Facts {
                bytes: &p,
                info: &info,
                now_ns: n as i64 * 500_000,
                packet_index: n as u64,
                ct: Some(&view),
                in_iface: Some("eth0"),
                out_iface: None,
                conns: Some(&lookup),
            };
            match st.eval_match(0, matcher(&rs, i), &facts) {
                Some(Ok(true)) => *h += 1,
                Some(Ok(false)) => {}
                other => panic!("{other:?}"),
            }
        }
        // Confirmed at the end of the packet's path.
        if !confirmed {
            table.borrow_mut().push((t, false));
        }
    }
    // Measured on the kernel (6.18), iptables-nft and the same packets.
    assert_eq!(hits, [4, 2, 5, 5]);

    // A closed connection no longer counts; one gone from the table neither.
    let p = udp4("10.0.0.5", 64, 40);
    let info = ip::parse(&p).expect("parses");
    let tuple = |sport| CtTuple {
        src: info.src,
        dst: info.dst,
        protocol: 17,
        src_port: sport,
        dst_port: 53,
    };
    for e in table.borrow_mut().iter_mut() {
        if e.0 == tuple(1001) {
            e.1 = true;
        }
    }
    table.borrow_mut().retain(|e| e.0 != tuple(1002));
    let view = CtView {
        state: crate::rules::ext::CtStates::ESTABLISHED,
        reply_dir: false,
        conn: Some(CtConn {
            original: tuple(1003),
            reply: tuple(1003),
            status: 0,
            mark: 0,
            expires_s: 30,
            packets: [1, 0],
            bytes: [40, 0],
        }),
    };
    let facts = Facts {
        bytes: &p,
        info: &info,
        now_ns: 10 * SEC,
        packet_index: 9,
        ct: Some(&view),
        in_iface: Some("eth0"),
        out_iface: None,
        conns: Some(&lookup),
    };
    // Left: 1000 and the new 1003, so above 1 but not above 2.
    assert_eq!(st.eval_match(0, matcher(&rs, 0), &facts), Some(Ok(true)));
    assert_eq!(st.eval_match(0, matcher(&rs, 1), &facts), Some(Ok(false)));
    // Without the table it is reported, not guessed.
    let facts = Facts {
        conns: None,
        ..facts
    };
    assert!(matches!(
        st.eval_match(0, matcher(&rs, 0), &facts),
        Some(Err(_))
    ));
}
