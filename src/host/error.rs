//! Errors in a host description, reported as compilers report them: `file:line:col: error:
//! message`, then the source line and a caret under the spot, so a user can fix a host file
//! without guessing. JSON inputs report the position `serde_json` gives, or the entry at fault.

use std::fmt;

/// One problem in a host file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    pub file: String,
    /// 1-based line and column; 0 when the problem has no position (a missing file).
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending source line, for the caret display.
    pub source_line: Option<String>,
}

impl HostError {
    /// An error at byte offset `at` of `text`.
    pub fn at(file: &str, text: &str, at: usize, message: impl Into<String>) -> HostError {
        let at = at.min(text.len());
        let before = text.get(..at).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text
            .get(line_start..at)
            .map_or(1, |s| s.chars().count() + 1);
        let source_line = text
            .get(line_start..)
            .and_then(|rest| rest.lines().next())
            .map(str::to_string);
        HostError {
            file: file.to_string(),
            line,
            column,
            message: message.into(),
            source_line,
        }
    }

    /// An error about the file as a whole (cannot be read, wrong kind of content).
    pub fn whole(file: &str, message: impl Into<String>) -> HostError {
        HostError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
            source_line: None,
        }
    }
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: error: {}", self.file, self.message);
        }
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.column, self.message
        )?;
        if let Some(src) = &self.source_line {
            let pad: String = src
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{src}\n{pad}^")?;
        }
        Ok(())
    }
}

impl std::error::Error for HostError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_carets_line_up() {
        let text = "a = 1\nbb = \"x\"\n";
        let e = HostError::at("h.toml", text, 11, "bad value");
        assert_eq!((e.line, e.column), (2, 6));
        assert_eq!(
            e.to_string(),
            "h.toml:2:6: error: bad value\nbb = \"x\"\n     ^"
        );
        assert_eq!(
            HostError::whole("h.toml", "cannot read").to_string(),
            "h.toml: error: cannot read"
        );
    }
}
