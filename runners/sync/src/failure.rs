//! What a failed API call means for the work that made it: an outage of the API, a permanent
//! refusal of this record or item, or something worth trying again. Both runners classify
//! every failure here, and the retry queue acts on the class ([`FailureClass`]).
//!
//! | class | Salesforce | monday |
//! |---|---|---|
//! | outage (no attempt charged; the queue pauses behind a breaker) | connection errors, timeouts, 502/503/504, `SERVER_UNAVAILABLE`, `REQUEST_LIMIT_EXCEEDED`, the org's API usage above crmmap's share (`AllocationReached`, no call made), `API_DISABLED_FOR_ORG`, a refused login | connection errors, 502/503/504 after retries, a rate limit (minute, concurrency, IP, complexity) whose wait outlasts `[monday] max_wait_s`, the daily limit, `API_TEMPORARILY_BLOCKED`, refused credentials |
//! | permanent (dead-lettered at once) | the record refused: `CANNOT_UPDATE_CONVERTED_LEAD`, `INVALID_FIELD`, `FIELD_CUSTOM_VALIDATION_EXCEPTION`, `REQUIRED_FIELD_MISSING`, `STRING_TOO_LONG`, `INVALID_CROSS_REFERENCE_KEY`, … (see [`PERMANENT_SALESFORCE_CODES`]); not found; a query or argument crmmap cannot build | `ColumnValueException`, unknown column, board or group, item gone, name too long, board full, query too complex, `DATA_VALIDATIONS_ERROR`, a refused request |
//! | transient (backoff) | everything else: `UNABLE_TO_LOCK_ROW`, `UNKNOWN_EXCEPTION`, a 412 conflict, an unexpected answer | 500 and 423 after retries, a write answered badly after it was sent, everything else |
//!
//! The codes come from the vendors' error catalogues (`salesforce-api.md` §4.3,
//! `monday-api.md` §1.5 and §2.1 of the reference). A code neither lists is transient: it is
//! retried a bounded number of times, never forever.

pub use crmmap_store::FailureClass;

use crmmap_monday::MondayError;
use crmmap_salesforce::Error as SfError;

/// Salesforce `errorCode`s that refuse the record itself: sending it again fails again until a
/// person changes the data, the mapping or the org.
pub const PERMANENT_SALESFORCE_CODES: &[&str] = &[
    "CANNOT_UPDATE_CONVERTED_LEAD",
    "INVALID_FIELD",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "REQUIRED_FIELD_MISSING",
    "STRING_TOO_LONG",
    "INVALID_CROSS_REFERENCE_KEY",
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
    "INVALID_EMAIL_ADDRESS",
    "NUMBER_OUTSIDE_VALID_RANGE",
    "INVALID_FIELD_FOR_INSERT_UPDATE",
    "INVALID_TYPE",
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "FIELD_INTEGRITY_EXCEPTION",
    "MALFORMED_ID",
    "MALFORMED_QUERY",
    "JSON_PARSER_ERROR",
    "DUPLICATE_VALUE",
    "DUPLICATES_DETECTED",
    "ENTITY_IS_DELETED",
    "INSUFFICIENT_ACCESS",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
    "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
    "DELETE_FAILED",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
];

/// Salesforce `errorCode`s that refuse every call for now.
const OUTAGE_SALESFORCE_CODES: &[&str] = &[
    "SERVER_UNAVAILABLE",
    "REQUEST_LIMIT_EXCEEDED",
    "API_DISABLED_FOR_ORG",
];

/// monday `extensions.code`s that refuse the item or value itself.
const PERMANENT_MONDAY_CODES: &[&str] = &[
    "DATA_VALIDATIONS_ERROR",
    "InvalidArgumentException",
    "InvalidUserIdException",
    "RecordInvalidException",
    "undefinedField",
];

