//! How the Pub/Sub subscriber behaves: [`SubscriberOptions`], from `crmmap.toml`.

use std::time::Duration;

use crmmap_backoff::Backoff;
use crmmap_sync::Settings;
use crmmap_sync::change_events::{ChangeEvents, pubsub_url};

/// Salesforce keeps change events 72 hours (realtime-and-limits.md §1e); a checkpoint older
/// than this is treated as past it, with two hours' margin for the purge and the clocks.
pub const RETENTION: Duration = Duration::from_secs(70 * 3600);

/// Salesforce sends a keepalive "within 270 seconds" of silence (§3): two of them missed and
/// the subscription counts as stalled.
pub const STALL_AFTER: Duration = Duration::from_secs(2 * 270 + 60);

/// The subscriber's settings.
#[derive(Clone, Debug)]
pub struct SubscriberOptions {
    /// The gRPC endpoint as a URL (`https://api.pubsub.salesforce.com:7443`, or an
    /// emulator's `http://127.0.0.1:PORT`).
    pub endpoint: String,
    /// The `tenantid` metadata; `None`: the org id of the Salesforce session.
    pub tenant_id: Option<String>,
    /// Events requested at a time (1..=100).
    pub batch_size: i32,
    /// The client's backoff and attempts after a transient failure or while the delivery
    /// allocation is used up.
    pub retries: crmmap_pubsub::Retries,
    /// The wait before a subscription that gave up (or whose store failed) starts again.
    pub restart: Backoff,
    /// Store failures in a row while applying a batch before the subscription restarts from
    /// its checkpoint.
    pub store_attempts: u32,
    /// A checkpoint older than this starts `LATEST` and reconciles (default [`RETENTION`]).
    pub retention: Duration,
    /// No delivery (keepalives count) for this long: `/health` reports the channel stalled.
    pub stall_after: Duration,
}

impl SubscriberOptions {
    /// Production defaults for `endpoint` (`host:port` or a URL).
    pub fn new(endpoint: &str) -> Self {
        SubscriberOptions {
            endpoint: pubsub_url(endpoint),
            tenant_id: None,
            batch_size: crmmap_pubsub::MAX_REQUESTED,
            retries: crmmap_pubsub::Retries::default(),
            restart: Backoff::new(
                Duration::from_secs(5),
                Duration::from_secs(300),
                Backoff::EQUAL_JITTER,
            ),
            store_attempts: 5,
            retention: RETENTION,
            stall_after: STALL_AFTER,
        }
    }

    /// The subscriber `crmmap.toml` asks for: `Some` with `[salesforce] change_events =
    /// "pubsub"`, at `pubsub_endpoint`.
    pub fn from_settings(settings: &Settings) -> Option<Self> {
        let sf = &settings.file.salesforce;
        (sf.change_events == ChangeEvents::PubSub)
            .then(|| SubscriberOptions::new(&sf.pubsub_endpoint))
    }

    /// The client configuration for a session.
    pub(crate) fn client_config(
        &self,
        session: &crmmap_salesforce::Session,
        tenant_id: String,
    ) -> crmmap_pubsub::PubSubConfig {
        let mut c = crmmap_pubsub::PubSubConfig::new(
            self.endpoint.clone(),
            session.access_token.clone(),
            session.instance_url.clone(),
            tenant_id,
        );
        c.batch_size = self.batch_size;
        c.retries = self.retries;
        c
    }
}

/// The change-event channel of an sObject (realtime-and-limits.md §1b): `Lead` →
/// `/data/LeadChangeEvent`, `Grant__c` → `/data/Grant__ChangeEvent`.
pub fn channel_of(sobject: &str) -> String {
    match sobject.strip_suffix("__c") {
        Some(base) => format!("/data/{base}__ChangeEvent"),
        None => format!("/data/{sobject}ChangeEvent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_of_standard_and_custom_objects() {
        assert_eq!(channel_of("Lead"), "/data/LeadChangeEvent");
        assert_eq!(channel_of("Grant__c"), "/data/Grant__ChangeEvent");
    }

    #[test]
    fn settings_turn_the_subscriber_on_only_for_pubsub() {
        let parse = |toml: &str| {
            crmmap_sync::Settings::parse(
                toml,
                std::path::Path::new("crmmap.toml"),
                std::path::Path::new("."),
                |_| None,
            )
            .map(|s| SubscriberOptions::from_settings(&s).map(|o| o.endpoint))
        };
        assert_eq!(parse("").ok(), Some(None));
        assert_eq!(
            parse("[salesforce]\nchange_events = \"http\"\n").ok(),
            Some(None)
        );
        assert_eq!(
            parse("[salesforce]\nchange_events = \"pubsub\"\n").ok(),
            Some(Some("https://api.pubsub.salesforce.com:7443".to_owned()))
        );
        assert_eq!(
            parse(
                "[salesforce]\nchange_events = \"pubsub\"\npubsub_endpoint = \"http://127.0.0.1:9\"\n"
            )
            .ok(),
            Some(Some("http://127.0.0.1:9".to_owned()))
        );
        assert!(parse("[salesforce]\nchange_events = \"cometd\"\n").is_err());
    }
}
