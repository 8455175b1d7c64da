//! IP sets: `ipset save` / `ipset restore` text in, a typed model of what the kernel holds out,
//! the model printed back byte for byte as `ipset save` (ipset 7.17, kernel 6.x) prints it, and
//! the membership test the `set` match does for a packet.
//!
//! Invariants:
//! - an [`IpSets`] holds what the kernel would hold after `ipset restore` of the same file:
//!   ranges are expanded the way each set type's kernel `uadt` expands them (an IPv4 range in a
//!   `hash:net` becomes the CIDR blocks the kernel stores, a port range one element per port),
//!   addresses are masked, create options are normalised (hash size rounded up to a power of
//!   two, bucket size clamped and made even, list size at least 4), so that parsing the output
//!   of `ipset save` and printing it again gives the same text. (Where `ipset restore` refuses
//!   the kernel's own `ipset save` output, as after a range walk in a `hash:ip` set with a
//!   `bitmask`, see [`expand`], fwbench refuses it too, at the same line.)
//! - sets keep the kernel's index order, a destroyed set's slot being reused by the next
//!   create, and [`IpSets::save`] prints `list:set` sets last, as the kernel dumps them;
//! - members of hash and list sets keep insertion order (the kernel prints hash sets in bucket
//!   order, which depends on a random seed, so only a file that came from `ipset save` is
//!   reproduced in order); bitmap sets print in ascending order as the kernel does;
//! - nothing here panics on input: every problem becomes a [`Diagnostic`](super::Diagnostic)
//!   with file, line and column, and all of a file's problems are reported together.
//!
//! Limits of the model: element timeouts are kept as numbers and never expire (a snapshot);
//! the kernel grows a hash set's `hashsize` when its buckets fill, which depends on the random
//! `initval` and is not predicted; `forceadd` on a full set is refused rather than guessed;
//! `hash:mac` follows ipset's source only (this machine's kernel lacks the type, so its save
//! format is unchecked); other types (`hash:net,net`, `bitmap:ip,mac`, ...) are refused.
//!
//! - [`lex`] splits a line as ipset's `build_argv` does and reads numbers and addresses;
//! - [`elem`] parses an element (with its ranges) for a set type, [`expand`] expands it;
//! - [`create`] reads and normalises create options;
//! - [`opts`] reads an element's options (`timeout`, `comment`, `nomatch`, ...);
//! - [`restore`] runs the commands of a file (`create`, `add`, `del`, `flush`, `destroy`,
//!   `rename`, `swap`, `-exist`) against the model with the kernel's checks;
//! - [`members`] stores a set's entries with the kernel's notion of "the same element";
//! - [`save`] prints; [`contains`] answers the packet-path membership test.

pub mod contains;
pub mod create;
pub mod elem;
pub mod expand;
pub mod lex;
pub mod members;
pub mod opts;
pub mod restore;
pub mod save;

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use super::diag::Diagnostics;
use super::names::Names;

pub use contains::SetPart;
pub use members::Members;

/// Address family of a set (`family inet|inet6`); types that store no address are `Unspec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Inet,
    Inet6,
    Unspec,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Unspec => "unspec",
        }
    }

    /// Prefix length of a host address in this family.
    pub fn host_len(self) -> u8 {
        if self == Family::Inet6 {
            128
        } else {
            32
        }
    }
}

/// The set types fwbench models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SetType {
    HashIp,
    HashNet,
    HashIpPort,
    HashNetPort,
    HashIpPortIp,
    HashIpPortNet,
    HashNetIface,
    HashMac,
    BitmapIp,
    BitmapPort,
    ListSet,
}

