//! The HTTP client, one file per concern: the answer ([`response`]), sending with pacing and
//! retries ([`transport`]), the waits an answer asks for ([`hints`]), boards ([`boards`]),
//! item reads ([`reads`]), item mutations ([`mutations`]) and webhooks ([`webhooks`]).

mod boards;
mod hints;
mod mutations;
mod reads;
mod response;
mod transport;
mod webhooks;

use tokio::sync::Semaphore;

use crate::budget::BudgetTracker;
use crate::config::MondayConfig;
use crate::error::MondayError;

pub use mutations::MutationResult;
pub use reads::PageRequest;
pub use response::GraphQlResponse;
pub(crate) use transport::Resend;

/// Largest page monday serves for `items_page`, `next_items_page` and
/// `items_page_by_column_values`.
pub const MAX_PAGE_SIZE: u32 = 500;

/// Most ids the root `items` query takes without the stricter rate limit.
pub const MAX_ITEMS_BY_ID: usize = 100;

/// The client-side cost estimates used for pacing and batch sizing. monday publishes no
/// per-mutation costs (reference §2.2, UNCERTAIN); its best-practice page says 10,000 per
/// `create_item`. Observed `complexity.query` values keep the tracker honest either way.
pub mod cost {
    /// Estimated cost of one `create_item`.
    pub const CREATE_ITEM: u64 = 10_000;
    /// Estimated cost of one `change_multiple_column_values`.
    pub const CHANGE_COLUMN_VALUES: u64 = 3_000;
    /// Estimated cost of one `delete_item` or `archive_item`.
    pub const DELETE_OR_ARCHIVE: u64 = 3_000;
    /// Estimated cost of webhook management calls.
    pub const WEBHOOK: u64 = 1_000;

    /// Estimated cost of reading `items` items with `columns` column values each
    /// (`None`: every column, assumed 30): about 13 points per item for the item, its board
    /// and group, and 4 per column value with its typed fragments.
    pub fn read(items: u64, columns: Option<usize>) -> u64 {
        let columns = columns.map_or(30, |c| c as u64);
        10 + items * (13 + 4 * columns)
    }
}

/// A monday.com GraphQL client. Cheap to share behind an `Arc`; build one per process.
#[derive(Debug)]
pub struct MondayClient {
    config: MondayConfig,
    http: reqwest::Client,
    budget: BudgetTracker,
    /// One permit per request in flight ([`MondayConfig::max_concurrency`]).
    in_flight: Semaphore,
}

impl MondayClient {
    /// Builds a client.
    pub fn new(config: MondayConfig) -> Result<Self, MondayError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| MondayError::Transport(e.to_string()))?;
        let budget = BudgetTracker::new(config.complexity_budget_per_minute);
        let in_flight = Semaphore::new(config.max_concurrency.clamp(1, Semaphore::MAX_PERMITS));
        Ok(Self {
            config,
            http,
            budget,
            in_flight,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &MondayConfig {
        &self.config
    }

    /// The budget tracker.
    pub fn budget(&self) -> &BudgetTracker {
        &self.budget
    }
}
