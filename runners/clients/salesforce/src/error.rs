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

    /// The org's API usage (`Sforce-Limit-Info`) is above `100 - api_headroom_percent`
    /// percent of its allocation: the call was not sent, so that the org's other integrations
    /// keep their share. Batch runs stop; queued work waits, like an outage.
    #[error(
        "Salesforce API allocation reached: the org has used {used} of its {max} daily API calls ({}), above the share crmmap may use (see `api_headroom_percent`); no call was made",
        usage_text(.used, .max)
    )]
    AllocationReached { used: u64, max: u64 },

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

fn usage_text(used: &u64, max: &u64) -> String {
    crate::types::ApiUsage {
        used: *used,
        max: *max,
    }
    .to_string()
}

fn usage_suffix(li: &Option<LimitInfo>) -> String {
    li.as_ref()
        .map_or(String::new(), |l| format!(", {}", l.usage()))
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

    /// Whether Salesforce refused to update a converted Lead (`CANNOT_UPDATE_CONVERTED_LEAD`,
    /// HTTP 400 on a single update, or in a collection's per-record errors; realtime-and-limits.md
    /// §7). Recognised by the code, or by the documented message `cannot reference converted
    /// lead` should the code differ.
    pub fn is_converted_lead(&self) -> bool {
        self.details().iter().any(is_converted_lead_detail)
    }

    /// The org's usage when the error is about its API allocation (crmmap's threshold or
    /// Salesforce's own `REQUEST_LIMIT_EXCEEDED`).
    pub fn api_usage(&self) -> Option<crate::types::ApiUsage> {
        match self {
            Error::AllocationReached { used, max } => Some(crate::types::ApiUsage {
                used: *used,
                max: *max,
            }),
            Error::RequestLimitExceeded { limit_info, .. } => {
                limit_info.as_ref().map(LimitInfo::usage)
            }
            _ => None,
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

/// Whether one error entry (of a REST error array, or of a collection's per-record result)
/// refuses an update of a converted Lead.
pub fn is_converted_lead_detail(e: &ErrorDetail) -> bool {
    e.error_code == "CANNOT_UPDATE_CONVERTED_LEAD"
        || e.message
            .to_ascii_lowercase()
            .contains("cannot reference converted lead")
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(code: &str, message: &str) -> ErrorDetail {
        ErrorDetail {
            error_code: code.into(),
            message: message.into(),
            fields: vec![],
        }
    }

    /// The single-update shape is from a third-party fixture and the Collections mapping is
    /// unconfirmed (realtime-and-limits.md §7): the code or the message is enough.
    #[test]
    fn a_converted_lead_is_recognised_by_its_code_or_its_message() {
        let api = |d: ErrorDetail| {
            Error::Api(ApiError {
                status: 400,
                errors: vec![d],
            })
        };
        assert!(api(detail("CANNOT_UPDATE_CONVERTED_LEAD", "")).is_converted_lead());
        assert!(
            api(detail("SOME_OTHER_CODE", "Cannot reference converted lead")).is_converted_lead()
        );
        assert!(
            !api(detail("FIELD_CUSTOM_VALIDATION_EXCEPTION", "lead status")).is_converted_lead()
        );
        assert!(!Error::Transport("x".into()).is_converted_lead());
    }
}
