//! Outgoing board webhooks: change events, payloads in monday's shapes (reference §5.5),
//! the challenge handshake, signing, and delivery with retries.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crmmap_monday::Secret;
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::state::{Column, ColumnKind};

/// A change the emulator applied, to be delivered to matching webhooks.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An item was created.
    CreatePulse {
        /// Board.
        board_id: u64,
        /// Item.
        item_id: u64,
        /// Item name.
        name: String,
        /// Group id.
        group_id: String,
        /// Group title.
        group_title: String,
        /// Group colour.
        group_color: String,
    },
    /// A column value changed.
    UpdateColumnValue {
        /// Board.
        board_id: u64,
        /// Item.
        item_id: u64,
        /// Item name.
        item_name: String,
        /// Group id.
        group_id: String,
        /// The column.
        column: Column,
        /// New value, webhook shape.
        value: Value,
        /// Previous value, webhook shape (null when empty).
        previous: Value,
    },
    /// An item was renamed.
    UpdateName {
        /// Board.
        board_id: u64,
        /// Item.
        item_id: u64,
        /// Group id.
        group_id: String,
        /// New name.
        name: String,
        /// Old name.
        previous: String,
    },
    /// An item was deleted.
    DeletePulse {
        /// Board.
        board_id: u64,
        /// Item.
        item_id: u64,
        /// Item name.
        item_name: String,
    },
    /// An item was archived.
    ArchivePulse {
        /// Board.
        board_id: u64,
        /// Item.
        item_id: u64,
        /// Item name.
        item_name: String,
    },
}

impl Event {
    /// Item of the event.
    pub fn item_id(&self) -> u64 {
        match self {
            Self::CreatePulse { item_id, .. }
            | Self::UpdateColumnValue { item_id, .. }
            | Self::UpdateName { item_id, .. }
            | Self::DeletePulse { item_id, .. }
            | Self::ArchivePulse { item_id, .. } => *item_id,
        }
    }

    /// Board of the event.
    pub fn board_id(&self) -> u64 {
        match self {
            Self::CreatePulse { board_id, .. }
            | Self::UpdateColumnValue { board_id, .. }
            | Self::UpdateName { board_id, .. }
            | Self::DeletePulse { board_id, .. }
            | Self::ArchivePulse { board_id, .. } => *board_id,
        }
    }

    /// Whether a subscription to `event` (a `WebhookEventType`) with `config` receives this.
    pub fn matches(&self, event: &str, config: Option<&Value>) -> bool {
        match self {
            Self::CreatePulse { .. } => event == "create_item",
            Self::UpdateColumnValue { column, value, .. } => match event {
                "change_column_value" => true,
                "change_specific_column_value" => {
                    config
                        .and_then(|c| c.get("columnId"))
                        .and_then(Value::as_str)
                        == Some(column.id.as_str())
                }
                "change_status_column_value" => {
                    if column.kind != ColumnKind::Status {
                        return false;
                    }
                    let Some(config) = config else { return true };
                    if config
                        .get("columnId")
                        .and_then(Value::as_str)
                        .is_some_and(|c| c != column.id)
                    {
                        return false;
                    }
                    match config.get("columnValue") {
                        Some(wanted) if wanted.get("$any$") == Some(&json!(true)) => true,
                        Some(wanted) => {
                            wanted.get("index").and_then(Value::as_i64)
                                == value
                                    .get("label")
                                    .and_then(|l| l.get("index"))
                                    .and_then(Value::as_i64)
                        }
                        None => true,
                    }
                }
                _ => false,
            },
            Self::UpdateName { .. } => event == "change_name",
            Self::DeletePulse { .. } => event == "item_deleted",
            Self::ArchivePulse { .. } => event == "item_archived",
        }
    }

