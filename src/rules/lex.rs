//! Splitting a rule line into arguments exactly as `iptables-restore` does
//! (`add_param_to_argv` in iptables' xshared.c):
//! - spaces, tabs and newlines separate arguments; runs of them count once;
//! - a double quote opens a quoted part, in which spaces are kept and a backslash makes the
//!   next character literal (`\"` is a quote, `\\` a backslash);
//! - a closing quote *ends the argument*: `"a b"c` is two arguments, `a b` and `c`, and `""` is
//!   one empty argument;
//! - outside quotes a backslash is an ordinary character;
//! - an argument is at most 1023 bytes, a line at most 255 arguments (iptables' limits).

/// One argument of a rule line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// 1-based column (in characters) where the argument starts in the line.
    pub col: u32,
    /// Whether any part of it was quoted (iptables remembers this too: a quoted `!` is text).
    pub quoted: bool,
}

/// iptables' `struct xt_param_buf` holds 1024 bytes including the terminator.
pub const MAX_ARG_LEN: usize = 1023;
/// iptables' `MAX_ARGC`, minus the program name and `-t table` that iptables-restore adds.
pub const MAX_ARGS: usize = 252;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub col: u32,
    pub message: String,
}

/// Splits `line` (which starts at column `first_col`) into arguments.
pub fn split_args(line: &str, first_col: u32) -> Result<Vec<Token>, LexError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0u32;
    let mut quote_open = false;
    let mut escaped = false;
    let mut quoted = false;

    let mut finish = |cur: &mut String, start: u32, quoted: &mut bool| -> Result<(), LexError> {
        if out.len() >= MAX_ARGS {
            return Err(LexError {
                col: start,
                message: format!("too many arguments (iptables takes at most {MAX_ARGS})"),
            });
        }
        out.push(Token {
            text: std::mem::take(cur),
            col: start,
            quoted: *quoted,
        });
        *quoted = false;
        Ok(())
    };

    for (i, ch) in line.chars().enumerate() {
        let col = first_col + i as u32;
        if cur.is_empty() && !quote_open && !quoted {
            start = col;
        }
        if quote_open {
            if escaped {
                cur.push(ch);
                escaped = false;
                continue;
            }
            match ch {
                '\\' => {
                    escaped = true;
                    continue;
                }
                '"' => {
                    quote_open = false;
                    finish(&mut cur, start, &mut quoted)?;
                    continue;
                }
                _ => {
                    cur.push(ch);
                    continue;
                }
            }
        }
        match ch {
            '"' => {
                quote_open = true;
                quoted = true;
            }
            ' ' | '\t' | '\n' => {
                if !cur.is_empty() {
                    finish(&mut cur, start, &mut quoted)?;
                }
            }
            _ => cur.push(ch),
        }
        if cur.len() > MAX_ARG_LEN {
            return Err(LexError {
                col: start,
                message: format!("argument longer than {MAX_ARG_LEN} bytes"),
            });
        }
    }
    if quote_open {
        // iptables-restore keeps an unterminated quote's text as an argument; say so rather
        // than guessing what the author meant.
        return Err(LexError {
            col: start,
            message: "unterminated quote".to_string(),
        });
    }
    if !cur.is_empty() {
        finish(&mut cur, start, &mut quoted)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<String> {
        split_args(line, 1)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn splits_like_iptables_restore() {
        assert_eq!(
            texts("-A  INPUT\t-j ACCEPT"),
            ["-A", "INPUT", "-j", "ACCEPT"]
        );
        assert_eq!(
            texts(r#"--comment "kubernetes service portals" -j X"#),
            ["--comment", "kubernetes service portals", "-j", "X"]
        );
        // A closing quote ends the argument; an empty pair is an empty argument.
        assert_eq!(texts(r#""a b"c"#), ["a b", "c"]);
        assert_eq!(texts(r#"x "" y"#), ["x", "", "y"]);
        // Escapes work only inside quotes.
        assert_eq!(texts(r#""say \"hi\" \\o/""#), [r#"say "hi" \o/"#]);
        assert_eq!(texts(r#"a\b"#), [r#"a\b"#]);
        // A quote in the middle of an argument starts a quoted part of the same argument.
        assert_eq!(texts(r#"ab"c d""#), ["abc d"]);
    }

    #[test]
    fn columns_point_at_argument_starts() {
        let t = split_args(r#"-A X  "q q" z"#, 1).unwrap();
        let cols: Vec<u32> = t.iter().map(|t| t.col).collect();
        assert_eq!(cols, [1, 4, 7, 13]);
        assert!(t[2].quoted && !t[3].quoted);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert!(split_args(r#"-A X "open"#, 1).is_err());
    }
}
