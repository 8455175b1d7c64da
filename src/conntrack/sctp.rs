//! SCTP tracking as nf_conntrack_proto_sctp.c does it in the measured kernel (the nine-state
//! table without HEARTBEAT_ACKED): chunk sanity (`do_basic_checks`), the out-of-the-blue
//! rules for a first packet (`sctp_new`), verification-tag checks (RFC 9260 §8.5), the
//! per-chunk state table and the per-state timeouts.

use super::{Dir, Status};

/// The kernel's `enum sctp_conntrack`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SctpState {
    None,
    Closed,
    CookieWait,
    CookieEchoed,
    Established,
    ShutdownSent,
    ShutdownRecd,
    ShutdownAckSent,
    HeartbeatSent,
}

impl SctpState {
    const ALL: [SctpState; 9] = [
        SctpState::None,
        SctpState::Closed,
        SctpState::CookieWait,
        SctpState::CookieEchoed,
        SctpState::Established,
        SctpState::ShutdownSent,
        SctpState::ShutdownRecd,
        SctpState::ShutdownAckSent,
        SctpState::HeartbeatSent,
    ];

    /// The name `conntrack -L` prints.
    pub fn name(self) -> &'static str {
        match self {
            SctpState::None => "NONE",
            SctpState::Closed => "CLOSED",
            SctpState::CookieWait => "COOKIE_WAIT",
            SctpState::CookieEchoed => "COOKIE_ECHOED",
            SctpState::Established => "ESTABLISHED",
            SctpState::ShutdownSent => "SHUTDOWN_SENT",
            SctpState::ShutdownRecd => "SHUTDOWN_RECD",
            SctpState::ShutdownAckSent => "SHUTDOWN_ACK_SENT",
            SctpState::HeartbeatSent => "HEARTBEAT_SENT",
        }
    }

    /// Timeouts in seconds (`nf_conntrack_sctp_timeout_*` as read on the measured kernel;
    /// NONE uses CLOSED's, as `timeouts[0]` does).
    pub fn timeout_secs(self) -> u32 {
        match self {
            SctpState::None | SctpState::Closed => 10,
            SctpState::CookieWait
            | SctpState::CookieEchoed
            | SctpState::ShutdownSent
            | SctpState::ShutdownRecd
            | SctpState::ShutdownAckSent => 3,
            SctpState::Established => 210,
            SctpState::HeartbeatSent => 30,
        }
    }
}

// Chunk types (RFC 9260 §3.2).
const DATA: u8 = 0;
const INIT: u8 = 1;
const INIT_ACK: u8 = 2;
const HEARTBEAT: u8 = 4;
const HEARTBEAT_ACK: u8 = 5;
const ABORT: u8 = 6;
const SHUTDOWN: u8 = 7;
const SHUTDOWN_ACK: u8 = 8;
const ERROR: u8 = 9;
const COOKIE_ECHO: u8 = 10;
const COOKIE_ACK: u8 = 11;
const SHUTDOWN_COMPLETE: u8 = 14;
/// The T bit of ABORT and SHUTDOWN COMPLETE: the tag is the peer's.
const FLAG_T: u8 = 0x01;
const HEARTBEAT_VTAG_FAILED: u8 = 1;

const IV: u8 = 9;
const NO: u8 = 0;
const CL: u8 = 1;
const CW: u8 = 2;
const CE: u8 = 3;
const ES: u8 = 4;
const SS: u8 = 5;
const SR: u8 = 6;
const SA: u8 = 7;
const HS: u8 = 8;

