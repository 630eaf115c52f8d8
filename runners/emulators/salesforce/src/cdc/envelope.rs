//! The Amazon EventBridge envelope an Event Relay delivers a change event in
//! (realtime-and-limits.md §2b): `version` "0", `id` (EventBridge's own UUID, not the
//! Salesforce event's), `detail-type` the event's API name, `source` the partner event source
//! `aws.partner/salesforce.com/<orgId>/<channelId>` (§2a), `account`, `time`, `region`,
//! `resources`, and the change event under `detail.payload`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::event::ChangeEvent;

/// The relay's org, channel and AWS account: what the envelope names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeSource {
    /// The Salesforce org id (`00D…`).
    pub org_id: String,
    /// The relayed channel's id (`0YL…`).
    pub channel_id: String,
    /// The 12-digit AWS account of the partner event bus.
    pub account: String,
    pub region: String,
}

impl Default for EnvelopeSource {
    fn default() -> Self {
        EnvelopeSource {
            // The org of the token endpoint's identity URL.
            org_id: crate::ids::to18(crate::oauth::ORG_ID).unwrap_or_default(),
            channel_id: crate::ids::to18("0YL5g0000004Dfg").unwrap_or_default(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }
}

impl EnvelopeSource {
    /// The partner event source name (§2a).
    pub fn source(&self) -> String {
        format!(
            "aws.partner/salesforce.com/{}/{}",
            self.org_id, self.channel_id
        )
    }
}

/// `event` in an EventBridge envelope with a fresh `id`. `time` is the commit time, to the
/// second, as EventBridge writes it (`2024-04-09T20:19:25Z`).
pub fn envelope(event: &ChangeEvent, source: &EnvelopeSource) -> Value {
    let time = OffsetDateTime::from_unix_timestamp(event.header.commit_timestamp.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default();
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": event.event_name(),
        "source": source.source(),
        "account": source.account,
        "time": time,
        "region": source.region,
        "resources": [],
        "detail": {"payload": event.payload()},
    })
}
