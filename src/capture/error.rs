//! Errors from reading a capture file. Every error names the file; damage also names the byte
//! offset where it starts, so a user can look at the spot with a hex dump (or cut the file
//! there with `head -c`) and knows that every packet before it was delivered.

use std::fmt;
use std::io;

/// Why reading a capture stopped.
#[derive(Debug)]
pub enum Error {
    /// The file could not be opened or mapped.
    Open { file: String, error: io::Error },
    /// Reading failed at `offset` (standard input, or a file that is not mapped).
    Io {
        file: String,
        offset: u64,
        error: io::Error,
    },
    /// The bytes from `offset` on are not a valid record: the file is truncated, corrupted,
    /// or (at offset 0) not a capture file at all. Every packet before `offset` was delivered.
    Damaged {
        file: String,
        offset: u64,
        what: String,
    },
}

impl Error {
    /// The byte offset the error refers to, where there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Open { .. } => None,
            Error::Io { offset, .. } | Error::Damaged { offset, .. } => Some(*offset),
        }
    }

    /// Whether this is damage in the file (as opposed to a failure to open or read it).
    pub fn is_damage(&self) -> bool {
        matches!(self, Error::Damaged { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Open { file, error } => write!(f, "{file}: cannot open: {error}"),
            Error::Io {
                file,
                offset,
                error,
            } => write!(f, "{file}: read error at byte {offset}: {error}"),
            Error::Damaged { file, offset, what } => {
                write!(f, "{file}: damaged at byte {offset}: {what}")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Open { error, .. } | Error::Io { error, .. } => Some(error),
            Error::Damaged { .. } => None,
        }
    }
}
