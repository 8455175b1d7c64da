//! Test harness shared by the integration tests: running the real `fwbench` binary, finding
//! the shared corpus, and throwaway network namespaces for kernel-differential tests.
//!
//! Kernel tests need root, `ip netns` and iptables. On a developer machine without them they
//! print `SKIPPED: ...` and pass; with `FWBENCH_REQUIRE_KERNEL=1` (set by `.ci/run`) a missing
//! prerequisite fails the test instead, so CI cannot silently skip them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Runs the fwbench binary under test.
pub fn fwbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fwbench"))
        .args(args)
        .output()
        .expect("the fwbench binary runs")
}

/// Whether missing prerequisites must fail rather than skip.
pub fn required() -> bool {
    std::env::var("FWBENCH_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

/// Skips (or, in CI, fails) a test whose prerequisite is missing.
pub fn skip(why: &str) {
    if required() {
        panic!("FWBENCH_REQUIRE_KERNEL=1 but this test cannot run: {why}");
    }
    eprintln!("SKIPPED: {why} (set FWBENCH_REQUIRE_KERNEL=1 to make this an error)");
}

/// The shared corpus (`../shared/corpus` beside the repository, or `$FWBENCH_CORPUS`).
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FWBENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.is_dir().then_some(dir)
}

/// Whether this process can run kernel experiments: root, `ip netns`, iptables.
pub fn kernel_available() -> Result<(), String> {
    root_with(&["ip", "iptables-nft-restore", "iptables-nft-save"])
}

/// Whether this process is root and has every tool in `tools` on its PATH.
pub fn root_with(tools: &[&str]) -> Result<(), String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| e.to_string())?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Err("not root".into());
    }
    for tool in tools {
        let ok = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!("`{tool}' is not installed"));
        }
    }
    Ok(())
}

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace of our own, deleted on drop (also when the test panics). It has no
/// interfaces but its own `lo`, so nothing it does can reach the outside; name look-ups inside
/// it use only /etc/hosts, so `iptables -L` never waits on DNS.
pub struct Netns {
    pub name: String,
    etc: PathBuf,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!(
            "fwb-t-{}-{}-{}",
            tag,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let etc = PathBuf::from("/etc/netns").join(&name);
        std::fs::create_dir_all(&etc).expect("create /etc/netns/NAME");
        std::fs::write(
            etc.join("nsswitch.conf"),
            "hosts: files\nservices: files\nprotocols: files\nnetworks: files\n",
        )
        .expect("write nsswitch.conf");
        let ns = Netns { name, etc };
        let st = Command::new("ip")
            .args(["netns", "add", &ns.name])
            .status()
            .expect("ip netns add");
        assert!(st.success(), "ip netns add {} failed", ns.name);
        ns
    }

    /// Runs a shell command inside the namespace, with `stdin` as its input.
    pub fn sh(&self, script: &str, stdin: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.name, "sh", "-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ip netns exec");
        // A command that does not read its input closes the pipe early; that is fine.
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes());
        child.wait_with_output().expect("wait")
    }

    /// Runs a command and returns its standard output, panicking with its error otherwise.
    pub fn out(&self, script: &str) -> String {
        let o = self.sh(script, "");
        assert!(
            o.status.success(),
            "`{script}' failed in {}: {}",
            self.name,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.etc);
    }
}

/// `iptables-save` output without its dated comment lines.
pub fn strip_save_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A readable first difference between two texts, for assertion messages.
pub fn first_difference(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            return format!(
                "line {}:\n  kernel:  {:?}\n  fwbench: {:?}",
                i + 1,
                x.unwrap_or(&"<none>"),
                y.unwrap_or(&"<none>")
            );
        }
    }
    if expected != actual {
        return "texts differ only in trailing newlines".to_string();
    }
    "no difference".to_string()
}

/// Which iptables variant a comparison runs, and the fwbench flags that select the same.
#[derive(Clone, Copy, Debug)]
pub struct Fam {
    /// `iptables-nft`, `iptables-legacy`, `ip6tables-nft`: the listing command; `-save` and
    /// `-restore` are appended for the others.
    pub tool: &'static str,
    pub flags: &'static [&'static str],
    /// Compare `save` one table at a time: iptables-legacy-save orders tables by the host's
    /// module registration, which differs between machines.
    pub save_per_table: bool,
}

