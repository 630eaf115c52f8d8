//! Alerts to people: Telegram and Slack, for work that gave up (dead letters, one message per
//! burst) and for an API that went down and came back (the retry queue's circuit breaker).
//!
//! A message names what it is about and the error, in plain text without links (so chat
//! apps show no previews and nothing is clickable); errors are scrubbed of token-shaped text.

use std::fmt;
use std::time::Duration;

use serde_json::json;

use crate::auth::SecretString;

/// The public Telegram Bot API.
pub const TELEGRAM_API_URL: &str = "https://api.telegram.org";

/// Where alerts go.
#[derive(Clone, Default)]
pub struct AlertConfig {
    /// Telegram: API base URL, bot token, chat id.
    pub telegram: Option<(String, SecretString, String)>,
    /// Slack: the incoming-webhook URL (itself a secret).
    pub slack: Option<SecretString>,
}

impl fmt::Debug for AlertConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AlertConfig")
            .field("telegram", &self.telegram.as_ref().map(|(url, _, _)| url))
            .field("slack", &self.slack.is_some())
            .finish()
    }
}

/// One alert.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alert {
    /// What happened, e.g. `3 queued changes gave up`.
    pub title: String,
    /// The sObject.
    pub object: Option<String>,
    /// `board/item`.
    pub item: Option<String>,
    /// The Salesforce record.
    pub record: Option<String>,
    /// The error.
    pub error: Option<String>,
    /// Further lines (counts by reason, examples).
    pub details: Vec<String>,
}

/// Replaces anything that looks like a URL, so that the summary carries no links.
fn unlink(s: &str) -> String {
    s.split(' ')
        .map(|w| {
            if w.contains("://") || w.starts_with("www.") {
                "[link removed]"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Alert {
    /// The text sent (plain, link-free, secret-scrubbed).
    pub fn text(&self) -> String {
        let mut out = format!("crmmap: {}", self.title);
        for (k, v) in [
            ("object", &self.object),
            ("item", &self.item),
            ("record", &self.record),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("\n{k}: {v}"));
            }
        }
        if let Some(e) = &self.error {
            out.push_str(&format!("\nerror: {e}"));
        }
        for line in &self.details {
            out.push('\n');
            out.push_str(line);
        }
        unlink(&crmmap_store::scrub_secrets(&out))
    }
}

/// Sends alerts; failures to send are logged, never raised.
#[derive(Clone, Debug)]
pub struct Alerter {
    config: AlertConfig,
    http: reqwest::Client,
}

impl Alerter {
    /// An alerter (no channel configured: alerts are only logged).
    pub fn new(config: AlertConfig) -> Alerter {
        Alerter {
            config,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    /// Sends to every configured channel; returns how many accepted it.
    pub async fn send(&self, alert: &Alert) -> usize {
        let text = alert.text();
        tracing::warn!(alert = %text, "alert");
        let mut sent = 0;
        if let Some((base, token, chat)) = &self.config.telegram {
            let url = format!(
                "{}/bot{}/sendMessage",
                base.trim_end_matches('/'),
                token.expose()
            );
            let body = json!({"chat_id": chat, "text": text, "disable_web_page_preview": true});
            match self.http.post(&url).json(&body).send().await {
                Ok(r) if r.status().is_success() => sent += 1,
                Ok(r) => tracing::warn!(status = r.status().as_u16(), "telegram refused the alert"),
                // `without_url`: the URL holds the bot token.
                Err(e) => tracing::warn!(error = %e.without_url(), "telegram alert failed"),
            }
        }
        if let Some(hook) = &self.config.slack {
            match self
                .http
                .post(hook.expose())
                .json(&json!({ "text": text }))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => sent += 1,
                Ok(r) => tracing::warn!(status = r.status().as_u16(), "slack refused the alert"),
                Err(e) => tracing::warn!(error = %e.without_url(), "slack alert failed"),
            }
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_plain_and_link_free() {
        let a = Alert {
            title: "webhook event gave up after 8 attempts".into(),
            object: Some("Lead".into()),
            item: Some("9378000505/123".into()),
            record: Some("00Q000000000001AAA".into()),
            error: Some("salesforce: see https://example.my.salesforce.com/x for details".into()),
            details: vec!["2 × REQUIRED_FIELD_MISSING".into()],
        };
        let t = a.text();
        assert!(t.contains("object: Lead"), "{t}");
        assert!(t.contains("record: 00Q000000000001AAA"), "{t}");
        assert!(!t.contains("https://"), "{t}");
        assert!(t.ends_with("\n2 × REQUIRED_FIELD_MISSING"), "{t}");
    }

    #[test]
    fn config_debug_hides_secrets() {
        let c = AlertConfig {
            telegram: Some((
                TELEGRAM_API_URL.into(),
                SecretString::new("123:bot-token"),
                "42".into(),
            )),
            slack: Some(SecretString::new(
                "https://hooks.slack.com/services/T/B/secret",
            )),
        };
        let d = format!("{c:?}");
        assert!(
            !d.contains("bot-token") && !d.contains("services/T/B"),
            "{d}"
        );
    }
}
