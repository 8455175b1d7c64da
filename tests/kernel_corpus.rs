//! Differential test against the real kernel over every ruleset in the shared corpus.
//!
//! For each file (IPv4 with iptables-nft and -legacy; IPv6 with ip6tables-legacy, which keeps
//! rule counters): give every rule and built-in chain varied counters (zero, small, and
//! large enough for the K/M/G/T suffixes), load it with `iptables-nft-restore -c` into a
//! throwaway network namespace, and compare, for all five tables, `iptables -L` with `-v`,
//! `-v -n`, `-v -n -x`, `-v --line-numbers`, `-n` and plain `-L`, plus `iptables-save` and
//! `iptables-save -c`, byte for byte with fwbench's output for the same file. A file the kernel
//! refuses must be refused by fwbench too, with a line number.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{
    compare_listings, corpus_dir, fwbench, kernel_available, skip, with_counters, Netns, V4,
    V4_LEGACY, V6_LEGACY,
};

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read corpus dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rules") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Kernel objects the ruleset refers to: ipsets (`--match-set`, `--add-set`, `--del-set`) and
/// nfacct objects, created in the namespace before the restore.
fn prerequisites(text: &str) -> String {
    let mut sets = BTreeSet::new();
    let mut acct = BTreeSet::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for w in words.windows(3) {
            if matches!(w[0], "--match-set" | "--add-set" | "--del-set") {
                let dims = w[2].split(',').count();
                sets.insert((w[1].to_string(), dims));
            }
            if w[0] == "--nfacct-name" {
                acct.insert(w[1].to_string());
            }
        }
    }
    let mut script = String::new();
    for (name, dims) in sets {
        let kind = if dims >= 2 {
            "hash:net,port"
        } else {
            "hash:net"
        };
        script.push_str(&format!("ipset create {name} {kind} && "));
    }
    for name in acct {
        script.push_str(&format!("nfacct add {name} && "));
    }
    script.push_str("true");
    script
}

#[test]
fn corpus_lists_and_saves_exactly_as_the_kernel() {
    let Some(dir) = corpus_dir() else {
        return skip("../shared/corpus not found");
    };
    if let Err(why) = kernel_available() {
        return skip(&why);
    }
    let tmp = std::env::temp_dir().join(format!("fwbench-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut problems = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rulesets");
    // A generated kube-proxy dump too, so the generator's output is known to be what the
    // kernel takes (and a larger input than any corpus file).
    let generated = tmp.join("generated-kube-1500.rules");
    let gen = fwbench(&["generate", "--rules", "1500", "--seed", "11"]);
    assert!(gen.status.success(), "fwbench generate failed");
    std::fs::write(&generated, &gen.stdout).expect("write generated ruleset");
    let inputs = corpus_files(&dir)
        .into_iter()
        .chain(corpus_files(&own))
        .chain([generated]);
    for path in inputs {
        let label = path
            .strip_prefix(&dir)
            .or_else(|_| path.strip_prefix(&own))
            .or_else(|_| path.strip_prefix(&tmp))
            .unwrap_or(&path)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&path).expect("read corpus file");
        let counted = tmp.join(format!(
            "counted-{}",
            path.file_name().expect("file name").to_string_lossy()
        ));
        std::fs::write(&counted, with_counters(&text)).expect("write temp file");
        // Files under ipv6/ are ip6tables dumps.
        let ipv6 = path.components().any(|c| c.as_os_str() == "ipv6");
        let variants = if ipv6 {
            vec![V6_LEGACY]
        } else {
            vec![V4, V4_LEGACY]
        };
        for fam in variants {
            let label = format!("{label} [{}]", fam.tool);
            let ns = Netns::new("corpus");
            let load = ns.sh(
                &format!("{} && {}-restore -c", prerequisites(&text), fam.tool),
                &with_counters(&text),
            );
            // The namespace's own sets, as `ipset save` prints them, are the ruleset's ipsets.
            let sets_file = tmp.join(format!(
                "sets-{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
            std::fs::write(&sets_file, ns.sh("ipset save", "").stdout).expect("write ipsets");
            let mut args = vec!["check", "--rules", counted.to_str().expect("utf-8")];
            args.extend(["--ipsets", sets_file.to_str().expect("utf-8")]);
            args.extend(fam.flags.iter().copied());
            let ours = fwbench(&args);
            if load.status.success() {
                accepted += 1;
                if !ours.status.success() {
                    problems.push(format!(
                        "{label}: the kernel accepts it, fwbench refuses it:\n{}",
                        String::from_utf8_lossy(&ours.stderr)
                    ));
                    continue;
                }
                problems.extend(compare_listings(&ns, &counted, &label, fam));
            } else {
                rejected += 1;
                let err = String::from_utf8_lossy(&ours.stderr);
                if ours.status.success() {
                    problems.push(format!(
                        "{label}: the kernel refuses it ({}), fwbench accepts it",
                        String::from_utf8_lossy(&load.stderr).trim()
                    ));
                } else if !err.contains(":") {
                    problems.push(format!("{label}: fwbench's error names no position: {err}"));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "corpus: {accepted} loads accepted by the kernel, {rejected} refused (nft and legacy)"
    );
    assert!(accepted > 0, "no corpus file was loaded");
    assert!(
        problems.is_empty(),
        "{} differences from the kernel:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
