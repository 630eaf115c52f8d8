//! Errors of the monday client and the classification of monday's error codes.

use std::time::Duration;

use crmmap_ids::BoardId;
use serde::Deserialize as _;
use serde_json::Value;
use time::OffsetDateTime;

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
    /// Parses one error object (a bare string, as in the historic flat shape, is its message).
    pub fn from_json(raw: &Value) -> Self {
        if let Some(message) = raw.as_str() {
            return Self {
                message: message.to_owned(),
                code: None,
                error_data: None,
                path: Vec::new(),
                retry_in_seconds: None,
            };
        }
        let extensions = raw.get("extensions");
        let error_data = extensions.and_then(|e| e.get("error_data")).cloned();
        // The wait is in `extensions` (2025-07 shape, reference §2.3) or in `error_data`
        // (`FIELD_LIMIT_EXCEEDED`, reference §1.5): the longer one counts.
        let retry_in_seconds = [
            extensions.and_then(|e| e.get("retry_in_seconds")),
            error_data.as_ref().and_then(|d| d.get("retry_in_seconds")),
        ]
        .into_iter()
        .flatten()
        .filter_map(seconds)
        .max();
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
            error_data,
            path: raw
                .get("path")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            retry_in_seconds,
        }
    }

    /// The error of the historic flat body (`error_code`, `error_message`, `error_data`,
    /// reference §1.5), if the body has that shape.
    pub fn from_flat(body: &Value) -> Option<Self> {
        let code = body.get("error_code").and_then(Value::as_str);
        let message = body.get("error_message").and_then(Value::as_str);
        if code.is_none() && message.is_none() {
            return None;
        }
        let error_data = body.get("error_data").cloned();
        Some(Self {
            message: message.unwrap_or_default().to_owned(),
            code: code.map(str::to_owned),
            retry_in_seconds: error_data
                .as_ref()
                .and_then(|d| d.get("retry_in_seconds"))
                .and_then(seconds),
            error_data,
            path: Vec::new(),
        })
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
    /// The board does not exist (or was deleted), or the token cannot see it: a configuration
    /// error, never a reason to forget items.
    #[error("{}", board_not_found(*board_id, message))]
    InvalidBoardId {
        /// The board, when known.
        board_id: Option<BoardId>,
        /// monday's message.
        message: String,
    },
    /// The group does not exist on the board.
    #[error("unknown group: {message}")]
    GroupNotFound {
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
    /// A rate limit (complexity budget, minute, concurrency, IP, per field) asks for a longer
    /// wait than the call may still wait (`MondayConfig::max_wait`): the call was given up.
    #[error("{}", rate_limited(message, *retry_in, *waited))]
    RateLimited {
        /// monday's message or code.
        message: String,
        /// The wait monday asked for, when it said.
        retry_in: Option<Duration>,
        /// How long this call had already waited.
        waited: Duration,
    },
    /// monday's daily call limit is reached: no call succeeds before it resets (midnight UTC,
    /// reference §2.1). Not waited for.
    #[error(
        "monday's daily API call limit is reached ({message}); it resets at {}",
        rfc3339(reset_at)
    )]
    DailyLimit {
        /// monday's message or code.
        message: String,
        /// When the limit resets: the wait monday gave, else the next midnight UTC.
        reset_at: OffsetDateTime,
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
    /// An answer holds a board or item id that is not a monday id (or lacks one it must
    /// hold): read with the ids' serde, it fails the item or answer it is in.
    #[error("monday answered with an invalid id: {message}")]
    InvalidId {
        /// Which id, and why it is not one.
        message: String,
    },
}

fn board_not_found(board_id: Option<BoardId>, message: &str) -> String {
    match board_id {
        Some(id) => format!("monday board {id} does not exist or is not accessible ({message})"),
        None => format!("unknown board: {message}"),
    }
}