pub const V4: Fam = Fam {
    tool: "iptables-nft",
    flags: &[],
    save_per_table: false,
};
pub const V4_LEGACY: Fam = Fam {
    tool: "iptables-legacy",
    flags: &["--backend", "legacy"],
    save_per_table: true,
};
/// ip6tables-legacy: the IPv6 variant that keeps rule counters on `restore -c`
/// (ip6tables-nft 1.8.9 drops them; its `-L` text is identical, NETFILTER.md §8).
pub const V6_LEGACY: Fam = Fam {
    tool: "ip6tables-legacy",
    flags: &["-6", "--backend", "legacy"],
    save_per_table: true,
};
pub const V6: Fam = Fam {
    tool: "ip6tables-nft",
    flags: &["-6"],
    save_per_table: false,
};

pub const TABLES: [&str; 5] = ["filter", "nat", "mangle", "raw", "security"];

/// Counter values chosen to hit every branch of `xtables_print_num`.
const COUNTS: [u64; 12] = [
    0,
    1,
    7,
    99_999,
    100_000,
    999_499,
    999_500,
    1_234_567,
    9_999_500,
    123_456_789_012,
    10_000_000_000,
    9_999_999_999_999,
];

pub fn counters(i: usize) -> String {
    let p = COUNTS[i % COUNTS.len()];
    let b = COUNTS[(i * 7 + 3) % COUNTS.len()].saturating_mul(3) + (i as u64 % 5);
    format!("[{p}:{b}]")
}

/// The file with `[p:b]` on every rule and every built-in chain line.
pub fn with_counters(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let rest = match line.strip_prefix('[') {
            Some(r) => r
                .split_once(']')
                .map_or(line, |(_, rest)| rest.trim_start()),
            None => line,
        };
        if rest.starts_with("-A ") || rest.starts_with("-I ") {
            out.push_str(&format!("{} {rest}\n", counters(i)));
        } else if let Some(chain) = line.strip_prefix(':') {
            let words: Vec<&str> = chain.split_whitespace().collect();
            match words.as_slice() {
                [name, policy, ..] if *policy != "-" => {
                    out.push_str(&format!(":{name} {policy} {}\n", counters(i + 5)))
                }
                _ => out.push_str(&format!("{line}\n")),
            }
        } else {
            out.push_str(&format!("{line}\n"));
        }
    }
    out
}

/// Compares every listing of one loaded ruleset; returns the differences found.
pub fn compare_listings(ns: &Netns, rules_file: &Path, label: &str, fam: Fam) -> Vec<String> {
    let file = rules_file.to_str().expect("utf-8 path");
    let mut problems = Vec::new();
    let mut check = |what: String, kernel: String, ours: std::process::Output| {
        let ours_text = String::from_utf8_lossy(&ours.stdout).into_owned();
        if !ours.status.success() {
            problems.push(format!(
                "{label}: `fwbench {what}` failed: {}",
                String::from_utf8_lossy(&ours.stderr)
            ));
        } else if kernel != ours_text {
            problems.push(format!(
                "{label}: `{what}` differs at {}",
                first_difference(&kernel, &ours_text)
            ));
        }
    };
    for table in TABLES {
        for flags in [
            vec!["-v"],
            vec!["-v", "-n"],
            vec!["-v", "-n", "-x"],
            vec!["-v", "--line-numbers"],
            vec!["-n"],
            vec![],
        ] {
            let kernel = ns.out(&format!("{} -t {table} -L {}", fam.tool, flags.join(" ")));
            let mut args = vec!["list", "--rules", file, "-t", table];
            args.extend(fam.flags.iter().copied());
            args.extend(flags.iter().copied());
            check(
                format!("list -t {table} {}", flags.join(" ")),
                kernel,
                fwbench(&args),
            );
        }
    }
    let tables: Vec<Option<&str>> = if fam.save_per_table {
        TABLES.iter().map(|t| Some(*t)).collect()
    } else {
        vec![None]
    };
    for table in tables {
        for c in [true, false] {
            let mut args = vec!["save", "--rules", file];
            args.extend(fam.flags.iter().copied());
            let mut kflags = String::new();
            if c {
                args.push("-c");
                kflags.push_str(" -c");
            }
            if let Some(t) = table {
                args.extend(["-t", t]);
                kflags.push_str(&format!(" -t {t}"));
            }
            let kernel = strip_save_comments(&ns.out(&format!("{}-save{kflags}", fam.tool)));
            check(format!("save{kflags}"), kernel, fwbench(&args));
        }
    }
    problems
}
