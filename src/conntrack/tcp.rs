//! TCP tracking as nf_conntrack_proto_tcp.c does it: the `tcp_conntracks` state table,
//! the special cases of `nf_conntrack_tcp_packet` (reopening a closed tuple, ignored
//! segments that may resync the table, RST checks, simultaneous open), window tracking
//! (`tcp_in_window`, after Guido van Rooij's "Real Stateful TCP Packet Filtering") and the
//! timeout choice at the end of `nf_conntrack_tcp_packet`.
//!
//! The caller has already run `tcp_error` (header length, checksum, flag combination, see
//! [`flags_valid`]). NAT sequence adjustment (`nf_ct_seq_offset`) is always 0 here: only
//! conntrack helpers (FTP, SIP, ...) create it, and none are emulated.

use super::{Config, Dir, Status};

/// The kernel's `enum tcp_conntrack`, as `conntrack -L` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcpState {
    None,
    SynSent,
    SynRecv,
    Established,
    FinWait,
    CloseWait,
    LastAck,
    TimeWait,
    Close,
    SynSent2,
}

impl TcpState {
    const ALL: [TcpState; 10] = [
        TcpState::None,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::SynSent2,
    ];

    /// The name `conntrack -L` prints (`tcp_conntrack_names`).
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }

    /// The default timeout in seconds (`tcp_timeouts`, the `nf_conntrack_tcp_timeout_*`
    /// sysctls as read on the measured kernel).
    pub fn timeout_secs(self) -> u32 {
        match self {
            TcpState::None | TcpState::SynSent | TcpState::SynSent2 => 120,
            TcpState::SynRecv => 60,
            TcpState::Established => 432_000,
            TcpState::FinWait => 120,
            TcpState::CloseWait => 60,
            TcpState::LastAck => 30,
            TcpState::TimeWait => 120,
            TcpState::Close => 10,
        }
    }
}

/// `nf_conntrack_tcp_timeout_max_retrans` and `_unacknowledged`.
const TIMEOUT_RETRANS: u32 = 300;
pub const TIMEOUT_UNACK: u32 = 300;
/// `nf_conntrack_tcp_max_retrans`.
const MAX_RETRANS: u8 = 3;

// Per-direction flags (`IP_CT_TCP_FLAG_*`) and the extra `last_flags` bits.
const F_WINDOW_SCALE: u8 = 0x01;
const F_SACK_PERM: u8 = 0x02;
const F_CLOSE_INIT: u8 = 0x04;
const F_BE_LIBERAL: u8 = 0x08;
const F_DATA_UNACKNOWLEDGED: u8 = 0x10;
const F_MAXACK_SET: u8 = 0x20;
const F_EXP_CHALLENGE_ACK: u8 = 0x40;
const F_SIMULTANEOUS_OPEN: u8 = 0x80;

/// Which flag row of the state table a segment uses (`get_conntrack_index`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Index {
    Syn = 0,
    SynAck = 1,
    Fin = 2,
    Ack = 3,
    Rst = 4,
    None = 5,
}

// Table cells: a state number, or one of these two.
const IV: u8 = 10;
const IG: u8 = 11;
const SS: u8 = 1;
const SR: u8 = 2;
const ES: u8 = 3;
const FW: u8 = 4;
const CW: u8 = 5;
const LA: u8 = 6;
const TW: u8 = 7;
const CL: u8 = 8;
const S2: u8 = 9;

