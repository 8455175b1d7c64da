//! `-m multiport` (revision 1): up to 15 source, destination or either-side ports of a tcp,
//! udp, udplite, sctp or dccp rule, where a range `lo:hi` takes two of the 15 slots.
//!
//! Service names are read and printed for the rule's own protocol (`--dports domain` works
//! with `-p udp`, `http` does not), as libxt_multiport does with its proto_to_name.

use std::fmt::Write;

use super::util::{list_port, parse_port, save_invert};
use super::{Arity, ExtError, Extension, Opt, OptArg, ParseCtx, PrintCtx};
use crate::rules::names::Names;

/// Which ports `-m multiport` looks at (`XT_MULTIPORT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiportDir {
    Source,
    Destination,
    /// `--ports`: source or destination.
    Either,
}

/// `-m multiport` (revision 1): up to 15 ports, a range taking two of the 15 slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Multiport {
    pub flags: MultiportDir,
    /// Single ports as `(p, p)`, ranges as `(lo, hi)` with `lo < hi`.
    pub ports: Vec<(u16, u16)>,
    pub invert: bool,
}

/// `XT_MULTI_PORTS`: the slots in xt_multiport_v1.
const MULTI_PORTS: usize = 15;

/// The protocol name multiport looks services up with (its proto_to_name).
fn multiport_proto(proto: u8) -> Option<&'static str> {
    Some(match proto {
        6 => "tcp",
        17 => "udp",
        136 => "udplite",
        132 => "sctp",
        33 => "dccp",
        _ => return None,
    })
}

impl Multiport {
    fn parse_with(opts: &[OptArg], ctx: &ParseCtx, names: &Names) -> Result<Multiport, ExtError> {
        let mut given = opts.iter();
        let Some(o) = given.next() else {
            return Err(ExtError::whole(
                "multiport: one of --sports, --dports or --ports is required",
            ));
        };
        if let Some(second) = given.next() {
            return Err(second.err(if second.name == o.name {
                format!("multiport: --{} can only be used once", o.name)
            } else {
                format!(
                    "multiport: --{} cannot be used together with --{}",
                    second.name, o.name
                )
            }));
        }
        // libxt_multiport's check_proto; the kernel (multiport_mt_check) refuses the same.
        let proto = match multiport_proto(ctx.proto.0) {
            Some(p) if !ctx.proto_inverted => p,
            _ if ctx.proto.0 == 0 && !ctx.proto_inverted => {
                return Err(o.err(
                    "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
                ))
            }
            _ => return Err(o.err("multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP")),
        };
        let mut ports = Vec::new();
        let mut slots = 0;
        for item in o.arg().split(',') {
            if slots == MULTI_PORTS {
                return Err(o.bad("too many ports specified (at most 15; a range counts 2)"));
            }
            let one = |s: &str| {
                parse_port(s, proto, names)
                    .ok_or_else(|| o.bad(format!("invalid port/service `{s}' specified")))
            };
            match item.split_once(':') {
                None => {
                    let p = one(item)?;
                    ports.push((p, p));
                    slots += 1;
                }
                Some((lo, hi)) => {
                    if slots == MULTI_PORTS - 1 {
                        return Err(
                            o.bad("too many ports specified (at most 15; a range counts 2)")
                        );
                    }
                    let (lo, hi) = (one(lo)?, one(hi)?);
                    if lo >= hi {
                        return Err(o.bad(format!("invalid portrange {lo}:{hi} specified")));
                    }
                    ports.push((lo, hi));
                    slots += 2;
                }
            }
        }
        Ok(Multiport {
            flags: match o.name {
                "sports" => MultiportDir::Source,
                "dports" => MultiportDir::Destination,
                _ => MultiportDir::Either,
            },
            ports,
            invert: o.invert,
        })
    }

