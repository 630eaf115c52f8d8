//! How the runner behaves: [`WebhookOptions`], from `crmmap.toml` and the environment.

use std::time::Duration;

use crmmap_ids::ColumnId;
use crmmap_store::RetryPolicy;
use crmmap_sync::{ConfigError, Settings};

use crate::{AlertConfig, AuthConfig, SecretString, alerts, auth};

/// Largest accepted request body. monday's events are a few KB; long-text values stay well
/// below this.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// How the runner behaves.
#[derive(Clone, Debug)]
pub struct WebhookOptions {
    /// Authentication.
    pub auth: AuthConfig,
    /// Largest accepted body (larger: 413).
    pub max_body_bytes: usize,
    /// Retry backoff and dead-lettering.
    pub retry: RetryPolicy,
    /// A Salesforce external-id field present on every synced sObject (e.g.
    /// `External_Id__c`): creates become upserts by an idempotency key. Without it, a crashed
    /// create is reconciled by a lookup (see [`crate::Webhook::handle_event`]).
    pub external_id_field: Option<String>,
    /// Send monday changes to converted Leads (`[salesforce] update_converted_leads`): only
    /// for orgs whose integration user has "View and Edit Converted Leads". Off, a change to a
    /// converted Lead is logged as skipped and never sent or retried.
    pub update_converted_leads: bool,
    /// Alert channels.
    pub alerts: AlertConfig,
    /// The bearer token of `POST /events/salesforce` (`CRMMAP_EVENTS_TOKEN`); the route is
    /// off (404) without it.
    pub events_token: Option<SecretString>,
    /// Longest time one event may take before it is queued for a retry instead.
    pub apply_timeout: Duration,
    /// Test hook: abort the process right after a Salesforce create, before the write-back.
    #[doc(hidden)]
    pub crash_after_create: bool,
    /// Test hook: panic while applying a change of this column (the panic boundaries' test).
    #[doc(hidden)]
    pub panic_on_column: Option<ColumnId>,
}