impl SetType {
    pub const ALL: [SetType; 11] = [
        SetType::HashIp,
        SetType::HashNet,
        SetType::HashIpPort,
        SetType::HashNetPort,
        SetType::HashIpPortIp,
        SetType::HashIpPortNet,
        SetType::HashNetIface,
        SetType::HashMac,
        SetType::BitmapIp,
        SetType::BitmapPort,
        SetType::ListSet,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SetType::HashIp => "hash:ip",
            SetType::HashNet => "hash:net",
            SetType::HashIpPort => "hash:ip,port",
            SetType::HashNetPort => "hash:net,port",
            SetType::HashIpPortIp => "hash:ip,port,ip",
            SetType::HashIpPortNet => "hash:ip,port,net",
            SetType::HashNetIface => "hash:net,iface",
            SetType::HashMac => "hash:mac",
            SetType::BitmapIp => "bitmap:ip",
            SetType::BitmapPort => "bitmap:port",
            SetType::ListSet => "list:set",
        }
    }

    /// The pre-6.0 alias ipset still accepts (`ipset_typename_resolve`; checked on the kernel).
    fn alias(self) -> Option<&'static str> {
        Some(match self {
            SetType::HashIp => "iphash",
            SetType::HashNet => "nethash",
            SetType::HashIpPort => "ipporthash",
            SetType::HashNetPort => "netporthash",
            SetType::HashIpPortIp => "ipportiphash",
            SetType::HashIpPortNet => "ipportnethash",
            SetType::HashNetIface => "netifacehash",
            SetType::BitmapIp => "ipmap",
            SetType::BitmapPort => "portmap",
            SetType::ListSet => "setlist",
            SetType::HashMac => return None,
        })
    }

    pub fn from_name(s: &str) -> Option<SetType> {
        SetType::ALL
            .into_iter()
            .find(|t| t.name() == s || t.alias() == Some(s))
    }

    /// How many packet parts a test needs (the kernel's `type->dimension`): a `set` match with
    /// fewer `src`/`dst` flags than this never matches.
    pub fn dimension(self) -> usize {
        match self {
            SetType::HashIp
            | SetType::HashNet
            | SetType::HashMac
            | SetType::BitmapIp
            | SetType::BitmapPort
            | SetType::ListSet => 1,
            SetType::HashIpPort | SetType::HashNetPort | SetType::HashNetIface => 2,
            SetType::HashIpPortIp | SetType::HashIpPortNet => 3,
        }
    }

    pub fn is_hash(self) -> bool {
        !matches!(
            self,
            SetType::BitmapIp | SetType::BitmapPort | SetType::ListSet
        )
    }

    /// Types whose elements are networks and take `nomatch` (`IPSET_TYPE_NOMATCH`).
    pub fn has_nomatch(self) -> bool {
        matches!(
            self,
            SetType::HashNet
                | SetType::HashNetPort
                | SetType::HashIpPortNet
                | SetType::HashNetIface
        )
    }

    /// Types whose create line takes `family` (hash:mac, bitmaps and list:set do not).
    pub fn takes_family(self) -> bool {
        self.is_hash() && self != SetType::HashMac
    }

    /// The kernel's `type->features` bits, which `swap` compares (with the family): sets of
    /// different types with the same features can be swapped, e.g. `hash:ip` and `bitmap:ip`.
    pub fn features(self) -> u8 {
        const IP: u8 = 1;
        const PORT: u8 = 2;
        const MAC: u8 = 4;
        const IP2: u8 = 8;
        const IFACE: u8 = 16;
        const NAME: u8 = 32;
        const NOMATCH: u8 = 64;
        match self {
            SetType::HashIp | SetType::BitmapIp => IP,
            SetType::HashNet => IP | NOMATCH,
            SetType::HashIpPort => IP | PORT,
            SetType::HashNetPort => IP | PORT | NOMATCH,
            SetType::HashIpPortIp => IP | PORT | IP2,
            SetType::HashIpPortNet => IP | PORT | IP2 | NOMATCH,
            SetType::HashNetIface => IP | IFACE | NOMATCH,
            SetType::HashMac => MAC,
            SetType::BitmapPort => PORT,
            SetType::ListSet => NAME,
        }
    }
}

/// Options of a set's create line. Values are the kernel's (normalised), not the file's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Header {
    Hash(HashHeader),
    /// `range FIRST-LAST [netmask N]`: the range as the kernel widened it to the netmask.
    BitmapIp {
        first: Ipv4Addr,
        last: Ipv4Addr,
        netmask: u8,
    },
    BitmapPort {
        first: u16,
        last: u16,
    },
    List {
        size: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashHeader {
    /// Rounded up to a power of two, at least 64. The kernel doubles it when buckets fill up,
    /// which fwbench cannot predict (it depends on the random `initval`).
    pub hashsize: u32,
    pub maxelem: u32,
    /// Prefix length applied to stored addresses (`hash:ip`, `hash:ip,port`); the host length
    /// when not given, and then not printed.
    pub netmask: u8,
    /// Address mask applied to stored addresses; all ones unless `netmask` or `bitmask` given.
    /// Printed only when given as `bitmask` and not all ones.
    pub bitmask: IpAddr,
    /// Set when `bitmask` was given (the kernel prints `bitmask` only then, `netmask` otherwise).
    pub bitmask_given: bool,
    /// 4 to 12, even.
    pub bucketsize: u8,
    /// The jhash seed: random in the kernel unless the file gives it, so `None` until known.
    pub initval: Option<u32>,
    /// Accepted and kept, but never printed by `ipset save` (checked on the kernel).
    pub forceadd: bool,
}

/// The extensions a set was created with (`timeout`, `counters`, `comment`, `skbinfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions {
    /// Default element timeout in seconds; `Some(0)` means elements are permanent by default.
    pub timeout: Option<u32>,
    pub counters: bool,
    pub comment: bool,
    pub skbinfo: bool,
}