/// The class of a Salesforce client error.
pub fn salesforce(e: &SfError) -> FailureClass {
    match e {
        SfError::Transport(_)
        | SfError::Timeout(_)
        | SfError::RequestLimitExceeded { .. }
        | SfError::AllocationReached { .. } => FailureClass::Outage,
        // A login refused or failing refuses every call: nothing an item can change.
        SfError::Auth { .. } => FailureClass::Outage,
        SfError::Api(a) => {
            if OUTAGE_SALESFORCE_CODES.iter().any(|c| a.has_code(c))
                || matches!(a.status, 502..=504)
            {
                FailureClass::Outage
            } else if PERMANENT_SALESFORCE_CODES.iter().any(|c| a.has_code(c))
                || e.is_converted_lead()
            {
                FailureClass::Permanent
            } else {
                FailureClass::Transient
            }
        }
        SfError::NotFound { .. }
        | SfError::Soql(_)
        | SfError::Config(_)
        | SfError::InvalidArgument(_) => FailureClass::Permanent,
        SfError::Conflict { .. } | SfError::Decode { .. } => FailureClass::Transient,
    }
}

/// The class of a monday client error.
pub fn monday(e: &MondayError) -> FailureClass {
    match e {
        // A rate limit whose wait outlasts what a call may wait, or the daily limit: every
        // call is refused for now, whatever the item.
        MondayError::Transport(_)
        | MondayError::Unauthorized { .. }
        | MondayError::RateLimited { .. }
        | MondayError::DailyLimit { .. } => FailureClass::Outage,
        // 502–504: the service is down. A 500 is "often bad ids or malformed column JSON" and a
        // 423 a board locked by a concurrent update (reference §1.5): the item's own trouble,
        // or a passing one; as an outage, one such item would hold the whole queue.
        MondayError::Unavailable {
            status: 502..=504, ..
        } => FailureClass::Outage,
        // A write that reached monday and was answered badly: tried again (with backoff and
        // reconciliation), not a reason to pause everything.
        MondayError::Unavailable { .. } | MondayError::OutcomeUnknown { .. } => {
            FailureClass::Transient
        }
        MondayError::ColumnValue { .. }
        | MondayError::InvalidColumnId { .. }
        | MondayError::InvalidBoardId { .. }
        | MondayError::GroupNotFound { .. }
        | MondayError::ItemGone { .. }
        | MondayError::ItemNameTooLong { .. }
        | MondayError::ItemsLimit { .. }
        | MondayError::QueryTooComplex { .. }
        | MondayError::BadRequest { .. } => FailureClass::Permanent,
        // A limit the client did not type (it types every one it recognises): by its code or
        // message, never by one exact code (`crmmap_monday::error::limit_named`).
        MondayError::Api { code, message } => {
            if crmmap_monday::error::limit_named(None, code.as_deref(), message).is_some() {
                FailureClass::Outage
            } else if code
                .as_deref()
                .is_some_and(|c| PERMANENT_MONDAY_CODES.contains(&c))
            {
                FailureClass::Permanent
            } else {
                FailureClass::Transient
            }
        }
        MondayError::Shape(_) => FailureClass::Transient,
        // An answer holding an id that is not one: the item's own trouble, not passing.
        MondayError::InvalidId { .. } => FailureClass::Permanent,
    }
}

/// The API an outage is of: the key of its circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Salesforce's REST API (and its login).
    Salesforce,
    /// monday's GraphQL API.
    Monday,
    /// crmmap's own state store.
    Store,
}

impl Api {
    /// The breaker's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Salesforce => "salesforce",
            Api::Monday => "monday",
            Api::Store => "store",
        }
    }
}

/// A classified failure: what it is, and (for an outage) of which API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classified {
    /// What the queue does with the work.
    pub class: FailureClass,
    /// The API that failed, when an API did.
    pub api: Option<Api>,
}

impl Classified {
    /// A failure of an API call.
    pub fn of(api: Api, class: FailureClass) -> Classified {
        Classified {
            class,
            api: Some(api),
        }
    }

    /// A failure that is no API's (a value, a bug): never an outage.
    pub fn local(class: FailureClass) -> Classified {
        Classified { class, api: None }
    }
}

