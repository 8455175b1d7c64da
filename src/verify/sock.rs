//! Sockets inside a lab's namespaces, with libc: a thread enters the namespace (setns(2) on
//! `/var/run/netns/NAME`), opens the socket and ends; the socket stays bound to that namespace
//! and works from any thread.
//!
//! - [`PacketSocket`]: AF_PACKET/SOCK_RAW/ETH_P_ALL bound to one interface: sends whole
//!   Ethernet frames out of it and receives every frame that arrives on it;
//! - [`RawSocket`]: AF_INET(6)/SOCK_RAW/IPPROTO_RAW (header included, `IP_HDRINCL` /
//!   `IPV6_HDRINCL`): a locally generated packet that takes raw/mangle/nat/filter OUTPUT;
//! - [`DevCounters`]: `/proc/net/dev` of a namespace, opened once inside it (the file keeps
//!   the namespace it was opened in), for the receive counters that tell whether a frame sent
//!   in was lost.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::error::VerifyError;

/// Runs `f` on a fresh thread that has entered network namespace `ns`.
pub(crate) fn in_netns<T, F>(ns: &str, f: F) -> Result<T, VerifyError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, VerifyError> + Send + 'static,
{
    let path = format!("/var/run/netns/{ns}");
    let handle = std::thread::Builder::new()
        .name("fwbench-verify-setns".into())
        .spawn(move || {
            let file = File::open(&path).map_err(|err| VerifyError::Sys {
                what: format!("open {path}"),
                err,
            })?;
            // SAFETY: setns(2) with a namespace descriptor we hold; it changes only this
            // thread, which ends when `f` returns.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(VerifyError::last_os(format!("setns into {path}")));
            }
            f()
        })
        .map_err(|err| VerifyError::Sys {
            what: "spawn a setns thread".into(),
            err,
        })?;
    handle
        .join()
        .map_err(|_| VerifyError::Usage(format!("the thread that entered {ns} panicked")))?
}

fn if_index(name: &str) -> Result<u32, VerifyError> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| VerifyError::Usage(format!("bad interface name {name:?}")))?;
    // SAFETY: a NUL-terminated name.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        return Err(VerifyError::last_os(format!("if_nametoindex({name})")));
    }
    Ok(idx)
}

fn owned(fd: i32, what: &str) -> Result<OwnedFd, VerifyError> {
    if fd < 0 {
        return Err(VerifyError::last_os(what.to_string()));
    }
    // SAFETY: a descriptor that socket(2) just returned and nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn set_int(fd: &OwnedFd, level: i32, opt: i32, value: i32, what: &str) -> Result<(), VerifyError> {
    // SAFETY: setsockopt with a pointer to an int and its size.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            &value as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r != 0 {
        return Err(VerifyError::last_os(what.to_string()));
    }
    Ok(())
}

/// An AF_PACKET socket bound to one interface of a namespace.
pub(crate) struct PacketSocket {
    fd: OwnedFd,
    ifindex: u32,
}

