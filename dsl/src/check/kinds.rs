//! How kinds of values flow through transforms, and which pairs of kinds can be mapped.

use crate::model::{Kind, Step};

/// The kind after `step` when `input` goes in, or what the step accepts.
pub(super) fn through(step: &Step, input: Kind) -> Result<Kind, &'static str> {
    use Kind::*;
    match (step, input) {
        (Step::Translate(_), Text | Labels) => Ok(input),
        (Step::Translate(_), _) => Err("text or labels"),
        (Step::Join(_), Labels) => Ok(Text),
        (Step::Join(_), _) => Err("labels (a dropdown column or a multipicklist)"),
        (Step::Split(_), Text) => Ok(Labels),
        (Step::Split(_), _) => Err("text"),
        (Step::Trim | Step::Upper | Step::Lower, Text | Labels) => Ok(input),
        (Step::Trim | Step::Upper | Step::Lower, _) => Err("text or labels"),
        (Step::Capitalize | Step::FirstNames | Step::LastName, Text) => Ok(Text),
        (Step::Capitalize | Step::FirstNames | Step::LastName, _) => Err("text"),
        (Step::Default(_), k) => Ok(k),
        (Step::FormatDate(_), Text) => Ok(Date),
        (Step::FormatDate(_), _) => {
            Err("text on the monday side and a date or datetime on the Salesforce side")
        }
        (Step::Round(_), Number) => Ok(Number),
        (Step::Round(_), _) => Err("numbers"),
    }
}

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
