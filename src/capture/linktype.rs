//! Link-layer header types, as numbered by the tcpdump.org LINKTYPE_ registry (the values
//! stored in a pcap file header and in a pcapng Interface Description Block).
//!
//! Only the types fwbench decodes have names; every other number is kept as
//! [`LinkType::Unknown`], so reading and writing back a file never loses or changes it.

/// A LINKTYPE_ value. Unknown numbers are values, not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_NULL (0): BSD loopback, a 4-byte address family in the capturing host's
    /// byte order.
    Null,
    /// LINKTYPE_ETHERNET (1): Ethernet II / 802.3, possibly with 802.1Q or 802.1ad tags.
    Ethernet,
    /// LINKTYPE_RAW (101): raw IP; the version nibble tells IPv4 from IPv6.
    Raw,
    /// LINKTYPE_LOOP (108): OpenBSD loopback, a 4-byte address family in network byte order.
    Loop,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
    LinuxSll,
    /// LINKTYPE_IPV4 (228): raw IPv4 only.
    Ipv4,
    /// LINKTYPE_IPV6 (229): raw IPv6 only.
    Ipv6,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2, which carries the interface index.
    LinuxSll2,
    /// Any other LINKTYPE_ value, kept as read.
    Unknown(u16),
}

impl LinkType {
    pub const NULL: u16 = 0;
    pub const ETHERNET: u16 = 1;
    pub const RAW: u16 = 101;
    pub const LOOP: u16 = 108;
    pub const LINUX_SLL: u16 = 113;
    pub const IPV4: u16 = 228;
    pub const IPV6: u16 = 229;
    pub const LINUX_SLL2: u16 = 276;

    /// The LINKTYPE_ number.
    pub fn number(self) -> u16 {
        match self {
            LinkType::Null => Self::NULL,
            LinkType::Ethernet => Self::ETHERNET,
            LinkType::Raw => Self::RAW,
            LinkType::Loop => Self::LOOP,
            LinkType::LinuxSll => Self::LINUX_SLL,
            LinkType::Ipv4 => Self::IPV4,
            LinkType::Ipv6 => Self::IPV6,
            LinkType::LinuxSll2 => Self::LINUX_SLL2,
            LinkType::Unknown(n) => n,
        }
    }
}

impl From<u16> for LinkType {
    fn from(n: u16) -> LinkType {
        match n {
            Self::NULL => LinkType::Null,
            Self::ETHERNET => LinkType::Ethernet,
            Self::RAW => LinkType::Raw,
            Self::LOOP => LinkType::Loop,
            Self::LINUX_SLL => LinkType::LinuxSll,
            Self::IPV4 => LinkType::Ipv4,
            Self::IPV6 => LinkType::Ipv6,
            Self::LINUX_SLL2 => LinkType::LinuxSll2,
            n => LinkType::Unknown(n),
        }
    }
}

impl From<LinkType> for u16 {
    fn from(l: LinkType) -> u16 {
        l.number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in [0u16, 1, 101, 108, 113, 228, 229, 276, 12, 14, 65535] {
            assert_eq!(LinkType::from(n).number(), n);
        }
        assert_eq!(LinkType::from(12), LinkType::Unknown(12));
        assert_eq!(LinkType::from(276), LinkType::LinuxSll2);
    }
}
