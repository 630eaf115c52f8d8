//! monday ids: boards and items.
//!
//! monday's GraphQL API types ids as `ID`, which it writes as strings of digits
//! (`"9378000505"`); webhook bodies carry the same ids as JSON numbers (`"boardId": 9378000505`,
//! reference `monday-api.md` §5.2). [`BoardId`] and [`ItemId`] read both forms and nothing else:
//! a string must be decimal digits without a leading zero (so that the text kept in the store is
//! exactly [`Display`](std::fmt::Display)'s), a number must be a non-negative integer that fits
//! in a `u64`. Both are written as strings of digits, the GraphQL form.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string or number is not a monday id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidMondayId {
    /// The empty string.
    Empty,
    /// A character other than an ASCII digit.
    NotDigits,
    /// Digits after a leading `0` (`"007"`): not the form monday writes.
    LeadingZero,
    /// More than a `u64` holds.
    TooLarge,
    /// A negative number.
    Negative,
}

impl fmt::Display for InvalidMondayId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "a monday id is not empty",
            Self::NotDigits => "a monday id has only the digits 0-9",
            Self::LeadingZero => "a monday id does not start with 0",
            Self::TooLarge => "the monday id is too large",
            Self::Negative => "a monday id is not negative",
        })
    }
}

impl std::error::Error for InvalidMondayId {}

/// Parses the text form of a monday id.
fn parse_digits(s: &str) -> Result<u64, InvalidMondayId> {
    if s.is_empty() {
        return Err(InvalidMondayId::Empty);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidMondayId::NotDigits);
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(InvalidMondayId::LeadingZero);
    }
    s.parse().map_err(|_| InvalidMondayId::TooLarge)
}

/// Serde: a string of digits or a non-negative integer.
struct IdVisitor(&'static str);

impl Visitor<'_> for IdVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a monday {} id (digits, as a string or a number)",
            self.0
        )
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(InvalidMondayId::Negative))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        parse_digits(v).map_err(E::custom)
    }
}

macro_rules! monday_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// The id with this number.
            pub const fn new(id: u64) -> Self {
                Self(id)
            }

            /// Parses the GraphQL form: decimal digits, no leading zero.
            pub fn parse(s: &str) -> Result<Self, InvalidMondayId> {
                parse_digits(s).map(Self)
            }

            /// The number.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidMondayId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(IdVisitor($what)).map(Self)
            }
        }
    };
}

monday_id!(
    /// A monday board id.
    ///
    /// ```
    /// use crmmap_ids::BoardId;
    ///
    /// let board: BoardId = serde_json::from_str("9378000505").unwrap();
    /// assert_eq!(board, BoardId::parse("9378000505").unwrap());
    /// assert_eq!(board.to_string(), "9378000505");
    /// assert!(BoardId::parse("board-1").is_err());
    /// ```
    BoardId,
    "board"
);

monday_id!(
    /// A monday item id (a "pulse" in webhook bodies).
    ItemId,
    "item"
);

#[cfg(test)]
#[path = "monday_tests.rs"]
mod tests;
