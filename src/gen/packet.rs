//! Byte builders for the example traffic: TCP segments as Linux sends them, UDP, ICMP echo,
//! DNS A queries and answers, HTTP and TLS payloads. Checksums are left zero; the caller
//! fills them with `wire::verify::recompute` once the IP header is in front.

use std::net::Ipv4Addr;

use super::Rng;
use crate::wire::tcp::flags::{ACK, PSH, RST, SYN};

/// A TCP segment's variable fields.
pub struct Seg<'a> {
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    pub payload: &'a [u8],
}

impl<'a> Seg<'a> {
    pub fn syn(seq: u32) -> Seg<'a> {
        Seg {
            flags: SYN,
            seq,
            ack: 0,
            payload: &[],
        }
    }
    pub fn syn_ack(seq: u32, ack: u32) -> Seg<'a> {
        Seg {
            flags: SYN | ACK,
            seq,
            ack,
            payload: &[],
        }
    }
    pub fn ack(seq: u32, ack: u32, payload: &'a [u8]) -> Seg<'a> {
        Seg {
            flags: ACK,
            seq,
            ack,
            payload,
        }
    }
    pub fn data(seq: u32, ack: u32, payload: &'a [u8]) -> Seg<'a> {
        Seg {
            flags: PSH | ACK,
            seq,
            ack,
            payload,
        }
    }
    pub fn flags(flags: u8, seq: u32, ack: u32) -> Seg<'a> {
        Seg {
            flags,
            seq,
            ack,
            payload: &[],
        }
    }
}

/// A TCP header (checksum left 0): SYNs carry MSS 1460, SACK permitted and window scale 7,
/// as Linux sends them.
pub fn tcp_segment(sport: u16, dport: u16, s: &Seg<'_>) -> Vec<u8> {
    let opts: &[u8] = if s.flags & SYN != 0 {
        &[2, 4, 0x05, 0xb4, 4, 2, 1, 3, 3, 7, 1, 1] // MSS, SACK-perm, NOP, WS 7, NOP, NOP
    } else {
        &[]
    };
    let mut t = Vec::with_capacity(20 + opts.len() + s.payload.len());
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&s.seq.to_be_bytes());
    t.extend_from_slice(&s.ack.to_be_bytes());
    t.push((((20 + opts.len()) / 4) as u8) << 4);
    t.push(s.flags);
    let window: u16 = match s.flags {
        f if f & SYN != 0 => 64240,
        f if f & RST != 0 => 0,
        _ => 502,
    };
    t.extend_from_slice(&window.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(opts);
    t.extend_from_slice(s.payload);
    t
}

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::with_capacity(8 + payload.len());
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// An echo request (8) or reply (0) with ping's 56 bytes of payload.
pub fn echo(typ: u8, ident: u16, seq: u16) -> Vec<u8> {
    let mut i = vec![typ, 0, 0, 0];
    i.extend_from_slice(&ident.to_be_bytes());
    i.extend_from_slice(&seq.to_be_bytes());
    i.extend((0..56u8).map(|b| b.wrapping_add(0x10)));
    i
}

/// A DNS query for `name` type A (with `answer`: the response, TTL 30).
pub fn dns_message(id: u16, name: &str, answer: Option<Ipv4Addr>) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(if answer.is_some() {
        &[0x85, 0x00]
    } else {
        &[0x01, 0x00]
    });
    m.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let Some(a) = answer {
        m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
        m.extend_from_slice(&a.octets());
    }
    m
}

pub fn http_get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n")
        .into_bytes()
}

pub fn http_ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A TLS 1.2 application-data record of 64 opaque bytes (what an encrypted request or
/// response looks like on the wire).
pub fn tls_record(rng: &mut Rng) -> Vec<u8> {
    let mut m = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    m.extend((0..64).map(|_| rng.below(256) as u8));
    m
}
