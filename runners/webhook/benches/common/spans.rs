//! Wall-clock intervals of the spans the handler, the clients and the store open (`debug`
//! level, by name), recorded only while a measurement runs; shared by the benchmarks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber, span};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

pub struct Timed {
    pub name: &'static str,
    pub start: Instant,
    pub end: Instant,
}

static ON: AtomicBool = AtomicBool::new(false);
static CLOSED: Mutex<Vec<Timed>> = Mutex::new(Vec::new());

struct Start(Instant);
struct Timing;

fn wanted(m: &Metadata<'_>) -> bool {
    m.is_span()
        && ["webhook.", "monday.", "salesforce.", "store."]
            .iter()
            .any(|p| m.name().starts_with(p))
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Timing {
    fn register_callsite(&self, m: &'static Metadata<'static>) -> Interest {
        if wanted(m) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, m: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(m)
    }

    fn on_new_span(&self, _: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(s) = ctx.span(id) {
            s.extensions_mut().insert(Start(Instant::now()));
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let end = Instant::now();
        if ON.load(Ordering::SeqCst)
            && let Some(s) = ctx.span(&id)
            && let Some(Start(start)) = s.extensions().get::<Start>()
        {
            CLOSED.lock().unwrap().push(Timed {
                name: s.name(),
                start: *start,
                end,
            });
        }
    }
}

pub fn install() {
    tracing_subscriber::registry().with(Timing).init();
}

pub fn record(on: bool) {
    ON.store(on, Ordering::SeqCst);
    CLOSED.lock().unwrap().clear();
}

pub fn take() -> Vec<Timed> {
    std::mem::take(&mut *CLOSED.lock().unwrap())
}

/// The handler's time beyond its API calls: the `webhook.request` span minus the union of
/// the request spans inside it (a store query that runs while a request is in flight
/// adds nothing).
pub fn overhead(spans: &[Timed]) -> Option<Duration> {
    let event = spans.iter().find(|s| s.name == "webhook.request")?;
    Some((event.end - event.start).saturating_sub(api_time(spans, event.start, event.end)))
}

/// The time between `from` and `to` covered by at least one API request span (`monday.*`,
/// `salesforce.*`): overlapping requests count once.
pub fn api_time(spans: &[Timed], from: Instant, to: Instant) -> Duration {
    let mut api: Vec<(Instant, Instant)> = spans
        .iter()
        .filter(|s| s.name.starts_with("monday.") || s.name.starts_with("salesforce."))
        .map(|s| (s.start.max(from), s.end.min(to)))
        .filter(|(a, b)| a < b)
        .collect();
    api.sort();
    let (mut covered, mut reach) = (Duration::ZERO, from);
    for (a, b) in api {
        let a = a.max(reach);
        if b > a {
            covered += b - a;
            reach = b;
        }
    }
    covered
}

/// A benchmark's start: `None` when only asked to list tests (`--list`, as test runners such as
/// nextest ask: nothing runs); otherwise the span recorder installed and a runtime with one
/// worker per core, as `crmmap serve` runs.
pub fn bench_runtime() -> Option<tokio::runtime::Runtime> {
    if std::env::args().any(|a| a == "--list") {
        return None;
    }
    install();
    Some(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    )
}