impl crate::migrate::MigrateError {
    /// The class of an error that stopped a migration (or a retried record).
    pub fn classify(&self) -> Classified {
        use crate::migrate::MigrateError as E;
        match self {
            E::Salesforce(e) => Classified::of(Api::Salesforce, salesforce(e)),
            E::Monday(e) => Classified::of(Api::Monday, monday(e)),
            E::Store(_) => Classified::of(Api::Store, FailureClass::Outage),
            // Another migration holds the lease: this one may run later.
            E::Busy(_) => Classified::local(FailureClass::Transient),
            E::UnknownObject(_) | E::ChunkSize(_) | E::Soql { .. } => {
                Classified::local(FailureClass::Permanent)
            }
            // The mapping names a board monday does not have: no retry can fix it.
            E::BoardMissing { .. } => Classified::of(Api::Monday, FailureClass::Permanent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crmmap_salesforce::error::{ApiError, ErrorDetail};

    fn api(status: u16, code: &str) -> SfError {
        SfError::Api(ApiError {
            status,
            errors: vec![ErrorDetail {
                error_code: code.into(),
                message: "m".into(),
                fields: vec![],
            }],
        })
    }

    #[test]
    fn salesforce_codes_are_classified_as_the_catalogue_says() {
        use FailureClass::*;
        let cases = [
            (api(400, "CANNOT_UPDATE_CONVERTED_LEAD"), Permanent),
            (api(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION"), Permanent),
            (api(400, "REQUIRED_FIELD_MISSING"), Permanent),
            (api(400, "STRING_TOO_LONG"), Permanent),
            (api(400, "INVALID_CROSS_REFERENCE_KEY"), Permanent),
            (api(400, "INVALID_FIELD"), Permanent),
            (api(400, "UNABLE_TO_LOCK_ROW"), Transient),
            (api(500, "UNKNOWN_EXCEPTION"), Transient),
            (api(400, "SOMETHING_NEW"), Transient),
            (api(503, "SERVER_UNAVAILABLE"), Outage),
            (api(502, "BAD_GATEWAY"), Outage),
            (api(403, "API_DISABLED_FOR_ORG"), Outage),
            (SfError::Transport("reset".into()), Outage),
            (SfError::Timeout(std::time::Duration::from_secs(1)), Outage),
            (
                SfError::RequestLimitExceeded {
                    message: "TotalRequests Limit exceeded.".into(),
                    limit_info: None,
                },
                Outage,
            ),
            (
                SfError::AllocationReached {
                    used: 9_500,
                    max: 10_000,
                },
                Outage,
            ),
            (
                SfError::Api(ApiError {
                    status: 400,
                    errors: vec![ErrorDetail {
                        error_code: "SOME_NEWER_CODE".into(),
                        message: "cannot reference converted lead".into(),
                        fields: vec![],
                    }],
                }),
                Permanent,
            ),
        ];
        for (e, want) in cases {
            assert_eq!(salesforce(&e), want, "{e}");
        }
    }

    #[test]
    fn monday_errors_are_classified() {
        use FailureClass::*;
        let api = |code: &str| MondayError::Api {
            code: Some(code.into()),
            message: "m".into(),
        };
        let cases = [
            (MondayError::Transport("reset".into()), Outage),
            (
                MondayError::Unavailable {
                    status: 503,
                    attempts: 3,
                },
                Outage,
            ),
            (
                MondayError::Unavailable {
                    status: 500,
                    attempts: 3,
                },
                Transient,
            ),
            (
                MondayError::Unavailable {
                    status: 423,
                    attempts: 3,
                },
                Transient,
            ),
            (
                MondayError::RateLimited {
                    message: "Rate Limit Exceeded".into(),
                    retry_in: Some(std::time::Duration::from_secs(90)),
                    waited: std::time::Duration::ZERO,
                },
                Outage,
            ),
            (
                MondayError::DailyLimit {
                    message: "DAILY_LIMIT_EXCEEDED".into(),
                    reset_at: time::OffsetDateTime::UNIX_EPOCH,
                },
                Outage,
            ),
            (api("DAILY_LIMIT_EXCEEDED"), Outage),
            (api("API_TEMPORARILY_BLOCKED"), Outage),
            (api("rateLimitExceeded"), Outage),
            (
                MondayError::InvalidBoardId {
                    board_id: Some(crmmap_ids::BoardId::new(1)),
                    message: "no such board".into(),
                },
                Permanent,
            ),
            (
                MondayError::GroupNotFound {
                    message: "Group not found".into(),
                },
                Permanent,
            ),
            (
                MondayError::ColumnValue {
                    message: "bad".into(),
                    column_type: None,
                    column_id: None,
                },
                Permanent,
            ),
            (api("DATA_VALIDATIONS_ERROR"), Permanent),
            (api("SomethingNew"), Transient),
        ];
        for (e, want) in cases {
            assert_eq!(monday(&e), want, "{e}");
        }
    }
}
