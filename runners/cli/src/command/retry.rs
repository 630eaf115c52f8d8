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
    /// Items claimed per round (rounds go on while they come back full).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// List the dead letters instead of retrying.
    #[arg(long, conflicts_with = "requeue")]
    pub dead: bool,
    /// Put a dead letter back in the queue (its id from `--dead`), then retry.
    #[arg(long, value_name = "ID")]
    pub requeue: Vec<i64>,
}

/// Most rounds of one `crmmap retry`.
const MAX_ROUNDS: usize = 100;

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
                            "{}\t{}\t{}\tattempts {}\t{}",
                            d.id, d.kind, d.dedup_key, d.attempts, d.last_error
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
        let mut total = crmmap_webhook::DrainReport::default();
        for _ in 0..MAX_ROUNDS {
            let r = match webhook.drain_retries(args.limit.max(1)).await {
                Ok(r) => r,
                Err(e) => return super::fail(&e.to_string()),
            };
            total.claimed += r.claimed;
            total.applied += r.applied;
            total.rescheduled += r.rescheduled;
            total.dead += r.dead;
            if r.claimed < args.limit.max(1) as usize {
                break;
            }
        }
        println!(
            "retried {}: {} applied, {} rescheduled, {} dead-lettered",
            total.claimed, total.applied, total.rescheduled, total.dead
        );
        if total.dead > 0 || total.rescheduled > 0 {
            CrmmapExit::Problems
        } else {
            CrmmapExit::Clean
        }
    })
}
