//! Randomized differential test: fresh seeds (from the clock, or `FWBENCH_SEEDS=a,b,c` to
//! replay some), each a random ruleset and random traffic (`fwbench::gen::random`), each
//! through `verify` on the nf_tables and the legacy backend. The kernel is the judge: any
//! difference fails the test with the seed, how to replay it, the ruleset and the rendered
//! differences. A ruleset the kernel refuses to load is a generator bug and fails too.
//!
//! `FWBENCH_RANDOM_COUNT=N` changes how many fresh seeds run (default 40, about a minute).

mod common;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use common::{root_with, skip};
use fwbench::gen::random::scenario;
use fwbench::netfilter::stack::Config;
use fwbench::rules::Backend;
use fwbench::verify::{verify, Injected, Timed, VerifyInputs, VerifyReport};

/// Straight to stderr, past the test harness's capture: every seed shows, also on success.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

fn kernel_ok() -> bool {
    match root_with(&[
        "ip",
        "ethtool",
        "iptables-nft-restore",
        "iptables-legacy-restore",
        "conntrack",
        "sysctl",
    ]) {
        Ok(()) => true,
        Err(why) => {
            skip(&why);
            false
        }
    }
}

/// The seeds to run: `FWBENCH_SEEDS`, else `FWBENCH_RANDOM_COUNT` (40) fresh ones.
fn seeds() -> Vec<u64> {
    if let Ok(list) = std::env::var("FWBENCH_SEEDS") {
        return list
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("FWBENCH_SEEDS: `{s}' is not a number"))
            })
            .collect();
    }
    let count: u64 = std::env::var("FWBENCH_RANDOM_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // Spread the clock so neighbouring runs share no seed.
    let mut rng = fwbench::gen::Rng::new(now);
    (0..count).map(|_| rng.next_u64() >> 16).collect()
}

/// With `FWBENCH_RANDOM_DUMP=DIR`: the inputs and both sides' emitted frames of a differing
/// seed as pcap files (`DIR/SEED-BACKEND-{in,kernel-IFACE,emulated-IFACE}.pcap`), to read
/// with tshark.
fn dump(seed: u64, backend: &str, packets: &[Timed], r: &VerifyReport) {
    let Ok(dir) = std::env::var("FWBENCH_RANDOM_DUMP") else {
        return;
    };
    let write = |what: &str, frames: &mut dyn Iterator<Item = Vec<u8>>| {
        let mut out = Vec::new();
        // Classic pcap, little-endian, Ethernet.
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for (i, f) in frames.enumerate() {
            for v in [i as u32, 0, f.len() as u32, f.len() as u32] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&f);
        }
        let path = format!("{dir}/{seed}-{backend}-{what}.pcap");
        std::fs::write(&path, out).unwrap_or_else(|e| panic!("{path}: {e}"));
    };
    write(
        "in",
        &mut packets.iter().map(|t| match &t.packet {
            Injected::Frame { frame, .. } => frame.clone(),
            Injected::Local { ip } => {
                let mut f = vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0];
                f.extend_from_slice(ip);
                f
            }
        }),
    );
    for (side, obs) in [("kernel", &r.kernel), ("emulated", &r.emulated)] {
        for (iface, frames) in &obs.emitted {
            write(&format!("{side}-{iface}"), &mut frames.iter().cloned());
        }
    }
}

#[test]
fn random_rulesets_and_traffic_match_the_kernel() {
    if !kernel_ok() {
        return;
    }
    fwbench::verify::install_signal_cleanup();
    let seeds = seeds();
    let started = Instant::now();
    let mut failures = Vec::new();
    for &seed in &seeds {
        for backend in [Backend::Nft, Backend::Legacy] {
            let name = format!("{backend:?}").to_lowercase();
            let s = match scenario(seed, backend) {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!(
                        "seed {seed} ({name}): the generated ruleset does not parse:\n{e}"
                    ));
                    continue;
                }
            };
            if !s.unsupported.is_empty() {
                failures.push(format!(
                    "seed {seed} ({name}): the emulation cannot evaluate packets {:?}\nruleset:\n{}",
                    s.unsupported, s.rules_text
                ));
                continue;
            }
            let report = verify(VerifyInputs {
                packets: s.packets.clone(),
                rules_text: &s.rules_text,
                ruleset: &s.ruleset,
                ipsets_text: None,
                host: &s.host,
                config: Config {
                    backend,
                    ..Config::default()
                },
            });
            let replay = format!("FWBENCH_SEEDS={seed} cargo test --test verify_random");
            match report {
                Ok(r) if r.comparison.is_exact() => {
                    say!("seed {seed} ({name}): exact, {} packets", s.packets.len());
                }
                Ok(r) => {
                    say!("seed {seed} ({name}): DIFFERENT");
                    dump(seed, &name, &s.packets, &r);
                    failures.push(format!(
                        "seed {seed} ({name}) differs from the kernel; replay with\n  {replay}\n\
                         ruleset:\n{}\ndifferences:\n{}",
                        s.rules_text,
                        r.comparison.render()
                    ));
                }
                Err(e) => {
                    say!("seed {seed} ({name}): ERROR {e}");
                    failures.push(format!(
                        "seed {seed} ({name}): verify failed: {e}; replay with\n  {replay}\n\
                         ruleset:\n{}",
                        s.rules_text
                    ));
                }
            }
        }
    }
    say!(
        "ran seeds {:?} in {:.1}s",
        seeds,
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `FWBENCH_SEEDS=S cargo test --test verify_random -- --ignored trace`: the emulation's
/// outcome and trace for every packet of the seed's scenario (nft), for debugging a seed.
#[test]
#[ignore]
fn trace() {
    use fwbench::netfilter::stack::Stack;
    use fwbench::rules::ipset::IpSets;
    for seed in seeds() {
        let s = scenario(seed, Backend::Nft).expect("parses");
        println!("{}", s.rules_text);
        let mut stack = Stack::new(
            &s.ruleset,
            &s.host,
            IpSets::parse("", "none").expect("empty"),
            Config::default(),
        );
        stack.set_tracing(true);
        for (i, t) in s.packets.iter().enumerate() {
            let now = i as i64 * 1_000_000;
            let p = match &t.packet {
                Injected::Frame { iface, frame } => {
                    let mut dst = [0; 6];
                    let mut src = [0; 6];
                    dst.copy_from_slice(&frame[..6]);
                    src.copy_from_slice(&frame[6..12]);
                    println!("#{} in {iface}", i + 1);
                    stack.receive(
                        now,
                        iface,
                        Some(fwbench::engine::LinkHeader { src, dst }),
                        &frame[14..],
                    )
                }
                Injected::Local { .. } => {
                    println!("#{} local", i + 1);
                    let Injected::Local { ip } = &t.packet else {
                        unreachable!()
                    };
                    stack.send_local(now, ip)
                }
            };
            println!("  outcome {:?}", p.outcome);
            for step in &p.trace {
                println!("  {step:?}");
            }
            for e in &p.emitted {
                println!(
                    "  emitted on {} ({:?}) {} bytes",
                    e.iface,
                    e.kind,
                    e.frame.len()
                );
            }
        }
    }
}
