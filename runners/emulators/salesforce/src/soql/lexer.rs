//! SOQL tokenizer.

use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::{CmpOp, SoqlError};

/// One element of a LIKE pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LikeElem {
    /// `%`: any run of characters.
    Any,
    /// `_`: exactly one character.
    One,
    /// A literal character (including `\%` and `\_`).
    Char(char),
}

/// A token kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An identifier or keyword; dotted paths (`Account.Name`) are one token.
    Ident(String),
    /// A quoted string literal: its unescaped value, its LIKE pattern, and whether it used an
    /// escape that is only valid inside LIKE (`\%`, `\_`).
    Str {
        value: String,
        pattern: Vec<LikeElem>,
        like_only_escape: bool,
    },
    Number(f64, String),
    Date(Date),
    DateTime(OffsetDateTime),
    Op(CmpOp),
    Comma,
    LParen,
    RParen,
    Eof,
}

/// A token with its char offset and source text.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub text: String,
}

pub fn tokenize(src: &str) -> Result<Vec<Token>, SoqlError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            ',' => {
                i += 1;
                Tok::Comma
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '=' => {
                i += 1;
                Tok::Op(CmpOp::Eq)
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                i += 2;
                Tok::Op(CmpOp::Ne)
            }
            '<' => match chars.get(i + 1) {
                Some('=') => {
                    i += 2;
                    Tok::Op(CmpOp::Le)
                }
                Some('>') => {
                    i += 2;
                    Tok::Op(CmpOp::Ne)
                }
                _ => {
                    i += 1;
                    Tok::Op(CmpOp::Lt)
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 2;
                    Tok::Op(CmpOp::Ge)
                } else {
                    i += 1;
                    Tok::Op(CmpOp::Gt)
                }
            }
            '\'' => {
                let (tok, next) = string(&chars, i)?;
                i = next;
                tok
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let (tok, next) = number_or_date(&chars, i)?;
                i = next;
                tok
            }
            c if c.is_alphabetic() || c == '_' => {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                {
                    i += 1;
                }
                Tok::Ident(chars[start..i].iter().collect())
            }
            _ => {
                return Err(SoqlError::malformed(
                    format!("unexpected token: '{c}'"),
                    Some(i),
                ));
            }
        };
        out.push(Token {
            tok,
            pos: start,
            text: chars[start..i].iter().collect(),
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        pos: chars.len(),
        text: String::new(),
    });
    Ok(out)
}

fn string(chars: &[char], start: usize) -> Result<(Tok, usize), SoqlError> {
    let mut value = String::new();
    let mut pattern = Vec::new();
    let mut like_only_escape = false;
    let mut i = start + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(SoqlError::malformed(
                "line 1:0 mismatched character '<EOF>' expecting '''",
                Some(start),
            ));
        };
        match c {
            '\'' => {
                return Ok((
                    Tok::Str {
                        value,
                        pattern,
                        like_only_escape,
                    },
                    i + 1,
                ));
            }
            '\\' => {
                let Some(&e) = chars.get(i + 1) else {
                    return Err(SoqlError::malformed(
                        "line 1:0 mismatched character '<EOF>' expecting '''",
                        Some(start),
                    ));
                };
                let ch = match e {
                    'n' | 'N' => '\n',
                    'r' | 'R' => '\r',
                    't' | 'T' => '\t',
                    'b' | 'B' => '\u{8}',
                    'f' | 'F' => '\u{c}',
                    '"' => '"',
                    '\'' => '\'',
                    '\\' => '\\',
                    '%' | '_' => {
                        like_only_escape = true;
                        value.push('\\');
                        value.push(e);
                        pattern.push(LikeElem::Char(e));
                        i += 2;
                        continue;
                    }
                    'u' => {
                        let hex: String = chars
                            .get(i + 2..i + 6)
                            .map(|s| s.iter().collect())
                            .unwrap_or_default();
                        let cp = u32::from_str_radix(&hex, 16)
                            .ok()
                            .filter(|_| hex.len() == 4)
                            .and_then(char::from_u32);
                        match cp {
                            Some(ch) => {
                                value.push(ch);
                                pattern.push(LikeElem::Char(ch));
                                i += 6;
                                continue;
                            }
                            None => {
                                return Err(SoqlError::malformed(
                                    format!(
                                        "Invalid string literal '\\u{hex}'. Illegal unicode escape sequence."
                                    ),
                                    Some(i),
                                ));
                            }
                        }
                    }
                    other => {
                        return Err(SoqlError::malformed(
                            format!(
                                "Invalid string literal '{}'. Illegal character sequence '\\{other}' in string literal.",
                                chars[start + 1..]
                                    .iter()
                                    .take_while(|c| **c != '\'')
                                    .collect::<String>()
                            ),
                            Some(i),
                        ));
                    }
                };
                value.push(ch);
                pattern.push(LikeElem::Char(ch));
                i += 2;
            }
            '%' => {
                value.push(c);
                pattern.push(LikeElem::Any);
                i += 1;
            }
            '_' => {
                value.push(c);
                pattern.push(LikeElem::One);
                i += 1;
            }
            _ => {
                value.push(c);
                pattern.push(LikeElem::Char(c));
                i += 1;
            }
        }
    }
}

