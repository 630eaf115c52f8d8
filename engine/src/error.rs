//! Runtime errors and their codes.
//!
//! The codes form an append-only registry: every code is written out explicitly, and a code that
//! has shipped is never reused for another meaning. Messages follow the house style: lowercase,
//! no trailing period, user values in backticks.

use std::fmt;

use crmmap_dsl::model::Origin;

/// A stable runtime error code (`R01xx`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    /// Text could not be read as a number.
    NotANumber,
    /// Text could not be read as a date.
    NotADate,
    /// Text could not be read as a date and time.
    NotADateTime,
    /// Text could not be read as a boolean.
    NotABoolean,
    /// Labels and text only convert through `join` / `split`.
    LabelsNeedJoin,
    /// A monday column value had an unexpected shape.
    MondayValueShape,
    /// A Salesforce field value had an unexpected shape.
    SalesforceValueShape,
    /// A status index or dropdown id is not in the column's settings.
    UnknownLabelId,
    /// A number is too large or too precise to handle exactly.
    NumberOutOfRange,
    /// A value of one kind cannot become the other kind.
    KindMismatch,
    /// A date moved outside the supported calendar.
    DateOutOfRange,
    /// An expression read an alias whose record does not exist yet.
    UnresolvedAlias,
}

impl Code {
    /// Every code, in registry order.
    pub const ALL: &'static [Code] = &[
        Code::NotANumber,
        Code::NotADate,
        Code::NotADateTime,
        Code::NotABoolean,
        Code::LabelsNeedJoin,
        Code::MondayValueShape,
        Code::SalesforceValueShape,
        Code::UnknownLabelId,
        Code::NumberOutOfRange,
        Code::KindMismatch,
        Code::DateOutOfRange,
        Code::UnresolvedAlias,
    ];

    /// The code as shown to users (`R0101`).
    pub fn as_str(self) -> &'static str {
        // INVARIANT: append only; never renumber or reuse a code that has shipped.
        match self {
            Code::NotANumber => "R0101",
            Code::NotADate => "R0102",
            Code::NotADateTime => "R0103",
            Code::NotABoolean => "R0104",
            Code::LabelsNeedJoin => "R0105",
            Code::MondayValueShape => "R0106",
            Code::SalesforceValueShape => "R0107",
            Code::UnknownLabelId => "R0108",
            Code::NumberOutOfRange => "R0109",
            Code::KindMismatch => "R0110",
            Code::DateOutOfRange => "R0111",
            Code::UnresolvedAlias => "R0112",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A runtime error: a value that could not be converted or transformed.
///
/// It names the column and field involved and where the mapping declares them, once known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// The stable code.
    pub code: Code,
    /// What went wrong, in the house style.
    pub message: String,
    /// The monday column involved, when known.
    pub column: Option<String>,
    /// The Salesforce field involved, when known.
    pub field: Option<String>,
    /// Where the mapping declares the failing item, when known.
    pub origin: Option<Origin>,
}

impl EvalError {
    /// An error with a code and a message, not yet tied to a field.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        EvalError {
            code,
            message: message.into(),
            column: None,
            field: None,
            origin: None,
        }
    }

    /// Ties the error to a column, unless it already names one.
    pub fn with_column(mut self, column: &str) -> Self {
        if self.column.is_none() {
            self.column = Some(column.to_owned());
        }
        self
    }

    /// Ties the error to a Salesforce field, unless it already names one.
    pub fn with_field(mut self, field: &str) -> Self {
        if self.field.is_none() {
            self.field = Some(field.to_owned());
        }
        self
    }

    /// Ties the error to a place in a mapping, unless it already has one.
    pub fn with_origin(mut self, origin: &Origin) -> Self {
        if self.origin.is_none() {
            self.origin = Some(origin.clone());
        }
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        match (&self.column, &self.field) {
            (Some(c), Some(fl)) => write!(f, " (column `{c}`, field `{fl}`)")?,
            (Some(c), None) => write!(f, " (column `{c}`)")?,
            (None, Some(fl)) => write!(f, " (field `{fl}`)")?,
            (None, None) => {}
        }
        if let Some(o) = &self.origin {
            write!(f, " at {o}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EvalError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(s.len() == 5 && s.starts_with("R01"), "{s}");
            assert!(seen.insert(s), "duplicate code {s}");
        }
    }

    #[test]
    fn display_names_column_field_and_origin() {
        let origin = Origin {
            file: "mappings/lead.crmmap".into(),
            line: 14,
            column: 3,
        };
        let e = EvalError::new(Code::NotANumber, "cannot read `abc` as a number")
            .with_column("numbers_1")
            .with_field("Amount")
            .with_origin(&origin);
        assert_eq!(
            e.to_string(),
            "R0101: cannot read `abc` as a number (column `numbers_1`, field `Amount`) at mappings/lead.crmmap:14"
        );
    }
}