/// `tcp_conntracks[dir][index][old state]`.
#[rustfmt::skip]
const TABLE: [[[u8; 10]; 6]; 2] = [
    [
        // ORIGINAL      NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */   [ SS, SS, IG, IG, IG, IG, IG, SS, SS, S2 ],
        /* synack */   [ IV, IV, SR, IV, IV, IV, IV, IV, IV, SR ],
        /* fin    */   [ IV, IV, FW, FW, LA, LA, LA, TW, CL, IV ],
        /* ack    */   [ ES, IV, ES, ES, CW, CW, TW, TW, CL, IV ],
        /* rst    */   [ IV, CL, CL, CL, CL, CL, CL, CL, CL, CL ],
        /* none   */   [ IV, IV, IV, IV, IV, IV, IV, IV, IV, IV ],
    ],
    [
        // REPLY         NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */   [ IV, S2, IV, IV, IV, IV, IV, SS, IV, S2 ],
        /* synack */   [ IV, SR, IG, IG, IG, IG, IG, IG, IG, SR ],
        /* fin    */   [ IV, IV, FW, FW, LA, LA, LA, TW, CL, IV ],
        /* ack    */   [ IV, IG, SR, ES, CW, CW, TW, TW, CL, IG ],
        /* rst    */   [ IV, CL, CL, CL, CL, CL, CL, CL, CL, CL ],
        /* none   */   [ IV, IV, IV, IV, IV, IV, IV, IV, IV, IV ],
    ],
];

/// What the tracker needs of one segment.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    /// Payload bytes (IP length minus IP and TCP headers).
    pub payload_len: u32,
    /// The option bytes (TCP header past its first 20 bytes).
    pub options: &'a [u8],
}

impl Segment<'_> {
    fn syn(&self) -> bool {
        self.flags & 0x02 != 0
    }
    fn fin(&self) -> bool {
        self.flags & 0x01 != 0
    }
    fn rst(&self) -> bool {
        self.flags & 0x04 != 0
    }
    fn ack_set(&self) -> bool {
        self.flags & 0x10 != 0
    }

    fn index(&self) -> Index {
        if self.rst() {
            Index::Rst
        } else if self.syn() {
            if self.ack_set() {
                Index::SynAck
            } else {
                Index::Syn
            }
        } else if self.fin() {
            Index::Fin
        } else if self.ack_set() {
            Index::Ack
        } else {
            Index::None
        }
    }

    /// `segment_seq_plus_len`: the sequence number after this segment.
    fn end(&self) -> u32 {
        self.seq
            .wrapping_add(self.payload_len)
            .wrapping_add(u32::from(self.syn()))
            .wrapping_add(u32::from(self.fin()))
    }
}

/// `tcp_valid_flags`: the flag combinations `tcp_error` accepts (PSH, ECE and CWR aside).
pub fn flags_valid(flags: u8) -> bool {
    const FIN: u8 = 0x01;
    const SYN: u8 = 0x02;
    const RST: u8 = 0x04;
    const ACK: u8 = 0x10;
    const URG: u8 = 0x20;
    let f = flags & !(0x08 | 0x40 | 0x80);
    [
        SYN,
        SYN | URG,
        SYN | ACK,
        RST,
        RST | ACK,
        FIN | ACK,
        FIN | ACK | URG,
        ACK,
        ACK | URG,
    ]
    .contains(&f)
}

/// One direction's window data (`struct ip_ct_tcp_state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Peer {
    td_end: u32,
    td_maxend: u32,
    td_maxwin: u32,
    td_maxack: u32,
    td_scale: u8,
    flags: u8,
}

/// A connection's TCP tracking state (`struct ip_ct_tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpTrack {
    pub state: TcpState,
    seen: [Peer; 2],
    last_dir: Dir,
    last_index: Index,
    last_seq: u32,
    last_ack: u32,
    last_end: u32,
    last_win: u16,
    last_wscale: u8,
    last_flags: u8,
    retrans: u8,
}

/// The outcome of one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted: refresh the timeout to `timeout` seconds (None: leave it, a SYN
    /// retransmission) and count the packet; `kill` ends the connection (RST before any
    /// reply); `assured` sets ASSURED.
    Accept {
        timeout: Option<u32>,
        kill: bool,
        assured: bool,
    },
    /// Let through with the connection attached, but nothing updated (NF_ACCEPT without
    /// `nf_ct_refresh_acct`).
    Ignore,
    /// INVALID (the kernel's `-NF_ACCEPT`). `shorten`: an out-of-window FIN/RST answering
    /// the peer's FIN/RST on an assured connection: the caller cuts a timeout of 120 s or
    /// more down to 300 s (`nf_tcp_handle_invalid`).
    Invalid { reason: &'static str, shorten: bool },
    /// A SYN reopening a closed connection: kill it and look up again (`-NF_REPEAT`).
    Reopen,
}

fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn after(a: u32, b: u32) -> bool {
    before(b, a)
}

/// `tcp_options`: window scale and SACK-permitted of a SYN.
fn read_options(options: &[u8], peer: &mut Peer) {
    if options.is_empty() {
        return;
    }
    peer.td_scale = 0;
    peer.flags &= F_BE_LIBERAL;
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            0 => return,
            1 => i += 1,
            kind => {
                let Some(&size) = options.get(i + 1) else {
                    return;
                };
                let size = usize::from(size);
                if size < 2 || i + size > options.len() {
                    return;
                }
                if kind == 4 && size == 2 {
                    peer.flags |= F_SACK_PERM;
                } else if kind == 3 && size == 3 {
                    peer.td_scale = options[i + 2].min(14);
                    peer.flags |= F_WINDOW_SCALE;
                }
                i += size;
            }
        }
    }
}

/// `tcp_sack`: the highest right edge of the SACK blocks, if above `sack`.
fn read_sack(options: &[u8], sack: &mut u32) {
    // The timestamp-only layout (NOP NOP TS) has no SACK: the kernel's fast path.
    if options.len() == 12 && options[..4] == [1, 1, 8, 10] {
        return;
    }
    let mut i = 0;
    while i < options.len() {
        match options[i] {
            0 => return,
            1 => i += 1,
            kind => {
                let Some(&size) = options.get(i + 1) else {
                    return;
                };
                let size = usize::from(size);
                if size < 2 || i + size > options.len() {
                    return;
                }
                if kind == 5 && size >= 10 && (size - 2) % 8 == 0 {
                    for block in options[i + 2..i + size].chunks_exact(8) {
                        let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                        if after(right, *sack) {
                            *sack = right;
                        }
                    }
                    return;
                }
                i += size;
            }
        }
    }
}

fn state_of(n: u8) -> TcpState {
    TcpState::ALL[usize::from(n.min(9))]
}

