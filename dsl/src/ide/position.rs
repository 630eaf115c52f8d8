//! Positions as editors count them: a zero-based line and a column in UTF-16 code units (the
//! Language Server Protocol's default), converted to and from byte offsets without slicing
//! text at an unchecked byte.

/// A zero-based line and a column in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Zero-based line.
    pub line: u32,
    /// Zero-based column, in UTF-16 code units.
    pub character: u32,
}

/// The byte offset of `position` in `text`. A column past the end of its line is the line's
/// end (before its `\n`), a column inside a character that takes two UTF-16 units is that
/// character's start, and a line past the last is the end of the text.
pub fn offset(text: &str, position: Position) -> usize {
    let mut line_start = 0usize;
    for _ in 0..position.line {
        match text.get(line_start..).and_then(|rest| rest.find('\n')) {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line = text.get(line_start..).unwrap_or("");
    let line = line.split('\n').next().unwrap_or("");
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut units = 0u32;
    for (i, c) in line.char_indices() {
        let next = units + c.len_utf16() as u32;
        if next > position.character {
            return line_start + i;
        }
        units = next;
    }
    line_start + line.len()
}

/// The position of the byte offset `offset` in `text` (an offset inside a character counts as
/// that character's start; past the end, the end).
pub fn position(text: &str, offset: usize) -> Position {
    let mut line = 0u32;
    let mut character = 0u32;
    for (i, c) in text.char_indices() {
        if i + c.len_utf8() > offset {
            break;
        }
        if c == '\n' {
            line += 1;
            character = 0;
        } else {
            character += c.len_utf16() as u32;
        }
    }
    Position { line, character }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        let text = "a\n\u{e9}\u{1F600}x\r\nlast";
        // "é" is one unit, the emoji two.
        assert_eq!(
            offset(
                text,
                Position {
                    line: 1,
                    character: 0
                }
            ),
            2
        );
        assert_eq!(
            offset(
                text,
                Position {
                    line: 1,
                    character: 1
                }
            ),
            4
        );
        assert_eq!(
            offset(
                text,
                Position {
                    line: 1,
                    character: 3
                }
            ),
            8
        );
        // Inside the emoji: its start.
        assert_eq!(
            offset(
                text,
                Position {
                    line: 1,
                    character: 2
                }
            ),
            4
        );
        // Past the end of the line: before `\r\n`.
        assert_eq!(
            offset(
                text,
                Position {
                    line: 1,
                    character: 99
                }
            ),
            9
        );
        assert_eq!(
            offset(
                text,
                Position {
                    line: 2,
                    character: 2
                }
            ),
            13
        );
        assert_eq!(
            offset(
                text,
                Position {
                    line: 9,
                    character: 0
                }
            ),
            text.len()
        );
        assert_eq!(
            position(text, 8),
            Position {
                line: 1,
                character: 3
            }
        );
        assert_eq!(
            position(text, 5),
            Position {
                line: 1,
                character: 1
            }
        );
    }

    proptest! {
        #[test]
        fn offsets_and_positions_round_trip(text in "(a|\u{e9}|\u{1F600}|\u{4e2d}|\n|\r\n| ){0,40}", pick in 0usize..200) {
            let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let at = boundaries[pick % boundaries.len()];
            // The `\n` of a `\r\n` is no place an editor can stand on.
            prop_assume!(!(text.get(at..).is_some_and(|r| r.starts_with('\n')) && text.get(..at).is_some_and(|b| b.ends_with('\r'))));
            let p = position(&text, at);
            let back = offset(&text, p);
            prop_assert_eq!(back, at);
            prop_assert!(text.is_char_boundary(back));
        }

        #[test]
        fn any_position_is_a_char_boundary(text in "\\PC{0,40}", line in 0u32..6, character in 0u32..60) {
            let at = offset(&text, Position { line, character });
            prop_assert!(at <= text.len());
            prop_assert!(text.is_char_boundary(at));
        }
    }
}
