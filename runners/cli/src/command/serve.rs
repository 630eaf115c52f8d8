//! `crmmap serve`: the webhook runner on a local HTTP server (the same router as the Lambda).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use crmmap_sync::{RunContext, Settings};
use crmmap_webhook::{Webhook, WebhookOptions};

use crate::exit::CrmmapExit;

/// Arguments of `crmmap serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The configuration file.
    #[arg(long, default_value = crmmap_sync::config::DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Drain the retry queue every this many seconds (0: never; `crmmap retry` does it).
    #[arg(long, default_value_t = 60)]
    pub retry_every: u64,
}

/// Builds the runner from the configuration file and the environment.
pub async fn build(config: &std::path::Path) -> Result<Webhook, String> {
    let settings = Settings::load(Some(config)).map_err(|e| e.to_string())?;
    let pgsslmode = std::env::var(crmmap_store::PGSSLMODE_ENV).ok();
    if let Some(warning) = crmmap_store::tls_warning(&settings.store_url, pgsslmode.as_deref()) {
        eprintln!("warning: {warning}");
    }
    let options = WebhookOptions::from_settings(&settings, |k| std::env::var(k).ok())
        .map_err(|e| e.to_string())?;
    let ctx = RunContext::build(&settings)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Webhook::new(ctx, options))
}

/// Runs `crmmap serve`.
pub fn serve(args: &ServeArgs) -> CrmmapExit {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the async runtime: {e}")),
    };
    crmmap_webhook::init_logging();
    runtime.block_on(async {
        let webhook = match build(&args.config).await {
            Ok(w) => w,
            Err(e) => return super::fail(&e),
        };
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => return super::fail(&format!("cannot listen on {}: {e}", args.listen)),
        };
        let addr = listener
            .local_addr()
            .map_or_else(|_| args.listen.to_string(), |a| a.to_string());
        // Tests and scripts read this line to find the port.
        eprintln!("crmmap: listening on http://{addr} (POST /webhooks/monday, GET /health)");
        let every = (args.retry_every > 0).then(|| Duration::from_secs(args.retry_every));
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match webhook.serve(listener, every, shutdown).await {
            Ok(()) => CrmmapExit::Clean,
            Err(e) => super::fail(&format!("the server stopped: {e}")),
        }
    })
}