    /// `80,1:1023`, with service names of the rule's protocol unless `numeric`.
    fn print_ports(&self, out: &mut String, numeric: bool, ctx: &PrintCtx) {
        let proto = multiport_proto(ctx.proto).unwrap_or("");
        let ctx = PrintCtx { numeric, ..*ctx };
        for (i, &(lo, hi)) in self.ports.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            list_port(out, lo, &ctx, proto);
            if lo != hi {
                out.push(':');
                list_port(out, hi, &ctx, proto);
            }
        }
    }

    fn dir_name(&self) -> &'static str {
        match self.flags {
            MultiportDir::Source => "sports",
            MultiportDir::Destination => "dports",
            MultiportDir::Either => "ports",
        }
    }
}

impl Extension for Multiport {
    const NAME: &'static str = "multiport";
    const OPTIONS: &'static [Opt] = &[
        Opt::new("sports", Arity::One, true).alias(&["source-ports"]),
        Opt::new("dports", Arity::One, true).alias(&["destination-ports"]),
        Opt::new("ports", Arity::One, true),
    ];

    fn parse(opts: &[OptArg], ctx: &ParseCtx) -> Result<Self, ExtError> {
        Multiport::parse_with(opts, ctx, Names::system())
    }

    fn save(&self, out: &mut String, ctx: &PrintCtx) {
        save_invert(out, self.invert);
        let _ = write!(out, " --{} ", self.dir_name());
        self.print_ports(out, true, ctx);
    }

    /// ` multiport dports http,https`; a negation comes out as ` multiport dports  !80`
    /// (libxt_multiport prints the word's trailing space and then ` !`).
    fn list(&self, out: &mut String, ctx: &PrintCtx) {
        let _ = write!(out, " multiport {} ", self.dir_name());
        if self.invert {
            out.push_str(" !");
        }
        self.print_ports(out, ctx.numeric, ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{assert_lists, names, rule};
    use super::*;
    use crate::rules::model::{Family::Ipv4, Proto, TableKind};

    /// Rows copied from `iptables -L -v` and `iptables -L -v -n` (iptables 1.8.9, nf_tables).
    #[test]
    fn lists_like_iptables() {
        let cases = [
            (
                "-p tcp -m multiport --dports 80,443",
                " multiport dports http,https",
                " multiport dports 80,443",
            ),
            (
                "-p tcp -m multiport ! --sports 1:1023,8080",
                " multiport sports  !tcpmux:1023,http-alt",
                " multiport sports  !1:1023,8080",
            ),
            (
                "-p udp -m multiport --ports 53,123",
                " multiport ports domain,ntp",
                " multiport ports 53,123",
            ),
            (
                "-p dccp -m multiport --dports 80,443",
                " multiport dports 80,443",
                " multiport dports 80,443",
            ),
            (
                "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15",
                " multiport dports tcpmux,2,3,4,5,6,echo,8,discard,10,systat,12,daytime,14:netstat",
                " multiport dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14:15",
            ),
        ];
        for (text, list, list_n) in cases {
            assert_lists(Ipv4, text, list, list_n);
        }
    }

    #[test]
    fn service_names_are_looked_up_for_the_rules_protocol() {
        let n = names();
        let ctx = ParseCtx {
            family: Ipv4,
            table: TableKind::Filter,
            proto: Proto::UDP,
            proto_inverted: false,
        };
        let opt = |arg: &str| OptArg {
            name: "dports",
            invert: false,
            args: vec![arg.to_string()],
            col: 1,
            arg_cols: vec![2],
        };
        let m = Multiport::parse_with(&[opt("domain,ntp")], &ctx, &n).unwrap();
        assert_eq!(m.ports, [(53, 53), (123, 123)]);
        // http is only a tcp service in /etc/services, so -p udp refuses it as iptables does.
        assert!(Multiport::parse_with(&[opt("http")], &ctx, &n).is_err());
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |t: &str| rule(Ipv4, t).unwrap_err();
        assert!(err("-p tcp -m multiport --dports 80:80").contains("invalid portrange"));
        assert!(err("-m multiport --dports 80").contains("needs `-p tcp'"));
        assert!(err("-p icmp -m multiport --dports 80").contains("only works with"));
        assert!(
            err("-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15:16")
                .contains("too many ports")
        );
    }
}
