//! Which pairs of kinds can be mapped (how kinds flow through a transform is its registry
//! entry's [`crate::transform::Signature`]).

use crate::model::{Kind, SfType};

/// Whether a value of kind `monday` (after the steps) can be stored in a field of kind `sf`.
/// Text converts to and from every scalar kind (a failed conversion is a runtime error for that
/// record); a date and a datetime convert at UTC midnight; labels need a join to become text.
pub(crate) fn compatible(monday: Kind, sf: Kind) -> bool {
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

/// How the field type a mapping declares compares with the one Salesforce reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeDifference {
    /// The same type.
    Same,
    /// Two types of one kind of value (`string` and `picklist` both hold text): the values
    /// read and written are the same, so nothing changes at run time.
    SameKind,
    /// Different kinds of value (text and a number), or a type crmmap does not map.
    OtherKind,
}

/// Compares a declared field type with the snapshot's (describe `type` keywords).
pub(crate) fn compare_types(declared: &str, actual: &str) -> TypeDifference {
    if declared == actual {
        return TypeDifference::Same;
    }
    match (SfType::from_keyword(declared), SfType::from_keyword(actual)) {
        (Some(a), Some(b)) if a.kind() == b.kind() => TypeDifference::SameKind,
        _ => TypeDifference::OtherKind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_differ_within_one_kind_and_numbers_from_text() {
        use TypeDifference::*;
        for (a, b) in [
            ("string", "picklist"),
            ("textarea", "url"),
            ("email", "phone"),
            ("double", "currency"),
        ] {
            assert_eq!(compare_types(a, b), SameKind, "{a} {b}");
        }
        for (a, b) in [
            ("string", "double"),
            ("date", "boolean"),
            ("string", "multipicklist"),
            ("date", "datetime"),
            ("string", "combobox"),
        ] {
            assert_eq!(compare_types(a, b), OtherKind, "{a} {b}");
        }
        assert_eq!(compare_types("combobox", "combobox"), Same);
    }
}