impl PacketSocket {
    /// Opens the socket on interface `iface` of namespace `ns`. Receiving waits at most
    /// `timeout_ms` so a capture loop can look at its stop flag.
    pub(crate) fn open(
        ns: &str,
        iface: &str,
        timeout_ms: i64,
    ) -> Result<PacketSocket, VerifyError> {
        let iface = iface.to_string();
        in_netns(ns, move || {
            let proto = (libc::ETH_P_ALL as u16).to_be() as i32;
            // SAFETY: plain socket(2).
            let fd = owned(
                unsafe {
                    libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, proto)
                },
                "socket(AF_PACKET)",
            )?;
            let ifindex = if_index(&iface)?;
            // SAFETY: a zeroed sockaddr_ll is valid; we fill family, protocol and index.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto as u16;
            sll.sll_ifindex = ifindex as i32;
            // SAFETY: bind with the address and its size.
            let r = unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                )
            };
            if r != 0 {
                return Err(VerifyError::last_os(format!("bind AF_PACKET to {iface}")));
            }
            // A burst of emitted frames must not overflow the receive queue (drops are
            // checked with PACKET_STATISTICS anyway).
            let _ = set_int(
                &fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                16 << 20,
                "SO_RCVBUFFORCE",
            );
            let tv = libc::timeval {
                tv_sec: 0,
                tv_usec: timeout_ms * 1000,
            };
            // SAFETY: setsockopt with a timeval and its size.
            let r = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_RCVTIMEO,
                    &tv as *const libc::timeval as *const libc::c_void,
                    std::mem::size_of::<libc::timeval>() as libc::socklen_t,
                )
            };
            if r != 0 {
                return Err(VerifyError::last_os("SO_RCVTIMEO"));
            }
            Ok(PacketSocket { fd, ifindex })
        })
    }

    /// Sends one whole Ethernet frame out of the interface.
    pub(crate) fn send(&self, frame: &[u8]) -> Result<(), VerifyError> {
        // SAFETY: send(2) of a buffer we own.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                frame.as_ptr() as *const libc::c_void,
                frame.len(),
                0,
            )
        };
        if n < 0 || n as usize != frame.len() {
            return Err(VerifyError::last_os(format!(
                "send a {}-byte frame on ifindex {}",
                frame.len(),
                self.ifindex
            )));
        }
        Ok(())
    }

    /// The next frame that ARRIVED on the interface (frames this socket or the host sent out
    /// of it, `PACKET_OUTGOING`, are skipped); `None` when none came within the timeout.
    pub(crate) fn recv_incoming(&self) -> Result<Option<Vec<u8>>, VerifyError> {
        let mut buf = vec![0u8; 65536 + 64];
        loop {
            // SAFETY: a zeroed sockaddr_ll for recvfrom to fill, with its size.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: recvfrom into our buffer and address.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                    &mut sll as *mut libc::sockaddr_ll as *mut libc::sockaddr,
                    &mut len,
                )
            };
            if n < 0 {
                let err = std::io::Error::last_os_error();
                return match err.raw_os_error() {
                    Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(None),
                    _ => Err(VerifyError::Sys {
                        what: "recvfrom AF_PACKET".into(),
                        err,
                    }),
                };
            }
            if sll.sll_pkttype == libc::PACKET_OUTGOING {
                continue;
            }
            buf.truncate(n as usize);
            return Ok(Some(buf));
        }
    }

    /// Frames the kernel dropped because the receive queue was full (`PACKET_STATISTICS`;
    /// reading resets it).
    pub(crate) fn drops(&self) -> u32 {
        let mut st = [0u32; 2];
        let mut len = std::mem::size_of_val(&st) as libc::socklen_t;
        // SAFETY: getsockopt into a struct tpacket_stats-shaped pair of u32 (packets, drops).
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                st.as_mut_ptr() as *mut libc::c_void,
                &mut len,
            )
        };
        if r != 0 {
            return 0;
        }
        st[1]
    }
}

/// A raw IP socket with the header included, inside a namespace.
pub(crate) struct RawSocket {
    v4: OwnedFd,
    v6: Option<OwnedFd>,
}

impl RawSocket {
    pub(crate) fn open(ns: &str) -> Result<RawSocket, VerifyError> {
        in_netns(ns, || {
            // SAFETY: plain socket(2). IPPROTO_RAW implies IP_HDRINCL for IPv4.
            let v4 = owned(
                unsafe {
                    libc::socket(
                        libc::AF_INET,
                        libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                        libc::IPPROTO_RAW,
                    )
                },
                "socket(AF_INET, SOCK_RAW)",
            )?;
            // SAFETY: as above; IPv6 needs IPV6_HDRINCL set explicitly. A host without IPv6
            // simply cannot send IPv6 local packets.
            let v6 = owned(
                unsafe {
                    libc::socket(
                        libc::AF_INET6,
                        libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                        libc::IPPROTO_RAW,
                    )
                },
                "socket(AF_INET6, SOCK_RAW)",
            )
            .ok()
            .filter(|fd| {
                set_int(
                    fd,
                    libc::IPPROTO_IPV6,
                    libc::IPV6_HDRINCL,
                    1,
                    "IPV6_HDRINCL",
                )
                .is_ok()
            });
            Ok(RawSocket { v4, v6 })
        })
    }