fn rate_limited(message: &str, retry_in: Option<Duration>, waited: Duration) -> String {
    let asked = retry_in.map_or_else(String::new, |d| {
        format!(" asks to wait {}s and", d.as_secs())
    });
    format!(
        "monday rate limit ({message}){asked} outlasts the wait allowed per call ([monday] \
         max_wait_s; {}s waited already)",
        waited.as_secs()
    )
}

/// A time as RFC 3339 (`2026-12-07T00:00:00Z`).
pub fn rfc3339(at: &OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

/// Whole seconds from a JSON number (a fraction rounds up; negative or absurd values are
/// dropped).
pub(crate) fn seconds(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e12)
            .map(|f| f.ceil() as u64)
    })
}

/// The longest wait any answer is trusted with (a day and a bit): values beyond it are outside
/// data gone wrong, and clamping them keeps the arithmetic on times safe.
pub(crate) const LONGEST_HINT: Duration = Duration::from_secs(2 * 86_400);

/// When the daily limit resets: after `wait` when monday gave one, else at the next midnight
/// UTC (reference §2.1: "reset midnight UTC").
pub fn daily_reset(now: OffsetDateTime, wait: Option<Duration>) -> OffsetDateTime {
    let now = now.to_offset(time::UtcOffset::UTC);
    if let Some(wait) = wait.filter(|w| !w.is_zero()) {
        let wait = time::Duration::seconds(wait.min(LONGEST_HINT).as_secs() as i64);
        if let Some(at) = now.checked_add(wait) {
            return at;
        }
    }
    now.date()
        .next_day()
        .map(|d| d.midnight().assume_utc())
        .unwrap_or(now)
}

/// Which of monday's request limits an answer names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The daily call limit: it resets at midnight UTC, so it is not waited for.
    Daily,
    /// A limit that lifts within about a minute: the complexity budget, the minute limit, the
    /// concurrency limit, the IP limit, a per-field or per-endpoint limit.
    Passing,
}

/// Codes that name something other than a limit: their messages are not searched for limit
/// words (a message may quote a column's title).
const NOT_LIMIT_CODES: [&str; 12] = [
    "ColumnValueException",
    "CorrectedValueException",
    "InvalidColumnIdException",
    "InvalidBoardIdException",
    "InvalidItemIdException",
    "InvalidUserIdException",
    "ItemNameTooLongException",
    "ItemsLimitationException",
    "ResourceNotFoundException",
    "ItemNotFoundInBoard",
    "inactiveItems",
    "DATA_VALIDATIONS_ERROR",
];

/// Words (lower case, without spaces or punctuation) that name a passing limit in a code or
/// message: `COMPLEXITY_BUDGET_EXHAUSTED`, `Rate Limit Exceeded`, `RATE_LIMIT_EXCEEDED`,
/// `maxConcurrencyExceeded`, `Concurrency limit exceeded`, `IP_RATE_LIMIT_EXCEEDED`,
/// `Minute limit rate exceeded`, `FIELD_LIMIT_EXCEEDED`, `Call limit exceeded for …`,
/// `API_TEMPORARILY_BLOCKED` (reference `monday-api.md` §1.5, §2.1, §2.3;
/// `realtime-and-limits.md` §4), and the camel-case codes of monday's own SDK.
const PASSING_WORDS: [&str; 9] = [
    "complexity",
    "ratelimit",
    "concurrency",
    "iprate",
    "minutelimit",
    "fieldlimit",
    "calllimit",
    "temporarilyblocked",
    "budgetexhausted",
];

