//! Property tests: no byte string panics the reader or makes it loop, and a stream and the
//! same bytes in memory always read the same.

mod capture_common;

use std::io::Cursor;

use capture_common::*;
use fwbench::capture::{link, LinkType, Reader};
use proptest::prelude::*;

/// The packets and the error offset of `bytes`, from memory and from a stream, which must
/// agree; every packet is also given to the link decoder.
fn check(bytes: Vec<u8>) {
    let mem = Reader::from_bytes("p", bytes.clone()).map(read_all);
    let stream = Reader::from_read("p", Cursor::new(bytes.clone())).map(read_all);
    match (mem, stream) {
        (Ok((g1, e1, r)), Ok((g2, e2, _))) => {
            assert_eq!(g1, g2);
            assert_eq!(e1.and_then(|e| e.offset()), e2.and_then(|e| e.offset()));
            // Every step consumes at least 12 bytes (a pcapng block) or 16 (a pcap record).
            assert!(g1.len() <= bytes.len() / 12);
            for g in &g1 {
                let iface = &r.interfaces()[g.interface.unwrap() as usize];
                let _ = link::decode(iface.link, &g.data);
            }
        }
        (Err(a), Err(b)) => assert_eq!(a.offset(), b.offset()),
        (a, b) => panic!("memory and stream disagree: {:?} / {:?}", a.err(), b.err()),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap()
}

const MAGICS: &[&[u8]] = &[
    b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00",
    b"\xa1\xb2\xc3\xd4\x00\x02\x00\x04",
    b"\x4d\x3c\xb2\xa1\x02\x00\x04\x00",
    b"\x34\xcd\xb2\xa1\x02\x00\x04\x00",
    b"\x0a\x0d\x0d\x0a",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check(bytes);
    }

    /// Behind a valid magic, so that the parsers themselves see the noise.
    #[test]
    fn random_bytes_behind_a_magic(
        m in 0..MAGICS.len(),
        tail in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut b = MAGICS[m].to_vec();
        b.extend(tail);
        check(b);
    }

    /// Real files with a few bytes overwritten and a random cut.
    #[test]
    fn mutated_real_files(
        f in 0..4usize,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let name = ["eth.pcap", "exotic.pcapng", "multi.pcapng", "sll2.pcap"][f];
        let mut b = fixture(name);
        for (i, v) in edits {
            let i = i.index(b.len());
            b[i] = v;
        }
        let keep = b.len() - cut.index(b.len() / 4 + 1);
        b.truncate(keep);
        check(b);
    }

    #[test]
    fn link_decoder_never_panics(
        lt in any::<u16>(),
        frame in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        for l in [LinkType::from(lt), LinkType::Ethernet, LinkType::LinuxSll, LinkType::LinuxSll2,
                  LinkType::Null, LinkType::Loop, LinkType::Raw] {
            if let Ok(info) = link::decode(l, &frame) {
                prop_assert!(info.network <= frame.len());
            }
        }
    }
}
