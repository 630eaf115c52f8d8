//! Why a run stops: the errors that end a run, and which API failures are of that kind.

use crmmap_engine::plan::Plan;
use crmmap_ids::ObjectName;
use crmmap_monday::MondayError;
use crmmap_store::{LeaseHolder, StoreError};

/// Why a run stopped with an error (per-record failures never stop it).
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// `--object` names an object no mapping declares.
    #[error("unknown object `{0}`: it is not declared in the mappings")]
    UnknownObject(String),
    /// The chunk size is out of range.
    #[error("chunk size must be between 1 and 500, not {0}")]
    ChunkSize(usize),
    /// Salesforce failed for a whole request (after the client's retries).
    #[error("salesforce: {0}")]
    Salesforce(#[from] crmmap_salesforce::Error),
    /// A SOQL statement could not be built.
    #[error("cannot build the query for `{object}`: {message}")]
    Soql {
        /// The object.
        object: ObjectName,
        /// Why.
        message: String,
    },
    /// monday failed for a whole request (after the client's retries).
    #[error("monday: {0}")]
    Monday(#[from] MondayError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Another migration holds the lease: this one wrote nothing.
    #[error("another migration is running: {0}")]
    Busy(LeaseHolder),
    /// An object's mapping names a monday board (or group) that does not exist or that the
    /// token cannot see: a configuration error. The run stopped there and unlinked nothing.
    #[error(
        "the mapping of `{object}` names monday board {board}, which does not exist or is not \
         accessible to crmmap's token ({message}); fix the mapping's board or the token's \
         access: nothing was unlinked"
    )]
    BoardMissing {
        /// The mapping's object.
        object: ObjectName,
        /// The board id the mapping names.
        board: String,
        /// monday's answer.
        message: String,
    },
}

impl MigrateError {
    /// Whether an API limit stopped the run: monday's daily call limit, or the Salesforce
    /// org's API allocation past crmmap's share. The checkpoint is saved; the next run after
    /// the reset resumes it.
    pub fn is_limit(&self) -> bool {
        match self {
            MigrateError::Monday(e) => matches!(e, MondayError::DailyLimit { .. }),
            MigrateError::Salesforce(e) => salesforce_allocation(e),
            _ => false,
        }
    }

    /// Whether the configuration names something the APIs do not have (a missing board).
    pub fn is_config(&self) -> bool {
        matches!(self, MigrateError::BoardMissing { .. })
    }

    /// A monday error of `plan`'s requests, as the run reports it: a missing board or group
    /// is the mapping's [`MigrateError::BoardMissing`], naming the board monday named (the
    /// mapping's own, or a linked object's), else the mapping's.
    pub(super) fn of_board(plan: &Plan, e: MigrateError) -> MigrateError {
        let (board, message) = match e {
            MigrateError::Monday(MondayError::InvalidBoardId { board_id, message }) => {
                (board_id, message)
            }
            MigrateError::Monday(MondayError::GroupNotFound { message }) => (None, message),
            other => return other,
        };
        MigrateError::BoardMissing {
            object: plan.object.clone(),
            board: board.map_or_else(|| plan.board.to_string(), |b| b.to_string()),
            message,
        }
    }
}

/// Whether a Salesforce error is the org's API allocation reached (crmmap's headroom, or
/// Salesforce's own `REQUEST_LIMIT_EXCEEDED`): a run stops on it like on monday's daily
/// limit. The one place that decides.
pub(super) fn salesforce_allocation(e: &crmmap_salesforce::Error) -> bool {
    matches!(
        e,
        crmmap_salesforce::Error::AllocationReached { .. }
            | crmmap_salesforce::Error::RequestLimitExceeded { .. }
    )
}

/// Whether a per-item monday error stops the whole run instead of failing its record: the
/// daily limit (every later call fails too) and a missing board or group (a configuration
/// error).
pub(super) fn stops_the_run(e: &MondayError) -> bool {
    matches!(
        e,
        MondayError::DailyLimit { .. }
            | MondayError::InvalidBoardId { .. }
            | MondayError::GroupNotFound { .. }
    )
}
