//! Network namespaces of the labs: unique names, commands run inside them, and the registry
//! that lets a SIGINT/SIGTERM handler remove every live one before the process exits.
//!
//! The signal handler itself only writes one byte to a pipe (write(2) is async-signal-safe);
//! a watcher thread reads it, deletes the registered namespaces (`ip netns del`) and exits
//! with 130, the shell's code for "killed by SIGINT". Namespaces are created while the
//! registry lock is held, so the watcher never misses one that is being made.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, Once};

use super::error::VerifyError;

/// Namespaces that exist and must be removed on exit.
static LIVE: Mutex<Vec<String>> = Mutex::new(Vec::new());
static NEXT_LAB: AtomicU32 = AtomicU32::new(0);
static HANDLER: Once = Once::new();
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The prefix every namespace of lab number `n` of this process starts with.
pub(crate) fn lab_prefix() -> String {
    format!(
        "fwb-v{}-{}",
        std::process::id(),
        NEXT_LAB.fetch_add(1, Ordering::Relaxed)
    )
}

/// Names of the namespaces that labs of this process currently hold.
pub fn live_namespaces() -> Vec<String> {
    lock().clone()
}

fn lock() -> MutexGuard<'static, Vec<String>> {
    // A panic while holding the lock must not stop the clean-up of the others.
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Creates namespace `name` and registers it for removal; the registry lock is held across
/// the creation (see the module documentation).
pub(crate) fn create(name: &str) -> Result<(), VerifyError> {
    install_signal_cleanup();
    let mut live = lock();
    run(&["ip", "netns", "add", name], None)?;
    live.push(name.to_string());
    Ok(())
}

/// Deletes namespace `name` (its interfaces go with it) and forgets it.
pub(crate) fn delete(name: &str) {
    let mut live = lock();
    let _ = Command::new("ip")
        .args(["netns", "del", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    live.retain(|n| n != name);
}

/// Runs `argv` with `stdin` as its input; returns its standard output.
pub(crate) fn run(argv: &[&str], stdin: Option<&str>) -> Result<String, VerifyError> {
    let what = argv.join(" ");
    let fail = |stderr: String| VerifyError::Command {
        what: what.clone(),
        stderr,
    };
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| fail("empty command".into()))?;
    let mut child = Command::new(prog)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A command that stops reading early closes the pipe; its exit status tells.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("cannot wait: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "{} ({})",
            String::from_utf8_lossy(&out.stderr),
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `argv` inside namespace `ns` (`ip netns exec NS ...`).
pub(crate) fn exec(ns: &str, argv: &[&str], stdin: Option<&str>) -> Result<String, VerifyError> {
    let mut full = vec!["ip", "netns", "exec", ns];
    full.extend_from_slice(argv);
    run(&full, stdin)
}

/// Installs (once) the SIGINT/SIGTERM handler that removes every live lab namespace and exits
/// with status 130. Creating a lab installs it; a program may call it earlier.
pub fn install_signal_cleanup() {
    HANDLER.call_once(|| {
        let mut fds = [0i32; 2];
        // SAFETY: pipe2 writes two descriptors into the array we pass.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return;
        }
        PIPE_WRITE.store(fds[1], Ordering::SeqCst);
        let read_fd = fds[0];
        let spawned = std::thread::Builder::new()
            .name("fwbench-verify-signals".into())
            .spawn(move || watch(read_fd));
        if spawned.is_err() {
            return;
        }
        for sig in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed sigaction with a plain handler and an empty mask is valid;
            // the handler only calls write(2), which is async-signal-safe.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut sa.sa_mask);
                sa.sa_flags = libc::SA_RESTART;
                libc::sigaction(sig, &sa, std::ptr::null_mut());
            }
        }
    });
}

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    let byte = sig as u8;
    // SAFETY: write(2) on a pipe descriptor with a one-byte buffer we own.
    unsafe {
        libc::write(fd, &byte as *const u8 as *const libc::c_void, 1);
    }
}

fn watch(read_fd: i32) {
    let mut byte = 0u8;
    loop {
        // SAFETY: read(2) of one byte into a local.
        let n = unsafe { libc::read(read_fd, &mut byte as *mut u8 as *mut libc::c_void, 1) };
        if n == 1 {
            break;
        }
        if n == 0 {
            return;
        }
    }
    let live = lock();
    for name in live.iter() {
        let _ = Command::new("ip")
            .args(["netns", "del", name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    eprintln!(
        "fwbench: interrupted; removed {} lab namespace(s)",
        live.len()
    );
    std::process::exit(130);
}