    /// The `{"event": {...}}` body.
    pub fn payload(&self, meta: &PayloadMeta<'_>) -> Value {
        let mut event = json!({
            "app": "monday",
            "type": "",
            "triggerTime": meta.trigger_time,
            "subscriptionId": meta.subscription_id,
            "isRetry": meta.is_retry,
            "userId": meta.user_id,
            "originalTriggerUuid": null,
            "boardId": self.board_id(),
        });
        let map = event.as_object_mut().expect("object literal");
        let (kind, fields) = match self {
            Self::CreatePulse {
                item_id,
                name,
                group_id,
                group_title,
                group_color,
                ..
            } => (
                "create_pulse",
                json!({
                    "pulseId": item_id,
                    "pulseName": name,
                    "groupId": group_id,
                    "groupName": group_title,
                    "groupColor": group_color,
                    "isTopGroup": true,
                    "columnValues": {},
                }),
            ),
            Self::UpdateColumnValue {
                item_id,
                item_name,
                group_id,
                column,
                value,
                previous,
                ..
            } => (
                "update_column_value",
                json!({
                    "groupId": group_id,
                    "pulseId": item_id,
                    "pulseName": item_name,
                    "columnId": column.id,
                    "columnType": column.kind.legacy_name(),
                    "columnTitle": column.title,
                    "value": value,
                    "previousValue": previous,
                    "changedAt": meta.changed_at,
                    "isTopGroup": true,
                }),
            ),
            Self::UpdateName {
                item_id,
                group_id,
                name,
                previous,
                ..
            } => (
                "update_name",
                json!({
                    "groupId": group_id,
                    "pulseId": item_id,
                    "value": { "name": name },
                    "previousValue": { "name": previous },
                    "isTopGroup": true,
                }),
            ),
            Self::DeletePulse {
                item_id, item_name, ..
            } => (
                "delete_pulse",
                json!({ "itemId": item_id, "itemName": item_name }),
            ),
            Self::ArchivePulse {
                item_id, item_name, ..
            } => (
                "archive_pulse",
                json!({ "itemId": item_id, "itemName": item_name }),
            ),
        };
        map.insert("type".into(), json!(kind));
        if let Value::Object(fields) = fields {
            map.extend(fields);
        }
        map.insert("triggerUuid".into(), json!(meta.trigger_uuid));
        json!({ "event": event })
    }
}

/// Per-delivery fields of a payload.
#[derive(Debug, Clone)]
pub struct PayloadMeta<'a> {
    /// Subscription id.
    pub subscription_id: u64,
    /// The token's user id.
    pub user_id: u64,
    /// 32 hex characters, the same on every retry.
    pub trigger_uuid: &'a str,
    /// ISO-8601 UTC with milliseconds.
    pub trigger_time: &'a str,
    /// Epoch seconds with a fraction.
    pub changed_at: f64,
    /// Whether this is a redelivery.
    pub is_retry: bool,
}

/// One delivery attempt, as logged for tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Target URL.
    pub url: String,
    /// Subscription id.
    pub subscription_id: u64,
    /// `triggerUuid` of the payload.
    pub trigger_uuid: String,
    /// 0 for the first delivery, then 1, 2, ...
    pub attempt: u32,
    /// The body sent.
    pub body: Value,
    /// HTTP status received, `None` when the request failed.
    pub status: Option<u16>,
    /// Whether an `Authorization` JWT was attached.
    pub signed: bool,
}

impl Delivery {
    /// Whether the receiver acknowledged this attempt.
    pub fn acknowledged(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Redeliveries after the first attempt: "once a minute for 30 minutes" (reference §5.4).
pub const MAX_RETRIES: u32 = 30;

/// Prefix of the JWT in the `Authorization` header. UNCERTAIN (reference §5.3): monday's
/// documentation shows the bare token; kept here in one place.
pub const JWT_AUTHORIZATION_PREFIX: &str = "";

/// Sends webhooks and keeps a log of every attempt.
#[derive(Debug)]
pub struct WebhookSender {
    http: reqwest::Client,
    log: Mutex<Vec<Delivery>>,
    notify: Notify,
    minute: Duration,
    signing_secret: Option<Secret>,
    user_id: u64,
    account_id: u64,
}

fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl WebhookSender {
    /// A sender.
    pub fn new(
        minute: Duration,
        signing_secret: Option<Secret>,
        user_id: u64,
        account_id: u64,
    ) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .user_agent("monday-webhooks")
                .build()
                .expect("http client builds"),
            log: Mutex::new(Vec::new()),
            notify: Notify::new(),
            minute,
            signing_secret,
            user_id,
            account_id,
        }
    }

