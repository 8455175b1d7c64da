//! Errors of the kernel side: a command that failed (with what it printed), a socket call that
//! failed (with errno), or kernel output fwbench could not read.

use std::fmt;

#[derive(Debug)]
pub enum VerifyError {
    /// An external command (`ip`, `iptables-restore`, `conntrack`, ...) failed or could not run.
    Command {
        /// The command line, with the namespace it ran in.
        what: String,
        /// Its standard error (or why it could not start).
        stderr: String,
    },
    /// A system call failed.
    Sys { what: String, err: std::io::Error },
    /// Kernel output that does not parse (`iptables-save -c`, `conntrack -L`).
    Parse { what: String, message: String },
    /// Packets were lost on the way in even after re-sending, or a capture dropped frames.
    Lost(String),
    /// The caller asked for something the lab cannot do (unknown interface, ...).
    Usage(String),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Command { what, stderr } => {
                write!(f, "`{what}' failed: {}", stderr.trim_end())
            }
            VerifyError::Sys { what, err } => write!(f, "{what}: {err}"),
            VerifyError::Parse { what, message } => {
                write!(f, "cannot read {what}: {message}")
            }
            VerifyError::Lost(m) => write!(f, "packets lost: {m}"),
            VerifyError::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl VerifyError {
    /// The last OS error, for a failed libc call named `what`.
    pub(crate) fn last_os(what: impl Into<String>) -> VerifyError {
        VerifyError::Sys {
            what: what.into(),
            err: std::io::Error::last_os_error(),
        }
    }
}