/// An address with a prefix length; the address is stored masked, as the kernel stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// `addr/prefix` with the host bits cleared (prefix clamped to the family's width).
    pub fn new(addr: IpAddr, prefix: u8) -> Cidr {
        let addr = lex::mask_addr(addr, prefix);
        let width = if addr.is_ipv4() { 32 } else { 128 };
        Cidr {
            addr,
            prefix: prefix.min(width),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && lex::mask_addr(ip, self.prefix) == self.addr
    }

    fn is_host(&self) -> bool {
        self.prefix == if self.addr.is_ipv4() { 32 } else { 128 }
    }
}

/// A protocol and port as the `...,port` set types store them. For ICMP and ICMPv6 the port
/// is `type << 8 | code`; for protocols without ports it is 0 (`gre:0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtoPort {
    pub proto: u8,
    pub port: u16,
}

/// The interface part of a `hash:net,iface` element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IfaceElem {
    /// At most 15 bytes; a `+` is an ordinary character here.
    pub name: String,
    /// `physdev:` prefix: matched against the bridge port, not the device.
    pub physdev: bool,
    /// `wildcard` flag: the name matches any device name it is a prefix of.
    pub wildcard: bool,
}

/// One stored element, typed by the set type that holds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Elem {
    /// `hash:ip`, `bitmap:ip`.
    Ip(IpAddr),
    /// `hash:net`.
    Net(Cidr),
    /// `hash:ip,port`.
    IpPort(IpAddr, ProtoPort),
    /// `hash:net,port`.
    NetPort(Cidr, ProtoPort),
    /// `hash:ip,port,ip`.
    IpPortIp(IpAddr, ProtoPort, IpAddr),
    /// `hash:ip,port,net`.
    IpPortNet(IpAddr, ProtoPort, Cidr),
    /// `hash:net,iface`.
    NetIface(Cidr, IfaceElem),
    /// `hash:mac`.
    Mac([u8; 6]),
    /// `bitmap:port`.
    Port(u16),
    /// `list:set`: the member set's name.
    Set(String),
}

/// Per-element extension values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryExt {
    /// Seconds (as `ipset save` printed them: the time left); present iff the set has timeouts.
    pub timeout: Option<u32>,
    /// `(packets, bytes)`; present iff the set has counters.
    pub counters: Option<(u64, u64)>,
    pub comment: Option<String>,
    /// `skbmark MARK/MASK`; (0, 0) when not given (and then not printed).
    pub skbmark: (u32, u32),
    /// `skbprio MAJOR:MINOR` as `MAJOR << 16 | MINOR`.
    pub skbprio: u32,
    pub skbqueue: u16,
}

/// A stored element with its flags and extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub elem: Elem,
    /// `nomatch`: a packet whose most specific matching element is this one is not in the set.
    pub nomatch: bool,
    pub ext: EntryExt,
}

/// One set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSet {
    pub name: String,
    pub set_type: SetType,
    pub family: Family,
    pub header: Header,
    pub ext: Extensions,
    pub members: Members,
}

impl IpSet {
    /// Parts a packet test needs (see [`SetType::dimension`]).
    pub fn dimension(&self) -> usize {
        self.set_type.dimension()
    }

    /// The entries, in the order `ipset save` prints them.
    pub fn entries(&self) -> Vec<&Entry> {
        self.members.in_save_order(self.set_type)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.len() == 0
    }
}

/// All sets of a file (or of a kernel), by name, in the kernel's index order.
#[derive(Clone, Debug, Default)]
pub struct IpSets {
    /// Kernel index slots: `None` is a slot freed by `destroy`, reused by the next `create`.
    slots: Vec<Option<IpSet>>,
    /// Set name → slot.
    index: HashMap<String, usize>,
    /// Free slots, the lowest reused first.
    free: BTreeSet<usize>,
}

