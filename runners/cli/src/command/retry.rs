//! `crmmap retry`: apply the queued failures that are due now; list or revive dead letters.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap retry`.
#[derive(Args)]
pub struct RetryArgs {
    /// The configuration file.
    #[arg(long, default_value = crmmap_sync::config::DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Most items tried in this run.
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    /// List the dead letters instead of retrying.
    #[arg(long, conflicts_with = "requeue")]
    pub dead: bool,
    /// Put a dead letter back in the queue (its id from `--dead`), then retry.
    #[arg(long, value_name = "ID")]
    pub requeue: Vec<i64>,
    /// Put every dead letter back in the queue (narrowed by `--since` and `--reason`), then
    /// retry.
    #[arg(long, conflicts_with_all = ["dead", "requeue"])]
    pub requeue_all: bool,
    /// With `--requeue-all`: only dead letters that gave up since this time (RFC 3339, or an
    /// age: `90s`, `30m`, `12h`, `7d`).
    #[arg(long, requires = "requeue_all", value_parser = super::log::parse_since)]
    pub since: Option<time::OffsetDateTime>,
    /// With `--requeue-all`: only dead letters whose error contains this text
    /// (case-insensitive), e.g. `REQUIRED_FIELD_MISSING`.
    #[arg(long, requires = "requeue_all")]
    pub reason: Option<String>,
}

/// Runs `crmmap retry`.
pub fn retry(args: &RetryArgs) -> CrmmapExit {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the async runtime: {e}")),
    };
    crmmap_webhook::init_logging();
    runtime.block_on(async {
        let webhook = match super::serve::build(&args.config).await {
            Ok(w) => w,
            Err(e) => return super::fail(&e),
        };
        let ctx = webhook.context();
        // SQLite: one process applies item events (see `serve.rs`); refuse beside `crmmap serve`.
        let _events = if args.dead {
            None
        } else {
            match super::serve::hold_sqlite_events(ctx, "crmmap retry", Duration::ZERO).await {
                Ok(lease) => Some(lease),
                Err(exit) => return exit,
            }
        };
        if args.dead {
            return match ctx.store.dead_letters(args.limit).await {
                Ok(dead) => {
                    if dead.is_empty() {
                        println!("no dead letters");
                    }
                    for d in &dead {
                        println!(
                            "{}\t{}\t{}\tattempts {}\t{}\t{}",
                            d.id,
                            d.kind,
                            d.dedup_key,
                            d.attempts,
                            d.failure.map_or("unclassified", |f| f.as_str()),
                            d.last_error
                        );
                    }
                    CrmmapExit::Clean
                }
                Err(e) => super::fail(&e.to_string()),
            };
        }
        for id in &args.requeue {
            match ctx.store.requeue_dead(*id, ctx.now()).await {
                Ok(true) => println!("requeued {id}"),
                Ok(false) => return super::fail(&format!("{id} is not a dead letter")),
                Err(e) => return super::fail(&e.to_string()),
            }
        }
        if args.requeue_all {
            let filter = crmmap_store::RequeueFilter {
                since: args.since,
                reason: args.reason.clone(),
                ..Default::default()
            };
            match ctx.store.requeue_dead_where(&filter, ctx.now()).await {
                Ok(n) => println!("requeued {n} dead letters"),
                Err(e) => return super::fail(&e.to_string()),
            }
        }
        let total = match webhook.drain_retries(args.limit.max(1)).await {
            Ok(r) => r,
            Err(e) => return super::fail(&e.to_string()),
        };
        println!(
            "retried {}: {} applied, {} rescheduled, {} dead-lettered, {} left for later",
            total.tried, total.applied, total.rescheduled, total.dead, total.released
        );
        if let Some(api) = &total.paused {
            println!(
                "{api} is unavailable: the queue is paused until it answers again (nothing is charged meanwhile)"
            );
        }
        if total.dead > 0 || total.rescheduled > 0 || total.paused.is_some() {
            CrmmapExit::Problems
        } else {
            CrmmapExit::Clean
        }
    })
}
