//! `bootstrap`: crmmap's webhook runner on AWS Lambda (`provided.al2023` custom runtime).
//!
//! One binary, two functions (see `deploy/template.yaml`):
//!
//! - `CRMMAP_LAMBDA_MODE` unset or `http`: API Gateway REST or HTTP API events, or Function URL
//!   events, served by the same axum `Router` as `crmmap serve` (through `lambda_http`), and
//!   Salesforce change events from the EventBridge rule on the partner event bus (an event
//!   with `detail-type` and `detail`), applied by the same handler as `POST
//!   /events/salesforce`, without HTTP; a failure fails the invocation, so EventBridge retries
//!   it and finally sends it to the dead-letter queue;
//! - `CRMMAP_LAMBDA_MODE=schedule`: an EventBridge schedule
//!   drains the retry queue (for at most half of its time), then runs the incremental migrator
//!   (Salesforce → monday, stopped between chunks a minute before the function's deadline)
//!   and prunes the store past its retention.
//!
//! Everything expensive (settings, compiled mappings, both API clients with their token cache,
//! the store's connection pool) is built once per instance, at cold start, and reused by every
//! invocation. Configuration comes from `crmmap.toml` bundled next to the binary (or
//! `CRMMAP_CONFIG`), secrets from the environment (the template resolves them from Secrets
//! Manager).

use std::path::PathBuf;

use crmmap_sync::config::StoreSection;
use crmmap_sync::{RunContext, Settings};
use crmmap_webhook::{Webhook, WebhookOptions};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

/// Chooses the function's role.
const MODE_ENV: &str = "CRMMAP_LAMBDA_MODE";
/// Path of `crmmap.toml` (default: `$LAMBDA_TASK_ROOT/crmmap.toml`, else `./crmmap.toml`).
const CONFIG_ENV: &str = "CRMMAP_CONFIG";
/// Most retry items one scheduled run tries.
const DRAIN_LIMIT: u32 = 5_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn config_path() -> PathBuf {
    if let Ok(p) = std::env::var(CONFIG_ENV) {
        return PathBuf::from(p);
    }
    match std::env::var("LAMBDA_TASK_ROOT") {
        Ok(root) => PathBuf::from(root).join("crmmap.toml"),
        Err(_) => PathBuf::from("crmmap.toml"),
    }
}

/// The webhook runner and the store's retention settings.
async fn build() -> Result<(Webhook, StoreSection), BoxError> {
    let settings = Settings::load(Some(&config_path()))?;
    // Serving webhooks, a monday rate limit queues the event rather than holding the function.
    let settings = match std::env::var(MODE_ENV).as_deref() {
        Ok("schedule") => settings,
        _ => settings.for_webhook(),
    };
    let pgsslmode = std::env::var(crmmap_store::PGSSLMODE_ENV).ok();
    if let Some(warning) = crmmap_store::tls_warning(&settings.store_url, pgsslmode.as_deref()) {
        tracing::warn!("{warning}");
    }
    let options = WebhookOptions::from_settings(&settings, |k| std::env::var(k).ok())?;
    let ctx = RunContext::build(&settings).await?;
    Ok((Webhook::new(ctx, options), settings.file.store))
}