/// Equal when the same sets sit in the same slots.
impl PartialEq for IpSets {
    fn eq(&self, other: &IpSets) -> bool {
        let used = |s: &IpSets| {
            s.slots
                .iter()
                .enumerate()
                .filter_map(|(i, x)| x.as_ref().map(|x| (i, x.clone())))
                .collect::<Vec<_>>()
        };
        used(self) == used(other)
    }
}

impl Eq for IpSets {}

/// How many sets the kernel holds at most: `ip_set_create` grows its index array past
/// `max_sets` (256 here; 257 sets load fine, checked) up to `IPSET_INVALID_ID`.
pub const MAX_SETS: usize = 65535;

impl IpSets {
    /// Reads an `ipset save` / `ipset restore` file. Service and protocol names are looked up
    /// in this machine's `/etc/services` and `/etc/protocols`, as ipset does.
    pub fn parse(text: &str, file: &str) -> Result<IpSets, Diagnostics> {
        restore::parse(text, file, Names::system())
    }

    /// [`IpSets::parse`] with given name tables (for tests with fixed answers).
    pub fn parse_with(text: &str, file: &str, names: &Names) -> Result<IpSets, Diagnostics> {
        restore::parse(text, file, names)
    }

    /// The file `ipset save` would print for these sets.
    pub fn save(&self) -> String {
        save::save(self, Names::system())
    }

    /// [`IpSets::save`] with given name tables.
    pub fn save_with(&self, names: &Names) -> String {
        save::save(self, names)
    }

    pub fn get(&self, name: &str) -> Option<&IpSet> {
        self.slots.get(*self.index.get(name)?)?.as_ref()
    }

    /// The sets in kernel index order (not the save order, which puts `list:set` last).
    pub fn iter(&self) -> impl Iterator<Item = &IpSet> {
        self.slots.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the packet parts are in the set `name` as the kernel's `set` match sees them;
    /// `None` when there is no such set. See [`contains`] for what the parts are.
    pub fn test(&self, name: &str, parts: &[SetPart<'_>]) -> Option<bool> {
        self.get(name).map(|s| contains::contains(self, s, parts))
    }

    /// The set `name`, to change as the kernel does for packets (`-j SET`, element expiry).
    pub fn set_mut(&mut self, name: &str) -> Option<&mut IpSet> {
        self.get_mut(name)
    }

    fn slot_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut IpSet> {
        self.slots.get_mut(*self.index.get(name)?)?.as_mut()
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut IpSet> {
        self.slots.iter_mut().flatten()
    }

    /// `destroy NAME`: frees the set's slot.
    fn remove(&mut self, name: &str) {
        if let Some(i) = self.index.remove(name) {
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = None;
                self.free.insert(i);
            }
        }
    }

    /// `destroy` without a name.
    fn clear(&mut self) {
        *self = IpSets::default();
    }

    fn rename(&mut self, from: &str, to: &str) {
        if let Some(i) = self.index.remove(from) {
            if let Some(Some(s)) = self.slots.get_mut(i) {
                s.name = to.to_string();
            }
            self.index.insert(to.to_string(), i);
        }
    }

    /// `swap`: the kernel exchanges the sets' slots and then their names, so each name stays
    /// where it was (and `list:set` references, which follow the slot, follow the name).
    fn swap(&mut self, a: &str, b: &str) {
        let (Some(i), Some(j)) = (self.slot_of(a), self.slot_of(b)) else {
            return;
        };
        self.slots.swap(i, j);
        if let Some(Some(s)) = self.slots.get_mut(i) {
            s.name = a.to_string();
        }
        if let Some(Some(s)) = self.slots.get_mut(j) {
            s.name = b.to_string();
        }
    }

    /// How many `list:set` sets hold `name` (the kernel's reference count from lists).
    fn references(&self, name: &str) -> usize {
        self.iter()
            .filter(|s| s.set_type == SetType::ListSet)
            .filter(|s| s.members.find(&Elem::Set(name.to_string())).is_some())
            .count()
    }

    /// Puts a new set in the first free slot, as `ip_set_create` does.
    fn insert(&mut self, set: IpSet) {
        let name = set.name.clone();
        let i = match self.free.pop_first() {
            Some(i) => {
                if let Some(slot) = self.slots.get_mut(i) {
                    *slot = Some(set);
                }
                i
            }
            None => {
                self.slots.push(Some(set));
                self.slots.len() - 1
            }
        };
        self.index.insert(name, i);
    }
}

#[cfg(test)]
mod tests;
