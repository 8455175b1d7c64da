//! The command line as a user meets it: errors with positions, exit codes, generated help.

mod common;

use common::fwbench;

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fwbench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

#[test]
fn every_error_of_a_file_is_reported_with_position_and_caret() {
    let path = write_temp(
        "bad.rules",
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 99999 -j ACCEPT\n-A NOPE -j ACCEPT\n-A INPUT -j MIRROR\nCOMMIT\n",
    );
    let out = fwbench(&["check", "--rules", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = path.display().to_string();
    assert!(
        err.contains(&format!(
            "{file}:3:25: error: invalid port/service `99999' specified"
        )),
        "{err}"
    );
    assert!(
        err.contains("-A INPUT -p tcp --dport 99999 -j ACCEPT\n                        ^"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:4:4: error: chain `NOPE' does not exist")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:5:13: error: target `MIRROR' does not exist"
        )),
        "{err}"
    );
    assert!(err.contains("3 errors"), "{err}");
}

#[test]
fn missing_commit_names_the_line_after_the_end() {
    let path = write_temp("nocommit.rules", "*filter\n-A INPUT -j ACCEPT\n");
    let out = fwbench(&["check", "--rules", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(":3:1: error: COMMIT expected at line 3"),
        "{err}"
    );
}

#[test]
fn crlf_and_trailing_space_after_commit_are_refused_like_iptables() {
    let path = write_temp("crlf.rules", "*filter\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n");
    let out = fwbench(&["check", "--rules", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("carriage return"));
    let path = write_temp("space.rules", "*filter\n-A INPUT -j ACCEPT\nCOMMIT \n");
    let out = fwbench(&["check", "--rules", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let out = fwbench(&["save", "--rules", "/nonexistent/x.rules"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("/nonexistent/x.rules: cannot read"));
}

#[test]
fn list_of_a_missing_chain_fails_and_a_missing_table_lists_empty_builtins() {
    let path = write_temp("ok.rules", "*filter\n:INPUT DROP [1:2]\nCOMMIT\n");
    let p = path.to_str().unwrap();
    let out = fwbench(&["list", "--rules", p, "NOPE"]);
    assert_eq!(out.status.code(), Some(2));
    let out = fwbench(&["list", "--rules", p, "-t", "raw"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Chain PREROUTING (policy ACCEPT)\ntarget     prot opt source               destination         \n\n\
         Chain OUTPUT (policy ACCEPT)\ntarget     prot opt source               destination         \n"
    );
}

#[test]
fn help_completions_and_man_page_come_from_one_definition() {
    let help = fwbench(&["list", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--line-numbers"));
    let bash = fwbench(&["completions", "bash"]);
    assert!(String::from_utf8_lossy(&bash.stdout).contains("--line-numbers"));
    let man = fwbench(&["man"]);
    let man = String::from_utf8_lossy(&man.stdout);
    assert!(
        man.starts_with(".ie") || man.contains(".TH fwbench"),
        "{man}"
    );
}

#[test]
fn generate_is_deterministic_and_parses() {
    let a = fwbench(&["generate", "--rules", "500", "--seed", "9"]);
    let b = fwbench(&["generate", "--rules", "500", "--seed", "9"]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    let path = write_temp("gen.rules", &String::from_utf8_lossy(&a.stdout));
    let out = fwbench(&["check", "--rules", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ipsets_named_by_rules_must_exist_with_the_rules_family() {
    let rules = write_temp(
        "sets.rules",
        "*filter\n-A INPUT -m set --match-set allow src -j ACCEPT\n-A INPUT -m set --match-set v6only src -j DROP\n-A INPUT -m set --match-set missing dst -j DROP\nCOMMIT\n",
    );
    let sets = write_temp(
        "sets.ipset",
        "create allow hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1\nadd allow 10.0.0.0/8\ncreate v6only hash:ip family inet6 hashsize 1024 maxelem 65536 bucketsize 12 initval 0x2\n",
    );
    let out = fwbench(&[
        "check",
        "--rules",
        rules.to_str().unwrap(),
        "--ipsets",
        sets.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(":3:"), "{err}");
    assert!(
        err.contains("protocol family of set v6only is inet6"),
        "{err}"
    );
    assert!(
        err.contains(":4:") && err.contains("set `missing' does not exist"),
        "{err}"
    );
    assert!(!err.contains(":2:"), "{err}");
}

#[test]
fn shipped_ruleset_is_what_the_generator_makes() {
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rulesets/kube-proxy-2k.rules"
    ))
    .expect("rulesets/kube-proxy-2k.rules is shipped");
    let generated = fwbench(&["generate", "--rules", "2000", "--seed", "1"]);
    assert!(
        generated.stdout == shipped,
        "regenerate it: fwbench generate --rules 2000 --seed 1"
    );
}
