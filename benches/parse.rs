//! Parsing and validating a kube-proxy-shaped dump of 100,000 rules (issue: must take under
//! one second on the project machine). The same run times a reference, splitting every line
//! into words with `split_whitespace`, so the result can be read as a ratio that does not
//! depend on how busy the machine is.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use fwbench::gen::kube::{ruleset, KubeParams};
use fwbench::rules::parse::{parse_ruleset, ParseOptions};

fn parse_100k(c: &mut Criterion) {
    let text = ruleset(&KubeParams::for_rules(100_000, 1));
    let rules = text.lines().filter(|l| l.starts_with("-A ")).count();
    let mut group = c.benchmark_group(format!(
        "kube-proxy dump, {rules} rules, {} bytes",
        text.len()
    ));
    group.sample_size(10);
    group.bench_function("reference: split lines into words", |b| {
        b.iter(|| {
            black_box(&text)
                .lines()
                .map(|l| l.split_whitespace().count())
                .sum::<usize>()
        })
    });
    group.bench_function("parse + validate", |b| {
        b.iter(|| {
            parse_ruleset(black_box(&text), "bench", ParseOptions::default())
                .map(|r| r.rule_count())
                .unwrap_or(0)
        })
    });
    group.finish();
}

criterion_group!(benches, parse_100k);
criterion_main!(benches);
