//! The replay engine on the shipped example traffic (97 frames: DNS, HTTP conversations,
//! NodePorts, load balancers, rejects, pings): every frame through the built-in Kubernetes
//! node with conntrack, NAT and all tables, with a fresh host per pass. Two rulesets: the
//! shipped node ruleset (about 300 rules) and the generated 2,000-rule kube-proxy dump, whose
//! KUBE-SERVICES chain every new connection walks linearly. The same run times a reference,
//! `ip::parse` of the same frames, so results read as ratios.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fwbench::engine::LinkHeader;
use fwbench::gen::traffic::example_frames;
use fwbench::host::Host;
use fwbench::netfilter::stack::{Config, Stack};
use fwbench::rules::ipset::IpSets;
use fwbench::rules::parse::{parse_ruleset, ParseOptions};
use fwbench::rules::Ruleset;

const IFACES: [&str; 2] = ["eth0", "cni0"];

fn ruleset(path: &str) -> Ruleset {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&file).expect("shipped ruleset");
    parse_ruleset(&text, path, ParseOptions::default()).expect("parses")
}

fn bench(c: &mut Criterion) {
    let frames = example_frames(1);
    let host = Host::kubernetes_node();
    let mut g = c.benchmark_group("replay");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.bench_function("reference: ip::parse", |b| {
        b.iter(|| {
            for f in &frames {
                black_box(fwbench::wire::ip::parse(&f.data[14..]).ok());
            }
        })
    });
    for (name, path) in [
        ("k8s-node.rules", "rulesets/k8s-node.rules"),
        ("kube-proxy-2k.rules", "rulesets/kube-proxy-2k.rules"),
    ] {
        let rs = ruleset(path);
        g.bench_function(format!("replay through {name}"), |b| {
            b.iter(|| {
                let sets = IpSets::parse("", "none").expect("empty");
                let mut stack = Stack::new(&rs, &host, sets, Config::default());
                for f in &frames {
                    let mut dst = [0; 6];
                    let mut src = [0; 6];
                    dst.copy_from_slice(&f.data[..6]);
                    src.copy_from_slice(&f.data[6..12]);
                    let iface = IFACES[f.interface as usize];
                    black_box(stack.receive(
                        f.ts_ns,
                        iface,
                        Some(LinkHeader { src, dst }),
                        &f.data[14..],
                    ));
                }
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
