//! `crmmap serve`'s process: logging, the listener, and the supervised retry drain.

use std::time::Duration;

use futures::FutureExt;

use crate::{Webhook, drain};

/// Most items one drain round of `crmmap serve` tries.
pub(crate) const DRAIN_ROUND_LIMIT: u32 = 100;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); for `crmmap serve` and `retry`.
/// Does nothing when a subscriber is already installed.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

impl Webhook {
    /// Serves [`Webhook::router`] on `listener` until `shutdown` completes, draining the
    /// retry queue every `retry_every` meanwhile (`None`: never).
    ///
    /// The drain is supervised: a round that panics or fails is logged and the next round
    /// starts on schedule, and a drain task that ends is started again. `/health` reports the
    /// last round and turns unhealthy when rounds stop.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        retry_every: Option<Duration>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let drainer = retry_every.map(|every| {
            if let Ok(mut e) = self.inner.drain_every.lock() {
                *e = Some(every);
            }
            self.beat_now();
            let w = self.clone();
            tokio::spawn(async move { w.supervise_drain(every).await })
        });
        let served = axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await;
        if let Some(d) = drainer {
            d.abort();
        }
        served
    }

    /// Runs drain rounds every `every`, restarting the round task whenever it ends.
    pub(crate) async fn supervise_drain(&self, every: Duration) {
        loop {
            let w = self.clone();
            let rounds = tokio::spawn(async move { w.drain_rounds(every).await });
            match rounds.await {
                Ok(()) => tracing::error!("the retry drain stopped; restarting it"),
                Err(e) if e.is_cancelled() => return,
                Err(e) => tracing::error!(error = %e, "the retry drain failed; restarting it"),
            }
            tokio::time::sleep(every).await;
        }
    }

    pub(crate) async fn drain_rounds(&self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let round = std::panic::AssertUnwindSafe(self.drain_retries(DRAIN_ROUND_LIMIT))
                .catch_unwind()
                .await;
            match round {
                Ok(Ok(r)) if r.claimed > 0 || r.paused.is_some() => {
                    tracing::info!(?r, "retry queue drained")
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "retry drain failed"),
                Err(panic) => tracing::error!(
                    panic = %drain::panic_message(panic.as_ref()),
                    "a retry drain round panicked"
                ),
            }
        }
    }

    pub(crate) fn beat_now(&self) {
        if let Ok(mut h) = self.inner.drain_beat.lock() {
            *h = Some(tokio::time::Instant::now());
        }
    }
}