/// Time kept back from the function's deadline: the drain starts no item and the migrator
/// starts no chunk that could end past it.
const DEADLINE_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// The scheduled run: the retry queue first (queued monday edits reach Salesforce before the
/// migrator reads it), for at most half of the time left; then the incremental migrator, until
/// a minute before the deadline; then retention.
async fn scheduled(
    webhook: Webhook,
    keep: &StoreSection,
    event: LambdaEvent<Value>,
) -> Result<Value, BoxError> {
    let left = event
        .context
        .deadline()
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(DEADLINE_MARGIN);
    let started = tokio::time::Instant::now();
    let drained = webhook
        .drain_until(DRAIN_LIMIT, Some(started + left / 2))
        .await?;
    tracing::info!(request_id = %event.context.request_id, ?drained, "retry queue drained");
    // The migrator holds the store's `migrate` lease while it runs: an overlapping manual
    // `crmmap migrate` (or a late previous invocation) makes this one skip its migration.
    let options = crmmap_sync::migrate::MigrateOptions {
        runner: "the scheduled Lambda".to_owned(),
        ..crmmap_sync::migrate::MigrateOptions::default()
    };
    let stop = options.stop.clone();
    let timer = tokio::spawn(async move {
        tokio::time::sleep_until(started + left).await;
        stop.stop();
    });
    let migrated = crmmap_sync::migrate::run(
        webhook.context(),
        &options,
        &mut crmmap_sync::migrate::NoProgress,
    )
    .await;
    timer.abort();
    let migrate = match &migrated {
        Ok(r) => {
            let t = r.total();
            json!({"read": t.read, "created": t.created, "updated": t.updated, "failed": t.failed, "stopped": r.stopped})
        }
        Err(e @ crmmap_sync::migrate::MigrateError::Busy(_)) => {
            tracing::warn!(error = %e, "migration skipped: another one holds the lease");
            json!({ "skipped": e.to_string() })
        }
        Err(e) => {
            tracing::error!(error = %e, "the migration stopped; the next run resumes it");
            json!({ "error": e.to_string() })
        }
    };
    let ctx = webhook.context();
    let pruned = match crmmap_sync::retention::prune(&ctx.store, keep, ctx.now()).await {
        Ok(p) => json!({ "events": p.events, "log": p.log }),
        Err(e) => {
            tracing::error!(error = %e, "pruning the store failed; the next run tries again");
            json!({ "error": e.to_string() })
        }
    };
    Ok(json!({
        "pruned": pruned,
        "retries": {
            "tried": drained.tried,
            "applied": drained.applied,
            "rescheduled": drained.rescheduled,
            "dead": drained.dead,
            "left": drained.released,
            "paused": drained.paused,
        },
        "migrate": migrate,
    }))
}

/// Whether an invocation is an EventBridge event carrying a Salesforce change event (the
/// partner event bus rule), rather than an HTTP event.
fn is_change_event(event: &Value) -> bool {
    event.get("detail-type").is_some_and(Value::is_string)
        && event.get("detail").is_some_and(Value::is_object)
        && event.get("source").and_then(Value::as_str) != Some("aws.events")
}

/// One invocation of the `http` function: a change event, or an HTTP event for the router.
async fn invoked<S>(
    webhook: Webhook,
    mut http: S,
    event: LambdaEvent<Value>,
) -> Result<Value, BoxError>
where
    S: tower::Service<LambdaEvent<lambda_http::request::LambdaRequest>>,
    S::Response: serde::Serialize,
    S::Error: Into<BoxError>,
{
    let LambdaEvent { payload, context } = event;
    if is_change_event(&payload) {
        return webhook
            .handle_eventbridge(&payload)
            .await
            .map_err(BoxError::from);
    }
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(payload)?;
    use tower::ServiceExt;
    let answer = http
        .ready()
        .await
        .map_err(Into::into)?
        .call(LambdaEvent::new(request, context))
        .await
        .map_err(Into::into)?;
    Ok(serde_json::to_value(answer)?)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time()
        .with_ansi(false)
        .init();
    let (webhook, keep) = match build().await {
        Ok(built) => built,
        Err(e) => {
            // Reported to the Runtime API as an init error by the runtime; logged here too.
            tracing::error!(error = %e, "cannot start crmmap");
            return Err(e);
        }
    };
    match std::env::var(MODE_ENV).as_deref() {
        Ok("schedule") => {
            let keep = std::sync::Arc::new(keep);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let (webhook, keep) = (webhook.clone(), keep.clone());
                async move { scheduled(webhook, &keep, event).await }
            }))
            .await
        }
        Ok("http") | Err(_) => {
            // REST APIs put the stage in front of the path; the router does not know it.
            let service = tower::ServiceBuilder::new()
                .map_request(crmmap_webhook::without_path_prefix::<lambda_http::Body>)
                .service(webhook.router());
            let http = lambda_http::Adapter::from(service);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
                let (webhook, http) = (webhook.clone(), http.clone());
                async move { invoked(webhook, http, event).await }
            }))
            .await
        }
        Ok(other) => Err(format!("unknown {MODE_ENV} `{other}`: use http or schedule").into()),
    }
}
