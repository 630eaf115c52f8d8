//! `[salesforce] change_events` and `pubsub_endpoint`: where `crmmap serve` takes Salesforce
//! change events from (realtime-and-limits.md §2, §3).

use serde::Deserialize;

/// Salesforce's production Pub/Sub endpoint (realtime-and-limits.md §3).
pub const DEFAULT_PUBSUB_ENDPOINT: &str = "api.pubsub.salesforce.com:7443";

/// Where `crmmap serve` takes change events from.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChangeEvents {
    /// Not from Salesforce's streams (default). `POST /events/salesforce` still accepts
    /// events when `CRMMAP_EVENTS_TOKEN` is set.
    #[default]
    Off,
    /// Pushed to crmmap: Event Relay → EventBridge → the Lambda, or an EventBridge API
    /// destination → `POST /events/salesforce` (needs `CRMMAP_EVENTS_TOKEN`). `crmmap serve`
    /// opens no stream; the same as `off` for it, named so the configuration says where the
    /// events come from.
    #[serde(alias = "relay")]
    Http,
    /// `crmmap serve` subscribes to each mapped object's channel over the Pub/Sub API.
    PubSub,
}

/// The endpoint as a URL the gRPC client takes: `host:port` becomes `https://host:port`;
/// an explicit `http://` (an emulator) or `https://` is kept.
pub fn pubsub_url(endpoint: &str) -> String {
    let e = endpoint.trim().trim_end_matches('/');
    if e.starts_with("http://") || e.starts_with("https://") {
        e.to_owned()
    } else {
        format!("https://{e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_endpoint_is_https_and_an_emulator_keeps_its_scheme() {
        assert_eq!(
            pubsub_url(DEFAULT_PUBSUB_ENDPOINT),
            "https://api.pubsub.salesforce.com:7443"
        );
        assert_eq!(pubsub_url("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    }
}