/// `sctp_conntracks[dir][chunk row][state]`.
#[rustfmt::skip]
const TABLE: [[[u8; 9]; 11]; 2] = [
    [
        //                 NO  CL  CW  CE  ES  SS  SR  SA  HS
        /* init         */ [CL, CL, CW, CE, ES, CL, CL, SA, CW],
        /* init_ack     */ [CL, CL, CW, CE, ES, SS, SR, SA, CL],
        /* abort        */ [CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* shutdown     */ [CL, CL, CW, CE, SS, SS, SR, SA, CL],
        /* shutdown_ack */ [SA, CL, CW, CE, ES, SA, SA, SA, SA],
        /* error        */ [CL, CL, CW, CE, ES, SS, SR, SA, CL],
        /* cookie_echo  */ [CL, CL, CE, CE, ES, SS, SR, SA, CL],
        /* cookie_ack   */ [CL, CL, CW, ES, ES, SS, SR, SA, CL],
        /* shutdown_comp*/ [CL, CL, CW, CE, ES, SS, SR, CL, CL],
        /* heartbeat    */ [HS, CL, CW, CE, ES, SS, SR, SA, HS],
        /* heartbeat_ack*/ [CL, CL, CW, CE, ES, SS, SR, SA, HS],
    ],
    [
        //                 NO  CL  CW  CE  ES  SS  SR  SA  HS
        /* init         */ [IV, CL, CW, CE, ES, SS, SR, SA, IV],
        /* init_ack     */ [IV, CW, CW, CE, ES, SS, SR, SA, IV],
        /* abort        */ [IV, CL, CL, CL, CL, CL, CL, CL, IV],
        /* shutdown     */ [IV, CL, CW, CE, SR, SS, SR, SA, IV],
        /* shutdown_ack */ [IV, CL, CW, CE, ES, SA, SA, SA, IV],
        /* error        */ [IV, CL, CW, CL, ES, SS, SR, SA, IV],
        /* cookie_echo  */ [IV, CL, CE, CE, ES, SS, SR, SA, IV],
        /* cookie_ack   */ [IV, CL, CW, ES, ES, SS, SR, SA, IV],
        /* shutdown_comp*/ [IV, CL, CW, CE, ES, SS, SR, CL, IV],
        /* heartbeat    */ [IV, CL, CW, CE, ES, SS, SR, SA, HS],
        /* heartbeat_ack*/ [IV, CL, CW, CE, ES, SS, SR, SA, ES],
    ],
];

/// `sctp_new_state`: chunks outside the table (DATA, SACK, ...) keep the state.
fn next(dir: Dir, cur: SctpState, chunk: u8) -> u8 {
    let row = match chunk {
        INIT => 0,
        INIT_ACK => 1,
        ABORT => 2,
        SHUTDOWN => 3,
        SHUTDOWN_ACK => 4,
        ERROR => 5,
        COOKIE_ECHO => 6,
        COOKIE_ACK => 7,
        SHUTDOWN_COMPLETE => 8,
        HEARTBEAT => 9,
        HEARTBEAT_ACK => 10,
        _ => return cur as u8,
    };
    TABLE[dir.index()][row][cur as usize]
}

/// One chunk header and where its value starts.
#[derive(Clone, Copy, Debug)]
struct Chunk {
    kind: u8,
    flags: u8,
    /// Offset of the chunk within the SCTP packet.
    at: usize,
}

/// The chunks of an SCTP packet (`for_each_sctp_chunk` with `do_basic_checks`), or `None`
/// when the kernel finds them malformed.
fn chunks(sctp: &[u8]) -> Option<(Vec<Chunk>, [bool; 256])> {
    let mut out = Vec::new();
    let mut map = [false; 256];
    let mut at = 12;
    let mut exclusive = false;
    while at < sctp.len() {
        let Some(h) = sctp.get(at..at + 4) else { break };
        let (kind, flags, len) = (h[0], h[1], u16::from_be_bytes([h[2], h[3]]));
        if matches!(kind, INIT | INIT_ACK | SHUTDOWN_COMPLETE) {
            exclusive = true;
        }
        // COOKIE ECHO/ACK must come first; INIT, INIT ACK, SHUTDOWN COMPLETE alone.
        let must_be_first = matches!(kind, COOKIE_ACK | COOKIE_ECHO) || exclusive;
        if (must_be_first && !out.is_empty()) || len == 0 {
            return None;
        }
        map[usize::from(kind)] = true;
        out.push(Chunk { kind, flags, at });
        at += (usize::from(len) + 3) & !3;
    }
    (!out.is_empty()).then_some((out, map))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}

/// A connection's SCTP state (`struct ip_ct_sctp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SctpTrack {
    pub state: SctpState,
    vtag: [u32; 2],
    init: [bool; 2],
    last_dir: Dir,
    flags: u8,
}

/// The outcome of one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Refresh the timeout to `timeout` seconds and count.
    Accept {
        timeout: u32,
    },
    /// Let through, nothing refreshed (an INIT retransmission, a heartbeat with a new tag).
    Ignore,
    Invalid(&'static str),
}

