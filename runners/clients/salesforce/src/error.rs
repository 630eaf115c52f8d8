//! Errors.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::soql::SoqlError;
use crate::types::LimitInfo;

/// One entry of a Salesforce error array (`errorCode`) or of a per-record result
/// (`statusCode`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct ErrorDetail {
    #[serde(rename = "errorCode", alias = "statusCode")]
    pub error_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message.trim())?;
        if !self.fields.is_empty() {
            write!(f, " [fields: {}]", self.fields.join(", "))?;
        }
        Ok(())
    }
}

/// A REST error response: the HTTP status and the error array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub errors: Vec<ErrorDetail>,
}

impl ApiError {
    /// Whether any entry has this `errorCode`.
    pub fn has_code(&self, code: &str) -> bool {
        self.errors.iter().any(|e| e.error_code == code)
    }

    /// The first `errorCode`, if any.
    pub fn first_code(&self) -> Option<&str> {
        self.errors.first().map(|e| e.error_code.as_str())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salesforce API error (HTTP {})", self.status)?;
        for (i, e) in self.errors.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Everything a call can fail with. No variant ever carries a token or a credential.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The token endpoint refused the grant (or answered something unexpected).
    #[error(
        "Salesforce authentication failed ({flow} flow, HTTP {status}): {error}: {description}"
    )]
    Auth {
        flow: &'static str,
        status: u16,
        error: String,
        description: String,
    },

    /// A REST error that no more specific variant covers.
    #[error("{0}")]
    Api(ApiError),

    /// The org's API allocation is spent (403 `REQUEST_LIMIT_EXCEEDED`). Never retried: the
    /// run must stop.
    #[error("Salesforce API request limit exceeded ({message}){}; stopping: further calls fail until the org's rolling 24-hour usage drops", usage_suffix(.limit_info))]
    RequestLimitExceeded {
        message: String,
        limit_info: Option<LimitInfo>,
    },

    /// 412 on a conditional update: the record changed after the given time.
    #[error("conflict: {sobject} {id} was modified after {since} (If-Unmodified-Since)")]
    Conflict {
        sobject: String,
        id: String,
        since: String,
        errors: Vec<ErrorDetail>,
    },

    /// 404: the record or resource does not exist (or was deleted).
    #[error("not found: {what}{}", detail_suffix(.errors))]
    NotFound {
        what: String,
        errors: Vec<ErrorDetail>,
    },

    /// An attempt took longer than the configured request timeout (after retries).
    #[error("Salesforce request timed out after {0:?}")]
    Timeout(Duration),

    /// Connection-level failure (after retries).
    #[error("transport error talking to Salesforce: {0}")]
    Transport(String),

    /// A response that doesn't have the expected shape.
    #[error("unexpected Salesforce response (HTTP {status}): {message}")]
    Decode { status: u16, message: String },

    /// A SOQL statement the builder refused to render.
    #[error(transparent)]
    Soql(#[from] SoqlError),

    /// Bad configuration (URL, key…).
    #[error("invalid Salesforce client configuration: {0}")]
    Config(String),

    /// A bad argument (identifier, id, batch).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

fn usage_suffix(li: &Option<LimitInfo>) -> String {
    li.as_ref().map_or(String::new(), |l| {
        format!(", api-usage {}/{}", l.used, l.max)
    })
}

fn detail_suffix(errors: &[ErrorDetail]) -> String {
    errors.first().map_or(String::new(), |e| format!(" ({e})"))
}

impl Error {
    /// The REST error entries, when the error came from a REST error array.
    pub fn details(&self) -> &[ErrorDetail] {
        match self {
            Error::Api(a) => &a.errors,
            Error::Conflict { errors, .. } | Error::NotFound { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(a) => Some(a.status),
            Error::Auth { status, .. } | Error::Decode { status, .. } => Some(*status),
            Error::RequestLimitExceeded { .. } => Some(403),
            Error::Conflict { .. } => Some(412),
            Error::NotFound { .. } => Some(404),
            _ => None,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
