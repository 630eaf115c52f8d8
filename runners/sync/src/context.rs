//! The run context: what every runner shares, built once per process (a Lambda keeps it warm
//! across invocations): compiled plans, both API clients (with their token cache and complexity
//! budget), the store's connection pool, and the clock.

use std::sync::Arc;

use crmmap_engine::PlanSet;
use crmmap_monday::MondayClient;
use crmmap_salesforce::SalesforceClient;
use crmmap_store::Store;
use time::OffsetDateTime;

use crate::config::{ConfigError, Settings};
use crate::mappings::MappingsError;

/// Where "now" comes from; tests pass a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

/// The system clock (UTC).
pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// Why the context could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// Configuration or credentials.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The mappings.
    #[error(transparent)]
    Mappings(#[from] MappingsError),
    /// A client could not be built.
    #[error("{0}")]
    Client(String),
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(String),
}

/// Both API clients, configured from settings and the process environment.
pub fn clients(settings: &Settings) -> Result<(SalesforceClient, MondayClient), ContextError> {
    let env = |k: &str| std::env::var(k).ok();
    let salesforce = SalesforceClient::new(settings.salesforce(env)?)
        .map_err(|e| ContextError::Client(e.to_string()))?;
    let monday = MondayClient::new(settings.monday(env)?)
        .map_err(|e| ContextError::Client(e.to_string()))?;
    Ok((salesforce, monday))
}

/// Everything a runner needs. Cheap to clone.
#[derive(Clone)]
pub struct RunContext {
    /// The compiled mappings.
    pub plans: Arc<PlanSet>,
    /// Salesforce.
    pub salesforce: Arc<SalesforceClient>,
    /// monday.com.
    pub monday: Arc<MondayClient>,
    /// State.
    pub store: Store,
    /// The clock.
    pub clock: Clock,
    /// The monday user id of crmmap's own token (events by this user are crmmap's echoes).
    pub monday_user_id: Option<u64>,
}

impl RunContext {
    /// Builds the context from settings and the process environment.
    pub async fn build(settings: &Settings) -> Result<RunContext, ContextError> {
        let plans = crate::mappings::load(std::slice::from_ref(&settings.mappings))?;
        let (salesforce, monday) = clients(settings)?;
        let store = Store::connect_with(&settings.store_url, &settings.file.store.options())
            .await
            .map_err(|e| ContextError::Store(e.to_string()))?;
        Ok(RunContext {
            plans: Arc::new(plans),
            salesforce: Arc::new(salesforce),
            monday: Arc::new(monday),
            store,
            clock: system_clock(),
            monday_user_id: settings.file.monday.user_id,
        })
    }

    /// The current time.
    pub fn now(&self) -> OffsetDateTime {
        (self.clock)()
    }
}