fn squashed(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Which limit an answer names, if any: HTTP 429, or a code or message naming the
/// complexity budget, a rate limit, concurrency, the IP limit or the daily limit. Never one
/// exact code: monday's codes and messages for these vary between the docs, the changelog
/// and its SDK (`realtime-and-limits.md` §4, "Recommendation"). A single query over the
/// per-query complexity limit (`maxComplexityExceeded`, "exceeds max complexity") is no
/// limit to wait for: it never passes.
pub fn limit_named(status: Option<u16>, code: Option<&str>, message: &str) -> Option<Limit> {
    let code_text = squashed(code.unwrap_or_default());
    let known_other = code.is_some_and(|c| NOT_LIMIT_CODES.contains(&c));
    let text = if known_other {
        code_text.clone()
    } else {
        format!("{code_text} {}", squashed(message))
    };
    let budget = text.contains("budget");
    let too_complex = text.contains("maxcomplexity")
        || text.contains("toocomplex")
        || (code == Some("ComplexityException") && !budget);
    if text.contains("daily") && (text.contains("limit") || text.contains("calls")) {
        return Some(Limit::Daily);
    }
    if too_complex {
        return None;
    }
    if status == Some(429) || PASSING_WORDS.iter().any(|w| text.contains(w)) {
        return Some(Limit::Passing);
    }
    None
}

/// What a not-found answer says is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The item (deleted, archived or never there).
    Item,
    /// The board.
    Board,
    /// The group.
    Group,
    /// Something, but the answer does not say what: `ResourceNotFoundException` is used for
    /// items, groups and boards alike (reference §1.5). Whoever knows the board checks it.
    Unsure,
}

/// Item codes (reference §1.5, UNCERTAIN "missing items": `InvalidItemIdException`,
/// `ItemNotFoundInBoard`, `inactiveItems`).
const ITEM_CODES: [&str; 3] = [
    "InvalidItemIdException",
    "ItemNotFoundInBoard",
    "inactiveItems",
];

/// Messages of missing or inactive items (reference §1.5, observed by third parties).
const ITEM_MESSAGES: [&str; 3] = [
    "item not found in board",
    "inactive items",
    "this item id doesn't exist",
];

/// What an error says is missing, if it is a not-found answer.
///
/// - `InvalidItemIdException`, `ItemNotFoundInBoard`, `inactiveItems`, and the messages
///   "Item not found in board", "… inactive items", "This item ID doesn't exist": the item.
/// - `InvalidBoardIdException`; a "board not found" message (also under
///   `InvalidArgumentException`, reference §1.5): the board.
/// - `ResourceNotFoundException`: what its `error_data` ids (`item_id`, `board_id`,
///   `group_id`) or its message name, when they name one thing; otherwise [`Missing::Unsure`].
pub fn missing(code: Option<&str>, message: &str, error_data: Option<&Value>) -> Option<Missing> {
    let lower = message.to_lowercase();
    if code.is_some_and(|c| ITEM_CODES.contains(&c))
        || ITEM_MESSAGES.iter().any(|m| lower.contains(m))
    {
        return Some(Missing::Item);
    }
    if code == Some("InvalidBoardIdException") {
        return Some(Missing::Board);
    }
    let not_found = lower.contains("not found")
        || lower.contains("doesn't exist")
        || lower.contains("does not exist");
    if code != Some("ResourceNotFoundException") {
        // Only an error without a code of its own, or `InvalidArgumentException` (which
        // covers "board not found", reference §1.5), is read for a missing board; other codes
        // (`InvalidColumnIdException`: "This column ID doesn't exist for the board") say what
        // they are.
        let open = code.is_none() || code == Some("InvalidArgumentException");
        let board_only = ["item", "group", "column", "user"]
            .iter()
            .all(|w| !lower.contains(w))
            && lower.contains("board");
        return (open && not_found && board_only).then_some(Missing::Board);
    }
    let has = |key: &str| {
        error_data
            .and_then(|d| d.get(key))
            .is_some_and(|v| !v.is_null())
    };
    let by_data = match (has("item_id"), has("board_id"), has("group_id")) {
        (true, false, false) => Some(Missing::Item),
        (false, true, false) => Some(Missing::Board),
        (false, false, true) | (false, true, true) => Some(Missing::Group),
        (false, false, false) => None,
        _ => Some(Missing::Unsure),
    };
    if let Some(m) = by_data {
        return Some(m);
    }
    let named: Vec<Missing> = [
        ("item", Missing::Item),
        ("group", Missing::Group),
        ("board", Missing::Board),
    ]
    .into_iter()
    .filter(|(word, _)| lower.contains(word))
    .map(|(_, m)| m)
    .collect();
    match named.as_slice() {
        [one] => Some(*one),
        _ => Some(Missing::Unsure),
    }
}

