//! A forgiving tokenizer for completion: it reads text that does not parse yet (the line being
//! typed) and never fails. Strings and comments are skipped.

/// One token and where it starts and ends (byte offsets, always on character boundaries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
    /// Whether it is a word (letters, digits, `_`); otherwise punctuation.
    pub word: bool,
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The tokens of `text`, strings and comments left out.
pub(super) fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        let mut word = false;
        match c {
            c if c.is_whitespace() => continue,
            '"' => {
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
                    if c == '\n' || (c == '"' && !escaped) {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                continue;
            }
            '/' if chars.peek().is_some_and(|&(_, c)| c == '/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                continue;
            }
            c if is_word_char(c) => {
                word = true;
                while let Some(&(i, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
            }
            '<' | '-' => {
                // `<->`, `<-`, `->`.
                for want in ['-', '>'] {
                    match chars.peek() {
                        Some(&(i, c))
                            if c == want && !(c == '-' && text.get(start..i) == Some("-")) =>
                        {
                            end = i + c.len_utf8();
                            chars.next();
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if let Some(text) = text.get(start..end) {
            out.push(Token {
                start,
                end,
                text,
                word,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        tokens(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn arrows_words_and_skipped_strings() {
        assert_eq!(
            texts("field a_1 : text <-> F | translate(t) // note\n\"x \\\" y\" -> <- é"),
            [
                "field",
                "a_1",
                ":",
                "text",
                "<->",
                "F",
                "|",
                "translate",
                "(",
                "t",
                ")",
                "->",
                "<-",
                "é"
            ]
        );
    }
}