    /// Sends one IP packet as given (header included). Returns the errno when the kernel
    /// refused it (EPERM: dropped in OUTPUT; ENETUNREACH: no route): outcomes, not failures.
    pub(crate) fn send(&self, ip: &[u8]) -> Result<Option<i32>, VerifyError> {
        let version = ip.first().map(|b| b >> 4);
        let n = match version {
            Some(4) if ip.len() >= 20 => {
                // SAFETY: a zeroed sockaddr_in, filled with the packet's destination.
                let mut sin: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                sin.sin_family = libc::AF_INET as u16;
                sin.sin_addr.s_addr = u32::from_ne_bytes([ip[16], ip[17], ip[18], ip[19]]);
                // SAFETY: sendto with our buffer and address.
                unsafe {
                    libc::sendto(
                        self.v4.as_raw_fd(),
                        ip.as_ptr() as *const libc::c_void,
                        ip.len(),
                        0,
                        &sin as *const libc::sockaddr_in as *const libc::sockaddr,
                        std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    )
                }
            }
            Some(6) if ip.len() >= 40 => {
                let fd = self
                    .v6
                    .as_ref()
                    .ok_or_else(|| VerifyError::Usage("no IPv6 raw socket in the lab".into()))?;
                // SAFETY: a zeroed sockaddr_in6, filled with the packet's destination.
                let mut sin6: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                sin6.sin6_family = libc::AF_INET6 as u16;
                sin6.sin6_addr.s6_addr.copy_from_slice(&ip[24..40]);
                // SAFETY: sendto with our buffer and address.
                unsafe {
                    libc::sendto(
                        fd.as_raw_fd(),
                        ip.as_ptr() as *const libc::c_void,
                        ip.len(),
                        0,
                        &sin6 as *const libc::sockaddr_in6 as *const libc::sockaddr,
                        std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    )
                }
            }
            _ => {
                return Err(VerifyError::Usage(format!(
                    "a local packet of {} bytes is not an IPv4 or IPv6 packet",
                    ip.len()
                )))
            }
        };
        if n < 0 {
            return Ok(std::io::Error::last_os_error().raw_os_error());
        }
        Ok(None)
    }
}

/// The `/proc/net/dev` of one namespace.
pub(crate) struct DevCounters {
    file: File,
}

impl DevCounters {
    pub(crate) fn open(ns: &str) -> Result<DevCounters, VerifyError> {
        in_netns(ns, || {
            let file = File::open("/proc/thread-self/net/dev").map_err(|err| VerifyError::Sys {
                what: "open /proc/thread-self/net/dev".into(),
                err,
            })?;
            Ok(DevCounters { file })
        })
    }

    /// Packets received by `iface` (its `rx_packets`).
    pub(crate) fn rx_packets(&mut self, iface: &str) -> Result<u64, VerifyError> {
        let mut text = String::new();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_string(&mut text))
            .map_err(|err| VerifyError::Sys {
                what: "read /proc/net/dev".into(),
                err,
            })?;
        parse_rx_packets(&text, iface).ok_or_else(|| VerifyError::Parse {
            what: "/proc/net/dev".into(),
            message: format!("no line for {iface}"),
        })
    }
}

/// `rx_packets` of `iface` in `/proc/net/dev` text (`  eth0: BYTES PACKETS ...`).
pub(crate) fn parse_rx_packets(text: &str, iface: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        (name.trim() == iface)
            .then(|| rest.split_whitespace().nth(1)?.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_dev_rx_packets() {
        let text = "Inter-|   Receive                            |  Transmit\n \
                    face |bytes    packets errs drop fifo frame compressed multicast|bytes\n    \
                    lo:     120       2    0    0    0     0          0         0      120\n  \
                    eth0:    4242      17    0    0    0     0          0         0        0\n";
        assert_eq!(parse_rx_packets(text, "eth0"), Some(17));
        assert_eq!(parse_rx_packets(text, "lo"), Some(2));
        assert_eq!(parse_rx_packets(text, "cni0"), None);
    }
}
