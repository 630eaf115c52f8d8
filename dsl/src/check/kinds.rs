//! Which pairs of kinds can be mapped (how kinds flow through a transform is its registry
//! entry's [`crate::transform::Signature`]).

use crate::model::Kind;

/// Whether a value of kind `monday` (after the steps) can be stored in a field of kind `sf`.
/// Text converts to and from every scalar kind (a failed conversion is a runtime error for that
/// record); a date and a datetime convert at UTC midnight; labels need a join to become text.
pub(super) fn compatible(monday: Kind, sf: Kind) -> bool {
    use Kind::*;
    match (monday, sf) {
        (a, b) if a == b => true,
        (Text, _) | (_, Text) if monday != Labels => true,
        (Date, DateTime) | (DateTime, Date) => true,
        (Text, Labels) => true,
        _ => false,
    }
}

/// Help text naming the column types that suit a field of kind `sf`.
pub(super) fn pairing_help(sf: Kind) -> String {
    let columns = match sf {
        Kind::Text => "`text`, `long_text`, `status`, `email`, `phone` or `link`",
        Kind::Number => "`numbers` or `text`",
        Kind::Bool => "`checkbox` or `text`",
        Kind::Date | Kind::DateTime => "`date` or `text`",
        Kind::Labels => "`dropdown` or `text`",
    };
    format!("a {} field pairs with a {columns} column", sf.name())
}