/// Whether an error means the item no longer exists (or never did) or is inactive (see
/// [`missing`]; a `ResourceNotFoundException` that does not say what is missing is not
/// taken as the item's until the board is known to exist).
pub fn is_item_gone(code: Option<&str>, message: &str) -> bool {
    missing(code, message, None) == Some(Missing::Item)
}

/// Whether a not-found error leaves open that the board is what is missing, so that a caller
/// who knows the board should check it before taking the item as gone.
pub(crate) fn board_unsure(error: &GraphQlError) -> bool {
    matches!(
        missing(
            error.code.as_deref(),
            &error.message,
            error.error_data.as_ref()
        ),
        Some(Missing::Unsure)
    )
}

/// The code and message together, for an error that names a limit.
fn code_and_message(code: Option<&str>, message: &str) -> String {
    match code {
        Some(c) if !message.is_empty() && !message.contains(c) => format!("{c}: {message}"),
        Some(c) if message.is_empty() => c.to_owned(),
        _ => message.to_owned(),
    }
}

/// The error for an answer that names a limit: the daily limit, or a passing one whose wait
/// (`retry_in`) outlasts what the call may wait.
pub(crate) fn limit_error(
    limit: Limit,
    code: Option<&str>,
    message: &str,
    retry_in: Option<Duration>,
    waited: Duration,
) -> MondayError {
    let message = code_and_message(code, message);
    match limit {
        Limit::Daily => MondayError::DailyLimit {
            message,
            reset_at: daily_reset(OffsetDateTime::now_utc(), retry_in),
        },
        Limit::Passing => MondayError::RateLimited {
            message,
            retry_in,
            waited,
        },
    }
}

