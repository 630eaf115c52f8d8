//! The official monday.com SDL (API 2026-10) and validation of GraphQL documents against it.

use std::sync::OnceLock;

use apollo_compiler::ast;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

/// The official monday.com GraphQL SDL, API version 2026-10 (provenance in
/// `schema/monday-schema.graphql.source.md`).
pub const SCHEMA_SDL: &str = include_str!("../schema/monday-schema.graphql");

/// The API version the SDL describes and the client sends by default.
pub const SCHEMA_API_VERSION: &str = "2026-10";

/// Definitions in the SDL that apollo-compiler itself provides (built-in scalars and the
/// introspection types); it rejects the schema when they are redefined, so they are dropped.
const BUILT_IN_DEFINITIONS: [&str; 13] = [
    "Int",
    "Float",
    "String",
    "Boolean",
    "ID",
    "__Schema",
    "__Type",
    "__TypeKind",
    "__Field",
    "__InputValue",
    "__EnumValue",
    "__Directive",
    "__DirectiveLocation",
];

/// The parsed and validated monday schema, built once per process.
///
/// # Panics
///
/// Panics if the embedded SDL does not build into a valid schema, which a unit test rules out.
pub fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| build_schema().expect("the embedded monday sdl builds into a valid schema"))
}

fn build_schema() -> Result<Valid<Schema>, String> {
    let mut document = ast::Document::parse(SCHEMA_SDL, "monday-schema.graphql")
        .map_err(|errors| errors.to_string())?;
    document.definitions.retain(|definition| {
        definition
            .name()
            .is_none_or(|name| !BUILT_IN_DEFINITIONS.contains(&name.as_str()))
    });
    document
        .to_schema_validate()
        .map_err(|errors| errors.to_string())
}

/// One problem found in a GraphQL document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentProblem {
    /// The message, as apollo-compiler words it.
    pub message: String,
    /// 1-based line and column of the problem, when known.
    pub location: Option<(usize, usize)>,
}

/// Why a GraphQL document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// The text is not GraphQL.
    #[error("graphql syntax error: {}", first_message(.0))]
    Syntax(Vec<DocumentProblem>),
    /// The text is GraphQL but does not validate against the monday schema.
    #[error("graphql document does not validate: {}", first_message(.0))]
    Invalid(Vec<DocumentProblem>),
}

impl DocumentError {
    /// Every problem found.
    pub fn problems(&self) -> &[DocumentProblem] {
        match self {
            Self::Syntax(problems) | Self::Invalid(problems) => problems,
        }
    }
}

fn first_message(problems: &[DocumentProblem]) -> &str {
    problems
        .first()
        .map_or("unknown problem", |p| p.message.as_str())
}

fn problems(errors: &apollo_compiler::validation::DiagnosticList) -> Vec<DocumentProblem> {
    errors
        .iter()
        .map(|diagnostic| {
            let json = diagnostic.to_json();
            DocumentProblem {
                message: json.message.clone(),
                location: json.locations.first().map(|l| (l.line, l.column)),
            }
        })
        .collect()
}

/// Parses `source` and validates it against the monday schema.
pub fn validate_document(source: &str) -> Result<Valid<ExecutableDocument>, DocumentError> {
    let parsed = ast::Document::parse(source, "request.graphql");
    let document = match parsed {
        Ok(document) => document,
        Err(with_errors) => return Err(DocumentError::Syntax(problems(&with_errors.errors))),
    };
    document
        .to_executable_validate(schema())
        .map_err(|with_errors| DocumentError::Invalid(problems(&with_errors.errors)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_sdl_builds_a_schema_with_the_item_type() {
        let schema = schema();
        assert!(schema.get_object("Item").is_some());
        assert!(schema.get_interface("ColumnValue").is_some());
    }

    #[test]
    fn removed_boards_items_form_is_rejected() {
        let err = validate_document("query { boards(ids: [1]) { items { id } } }").unwrap_err();
        assert!(matches!(err, DocumentError::Invalid(_)), "{err:?}");
        assert!(
            err.problems().iter().any(|p| p.message.contains("`items`")),
            "{:?}",
            err.problems()
        );
    }

    #[test]
    fn syntax_errors_are_reported_as_syntax() {
        let err = validate_document("query { boards(ids: [1] { id } }").unwrap_err();
        assert!(matches!(err, DocumentError::Syntax(_)), "{err:?}");
        assert!(err.problems()[0].location.is_some());
    }
}
