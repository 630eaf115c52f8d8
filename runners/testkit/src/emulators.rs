//! Both emulators on 127.0.0.1, and the `crmmap.toml` that points the `crmmap` binary at them.

use std::path::{Path, PathBuf};

use crmmap_emu_monday::RunningEmulator as Monday;
use crmmap_emu_salesforce::RunningEmulator as Salesforce;
use crmmap_store::Store;
use crmmap_sync::RunContext;

use crate::context::{emulator_context, workspace_root};

/// The Salesforce and monday emulators, each on a port of its own (stopped when dropped).
pub struct Emulators {
    pub salesforce: Salesforce,
    pub monday: Monday,
}

impl Emulators {
    /// Both emulators with their sample data.
    pub async fn start() -> Emulators {
        Emulators::start_with(Default::default(), Default::default()).await
    }

    /// Both emulators with these options.
    pub async fn start_with(
        salesforce: crmmap_emu_salesforce::EmulatorOptions,
        monday: crmmap_emu_monday::EmulatorOptions,
    ) -> Emulators {
        Emulators {
            salesforce: crmmap_emu_salesforce::start(salesforce)
                .await
                .expect("salesforce emulator"),
            monday: crmmap_emu_monday::start(monday)
                .await
                .expect("monday emulator"),
        }
    }

    /// A run context on these emulators and `store` (see [`emulator_context`]).
    pub fn context(&self, store: Store) -> RunContext {
        emulator_context(&self.salesforce.base_url(), &self.monday.base_url(), store)
    }

    /// The text of a `crmmap.toml` for the shipped mappings and these emulators (client
    /// credentials), with a `[store]` section when a store URL is given.
    pub fn config_toml(&self, store_url: Option<&str>) -> String {
        let store = store_url
            .map(|url| format!("[store]\nurl = \"{url}\"\n"))
            .unwrap_or_default();
        format!(
            "mappings = \"{}\"\n{store}[salesforce]\nlogin_url = \"{}\"\nauth = \"client_credentials\"\n[monday]\napi_url = \"{}\"\n",
            workspace_root().join("mappings").display(),
            self.salesforce.base_url(),
            self.monday.base_url()
        )
    }

    /// The Salesforce emulator's Pub/Sub endpoint on a free port, over its change log, with
    /// a keepalive every `keepalive` (Salesforce's is up to 270 s; tests want it short).
    pub async fn start_pubsub(
        &self,
        keepalive: std::time::Duration,
    ) -> crmmap_emu_salesforce::pubsub::RunningPubSub {
        self.salesforce
            .state()
            .start_pubsub(crmmap_emu_salesforce::pubsub::PubSubOptions { port: 0, keepalive })
            .await
            .expect("pub/sub endpoint")
    }

    /// [`Emulators::config_toml`] with `crmmap serve` subscribing to change events at
    /// `pubsub_endpoint` (`[salesforce] change_events = "pubsub"`).
    pub fn pubsub_config_toml(&self, store_url: Option<&str>, pubsub_endpoint: &str) -> String {
        self.config_toml(store_url).replacen(
            "[salesforce]\n",
            &format!(
                "[salesforce]\nchange_events = \"pubsub\"\npubsub_endpoint = \"{pubsub_endpoint}\"\n"
            ),
            1,
        )
    }

    /// Writes `dir/crmmap.toml` for these emulators and an SQLite store `dir/state.db`; returns
    /// the config's path and the store's URL.
    pub fn write_config(&self, dir: &Path) -> (PathBuf, String) {
        let store = format!("sqlite://{}", dir.join("state.db").display());
        let path = dir.join("crmmap.toml");
        std::fs::write(&path, self.config_toml(Some(&store))).expect("write crmmap.toml");
        (path, store)
    }

    /// Stops both emulators.
    pub async fn shutdown(self) {
        self.monday.shutdown().await;
        self.salesforce.shutdown().await;
    }
}

/// The environment a `crmmap` process needs for the emulators' credentials (the secrets
/// `crmmap.toml` does not hold).
pub fn cli_env() -> [(&'static str, String); 3] {
    let creds = crmmap_emu_salesforce::Credentials::default();
    [
        ("SF_CLIENT_ID", creds.client_id),
        ("SF_CLIENT_SECRET", creds.client_secret),
        ("MONDAY_TOKEN", "emulator-token".to_owned()),
    ]
}
