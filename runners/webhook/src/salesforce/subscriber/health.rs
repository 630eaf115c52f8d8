//! What `/health` says of the Pub/Sub subscriptions: each channel's state and its last
//! delivery. Unhealthy when a subscription stopped for good, is restarting, or has had no
//! delivery (keepalives count) for longer than the stall limit.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde_json::{Value as Json, json};
use tokio::time::Instant;

/// A channel's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Connecting or receiving.
    Running,
    /// Waiting to start again after a failure (the failure).
    Restarting(String),
    /// Stopped by a permanent failure (the failure); nothing restarts it but a new process.
    Stopped(String),
}

#[derive(Debug)]
struct Channel {
    state: State,
    last_progress: Instant,
}

/// Every channel's state; empty when no subscriber runs.
#[derive(Debug, Default)]
pub(crate) struct Health {
    channels: Mutex<BTreeMap<String, Channel>>,
    stall_after: Mutex<Option<Duration>>,
}

impl Health {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Channel>) -> R) -> R {
        f(&mut self.channels.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn set_stall_after(&self, limit: Duration) {
        *self
            .stall_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(limit);
    }

    /// Sets a channel's state (a running one counts as making progress now).
    pub(crate) fn set(&self, channel: &str, state: State) {
        self.with(|c| {
            let entry = c.entry(channel.to_owned()).or_insert(Channel {
                state: State::Running,
                last_progress: Instant::now(),
            });
            if state == State::Running {
                entry.last_progress = Instant::now();
            }
            entry.state = state;
        });
    }

    /// A delivery (a batch, a keepalive or a gap) arrived on the channel.
    pub(crate) fn progress(&self, channel: &str) {
        self.set(channel, State::Running);
    }

    /// `None` when no subscriber runs; else whether every channel is healthy, and the
    /// channels as JSON.
    pub(crate) fn report(&self) -> Option<(bool, Json)> {
        self.report_at(Instant::now())
    }

    fn report_at(&self, now: Instant) -> Option<(bool, Json)> {
        let stall_after = *self
            .stall_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.with(|channels| {
            if channels.is_empty() {
                return None;
            }
            let mut healthy = true;
            let mut out = serde_json::Map::new();
            for (name, c) in channels.iter() {
                let age = now.saturating_duration_since(c.last_progress);
                let (state, error) = match &c.state {
                    State::Running => match stall_after {
                        Some(limit) if age > limit => {
                            ("stalled", Some(format!("no delivery for over {limit:?}")))
                        }
                        _ => ("running", None),
                    },
                    State::Restarting(e) => ("restarting", Some(e.clone())),
                    State::Stopped(e) => ("stopped", Some(e.clone())),
                };
                healthy &= state == "running";
                out.insert(
                    name.clone(),
                    json!({
                        "state": state,
                        "error": error,
                        "last_delivery_s_ago": age.as_secs_f64(),
                    }),
                );
            }
            Some((healthy, Json::Object(out)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_restarting_or_silent_channel_is_unhealthy() {
        let h = Health::default();
        assert_eq!(h.report(), None);
        h.set_stall_after(Duration::from_secs(10));
        h.set("/data/LeadChangeEvent", State::Running);
        assert_eq!(h.report().map(|r| r.0), Some(true));
        let later = Instant::now() + Duration::from_secs(11);
        let (ok, detail) = h.report_at(later).unwrap_or((true, Json::Null));
        assert!(!ok);
        assert_eq!(detail["/data/LeadChangeEvent"]["state"], "stalled");
        h.progress("/data/LeadChangeEvent");
        assert_eq!(h.report().map(|r| r.0), Some(true));
        h.set("/data/AccountChangeEvent", State::Stopped("refused".into()));
        let (ok, detail) = h.report().unwrap_or((true, Json::Null));
        assert!(!ok);
        assert_eq!(detail["/data/AccountChangeEvent"]["state"], "stopped");
        assert_eq!(detail["/data/AccountChangeEvent"]["error"], "refused");
        h.set("/data/AccountChangeEvent", State::Restarting("down".into()));
        assert_eq!(h.report().map(|r| r.0), Some(false));
    }
}
