//! Clients for the emulators and a run context on them, with the shipped mappings.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crmmap_engine::PlanSet;
use crmmap_monday::{MondayClient, MondayConfig};
use crmmap_salesforce::{AuthFlow, SalesforceClient};
use crmmap_store::Store;
use crmmap_sync::RunContext;

/// The workspace root (the shipped mappings and the fixtures are addressed from there).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The shipped mappings' directory.
pub fn mappings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../mappings")
}

/// The shipped mappings, compiled.
pub fn shipped_plans() -> PlanSet {
    crmmap_sync::mappings::load(&[mappings_dir()]).expect("shipped mappings compile")
}

/// How a Salesforce client signs in to the emulator (both with its default credentials).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SalesforceAuth {
    /// The client-credentials flow, as `crmmap serve` and the Lambda sign in.
    ClientCredentials,
    /// The username-password flow.
    Password,
}

/// A Salesforce client configuration for the emulator at `base_url`.
pub fn salesforce_config(base_url: &str, auth: SalesforceAuth) -> crmmap_salesforce::Config {
    let creds = crmmap_emu_salesforce::Credentials::default();
    let flow = match auth {
        SalesforceAuth::ClientCredentials => AuthFlow::ClientCredentials {
            client_id: creds.client_id,
            client_secret: creds.client_secret.into(),
        },
        SalesforceAuth::Password => AuthFlow::Password {
            client_id: creds.client_id,
            client_secret: creds.client_secret.into(),
            username: creds.username,
            password: creds.password.into(),
        },
    };
    crmmap_salesforce::Config::new(base_url, flow)
}

/// A client-credentials Salesforce client for the emulator at `base_url`, with a 20 s request
/// timeout, and without its own retries unless `retries`.
pub fn salesforce_client(base_url: &str, retries: bool) -> SalesforceClient {
    let mut config = salesforce_config(base_url, SalesforceAuth::ClientCredentials);
    if !retries {
        config.retry = crmmap_salesforce::RetryPolicy::none();
    }
    config.request_timeout = Duration::from_secs(20);
    SalesforceClient::new(config).expect("salesforce client")
}

/// A monday client configuration for the emulator's API at `api_url`, with the emulator's
/// token and short retry delays (5 ms, at most 50 ms).
pub fn monday_config(api_url: &str) -> MondayConfig {
    let mut config = MondayConfig::new("emulator-token")
        .with_api_url(url::Url::parse(api_url).expect("monday url"));
    config.retry_base_delay = Duration::from_millis(5);
    config.retry_max_delay = Duration::from_millis(50);
    config
}

/// A monday client for the emulator's API at `api_url`, trying each request once unless
/// `retries`.
pub fn monday_client(api_url: &str, retries: bool) -> MondayClient {
    let mut config = monday_config(api_url);
    if !retries {
        config.max_attempts = 1;
    }
    MondayClient::new(config).expect("monday client")
}

/// A run context of `plans` on these clients and `store`, with the system clock and no own
/// monday user (override fields with `RunContext { .., ..run_context(..) }`).
pub fn run_context(
    plans: PlanSet,
    salesforce: SalesforceClient,
    monday: MondayClient,
    store: Store,
) -> RunContext {
    RunContext {
        plans: Arc::new(plans),
        salesforce: Arc::new(salesforce),
        monday: Arc::new(monday),
        store,
        clock: crmmap_sync::system_clock(),
        monday_user_id: None,
    }
}

/// A run context on the emulators at these URLs and `store`: a username-password Salesforce
/// client with its own retries, a monday client with short retry delays, the shipped mappings.
pub fn emulator_context(salesforce_url: &str, monday_url: &str, store: Store) -> RunContext {
    let salesforce = salesforce_config(salesforce_url, SalesforceAuth::Password);
    run_context(
        shipped_plans(),
        SalesforceClient::new(salesforce).expect("salesforce client"),
        MondayClient::new(monday_config(monday_url)).expect("monday client"),
        store,
    )
}

/// The one snapshot of the shipped mappings' compiled plans (`explain` text), kept with the
/// engine's tests; other crates compare what they print against it instead of keeping a copy.
pub fn shipped_plans_snapshot() -> String {
    let path = workspace_root()
        .join("engine/tests/integration/snapshots/integration__mappings__shipped_mappings.snap");
    let snap = std::fs::read_to_string(&path).expect("the engine's snapshot of the shipped plans");
    // An insta snapshot: a `---` header of metadata, then the text.
    snap.splitn(3, "---\n")
        .nth(2)
        .expect("an insta snapshot header")
        .to_owned()
}
