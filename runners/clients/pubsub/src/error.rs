//! What went wrong with a Pub/Sub call, classified once: the class decides what the
//! subscriber does (realtime-and-limits.md §1d, §1e, §3).

pub use tonic::Code;
use tonic::Status;

/// The trailer Salesforce puts its own error code in (`error-code`, read by Salesforce's Java
/// example `genericpubsub/Subscribe.java` in `forcedotcom/pub-sub-api`).
pub const ERROR_CODE_TRAILER: &str = "error-code";
/// A replay id that is invalid or outside the 72-hour retention (§1e).
pub const REPLAY_ID_CORRUPTED: &str =
    "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted";
/// The org's event delivery allocation is used up (§1d).
pub const LIMIT_EXCEEDED: &str = "sfdc.platform.eventbus.grpc.subscription.limit.exceeded";

/// The class of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The stored replay id is refused: resubscribe `LATEST` and report a gap.
    ReplayIdRejected,
    /// The API refuses everyone for now (the delivery allocation): wait, then resume from the
    /// last replay id.
    Outage,
    /// Worth another try after a backoff, from the last replay id.
    Transient,
    /// Trying again will not help (bad credentials, unknown topic, no permission).
    Permanent,
}

/// A failed Pub/Sub call.
#[derive(Debug, thiserror::Error)]
pub enum PubSubError {
    /// The server answered with a status.
    #[error("pub/sub call failed ({class:?}): {code:?} {message} [{error_code}]")]
    Status {
        class: Class,
        code: Code,
        message: String,
        /// Salesforce's code from the `error-code` trailer, or empty.
        error_code: String,
    },
    /// The connection could not be made or broke.
    #[error("pub/sub transport failed: {0}")]
    Transport(String),
    /// An event or schema could not be decoded; the event is not lost silently: the batch
    /// fails and the subscription resumes from the replay id before it.
    #[error(transparent)]
    Decode(#[from] crate::avro_json::DecodeError),
    /// Configuration that cannot work (a URL that does not parse, a header value that is not
    /// ASCII).
    #[error("pub/sub configuration: {0}")]
    Config(String),
    /// The same failure kept coming back; the subscriber gave up.
    #[error("pub/sub gave up after {attempts} attempts: {last}")]
    GaveUp {
        attempts: u32,
        last: Box<PubSubError>,
    },
}

impl PubSubError {
    /// The class of this failure.
    pub fn class(&self) -> Class {
        match self {
            PubSubError::Status { class, .. } => *class,
            PubSubError::Transport(_) => Class::Transient,
            PubSubError::Decode(_) | PubSubError::Config(_) | PubSubError::GaveUp { .. } => {
                Class::Permanent
            }
        }
    }
}

impl From<Status> for PubSubError {
    fn from(status: Status) -> Self {
        let error_code = status
            .metadata()
            .get(ERROR_CODE_TRAILER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        PubSubError::Status {
            class: classify(status.code(), &error_code),
            code: status.code(),
            message: status.message().to_owned(),
            error_code,
        }
    }
}

/// The class of a status and its `error-code` trailer. The documented codes decide first
/// (matched by their distinctive suffix, so a longer or prefixed form still counts); the gRPC
/// code decides the rest.
pub fn classify(code: Code, error_code: &str) -> Class {
    let lower = error_code.to_ascii_lowercase();
    if lower.contains("replayid.corrupted") || lower.contains("replayid.validation") {
        return Class::ReplayIdRejected;
    }
    if lower.contains("subscription.limit.exceeded") {
        return Class::Outage;
    }
    match code {
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::Internal
        | Code::Unknown
        | Code::Aborted
        | Code::Cancelled
        | Code::ResourceExhausted
        | Code::Ok => Class::Transient,
        Code::Unauthenticated
        | Code::PermissionDenied
        | Code::InvalidArgument
        | Code::NotFound
        | Code::AlreadyExists
        | Code::FailedPrecondition
        | Code::OutOfRange
        | Code::Unimplemented
        | Code::DataLoss => Class::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_codes_decide_before_the_status() {
        assert_eq!(
            classify(Code::InvalidArgument, REPLAY_ID_CORRUPTED),
            Class::ReplayIdRejected
        );
        assert_eq!(classify(Code::Unknown, LIMIT_EXCEEDED), Class::Outage);
        assert_eq!(classify(Code::Unavailable, ""), Class::Transient);
        assert_eq!(classify(Code::Unauthenticated, ""), Class::Permanent);
        assert_eq!(
            classify(Code::InvalidArgument, "sfdc.other"),
            Class::Permanent
        );
    }

    #[test]
    fn the_trailer_is_read_from_the_status() {
        let mut status = Status::invalid_argument("bad replay");
        status.metadata_mut().insert(
            ERROR_CODE_TRAILER,
            REPLAY_ID_CORRUPTED.parse().expect("ascii"),
        );
        let err = PubSubError::from(status);
        assert_eq!(err.class(), Class::ReplayIdRejected);
    }
}