    /// Every attempt so far, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        crate::lock(&self.log).clone()
    }

    /// Waits until `done(deliveries)` holds, or `timeout` passes; returns the deliveries.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.notify.notified();
            let deliveries = self.deliveries();
            if done(&deliveries) || tokio::time::Instant::now() >= deadline {
                return deliveries;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    fn jwt(&self, url: &str) -> Option<String> {
        let secret = self.signing_secret.as_ref()?;
        let iat = now_epoch() as u64;
        let claims = json!({
            "accountId": self.account_id,
            "userId": self.user_id,
            "aud": url,
            "iat": iat,
            "exp": iat + 300,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.expose().as_bytes()),
        )
        .ok()
    }

    /// The challenge handshake of `create_webhook`: POST `{"challenge": …}` and expect it back.
    pub async fn challenge(&self, url: &str) -> Result<(), String> {
        let challenge = uuid::Uuid::new_v4().simple().to_string();
        let response = self
            .http
            .post(url)
            .json(&json!({ "challenge": challenge }))
            .send()
            .await
            .map_err(|e| format!("challenge request failed: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!(
                "challenge answered http {}",
                response.status().as_u16()
            ));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|_| "challenge answer is not json".to_owned())?;
        if body.get("challenge").and_then(Value::as_str) == Some(challenge.as_str()) {
            Ok(())
        } else {
            Err("challenge answer does not echo the challenge".into())
        }
    }

    /// Delivers `event` to `url`, retrying once a (scaled) minute until a 2xx answer.
    pub async fn deliver(self: Arc<Self>, url: String, subscription_id: u64, event: Event) {
        let trigger_uuid = uuid::Uuid::new_v4().simple().to_string();
        let trigger_time = crate::now_iso();
        let changed_at = now_epoch();
        for attempt in 0..=MAX_RETRIES {
            let body = event.payload(&PayloadMeta {
                subscription_id,
                user_id: self.user_id,
                trigger_uuid: &trigger_uuid,
                trigger_time: &trigger_time,
                changed_at,
                is_retry: attempt > 0,
            });
            let mut request = self.http.post(&url).json(&body);
            let jwt = self.jwt(&url);
            if let Some(jwt) = &jwt {
                request = request.header(
                    reqwest::header::AUTHORIZATION,
                    format!("{JWT_AUTHORIZATION_PREFIX}{jwt}"),
                );
            }
            let status = request.send().await.ok().map(|r| r.status().as_u16());
            let delivery = Delivery {
                url: url.clone(),
                subscription_id,
                trigger_uuid: trigger_uuid.clone(),
                attempt,
                body,
                status,
                signed: jwt.is_some(),
            };
            let acknowledged = delivery.acknowledged();
            crate::lock(&self.log).push(delivery);
            self.notify.notify_waiters();
            if acknowledged {
                return;
            }
            tokio::time::sleep(self.minute).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Label;

    fn status_change(column_id: &str, index: i64) -> Event {
        let column = Column {
            id: column_id.into(),
            title: "Status".into(),
            kind: ColumnKind::Status,
            labels: vec![Label {
                id: index,
                text: "L".into(),
            }],
            connected_board_ids: vec![],
        };
        Event::UpdateColumnValue {
            board_id: 1,
            item_id: 2,
            item_name: "x".into(),
            group_id: "topics".into(),
            value: json!({ "label": { "index": index } }),
            previous: Value::Null,
            column,
        }
    }

    #[test]
    fn subscriptions_match_their_event_column_and_status_index() {
        let config = json!({ "columnId": "color_a", "columnValue": { "index": 3 } });
        assert!(status_change("color_a", 3).matches("change_status_column_value", Some(&config)));
        assert!(!status_change("color_a", 1).matches("change_status_column_value", Some(&config)));
        assert!(!status_change("color_b", 3).matches("change_status_column_value", Some(&config)));
        let any = json!({ "columnId": "color_a", "columnValue": { "$any$": true } });
        assert!(status_change("color_a", 1).matches("change_status_column_value", Some(&any)));
        let specific = json!({ "columnId": "color_a" });
        assert!(
            status_change("color_a", 1).matches("change_specific_column_value", Some(&specific))
        );
        assert!(
            !status_change("color_b", 1).matches("change_specific_column_value", Some(&specific))
        );
        assert!(status_change("color_b", 1).matches("change_column_value", None));
        assert!(!status_change("color_b", 1).matches("create_item", None));
    }
}