impl Default for WebhookOptions {
    fn default() -> WebhookOptions {
        WebhookOptions {
            auth: AuthConfig::default(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            retry: RetryPolicy::default(),
            external_id_field: None,
            update_converted_leads: false,
            alerts: AlertConfig::default(),
            events_token: None,
            apply_timeout: Duration::from_secs(25),
            crash_after_create: false,
            panic_on_column: None,
        }
    }
}

/// The environment variable naming an external-id field for crash-safe creates.
pub const EXTERNAL_ID_FIELD_ENV: &str = "CRMMAP_EXTERNAL_ID_FIELD";

impl WebhookOptions {
    /// Options from `crmmap.toml` (`[webhook]`, `[alerts]`) and the environment
    /// (`MONDAY_SIGNING_SECRET`, the path token variable, `CRMMAP_PUBLIC_URL`, `TELEGRAM_*`,
    /// `SLACK_WEBHOOK_URL`, `CRMMAP_EXTERNAL_ID_FIELD`). Fails when no authentication is
    /// configured, `CRMMAP_PUBLIC_URL` is not an http(s) URL, or an enabled
    /// alert channel lacks its variables.
    pub fn from_settings(
        settings: &Settings,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<WebhookOptions, ConfigError> {
        let w = &settings.file.webhook;
        let token_env = w
            .path_token_env
            .clone()
            .unwrap_or_else(|| "CRMMAP_WEBHOOK_TOKEN".to_owned());
        let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let auth = AuthConfig {
            signing_secret: nonempty("MONDAY_SIGNING_SECRET").map(SecretString::new),
            require_signature: w.require_signature,
            path_token: nonempty(&token_env).map(SecretString::new),
            public_url: nonempty(auth::PUBLIC_URL_ENV)
                .map(|u| auth::public_url(&u))
                .transpose()
                .map_err(ConfigError::Value)?,
        };
        if w.require_signature && auth.signing_secret.is_none() {
            return Err(ConfigError::MissingEnv(
                "MONDAY_SIGNING_SECRET",
                "[webhook] require_signature".into(),
            ));
        }
        if !auth.is_configured() {
            return Err(ConfigError::Value(format!(
                "no webhook authentication: set MONDAY_SIGNING_SECRET or {token_env}"
            )));
        }
        if let Some(t) = &auth.path_token
            && t.expose().len() < 16
        {
            return Err(ConfigError::Value(format!(
                "{token_env} is too short: use at least 16 random characters"
            )));
        }
        let a = &settings.file.alerts;
        let mut alerts = AlertConfig::default();
        if a.telegram {
            let token = nonempty("TELEGRAM_TOKEN").ok_or_else(|| {
                ConfigError::MissingEnv("TELEGRAM_TOKEN", "[alerts] telegram".into())
            })?;
            let chat = nonempty("TELEGRAM_CHAT_ID").ok_or_else(|| {
                ConfigError::MissingEnv("TELEGRAM_CHAT_ID", "[alerts] telegram".into())
            })?;
            let base = a
                .telegram_api_url
                .clone()
                .unwrap_or_else(|| alerts::TELEGRAM_API_URL.to_owned());
            alerts.telegram = Some((base, SecretString::new(token), chat));
        }
        if a.slack {
            let hook = nonempty("SLACK_WEBHOOK_URL").ok_or_else(|| {
                ConfigError::MissingEnv("SLACK_WEBHOOK_URL", "[alerts] slack".into())
            })?;
            alerts.slack = Some(SecretString::new(hook));
        }
        let retry = settings.retry_policy()?;
        let events_token = nonempty(crate::salesforce::EVENTS_TOKEN_ENV).map(SecretString::new);
        if events_token.as_ref().is_some_and(|t| t.expose().len() < 16) {
            return Err(ConfigError::Value(format!(
                "{} is too short: use at least 16 random characters",
                crate::salesforce::EVENTS_TOKEN_ENV
            )));
        }
        Ok(WebhookOptions {
            auth,
            events_token,
            retry,
            alerts,
            external_id_field: nonempty(EXTERNAL_ID_FIELD_ENV),
            update_converted_leads: settings.file.salesforce.update_converted_leads,
            ..WebhookOptions::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn settings(text: &str) -> Settings {
        Settings::parse(text, Path::new("crmmap.toml"), Path::new("."), |_| None).unwrap()
    }

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(a, _)| *a == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn options_need_some_authentication() {
        let e = WebhookOptions::from_settings(&settings(""), env(&[])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no webhook authentication: set MONDAY_SIGNING_SECRET or CRMMAP_WEBHOOK_TOKEN"
        );
        let e = WebhookOptions::from_settings(
            &settings("[webhook]\nrequire_signature = true\n"),
            env(&[("CRMMAP_WEBHOOK_TOKEN", "0123456789abcdef0")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("MONDAY_SIGNING_SECRET"), "{e}");
        let e =
            WebhookOptions::from_settings(&settings(""), env(&[("CRMMAP_WEBHOOK_TOKEN", "short")]))
                .unwrap_err();
        assert!(e.to_string().contains("too short"), "{e}");
    }

    #[test]
    fn options_read_the_file_and_the_environment_without_showing_secrets() {
        let s = settings(
            "[webhook]\npath_token_env = \"MY_TOKEN\"\n[retry]\nmax_attempts = 3\nfirst_delay_s = 5\nmax_delay_s = 60\n[alerts]\ntelegram = true\nslack = true\ntelegram_api_url = \"http://127.0.0.1:1\"\n",
        );
        let o = WebhookOptions::from_settings(
            &s,
            env(&[
                ("MY_TOKEN", "path-token-0123456789"),
                ("MONDAY_SIGNING_SECRET", "sign-s3cret"),
                ("TELEGRAM_TOKEN", "123:tg-s3cret"),
                ("TELEGRAM_CHAT_ID", "42"),
                ("SLACK_WEBHOOK_URL", "https://hooks.example/slack-s3cret"),
                ("CRMMAP_EXTERNAL_ID_FIELD", "External_Id__c"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (o.retry.max_attempts, o.retry.base_delay, o.retry.max_delay),
            (3, Duration::from_secs(5), Duration::from_secs(60))
        );
        assert_eq!(o.external_id_field.as_deref(), Some("External_Id__c"));
        assert!(o.auth.check(None, Some("path-token-0123456789")).is_ok());
        assert_eq!(o.alerts.telegram.as_ref().unwrap().0, "http://127.0.0.1:1");
        let shown = format!("{o:?}");
        for secret in ["path-token", "sign-s3cret", "tg-s3cret", "slack-s3cret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        // An enabled channel without its variables is an error, not a silent no-op.
        let e = WebhookOptions::from_settings(&s, env(&[("MY_TOKEN", "path-token-0123456789")]))
            .unwrap_err();
        assert!(e.to_string().contains("TELEGRAM_TOKEN"), "{e}");
    }
}
