//! `crmmap serve`: the webhook runner on a local HTTP server (the same router as the Lambda).
//!
//! On SQLite, the lock that keeps an item's events in order is in-process only, so one process
//! at a time may apply events to an SQLite store: `crmmap serve` holds the store lease
//! [`SQLITE_EVENTS_LEASE`] while it runs, and `crmmap retry` (which applies queued events) takes
//! it too or refuses with exit code 75. On PostgreSQL the item lock is an advisory lock shared
//! by every process, and no lease is taken.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use crmmap_store::{Backend, Lease, LeaseAcquire, LeaseOptions};
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
    // A monday rate limit queues the event rather than holding its delivery.
    let settings = Settings::load(Some(config))
        .map_err(|e| e.to_string())?
        .for_webhook();
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

/// The Pub/Sub subscriber `[salesforce] change_events = "pubsub"` asks for.
fn subscriber_options(
    config: &std::path::Path,
) -> Result<Option<crmmap_webhook::salesforce::subscriber::SubscriberOptions>, String> {
    let settings = Settings::load(Some(config)).map_err(|e| e.to_string())?;
    Ok(crmmap_webhook::salesforce::subscriber::SubscriberOptions::from_settings(&settings))
}

/// The store lease of the one process that applies monday item events to an SQLite store.
pub const SQLITE_EVENTS_LEASE: &str = "item-events";

/// How long the lease outlives a process that died holding it.
const SQLITE_EVENTS_TTL: Duration = Duration::from_secs(30);

/// [`SQLITE_EVENTS_LEASE`], held (on SQLite) until released or dropped.
#[must_use = "the lease is released when dropped"]
pub struct EventsLease(Option<Lease>);

impl EventsLease {
    /// Frees the lease (a failure is reported: the lease then expires by itself).
    pub async fn release(mut self) {
        if let Some(lease) = self.0.take()
            && let Err(e) = lease.release().await
        {
            eprintln!("warning: cannot release the SQLite events lease (it expires): {e}");
        }
    }
}

impl Drop for EventsLease {
    /// Frees the lease at once rather than letting it expire, so that a `crmmap serve` started
    /// right after a `crmmap retry` need not wait (the CLI runs on the multi-threaded runtime).
    fn drop(&mut self) {
        let Some(lease) = self.0.take() else {
            return;
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| {
                if let Err(e) = handle.block_on(lease.release()) {
                    eprintln!("warning: cannot release the SQLite events lease (it expires): {e}");
                }
            });
        }
    }
}

/// On SQLite, takes [`SQLITE_EVENTS_LEASE`] for `program` (nothing on PostgreSQL, which needs
/// none), waiting up to `wait` for another holder to go. Refused, prints why and returns the
/// exit code (75).
pub async fn hold_sqlite_events(
    ctx: &RunContext,
    program: &str,
    wait: Duration,
) -> Result<EventsLease, CrmmapExit> {
    if ctx.store.backend() != Backend::Sqlite {
        return Ok(EventsLease(None));
    }
    let options = LeaseOptions {
        ttl: SQLITE_EVENTS_TTL,
        wait,
        ..LeaseOptions::default()
    };
    let holder = crmmap_store::process_description(program);
    match ctx
        .store
        .acquire_lease(SQLITE_EVENTS_LEASE, &holder, &options, ctx.clock.clone())
        .await
    {
        Ok(LeaseAcquire::Acquired(lease)) => {
            lease.on_lost(|| {
                eprintln!(
                    "error: the SQLite events lease was lost (this process stalled past its time \
                     to live): another process may now apply events of the same items"
                );
            });
            Ok(EventsLease(Some(lease)))
        }
        Ok(LeaseAcquire::Held(by)) => {
            eprintln!(
                "error: {by} applies monday item events on this SQLite store; SQLite's item lock \
                 does not cross processes, so {program} here could apply an item's events out of \
                 order. crmmap serve drains the retry queue itself (--retry-every): stop it \
                 first, or use PostgreSQL to run several processes"
            );
            Err(CrmmapExit::Busy)
        }
        Err(e) => Err(super::fail(&e.to_string())),
    }
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
        // A previous holder that died frees the lease when it expires: wait that long.
        let wait = SQLITE_EVENTS_TTL + Duration::from_secs(5);
        let events = match hold_sqlite_events(webhook.context(), "crmmap serve", wait).await {
            Ok(lease) => lease,
            Err(exit) => return exit,
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
        let subscribers = match subscriber_options(&args.config) {
            Ok(Some(options)) => {
                eprintln!(
                    "crmmap: subscribing to change events at {}",
                    options.endpoint
                );
                Some(webhook.start_subscribers(options))
            }
            Ok(None) => None,
            Err(e) => return super::fail(&e),
        };
        let served = webhook
            .serve(listener, every, super::shutdown::requested())
            .await;
        if let Some(s) = subscribers {
            s.stop().await;
        }
        events.release().await;
        match served {
            Ok(()) => CrmmapExit::Clean,
            Err(e) => super::fail(&format!("the server stopped: {e}")),
        }
    })
}
