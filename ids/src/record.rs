//! A Salesforce record id in its 18-character form.
//!
//! Salesforce ids come in two forms: 15 characters, case-sensitive, and 18 characters, the 15
//! followed by a 3-character suffix that encodes which of them are upper case, so that the id
//! survives case-insensitive systems. A [`RecordId`] is normalised on construction: a
//! 15-character id gets its suffix ([`checksum_suffix`], the one conversion), an 18-character
//! one must carry the right suffix (compared case-insensitively, as Salesforce does) and is kept
//! in its canonical case. The two forms of one id are therefore equal.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The characters of the suffix, indexed by the 5-bit upper-case mask of a block.
const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The 3-character suffix of a 15-character id: for each block of five characters, bit `i` is
/// set when character `i` is an ASCII upper-case letter, and the 5-bit value indexes
/// `A..Z0..5`. `None` unless `id15` is 15 ASCII letters and digits.
///
/// ```
/// assert_eq!(crmmap_ids::checksum_suffix("a0RE000000IJmcN").as_deref(), Some("MAT"));
/// assert_eq!(crmmap_ids::checksum_suffix("a0RE000000IJmc"), None);
/// ```
pub fn checksum_suffix(id15: &str) -> Option<String> {
    let bytes = id15.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    Some(
        bytes
            .chunks(5)
            .map(|block| {
                let mask = block
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| b.is_ascii_uppercase())
                    .fold(0usize, |acc, (i, _)| acc | (1 << i));
                char::from(SUFFIX_ALPHABET[mask])
            })
            .collect(),
    )
}

/// A Salesforce record id, always in its 18-character form.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordId(String);

/// Why a string is not a Salesforce record id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidRecordId {
    /// Not 15 or 18 characters long.
    Length(usize),
    /// A character other than an ASCII letter or digit.
    Alphabet,
    /// An 18-character id whose suffix does not match its first 15 characters.
    Checksum,
}

impl fmt::Display for InvalidRecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(n) => write!(f, "a Salesforce id has 15 or 18 characters, not {n}"),
            Self::Alphabet => f.write_str("a Salesforce id has only ASCII letters and digits"),
            Self::Checksum => {
                f.write_str("the last 3 characters of the Salesforce id do not match")
            }
        }
    }
}

impl std::error::Error for InvalidRecordId {}

impl RecordId {
    /// Parses a 15- or 18-character id into its 18-character form.
    pub fn parse(id: &str) -> Result<Self, InvalidRecordId> {
        if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(InvalidRecordId::Alphabet);
        }
        // ASCII from here: byte offsets are character offsets.
        let (head, tail) = match id.len() {
            15 => (id, None),
            18 => (id.get(..15).unwrap_or_default(), id.get(15..)),
            n => return Err(InvalidRecordId::Length(n)),
        };
        let suffix = checksum_suffix(head).ok_or(InvalidRecordId::Alphabet)?;
        if tail.is_some_and(|t| !t.eq_ignore_ascii_case(&suffix)) {
            return Err(InvalidRecordId::Checksum);
        }
        Ok(Self(format!("{head}{suffix}")))
    }

    /// The 18-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-sensitive 15-character form.
    pub fn to_15(&self) -> &str {
        self.0.get(..15).unwrap_or(&self.0)
    }

    /// The key prefix: the first three characters, which name the object (`001` Account,
    /// `003` Contact, `005` User, `00Q` Lead, …).
    pub fn key_prefix(&self) -> &str {
        self.0.get(..3).unwrap_or(&self.0)
    }
}

impl std::str::FromStr for RecordId {
    type Err = InvalidRecordId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RecordId {
    type Error = InvalidRecordId;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<RecordId> for String {
    fn from(id: RecordId) -> String {
        id.0
    }
}

impl AsRef<str> for RecordId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.0)
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