impl TcpTrack {
    /// `tcp_new`: the state of a connection created by its first segment, or why it cannot
    /// start one.
    pub fn new(seg: &Segment, config: &Config) -> Result<TcpTrack, &'static str> {
        let first = TABLE[0][seg.index() as usize][0];
        if first >= IV {
            return Err("TCP segment cannot start a connection");
        }
        let mut track = TcpTrack {
            state: TcpState::None,
            seen: [Peer::default(); 2],
            last_dir: Dir::Original,
            last_index: Index::None,
            last_seq: 0,
            last_ack: 0,
            last_end: 0,
            last_win: 0,
            last_wscale: 0,
            last_flags: 0,
            retrans: 0,
        };
        let sender = &mut track.seen[0];
        sender.td_end = seg.end();
        sender.td_maxwin = u32::from(seg.window).max(1);
        if first == SS {
            sender.td_maxend = sender.td_end;
            read_options(seg.options, sender);
        } else if !config.tcp_loose {
            return Err("mid-stream TCP segment and tcp_loose is 0");
        } else {
            sender.td_maxend = sender.td_end.wrapping_add(sender.td_maxwin);
            // Picked up mid-stream: SACK assumed, windows checked liberally.
            track.seen[0].flags = F_SACK_PERM | F_BE_LIBERAL;
            track.seen[1].flags = F_SACK_PERM | F_BE_LIBERAL;
        }
        Ok(track)
    }

    /// Whether the connection is fully established (`nf_conntrack_tcp_established`).
    fn established(&self, status: Status) -> bool {
        self.state == TcpState::Established && status.has(Status::ASSURED)
    }

    /// `nf_conntrack_tcp_packet` from the state-table lookup on.
    pub fn packet(&mut self, seg: &Segment, dir: Dir, status: Status, config: &Config) -> Verdict {
        let d = dir.index();
        let index = seg.index();
        let old = self.state;
        let mut new = TABLE[d][index as usize][old as usize];
        let mut skip_window = false;

        if new == SS && old as u8 >= TW {
            let flags = self.seen[0].flags | self.seen[1].flags;
            if flags & F_CLOSE_INIT != 0 || (self.last_dir == dir && self.last_index == Index::Rst)
            {
                return Verdict::Reopen;
            }
            new = IG;
        }
        match new {
            IG => {
                if index == Index::SynAck
                    && self.last_index == Index::Syn
                    && self.last_dir != dir
                    && seg.ack == self.last_end
                {
                    // The SYN/ACK answers a SYN we ignored: both ends are in sync and we
                    // were not. Resync from the SYN's annotations.
                    new = SR;
                    let l = self.last_dir.index();
                    self.seen[l].td_end = self.last_end;
                    self.seen[l].td_maxend = self.last_end;
                    self.seen[l].td_maxwin = u32::from(self.last_win).max(1);
                    self.seen[l].td_scale = self.last_wscale;
                    self.last_flags &= !F_EXP_CHALLENGE_ACK;
                    self.seen[l].flags = self.last_flags;
                    let liberal = self.seen[d].flags & F_BE_LIBERAL;
                    self.seen[d] = Peer {
                        flags: liberal,
                        ..Peer::default()
                    };
                } else {
                    self.note_ignored(seg, dir, index, old);
                    return Verdict::Ignore;
                }
            }
            IV => {
                return Verdict::Invalid {
                    reason: "TCP segment invalid in this state",
                    shorten: false,
                }
            }
            // RFC 5961 challenge ACK: not the ACK of the last FIN.
            TW if old == TcpState::LastAck
                && index == Index::Ack
                && self.last_dir != dir
                && self.last_index == Index::Syn
                && self.last_flags & F_EXP_CHALLENGE_ACK != 0 =>
            {
                self.last_flags &= !F_EXP_CHALLENGE_ACK;
                return Verdict::Ignore;
            }
            S2 => self.last_flags |= F_SIMULTANEOUS_OPEN,
            SR if dir == Dir::Reply
                && index == Index::Ack
                && self.last_flags & F_SIMULTANEOUS_OPEN != 0 =>
            {
                new = ES;
            }
            CL if index == Index::Rst => match self.rst_check(seg, dir, status, old) {
                RstCheck::Invalid => {
                    return Verdict::Invalid {
                        reason: "RST out of sequence",
                        shorten: false,
                    }
                }
                RstCheck::KeepState => new = old as u8,
                RstCheck::SkipWindow => skip_window = true,
                RstCheck::Window => {}
            },
            _ => {}
        }

        if !skip_window {
            match self.in_window(seg, dir, index, config) {
                Window::Accept => {}
                Window::Ignore => return Verdict::Ignore,
                Window::Invalid(reason) => {
                    let shorten = self.note_invalid(dir, index, status);
                    return Verdict::Invalid { reason, shorten };
                }
            }
        }

        self.last_index = index;
        self.last_dir = dir;
        let new_state = state_of(new);
        self.state = new_state;
        if old != new_state && new_state == TcpState::FinWait {
            self.seen[d].flags |= F_CLOSE_INIT;
        }

        let per_state = new_state.timeout_secs();
        let mut timeout = if self.retrans >= MAX_RETRANS && per_state > TIMEOUT_RETRANS {
            TIMEOUT_RETRANS
        } else if index == Index::Rst {
            TcpState::Close.timeout_secs()
        } else if (self.seen[0].flags | self.seen[1].flags) & F_DATA_UNACKNOWLEDGED != 0
            && per_state > TIMEOUT_UNACK
        {
            TIMEOUT_UNACK
        } else if self.last_win == 0 && per_state > TIMEOUT_RETRANS {
            TIMEOUT_RETRANS
        } else {
            per_state
        };

        if !status.has(Status::SEEN_REPLY) {
            if seg.rst() {
                return Verdict::Accept {
                    timeout: Some(timeout),
                    kill: true,
                    assured: false,
                };
            }
            if index == Index::Syn && old == TcpState::SynSent {
                // A SYN retransmission does not renew the timeout.
                return Verdict::Accept {
                    timeout: None,
                    kill: false,
                    assured: false,
                };
            }
            if new_state == TcpState::Established && timeout > TIMEOUT_UNACK {
                timeout = TIMEOUT_UNACK;
            }
            return Verdict::Accept {
                timeout: Some(timeout),
                kill: false,
                assured: false,
            };
        }
        let assured = !status.has(Status::ASSURED)
            && matches!(old, TcpState::SynRecv | TcpState::Established)
            && new_state == TcpState::Established;
        Verdict::Accept {
            timeout: Some(timeout),
            kill: false,
            assured,
        }
    }

    /// Annotations of an ignored segment, for a later resync or RST check.
    fn note_ignored(&mut self, seg: &Segment, dir: Dir, index: Index, old: TcpState) {
        self.last_index = index;
        self.last_dir = dir;
        self.last_seq = seg.seq;
        self.last_end = seg.end();
        self.last_win = seg.window;
        if index == Index::Syn && dir == Dir::Original {
            let mut seen = Peer::default();
            read_options(seg.options, &mut seen);
            self.last_flags = 0;
            self.last_wscale = 0;
            if seen.flags & F_WINDOW_SCALE != 0 {
                self.last_flags |= F_WINDOW_SCALE;
                self.last_wscale = seen.td_scale;
            }
            if seen.flags & F_SACK_PERM != 0 {
                self.last_flags |= F_SACK_PERM;
            }
            if old == TcpState::LastAck {
                self.last_flags |= F_EXP_CHALLENGE_ACK;
            }
        }
        if old == TcpState::SynSent && index == Index::Ack && dir == Dir::Reply {
            self.last_ack = seg.ack;
        }
    }

    /// `nf_tcp_handle_invalid`: whether the timeout is to be shortened (the caller does it,
    /// it owns the deadline).
    fn note_invalid(&mut self, dir: Dir, index: Index, status: Status) -> bool {
        if !status.has(Status::ASSURED) || !matches!(index, Index::Rst | Index::Fin) {
            return false;
        }
        if self.last_dir != dir && matches!(self.last_index, Index::Fin | Index::Rst) {
            return true;
        }
        self.last_index = index;
        self.last_dir = dir;
        false
    }

    /// The RST checks of the `TCP_CONNTRACK_CLOSE` case.
    fn rst_check(&self, seg: &Segment, dir: Dir, status: Status, old: TcpState) -> RstCheck {
        if matches!(
            old,
            TcpState::FinWait
                | TcpState::LastAck
                | TcpState::TimeWait
                | TcpState::Close
                | TcpState::CloseWait
        ) {
            return RstCheck::SkipWindow;
        }
        let other = &self.seen[dir.opposite().index()];
        let mut keep = false;
        if other.flags & F_MAXACK_SET != 0 && self.last_index != Index::Syn {
            let established = self.established(status);
            if seg.seq != 0 || established {
                if before(seg.seq, other.td_maxack) {
                    return RstCheck::Invalid;
                }
                if established && seg.seq != other.td_maxack {
                    let in_train = self.last_index == Index::Ack
                        && self.last_dir == dir
                        && seg.seq == self.last_end;
                    keep = !in_train;
                }
            }
        }
        if ((status.has(Status::SEEN_REPLY) && self.last_index == Index::Syn)
            || (!status.has(Status::ASSURED) && self.last_index == Index::Ack))
            && seg.ack == self.last_end
        {
            return RstCheck::SkipWindow;
        }
        if old == TcpState::SynSent
            && self.last_index == Index::Ack
            && self.last_dir == Dir::Reply
            && seg.seq == self.last_ack
        {
            return RstCheck::SkipWindow;
        }
        if keep {
            RstCheck::KeepState
        } else {
            RstCheck::Window
        }
    }

    /// `tcp_init_sender`: a SYN or SYN/ACK (re)starts this direction's window data.
    fn init_sender(&mut self, seg: &Segment, dir: Dir) {
        let d = dir.index();
        let end = seg.end();
        let sender = &mut self.seen[d];
        sender.td_end = end;
        sender.td_maxend = end;
        sender.td_maxwin = u32::from(seg.window).max(1);
        read_options(seg.options, sender);
        let both_scale =
            self.seen[0].flags & F_WINDOW_SCALE != 0 && self.seen[1].flags & F_WINDOW_SCALE != 0;
        if dir == Dir::Reply && !both_scale {
            self.seen[0].td_scale = 0;
            self.seen[1].td_scale = 0;
        }
    }

    /// `tcp_in_window`.
    fn in_window(&mut self, seg: &Segment, dir: Dir, index: Index, config: &Config) -> Window {
        let d = dir.index();
        let r = 1 - d;
        let seq0 = seg.seq;
        let mut seq = seq0;
        let mut ack = seg.ack;
        let mut sack = seg.ack;
        let win_raw = seg.window;
        let mut win = u32::from(win_raw);
        let mut end = seg.end();

        if self.seen[r].flags & F_SACK_PERM != 0 {
            read_sack(seg.options, &mut sack);
        }

        if self.seen[d].td_maxwin == 0 {
            if seg.syn() {
                self.init_sender(seg, dir);
                if !seg.ack_set() {
                    // Simultaneous open.
                    return Window::Accept;
                }
            } else {
                // Mid-connection: history lost, learn from this segment.
                let swin = win << self.seen[d].td_scale;
                let sender = &mut self.seen[d];
                sender.td_end = end;
                sender.td_maxwin = swin.max(1);
                sender.td_maxend = end.wrapping_add(sender.td_maxwin);
                let receiver = &mut self.seen[r];
                if receiver.td_maxwin == 0 {
                    receiver.td_end = sack;
                    receiver.td_maxend = sack;
                } else if sack == receiver.td_end.wrapping_add(1) {
                    // Likely a reply to a keepalive.
                    receiver.td_end = receiver.td_end.wrapping_add(1);
                }
            }
        } else if seg.syn()
            && after(end, self.seen[d].td_end)
            && matches!(self.state, TcpState::SynSent | TcpState::SynRecv)
        {
            // RFC 793: a reinitialised TCP may reuse the tuple with higher sequence numbers.
            self.init_sender(seg, dir);
            if dir == Dir::Reply && !seg.ack_set() {
                return Window::Accept;
            }
        }

        if !seg.ack_set() {
            ack = self.seen[r].td_end;
            sack = ack;
        } else if seg.rst() && seg.ack == 0 {
            // Broken stacks send RST|ACK with ack 0.
            ack = self.seen[r].td_end;
            sack = ack;
        }

        if seg.rst() && seq0 == 0 && self.state == TcpState::SynSent {
            // RST answering a SYN.
            seq = self.seen[d].td_end;
            end = seq;
        }

        let liberal = self.seen[d].flags & F_BE_LIBERAL != 0 || config.tcp_be_liberal;
        let sender = self.seen[d];
        let receiver = self.seen[r];
        let maxackwin = sender.td_maxwin.max(66_000);

        // Each failed check returns at once; a liberal sender turns the failure into an
        // accept without updating anything (nf_tcp_log_invalid's NFCT_TCP_ACCEPT).
        let fail = |w: Window| if liberal { Window::Accept } else { w };
        if !before(seq, sender.td_maxend.wrapping_add(1)) {
            let overshot = end.wrapping_sub(sender.td_maxend).wrapping_add(1);
            let ack_ok = after(
                sack,
                receiver.td_end.wrapping_sub(maxackwin).wrapping_sub(1),
            );
            let in_recv_win = receiver.td_maxwin != 0
                && after(
                    end,
                    sender
                        .td_end
                        .wrapping_sub(receiver.td_maxwin)
                        .wrapping_sub(1),
                );
            if in_recv_win
                && ack_ok
                && overshot <= receiver.td_maxwin
                && before(sack, receiver.td_end.wrapping_add(1))
            {
                // More bytes than the window allows: remember them so the peer's ACK of
                // them is not over the upper bound later.
                self.seen[d].td_end = end;
                self.seen[d].flags |= F_DATA_UNACKNOWLEDGED;
                return fail(Window::Ignore);
            }
            return fail(Window::Invalid(
                "SEQ is over the upper bound (over the window of the receiver)",
            ));
        }
        if !before(sack, receiver.td_end.wrapping_add(1)) {
            return fail(Window::Invalid(
                "ACK is over the upper bound (ACKed data not seen yet)",
            ));
        }
        let in_recv_win = receiver.td_maxwin == 0
            || after(
                end,
                sender
                    .td_end
                    .wrapping_sub(receiver.td_maxwin)
                    .wrapping_sub(1),
            );
        if !in_recv_win {
            return fail(Window::Ignore);
        }
        if !after(
            sack,
            receiver.td_end.wrapping_sub(maxackwin).wrapping_sub(1),
        ) {
            return fail(Window::Ignore);
        }
        self.update_window(seg, dir, index, seq, ack, sack, end, win_raw, &mut win);
        Window::Accept
    }

    /// The "update sender/receiver data" tail of `tcp_in_window`.
    #[allow(clippy::too_many_arguments)]
    fn update_window(
        &mut self,
        seg: &Segment,
        dir: Dir,
        index: Index,
        seq: u32,
        ack: u32,
        sack: u32,
        end: u32,
        win_raw: u16,
        win: &mut u32,
    ) {
        let d = dir.index();
        let r = 1 - d;
        if !seg.syn() {
            *win <<= self.seen[d].td_scale;
        }
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        {
            let sender = &mut self.seen[d];
            if sender.td_maxwin < swin {
                sender.td_maxwin = swin;
            }
            if after(end, sender.td_end) {
                sender.td_end = end;
                sender.flags |= F_DATA_UNACKNOWLEDGED;
            }
            if seg.ack_set() {
                if sender.flags & F_MAXACK_SET == 0 {
                    sender.td_maxack = ack;
                    sender.flags |= F_MAXACK_SET;
                } else if after(ack, sender.td_maxack) {
                    sender.td_maxack = ack;
                }
            }
        }
        let sender_maxend = self.seen[d].td_maxend;
        let receiver = &mut self.seen[r];
        if receiver.td_maxwin != 0 && after(end, sender_maxend) {
            receiver.td_maxwin = receiver
                .td_maxwin
                .wrapping_add(end.wrapping_sub(sender_maxend));
        }
        if after(sack.wrapping_add(*win), receiver.td_maxend.wrapping_sub(1)) {
            receiver.td_maxend = sack.wrapping_add(*win);
            if *win == 0 {
                receiver.td_maxend = receiver.td_maxend.wrapping_add(1);
            }
        }
        if ack == receiver.td_end {
            receiver.flags &= !F_DATA_UNACKNOWLEDGED;
        }
        if index == Index::Ack {
            if self.last_dir == dir
                && self.last_seq == seq
                && self.last_ack == ack
                && self.last_end == end
                && self.last_win == win_raw
            {
                self.retrans = self.retrans.saturating_add(1);
            } else {
                self.last_dir = dir;
                self.last_seq = seq;
                self.last_ack = ack;
                self.last_end = end;
                self.last_win = win_raw;
                self.retrans = 0;
            }
        }
    }
}

enum RstCheck {
    Invalid,
    KeepState,
    SkipWindow,
    Window,
}

enum Window {
    Accept,
    Ignore,
    Invalid(&'static str),
}
