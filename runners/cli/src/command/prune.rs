//! `crmmap prune`: forget processed webhook events and sync-log rows past their retention.

use std::path::PathBuf;

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap prune`.
#[derive(Args)]
pub struct PruneArgs {
    /// The configuration file (`[store] url`, `keep_events_days`, `keep_log_days`).
    #[arg(long, default_value = crmmap_sync::config::DEFAULT_CONFIG)]
    pub config: PathBuf,
}

/// Runs `crmmap prune`. Needs only the store, no API credentials.
pub fn prune(args: &PruneArgs) -> CrmmapExit {
    let settings = match crmmap_sync::Settings::load(Some(&args.config)) {
        Ok(s) => s,
        Err(e) => return super::fail(&e.to_string()),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async {
        let store = match crmmap_store::Store::connect(&settings.store_url).await {
            Ok(s) => s,
            Err(e) => return super::fail(&e.to_string()),
        };
        let keep = &settings.file.store;
        let pruned =
            crmmap_sync::retention::prune(&store, keep, time::OffsetDateTime::now_utc()).await;
        store.close().await;
        match pruned {
            Ok(p) => {
                let log = match keep.keep_log_days {
                    0 => "the sync log is kept forever".to_owned(),
                    d => format!("{} sync-log rows older than {d} days", p.log),
                };
                println!(
                    "pruned {} processed events older than {} days; {log}",
                    p.events,
                    keep.keep_events_days.max(1)
                );
                CrmmapExit::Clean
            }
            Err(e) => super::fail(&e.to_string()),
        }
    })
}