fn number_or_date(chars: &[char], start: usize) -> Result<(Tok, usize), SoqlError> {
    // Date: YYYY-MM-DD, optionally followed by Thh:mm:ss[.fff](Z|±hh:mm|±hhmm).
    let is_digit = |k: usize| chars.get(k).is_some_and(char::is_ascii_digit);
    if (start..start + 4).all(is_digit) && chars.get(start + 4) == Some(&'-') {
        let mut i = start;
        while i < chars.len()
            && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '-' | ':' | '.' | '+'))
        {
            i += 1;
        }
        let text: String = chars[start..i].iter().collect();
        let tok = parse_date_literal(&text).ok_or_else(|| {
            SoqlError::malformed(
                format!("line 1:{start} no viable alternative at character '{text}'"),
                Some(start),
            )
        })?;
        return Ok((tok, i));
    }
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let n: f64 = text
        .parse()
        .map_err(|_| SoqlError::malformed(format!("unexpected token: '{text}'"), Some(start)))?;
    Ok((Tok::Number(n, text), i))
}

/// Parses an unquoted SOQL date or datetime literal.
pub fn parse_date_literal(text: &str) -> Option<Tok> {
    if text.len() == 10 {
        return Date::parse(text, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(Tok::Date);
    }
    let (date_time, offset) =
        if let Some(dt) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
            (dt, UtcOffset::UTC)
        } else {
            let split = text.len().checked_sub(6)?;
            let (dt, off) = text.split_at(split);
            let (dt, off) = if off.starts_with(['+', '-']) && off.contains(':') {
                (dt, off.to_string())
            } else {
                let split = text.len().checked_sub(5)?;
                let (dt, off) = text.split_at(split);
                if !off.starts_with(['+', '-']) {
                    return None;
                }
                (dt, format!("{}:{}", &off[..3], &off[3..]))
            };
            let offset = UtcOffset::parse(
                &off,
                format_description!("[offset_hour sign:mandatory]:[offset_minute]"),
            )
            .ok()?;
            (dt, offset)
        };
    let primitive = PrimitiveDateTime::parse(
        date_time,
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
        ),
    )
    .ok()?;
    Some(Tok::DateTime(
        primitive.assume_offset(offset).to_offset(UtcOffset::UTC),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn string_escapes() {
        let t = toks(r#"'O\'Brien \\ \"x\" \n\t\u00e9'"#);
        match &t[0] {
            Tok::Str { value, .. } => assert_eq!(value, "O'Brien \\ \"x\" \n\té"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_escape() {
        let e = tokenize(r"'a\qb'").unwrap_err();
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.reason.contains("Illegal character sequence '\\q'"),
            "{e:?}"
        );
    }

    #[test]
    fn dates() {
        let t = toks(
            "2024-07-01 2024-07-01T00:00:00Z 2024-07-01T02:00:00+02:00 2024-07-01T00:00:00.000+0000 -5 3.25",
        );
        assert!(matches!(t[0], Tok::Date(_)));
        let (Tok::DateTime(a), Tok::DateTime(b), Tok::DateTime(c)) = (&t[1], &t[2], &t[3]) else {
            panic!("{t:?}")
        };
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(t[4], Tok::Number(-5.0, "-5".into()));
        assert_eq!(t[5], Tok::Number(3.25, "3.25".into()));
    }
}