impl SctpTrack {
    /// `sctp_new` for the first packet (`sctp` = the SCTP header and chunks).
    pub fn new(sctp: &[u8]) -> Result<SctpTrack, &'static str> {
        let (list, map) = chunks(sctp).ok_or("malformed SCTP chunks")?;
        if map[usize::from(ABORT)]
            || map[usize::from(SHUTDOWN_COMPLETE)]
            || map[usize::from(COOKIE_ACK)]
        {
            return Err("out-of-the-blue ABORT, SHUTDOWN COMPLETE or COOKIE ACK");
        }
        let vtag = be32(sctp, 4).ok_or("short SCTP header")?;
        let mut track = SctpTrack {
            state: SctpState::None,
            vtag: [0; 2],
            init: [false; 2],
            last_dir: Dir::Original,
            flags: 0,
        };
        for c in &list {
            let n = next(Dir::Original, SctpState::None, c.kind);
            if n == NO || n == IV {
                return Err("SCTP chunk cannot start an association");
            }
            match c.kind {
                INIT => {
                    if vtag != 0 {
                        return Err("INIT with a non-zero verification tag");
                    }
                    track.vtag[1] = be32(sctp, c.at + 4).ok_or("short INIT chunk")?;
                }
                HEARTBEAT => track.vtag[0] = vtag,
                SHUTDOWN_ACK => track.vtag[1] = vtag,
                _ => {}
            }
        }
        Ok(track)
    }

    /// `nf_conntrack_sctp_packet` after `sctp_new`. Reaching ESTABLISHED sets ASSURED in
    /// `status` at once (it stays set even if a later chunk makes the packet INVALID, as
    /// in the kernel).
    pub fn packet(&mut self, sctp: &[u8], dir: Dir, status: &mut Status) -> Verdict {
        let confirmed = status.has(Status::CONFIRMED);
        let invalid = Verdict::Invalid;
        let Some((list, map)) = chunks(sctp) else {
            return invalid("malformed SCTP chunks");
        };
        let Some(vtag) = be32(sctp, 4) else {
            return invalid("short SCTP header");
        };
        let d = dir.index();
        let has = |k: u8| map[usize::from(k)];
        let tag_exempt = [
            INIT,
            SHUTDOWN_COMPLETE,
            COOKIE_ECHO,
            ABORT,
            SHUTDOWN_ACK,
            HEARTBEAT,
            HEARTBEAT_ACK,
        ];
        if !tag_exempt.iter().any(|&k| has(k)) && vtag != self.vtag[d] {
            return invalid("SCTP verification tag mismatch");
        }
        let mut ignore = false;
        let mut new = SctpState::None;
        for c in &list {
            let own = vtag == self.vtag[d];
            let peer = vtag == self.vtag[1 - d];
            match c.kind {
                INIT if vtag != 0 => return invalid("INIT with a non-zero verification tag"),
                ABORT | SHUTDOWN_COMPLETE => {
                    let ok = if c.flags & FLAG_T == 0 { own } else { peer };
                    if !ok {
                        return invalid("SCTP verification tag mismatch (8.5.1)");
                    }
                }
                COOKIE_ECHO if !own => return invalid("COOKIE ECHO with a wrong tag"),
                COOKIE_ACK => self.init = [false; 2],
                HEARTBEAT | HEARTBEAT_ACK => {
                    if self.vtag[d] == 0 {
                        self.vtag[d] = vtag;
                    } else if !own {
                        if has(DATA) || ignore {
                            return invalid("SCTP heartbeat with a new tag and data");
                        }
                        if c.kind == HEARTBEAT {
                            self.flags |= HEARTBEAT_VTAG_FAILED;
                            self.last_dir = dir;
                            ignore = true;
                            continue;
                        }
                        if self.flags & HEARTBEAT_VTAG_FAILED == 0 || self.last_dir == dir {
                            return invalid("SCTP heartbeat ack with a new tag");
                        }
                        self.flags &= !HEARTBEAT_VTAG_FAILED;
                        self.vtag[d] = vtag;
                        self.vtag[1 - d] = 0;
                    } else {
                        self.flags &= !HEARTBEAT_VTAG_FAILED;
                    }
                }
                _ => {}
            }
            let old = self.state;
            let n = next(dir, old, c.kind);
            if n == IV {
                return invalid("SCTP chunk invalid in this state");
            }
            new = SctpState::ALL[usize::from(n)];
            match c.kind {
                INIT => {
                    let Some(tag) = be32(sctp, c.at + 4) else {
                        return invalid("short INIT chunk");
                    };
                    if self.init[d] && self.init[1 - d] {
                        self.init[1 - d] = false;
                    }
                    self.init[d] = true;
                    self.vtag[1 - d] = tag;
                    // An INIT retransmission does not renew the timeout.
                    if new == SctpState::Closed && old == SctpState::Closed && confirmed {
                        ignore = true;
                    }
                }
                INIT_ACK => {
                    let Some(tag) = be32(sctp, c.at + 4) else {
                        return invalid("short INIT ACK chunk");
                    };
                    let known = self.vtag[1 - d];
                    if !self.init[1 - d] && known != 0 && known != tag {
                        return invalid("INIT ACK with an unexpected tag");
                    }
                    if self.init[d] && self.init[1 - d] && known != tag {
                        return invalid("INIT collision");
                    }
                    self.vtag[1 - d] = tag;
                }
                _ => {}
            }
            self.state = new;
            if old != new && new == SctpState::Established {
                status.set(Status::ASSURED);
            }
        }
        if ignore {
            return Verdict::Ignore;
        }
        Verdict::Accept {
            timeout: new.timeout_secs(),
        }
    }
}
