//! A decoded GraphQL answer: `data`, `errors` and `complexity`.

use serde_json::Value;

use crate::error::{GraphQlError, Limit, MondayError, classify, limit_named};
use crate::types::Complexity;

/// A decoded GraphQL response.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphQlResponse {
    /// `data`, `Null` when absent.
    pub data: Value,
    /// `errors`.
    pub errors: Vec<GraphQlError>,
    /// `data.complexity`, when present.
    pub complexity: Option<Complexity>,
}

impl GraphQlResponse {
    /// Parses a response body.
    pub fn from_json(body: &Value) -> Self {
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        // The historic flat shape (reference §1.5) carries its code beside `errors`.
        let errors = GraphQlError::from_flat(body)
            .into_iter()
            .chain(
                body.get("errors")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(GraphQlError::from_json),
            )
            .collect();
        let complexity = data
            .get("complexity")
            .and_then(|c| serde_json::from_value(c.clone()).ok());
        Self {
            data,
            errors,
            complexity,
        }
    }

    pub(super) fn into_data(self) -> Result<Value, MondayError> {
        match self.errors.first() {
            Some(error) => Err(classify(error)),
            None => Ok(self.data),
        }
    }

    /// Whether `data` holds a result of any root field besides `complexity`: then monday ran
    /// at least part of the document.
    pub(super) fn ran(&self) -> bool {
        self.data
            .as_object()
            .is_some_and(|d| d.iter().any(|(k, v)| k != "complexity" && !v.is_null()))
    }

    /// The first error that names a limit, with the limit.
    pub(super) fn limit(&self) -> Option<(Limit, &GraphQlError)> {
        self.errors
            .iter()
            .find_map(|e| limit_named(None, e.code.as_deref(), &e.message).map(|limit| (limit, e)))
    }
}
