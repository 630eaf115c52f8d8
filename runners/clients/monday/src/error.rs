//! Errors of the monday client and the classification of monday's error codes.

use serde_json::Value;

use crate::types::ShapeError;

/// One entry of a GraphQL `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphQlError {
    /// The message.
    pub message: String,
    /// `extensions.code`, if any.
    pub code: Option<String>,
    /// `extensions.error_data`, if any.
    pub error_data: Option<Value>,
    /// The response path; the first segment is the alias of a batched mutation.
    pub path: Vec<Value>,
    /// `extensions.retry_in_seconds`, if any.
    pub retry_in_seconds: Option<u64>,
}

impl GraphQlError {
    /// Parses one error object.
    pub fn from_json(raw: &Value) -> Self {
        let extensions = raw.get("extensions");
        Self {
            message: raw
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            code: extensions
                .and_then(|e| e.get("code"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            error_data: extensions.and_then(|e| e.get("error_data")).cloned(),
            path: raw
                .get("path")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            retry_in_seconds: extensions
                .and_then(|e| e.get("retry_in_seconds"))
                .and_then(Value::as_u64),
        }
    }

    /// The first path segment, as a string (the alias of a batched mutation).
    pub fn root_field(&self) -> Option<&str> {
        self.path.first().and_then(Value::as_str)
    }
}

/// Everything that can go wrong talking to monday.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MondayError {
    /// The request could not be sent or the response not read.
    #[error("monday request failed: {0}")]
    Transport(String),
    /// Missing, wrong or insufficient token (HTTP 401/403).
    #[error("monday rejected the credentials (http {status})")]
    Unauthorized {
        /// HTTP status.
        status: u16,
    },
    /// A value does not fit its column (`ColumnValueException`).
    #[error("invalid column value: {message}")]
    ColumnValue {
        /// monday's message.
        message: String,
        /// `error_data.column_type`, e.g. `color`.
        column_type: Option<String>,
        /// `error_data.column_id`, when given.
        column_id: Option<String>,
    },
    /// The column id does not exist on the board.
    #[error("unknown column: {message}")]
    InvalidColumnId {
        /// monday's message.
        message: String,
    },
    /// The board id does not exist or is not accessible.
    #[error("unknown board: {message}")]
    InvalidBoardId {
        /// monday's message.
        message: String,
    },
    /// The item was deleted, archived or never existed.
    #[error("item gone: {message}")]
    ItemGone {
        /// monday's message.
        message: String,
    },
    /// Item name empty or longer than 255 characters.
    #[error("item name too long: {message}")]
    ItemNameTooLong {
        /// monday's message.
        message: String,
    },
    /// The board holds the maximum number of items.
    #[error("board item limit reached: {message}")]
    ItemsLimit {
        /// monday's message.
        message: String,
    },
    /// A single request is over the per-query complexity limit; split it.
    #[error("query too complex: {message}")]
    QueryTooComplex {
        /// monday's message.
        message: String,
    },
    /// Rate limited, and retries did not help.
    #[error("rate limited after {attempts} attempts: {message}")]
    RateLimited {
        /// monday's message or code.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// HTTP 423 or 5xx, and retries did not help.
    #[error("monday unavailable after {attempts} attempts (http {status})")]
    Unavailable {
        /// Last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// A write whose outcome is unknown (a timeout, a connection lost after the request was
    /// sent, HTTP 5xx, an unreadable answer): monday may have applied it. It was not resent,
    /// because it holds creates that would be made twice.
    #[error("monday may or may not have applied the write (not resent): {message}")]
    OutcomeUnknown {
        /// What was seen instead of an answer.
        message: String,
    },
    /// A request-level problem (HTTP 400, invalid document, bad variables).
    #[error("monday rejected the request (http {status}): {message}")]
    BadRequest {
        /// HTTP status.
        status: u16,
        /// monday's message.
        message: String,
    },
    /// Any other application error.
    #[error("monday error {}: {message}", code.as_deref().unwrap_or("without code"))]
    Api {
        /// `extensions.code`.
        code: Option<String>,
        /// monday's message.
        message: String,
    },
    /// The response did not have the expected shape.
    #[error(transparent)]
    Shape(#[from] ShapeError),
}

/// Whether an error means the item no longer exists (or never did) or is inactive.
///
/// UNCERTAIN (reference §1.5): monday has no documented "item not found" code. Codes
/// `ResourceNotFoundException`, `InvalidItemIdException`, `ItemNotFoundInBoard`,
/// `inactiveItems` and the messages "Item not found in board", "inactive items" and
/// "This item ID doesn't exist" are all treated as gone — here and nowhere else.
pub fn is_item_gone(code: Option<&str>, message: &str) -> bool {
    const CODES: [&str; 4] = [
        "ResourceNotFoundException",
        "InvalidItemIdException",
        "ItemNotFoundInBoard",
        "inactiveItems",
    ];
    const MESSAGES: [&str; 3] = [
        "item not found in board",
        "inactive items",
        "this item id doesn't exist",
    ];
    if code.is_some_and(|c| CODES.contains(&c)) {
        return true;
    }
    let lower = message.to_lowercase();
    MESSAGES.iter().any(|m| lower.contains(m))
}

/// Turns one GraphQL error into a typed error.
pub fn classify(error: &GraphQlError) -> MondayError {
    let message = error.message.clone();
    let code = error.code.as_deref();
    if is_item_gone(code, &message) {
        return MondayError::ItemGone { message };
    }
    let data_str = |key: &str| {
        error
            .error_data
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match code {
        Some("ColumnValueException") | Some("CorrectedValueException") => {
            MondayError::ColumnValue {
                message,
                column_type: data_str("column_type"),
                column_id: data_str("column_id"),
            }
        }
        Some("InvalidColumnIdException") => MondayError::InvalidColumnId { message },
        Some("InvalidBoardIdException") => MondayError::InvalidBoardId { message },
        Some("ItemNameTooLongException") => MondayError::ItemNameTooLong { message },
        Some("ItemsLimitationException") => MondayError::ItemsLimit { message },
        Some("ComplexityException") | Some("maxComplexityExceeded") => {
            MondayError::QueryTooComplex { message }
        }
        Some("UserUnauthorizedException")
        | Some("USER_ACCESS_DENIED")
        | Some("missingRequiredPermissions") => MondayError::Unauthorized { status: 403 },
        Some(code) => MondayError::Api {
            code: Some(code.to_owned()),
            message,
        },
        None => MondayError::Api {
            code: None,
            message,
        },
    }
}

/// Whether a GraphQL error code is a rate limit that is worth waiting out.
pub(crate) fn is_rate_limit_code(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "COMPLEXITY_BUDGET_EXHAUSTED"
                | "ComplexityException_BUDGET"
                | "maxConcurrencyExceeded"
                | "Rate Limit Exceeded"
                | "RATE_LIMIT_EXCEEDED"
                | "IP_RATE_LIMIT_EXCEEDED"
                | "FIELD_LIMIT_EXCEEDED"
                | "API_TEMPORARILY_BLOCKED"
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_gone_codes_and_messages_are_recognised() {
        assert!(is_item_gone(Some("ResourceNotFoundException"), "x"));
        assert!(is_item_gone(Some("InvalidItemIdException"), "x"));
        assert!(is_item_gone(Some("ItemNotFoundInBoard"), "x"));
        assert!(is_item_gone(None, "Item not found in board"));
        assert!(is_item_gone(
            None,
            "Cannot change column value for inactive items"
        ));
        assert!(!is_item_gone(Some("ColumnValueException"), "invalid value"));
    }

    #[test]
    fn column_value_exception_keeps_the_column_type() {
        let error = GraphQlError::from_json(&json!({
            "message": "invalid value - label does not exist in column",
            "path": ["m1"],
            "extensions": {"code": "ColumnValueException", "error_data": {"column_type": "color"}}
        }));
        assert_eq!(error.root_field(), Some("m1"));
        match classify(&error) {
            MondayError::ColumnValue { column_type, .. } => {
                assert_eq!(column_type.as_deref(), Some("color"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
