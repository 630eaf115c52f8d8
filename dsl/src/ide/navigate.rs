//! Go to definition (translate tables, objects) and renaming a translate table everywhere.

use super::Analysis;
use super::symbols::{self, Symbol};
use crate::source::{FileId, Span};

/// A replacement of the text at `span`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// What is replaced.
    pub span: Span,
    /// The new text.
    pub text: String,
}

/// Why a rename is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameError {
    /// The cursor is not on a translate table's name.
    NotATable,
    /// The new name is not a name the language accepts there.
    InvalidName(String),
    /// Another table already has the new name.
    Taken(String),
    /// A file does not parse: its references cannot be found, so nothing is renamed.
    Unparsed(String),
}

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenameError::NotATable => f.write_str("only a translate table can be renamed"),
            RenameError::InvalidName(n) => write!(
                f,
                "`{n}` is not a valid table name (letters, digits and `_`, not starting with a digit; not `today`)"
            ),
            RenameError::Taken(n) => write!(f, "a translate table named `{n}` already exists"),
            RenameError::Unparsed(p) => write!(
                f,
                "`{p}` does not parse: fix it first so that its references are renamed too"
            ),
        }
    }
}

impl std::error::Error for RenameError {}

impl Analysis<'_> {
    /// Where the table or object named at byte `offset` of `file` is declared.
    pub fn definition(&self, file: FileId, offset: usize) -> Option<Span> {
        let at = self.occurrence_at(file, offset)?;
        match &at.symbol {
            Symbol::Table(name) => self
                .tables()
                .find(|t| &t.name.node == name)
                .map(|t| t.name.span),
            Symbol::Object(name) => self.object(name).map(|o| o.name.span),
            _ => None,
        }
    }

    /// The edits that rename the translate table named at byte `offset` of `file` to `new_name`:
    /// its declaration and every `translate(…)` that uses it, in every file.
    pub fn rename(
        &self,
        file: FileId,
        offset: usize,
        new_name: &str,
    ) -> Result<Vec<Edit>, RenameError> {
        let Some(Symbol::Table(old)) = self.occurrence_at(file, offset).map(|o| o.symbol) else {
            return Err(RenameError::NotATable);
        };
        if !valid_table_name(new_name) {
            return Err(RenameError::InvalidName(new_name.to_owned()));
        }
        if new_name != old && self.tables().any(|t| t.name.node == new_name) {
            return Err(RenameError::Taken(new_name.to_owned()));
        }
        let mut edits = Vec::new();
        for (source, tree) in self.map.files().iter().zip(&self.trees) {
            let Some(tree) = tree else {
                return Err(RenameError::Unparsed(source.path.to_string()));
            };
            edits.extend(
                symbols::occurrences(tree)
                    .into_iter()
                    .filter(|o| o.symbol == Symbol::Table(old.clone()))
                    .map(|o| Edit {
                        span: o.span,
                        text: new_name.to_owned(),
                    }),
            );
        }
        Ok(edits)
    }
}

/// An identifier that reads back as a table name in `translate(name)`.
fn valid_table_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        // `today` is read as the date, not as a name.
        && name != "today"
}
