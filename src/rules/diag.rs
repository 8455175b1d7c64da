//! Errors in a rules file, reported as compilers report them: `file:line:col: error: ...`, the
//! offending line, and a caret under the spot (the shape of nftables' error printer).

use std::fmt;

use super::model::Pos;

/// How many errors the text form shows; the count of all of them follows.
const MAX_SHOWN: usize = 50;

/// One problem in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub pos: Pos,
    pub message: String,
    /// The source line, for the caret display (without its line ending).
    pub source_line: String,
}

/// Every problem found in one file. Parsing goes on after an error where it can, so a user
/// sees all of them at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    pub file: String,
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new(file: &str) -> Diagnostics {
        Diagnostics {
            file: file.to_string(),
            errors: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn push(&mut self, pos: Pos, source_line: &str, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            pos,
            message: message.into(),
            source_line: source_line.trim_end_matches(['\n', '\r']).to_string(),
        });
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.file, e.pos.line, e.pos.col, e.message
            )?;
            if !e.source_line.is_empty() {
                // Tabs keep their width in the caret line so the caret lands under the spot.
                let lead: String = e
                    .source_line
                    .chars()
                    .take(e.pos.col.saturating_sub(1) as usize)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(f, "\n{}\n{}^", e.source_line, lead)?;
            }
        }
        if self.errors.len() > MAX_SHOWN {
            write!(f, "\n... {} more not shown", self.errors.len() - MAX_SHOWN)?;
        }
        if self.errors.len() > 1 {
            write!(f, "\n{}: {} errors", self.file, self.errors.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
