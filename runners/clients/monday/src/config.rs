//! Client configuration.

use std::time::Duration;

use url::Url;

use crate::schema::SCHEMA_API_VERSION;
use crmmap_secret::Secret;

/// The production endpoint.
pub const DEFAULT_API_URL: &str = "https://api.monday.com/v2";

/// The default of [`MondayConfig::max_wait`].
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(60);

/// The default of [`MondayConfig::max_concurrency`].
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;

/// How to reach monday and how hard to push it.
#[derive(Debug, Clone)]
pub struct MondayConfig {
    /// GraphQL endpoint (`…/v2`).
    pub api_url: Url,
    /// `API-Version` header value.
    pub api_version: String,
    /// API token, sent raw in `Authorization` (no `Bearer`).
    pub token: Secret,
    /// Timeout of one HTTP request (monday itself stops at 60 s).
    pub timeout: Duration,
    /// Attempts for HTTP 423, 5xx and transport errors.
    pub max_attempts: u32,
    /// The longest one call waits in all for rate limits (the complexity budget, the minute,
    /// concurrency and IP limits): a limit that asks for longer fails the call at once with
    /// [`MondayError::RateLimited`](crate::MondayError::RateLimited), which runners treat as
    /// an outage. The daily limit is never waited for.
    pub max_wait: Duration,
    /// Most requests in flight at once from this client (kept below the plan's concurrency
    /// limit: 40 on Basic and Standard, reference §2.1); at least 1.
    pub max_concurrency: usize,
    /// First backoff delay; doubled per attempt, with jitter.
    pub retry_base_delay: Duration,
    /// Longest backoff delay.
    pub retry_max_delay: Duration,
    /// Complexity budget per minute (10,000,000 for a personal token); replaced by the quota
    /// the server announces in `RateLimit-Policy`.
    pub complexity_budget_per_minute: u64,
    /// Most mutations packed into one batch request.
    pub batch_max_mutations: usize,
    /// Most estimated complexity packed into one batch request (also capped by the budget).
    pub batch_max_complexity: u64,
}

impl MondayConfig {
    /// Defaults for the production API with this token.
    pub fn new(token: impl Into<Secret>) -> Self {
        Self {
            api_url: Url::parse(DEFAULT_API_URL).expect("default url parses"),
            api_version: SCHEMA_API_VERSION.to_owned(),
            token: token.into(),
            timeout: Duration::from_secs(60),
            max_attempts: 5,
            max_wait: DEFAULT_MAX_WAIT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            retry_base_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(30),
            complexity_budget_per_minute: 10_000_000,
            batch_max_mutations: 25,
            batch_max_complexity: 1_000_000,
        }
    }

    /// The same configuration pointed at another endpoint (an emulator, for instance).
    pub fn with_api_url(mut self, api_url: Url) -> Self {
        self.api_url = api_url;
        self
    }
}