/// Turns one GraphQL error into a typed error. A `ResourceNotFoundException` that does not
/// say what is missing is [`MondayError::ItemGone`] here: the client checks the board first
/// wherever it knows it (see [`missing`], [`Missing::Unsure`]).
pub fn classify(error: &GraphQlError) -> MondayError {
    let message = error.message.clone();
    let code = error.code.as_deref();
    if let Some(limit) = limit_named(None, code, &message) {
        let retry_in = error.retry_in_seconds.map(Duration::from_secs);
        return limit_error(limit, code, &message, retry_in, Duration::ZERO);
    }
    let data_str = |key: &str| {
        error
            .error_data
            .as_ref()
            .and_then(|d| d.get(key))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
    };
    match missing(code, &message, error.error_data.as_ref()) {
        Some(Missing::Item | Missing::Unsure) => return MondayError::ItemGone { message },
        Some(Missing::Board) => {
            // A board id in `error_data` that is not one is left out: the error stays the board's.
            let board_id = error
                .error_data
                .as_ref()
                .and_then(|d| d.get("board_id"))
                .and_then(|v| BoardId::deserialize(v).ok());
            return MondayError::InvalidBoardId { board_id, message };
        }
        Some(Missing::Group) => return MondayError::GroupNotFound { message },
        None => {}
    }
    match code {
        Some("ColumnValueException") | Some("CorrectedValueException") => {
            MondayError::ColumnValue {
                message,
                column_type: data_str("column_type"),
                column_id: data_str("column_id"),
            }
        }
        Some("InvalidColumnIdException") => MondayError::InvalidColumnId { message },
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_gone_codes_and_messages_are_recognised() {
        // The overloaded code alone says nothing of what is missing.
        assert!(!is_item_gone(Some("ResourceNotFoundException"), "x"));
        assert!(is_item_gone(
            Some("ResourceNotFoundException"),
            "Item not found"
        ));
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

    #[test]
    fn limits_are_named_by_status_code_or_message_never_one_code() {
        use Limit::*;
        type Case<'a> = (Option<u16>, Option<&'a str>, &'a str, Option<Limit>);
        let cases: [Case<'_>; 16] = [
            (
                None,
                Some("COMPLEXITY_BUDGET_EXHAUSTED"),
                "Complexity budget exhausted",
                Some(Passing),
            ),
            (None, Some("complexityBudgetExhausted"), "", Some(Passing)),
            (None, Some("rateLimitExceeded"), "", Some(Passing)),
            (None, Some("RATE_LIMIT_EXCEEDED"), "", Some(Passing)),
            (None, None, "Rate Limit Exceeded", Some(Passing)),
            (None, None, "Minute limit rate exceeded", Some(Passing)),
            (None, Some("maxConcurrencyExceeded"), "", Some(Passing)),
            (None, Some("IP_RATE_LIMIT_EXCEEDED"), "", Some(Passing)),
            (
                None,
                Some("FIELD_LIMIT_EXCEEDED"),
                "Concurrency limit exceeded for the field",
                Some(Passing),
            ),
            (
                None,
                Some("ComplexityException"),
                "Complexity budget exhausted, query cost 30001 budget remaining 19986 out of 1000000 reset in 3 seconds",
                Some(Passing),
            ),
            (Some(429), None, "", Some(Passing)),
            (Some(429), Some("DAILY_LIMIT_EXCEEDED"), "", Some(Daily)),
            (
                None,
                Some("SomethingNew"),
                "Daily limit exceeded",
                Some(Daily),
            ),
            // A query over the per-query limit never passes by waiting.
            (
                None,
                Some("maxComplexityExceeded"),
                "Query has complexity of 6000000, which exceeds max complexity of 5000000",
                None,
            ),
            // A value error quoting a column titled like a limit is no limit.
            (
                None,
                Some("ColumnValueException"),
                "invalid value for column Daily rate limit",
                None,
            ),
            (Some(200), None, "Item not found in board", None),
        ];
        for (status, code, message, want) in cases {
            assert_eq!(
                limit_named(status, code, message),
                want,
                "{code:?} {message}"
            );
        }
    }

    #[test]
    fn limit_errors_are_typed_with_their_wait_or_reset() {
        let daily = classify(&GraphQlError::from_json(&json!({
            "message": "Daily limit exceeded",
            "extensions": {"code": "DAILY_LIMIT_EXCEEDED", "retry_in_seconds": 3600}
        })));
        match daily {
            MondayError::DailyLimit { message, reset_at } => {
                assert!(message.contains("DAILY_LIMIT_EXCEEDED"), "{message}");
                let ahead = reset_at - OffsetDateTime::now_utc();
                assert!(ahead > time::Duration::minutes(50), "{ahead}");
                assert!(ahead <= time::Duration::hours(1), "{ahead}");
            }
            other => panic!("unexpected {other:?}"),
        }
        // The wait in `error_data` (FIELD_LIMIT_EXCEEDED, reference §1.5) counts too.
        let field = GraphQlError::from_json(&json!({
            "message": "Concurrency limit exceeded for the field",
            "extensions": {"code": "FIELD_LIMIT_EXCEEDED", "error_data": {"retry_in_seconds": 15}}
        }));
        assert_eq!(field.retry_in_seconds, Some(15));
        assert!(matches!(
            classify(&field),
            MondayError::RateLimited { retry_in: Some(d), .. } if d == Duration::from_secs(15)
        ));
    }

    #[test]
    fn the_daily_limit_resets_at_midnight_utc_unless_a_wait_is_given() {
        let now = time::macros::datetime!(2026-12-06 19:30:00 UTC);
        assert_eq!(
            daily_reset(now, None),
            time::macros::datetime!(2026-12-07 00:00:00 UTC)
        );
        assert_eq!(
            daily_reset(now, Some(Duration::from_secs(60))),
            time::macros::datetime!(2026-12-06 19:31:00 UTC)
        );
        // An absurd wait is clamped, never overflowing.
        assert!(daily_reset(now, Some(Duration::MAX)) > now);
        let message = MondayError::DailyLimit {
            message: "DAILY_LIMIT_EXCEEDED".into(),
            reset_at: daily_reset(now, None),
        }
        .to_string();
        assert!(message.contains("daily API call limit"), "{message}");
        assert!(message.contains("2026-12-07T00:00:00Z"), "{message}");
    }

    #[test]
    fn not_found_answers_tell_items_from_boards_and_groups() {
        let m = |code: &str, message: &str, data: Value| missing(Some(code), message, Some(&data));
        let rnf = "ResourceNotFoundException";
        assert_eq!(m(rnf, "x", json!({"item_id": 1})), Some(Missing::Item));
        assert_eq!(m(rnf, "x", json!({"board_id": 1})), Some(Missing::Board));
        assert_eq!(
            m(rnf, "x", json!({"group_id": "topics"})),
            Some(Missing::Group)
        );
        assert_eq!(
            m(rnf, "x", json!({"item_id": 1, "board_id": 2})),
            Some(Missing::Unsure)
        );
        assert_eq!(m(rnf, "Board not found", json!({})), Some(Missing::Board));
        assert_eq!(m(rnf, "Group not found", json!({})), Some(Missing::Group));
        assert_eq!(m(rnf, "Item not found", json!({})), Some(Missing::Item));
        assert_eq!(
            m(rnf, "Resource not found", json!({})),
            Some(Missing::Unsure)
        );
        assert_eq!(
            m("InvalidBoardIdException", "x", json!({})),
            Some(Missing::Board)
        );
        assert_eq!(
            m("InvalidArgumentException", "board not found", json!({})),
            Some(Missing::Board)
        );
        assert_eq!(
            m("InvalidArgumentException", "limit too high", json!({})),
            None
        );
        assert_eq!(
            m("InvalidItemIdException", "x", json!({})),
            Some(Missing::Item)
        );
        assert_eq!(m("ColumnValueException", "bad", json!({})), None);
        let column = "This column ID doesn't exist for the board";
        assert_eq!(m("InvalidColumnIdException", column, json!({})), None);
        assert_eq!(missing(None, column, None), None);
        assert_eq!(missing(None, "Board not found", None), Some(Missing::Board));
        let board = classify(&GraphQlError::from_json(&json!({
            "message": "Resource not found",
            "extensions": {"code": rnf, "error_data": {"board_id": 9}}
        })));
        assert_eq!(
            board,
            MondayError::InvalidBoardId {
                board_id: Some(crmmap_ids::BoardId::new(9)),
                message: "Resource not found".into()
            }
        );
        assert!(
            board.to_string().contains("monday board 9 does not exist"),
            "{board}"
        );
    }

    #[test]
    fn the_historic_flat_body_is_read() {
        let body = json!({"error_message": "Concurrency limit exceeded for the field",
            "error_code": "FIELD_LIMIT_EXCEEDED",
            "error_data": {"retry_in_seconds": 15, "entity": "boards"},
            "status_code": 429, "account_id": 123456});
        let e = GraphQlError::from_flat(&body).unwrap();
        assert_eq!(e.code.as_deref(), Some("FIELD_LIMIT_EXCEEDED"));
        assert_eq!(e.retry_in_seconds, Some(15));
        assert_eq!(GraphQlError::from_flat(&json!({"data": {}})), None);
        assert_eq!(GraphQlError::from_json(&json!("plain")).message, "plain");
    }
}
