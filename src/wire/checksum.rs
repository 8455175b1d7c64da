//! The Internet checksum (RFC 1071) with its pseudo-headers, the RFC 1624 incremental update,
//! and CRC32c for SCTP (RFC 9260 appendix A).
//!
//! Sums here are *folded one's-complement sums* (`u16`, not complemented); a header's checksum
//! field holds the complement of the sum over the covered bytes with the field taken as zero.
//! A packet verifies when the sum over all covered bytes, the checksum field included, folds
//! to 0xffff. Keeping sums and complements apart lets callers combine the pseudo-header sum,
//! the header sum and the payload sum in any order (one's-complement addition is commutative
//! and byte-order independent on 16-bit aligned parts).
//!
//! Incremental updates use RFC 1624 equation 3, `HC' = ~(~HC + ~m + m')`, the form the kernel's
//! `csum_replace2`/`inet_proto_csum_replace4` implement. It gives exactly the bytes a full
//! recomputation gives (no -0 versus +0 difference) whenever the covered data is not all
//! zeros, which a real header never is.

/// Adds 32-bit big-endian words into a wide accumulator. Summing 32-bit words and folding is
/// the same one's-complement sum as summing 16-bit words, because 2^16 ≡ 1 (mod 2^16 - 1).
fn accumulate(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        // Split the 64-bit word into two 32-bit halves so the accumulator cannot overflow
        // for any packet shorter than 2^32 * 8 bytes.
        acc += w >> 32;
        acc += w & 0xffff_ffff;
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        // RFC 1071: an odd trailing byte is padded with a zero byte on its right.
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a wide sum to 16 bits with end-around carries.
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The folded one's-complement sum of `data` (zero-padded when its length is odd).
pub fn data(data: &[u8]) -> u16 {
    fold(accumulate(0, data))
}

/// The one's-complement sum of several folded sums. Every part but the last must cover an
/// even number of bytes for the result to equal the sum over their concatenation.
pub fn combine(parts: &[u16]) -> u16 {
    fold(parts.iter().map(|&p| u64::from(p)).sum())
}

/// The sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768): source, destination, zero,
/// protocol, upper-layer length.
pub fn pseudo_header_v4(src: &[u8; 4], dst: &[u8; 4], protocol: u8, length: u16) -> u16 {
    let mut acc = accumulate(0, src);
    acc = accumulate(acc, dst);
    acc += u64::from(protocol);
    acc += u64::from(length);
    fold(acc)
}

/// The sum of the IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit
/// upper-layer length, three zero bytes, next header. `src`/`dst` are the addresses the
/// checksum is computed with (the final destination when a routing header is present).
pub fn pseudo_header_v6(src: &[u8; 16], dst: &[u8; 16], next_header: u8, length: u32) -> u16 {
    let mut acc = accumulate(0, src);
    acc = accumulate(acc, dst);
    acc += u64::from(length >> 16) + u64::from(length & 0xffff);
    acc += u64::from(next_header);
    fold(acc)
}

/// The checksum field value for data whose sum (field zeroed) is `sum`.
#[inline]
pub fn finish(sum: u16) -> u16 {
    !sum
}

/// Whether a sum over the covered bytes, checksum field included, verifies.
#[inline]
pub fn verifies(sum_with_field: u16) -> bool {
    sum_with_field == 0xffff
}

/// RFC 1624 eq. 3: the checksum after a 16-bit word covered by it changed from `old` to `new`.
/// The word must lie at an even offset from the start of the covered data; for one at an odd
/// offset pass both values byte-swapped ([`update_at`] does that).
#[inline]
pub fn update(check: u16, old: u16, new: u16) -> u16 {
    let acc = u64::from(!check) + u64::from(!old) + u64::from(new);
    !fold(acc)
}

/// [`update`] for a 16-bit field at byte offset `offset` of the covered data, whatever its
/// alignment. A word at an odd offset straddles two 16-bit words of the sum: its high byte is
/// the low byte of one, its low byte the high byte of the next, so it adds in byte-swapped.
#[inline]
pub fn update_at(check: u16, offset: usize, old: u16, new: u16) -> u16 {
    if offset % 2 == 1 {
        update(check, old.swap_bytes(), new.swap_bytes())
    } else {
        update(check, old, new)
    }
}

/// [`update`] for a 32-bit field (at an even offset).
#[inline]
pub fn update_u32(check: u16, old: u32, new: u32) -> u16 {
    let acc = u64::from(!check)
        + u64::from(!(old >> 16) as u16)
        + u64::from(!(old as u16))
        + u64::from(new >> 16)
        + u64::from(new as u16);
    !fold(acc)
}

/// [`update`] for a field of any even length at an even offset (an address).
/// `old` and `new` must have the same length.
pub fn update_bytes(check: u16, old: &[u8], new: &[u8]) -> u16 {
    debug_assert_eq!(old.len(), new.len());
    // ~m summed word by word is the complement of the sum of m: the difference is a multiple
    // of 0xffff, so one complement of the folded sum is enough.
    let acc = u64::from(!check) + u64::from(!data(old)) + u64::from(data(new));
    !fold(acc)
}

/// The CRC32c (Castagnoli) table for the reflected polynomial 0x82F63B78, built at compile
/// time.
const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC32c over the chunks in order, as SCTP computes it (RFC 9260 appendix A): initial value
/// all ones, reflected, final complement. The result is the value to store in the SCTP
/// common header in *little-endian* byte order (the appendix's byte-swapping, see `sctp`).
pub fn crc32c(chunks: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for chunk in chunks {
        for &b in chunk.iter() {
            crc = CRC32C_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1071 §3's worked example: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    #[test]
    fn rfc1071_example() {
        assert_eq!(
            data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    /// The IPv4 header checksum example quoted in most textbooks (and Wikipedia's "IPv4 header
    /// checksum" article): 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7.
    #[test]
    fn ipv4_header_example() {
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(finish(data(&h)), 0xb861);
        h[10] = 0xb8;
        h[11] = 0x61;
        assert!(verifies(data(&h)));
    }

    #[test]
    fn odd_length_is_padded_right() {
        assert_eq!(data(&[0x12]), 0x1200);
        assert_eq!(data(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
    }

    #[test]
    fn long_data_matches_word_by_word_sum() {
        let bytes: Vec<u8> = (0..1001u32).map(|i| (i * 37 + 11) as u8).collect();
        let mut acc: u64 = 0;
        for w in bytes.chunks(2) {
            acc += u64::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)]));
        }
        assert_eq!(data(&bytes), fold(acc));
    }

    /// RFC 1624 §4's example: HC = 0xdd2f, m = 0x5555 → m' = 0x3285 gives HC' = 0x0000.
    #[test]
    fn rfc1624_example() {
        assert_eq!(update(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    #[test]
    fn update_matches_recompute_at_odd_offsets() {
        let mut buf: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(73) ^ 0x5a).collect();
        let check = finish(data(&buf));
        for off in [3usize, 4, 17, 38] {
            let old = u16::from_be_bytes([buf[off], buf[off + 1]]);
            let new = old ^ 0xa5c3;
            buf[off..off + 2].copy_from_slice(&new.to_be_bytes());
            assert_eq!(
                update_at(check, off, old, new),
                finish(data(&buf)),
                "offset {off}"
            );
            buf[off..off + 2].copy_from_slice(&old.to_be_bytes());
        }
    }

    /// RFC 3720 appendix B.4's CRC32c examples (iSCSI uses the same CRC): 32 bytes of zeros
    /// give 0x8a9136aa, 32 bytes of 0xff give 0x62a8ab43, 0..=31 gives 0x46dd794e.
    #[test]
    fn crc32c_rfc3720_examples() {
        assert_eq!(crc32c(&[&[0u8; 32]]), 0x8a91_36aa);
        assert_eq!(crc32c(&[&[0xffu8; 32]]), 0x62a8_ab43);
        let inc: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&[&inc[..7], &inc[7..]]), 0x46dd_794e);
    }
}
