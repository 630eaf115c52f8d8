//! `crmmap.toml` and the environment: where things are, and the credentials to reach them.
//!
//! The file never holds secrets; they come from environment variables (the same names on a
//! workstation and in the Lambda):
//!
//! | variable | used for |
//! |---|---|
//! | `SF_CLIENT_ID`, `SF_CLIENT_SECRET` | every Salesforce flow but JWT bearer (which needs only the id) |
//! | `SF_USERNAME`, `SF_PASSWORD` | `auth = "password"` (password with the security token appended) |
//! | `SF_USERNAME`, `SF_PRIVATE_KEY` or `SF_PRIVATE_KEY_FILE` | `auth = "jwt_bearer"` (PEM) |
//! | `SF_REFRESH_TOKEN` | `auth = "refresh_token"` |
//! | `MONDAY_TOKEN` | the monday API |
//! | `MONDAY_SIGNING_SECRET` | verifying signed webhooks |
//! | `TELEGRAM_TOKEN`, `TELEGRAM_CHAT_ID`, `SLACK_WEBHOOK_URL` | alerts |
//! | `DATABASE_URL` | overrides `[store] url` |

use std::path::{Path, PathBuf};

use crmmap_monday::MondayConfig;
use crmmap_salesforce::{AuthFlow, Secret};
use serde::Deserialize;

/// The default configuration file.
pub const DEFAULT_CONFIG: &str = "crmmap.toml";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("`{path}` is not a valid crmmap configuration: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong (from the TOML parser).
        message: String,
    },
    /// A required environment variable is not set.
    #[error("environment variable `{0}` is not set (needed by {1})")]
    MissingEnv(&'static str, String),
    /// A value is not usable.
    #[error("{0}")]
    Value(String),
}

/// The parsed `crmmap.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Directory (or file) of the mappings, relative to the configuration file.
    #[serde(default = "default_mappings")]
    pub mappings: PathBuf,
    /// The state store.
    #[serde(default)]
    pub store: StoreSection,
    /// Salesforce.
    #[serde(default)]
    pub salesforce: SalesforceSection,
    /// monday.com.
    #[serde(default)]
    pub monday: MondaySection,
    /// Optional alerts.
    #[serde(default)]
    pub alerts: AlertsSection,
    /// The webhook runner.
    #[serde(default)]
    pub webhook: WebhookSection,
    /// The retry queue's policy.
    #[serde(default)]
    pub retry: RetrySection,
    /// `crmmap check` and the language server.
    #[serde(default)]
    pub check: CheckSection,
}

/// `[check]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSection {
    /// A schema snapshot directory (`crmmap schema pull`), relative to the configuration file:
    /// `crmmap check` and `crmmap fmt` use it when `--schema` is not given, the language server
    /// always.
    pub schema: Option<PathBuf>,
}

fn default_mappings() -> PathBuf {
    PathBuf::from("mappings")
}

/// `[store]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// `sqlite://crmmap.db` (default) or `postgres://…`.
    #[serde(default = "default_store_url")]
    pub url: String,
    /// Days a processed webhook event is remembered for deduplication (default 7; at least
    /// 1, far beyond monday's 30 minutes of redeliveries).
    #[serde(default = "default_keep_events_days")]
    pub keep_events_days: u32,
    /// Days the sync log is kept (default 90; 0 keeps it forever).
    #[serde(default = "default_keep_log_days")]
    pub keep_log_days: u32,
    /// Most connections one process opens for the store's queries (default 10; at least 1).
    /// Opened as needed and kept while in use.
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
    /// PostgreSQL: most connections one process opens to hold or wait for locks (default
    /// 32; at least 1): one per event being applied at the same time, one for the
    /// migrator's lease. Opened as needed.
    #[serde(default = "default_lock_connections")]
    pub lock_connections: u32,
}

impl StoreSection {
    /// The store's pool sizes from `max_connections` and `lock_connections`.
    pub fn options(&self) -> crmmap_store::StoreOptions {
        crmmap_store::StoreOptions {
            max_connections: self.max_connections.max(1),
            lock_connections: self.lock_connections.max(1),
            ..crmmap_store::StoreOptions::default()
        }
    }
}

impl Default for StoreSection {
    fn default() -> Self {
        StoreSection {
            url: default_store_url(),
            keep_events_days: default_keep_events_days(),
            keep_log_days: default_keep_log_days(),
            max_connections: default_max_connections(),
            lock_connections: default_lock_connections(),
        }
    }
}

fn default_keep_events_days() -> u32 {
    7
}

fn default_keep_log_days() -> u32 {
    90
}

fn default_max_connections() -> u32 {
    crmmap_store::StoreOptions::default().max_connections
}

fn default_lock_connections() -> u32 {
    crmmap_store::StoreOptions::default().lock_connections
}

fn default_store_url() -> String {
    "sqlite://crmmap.db".into()
}

/// `[salesforce]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceSection {
    /// Login host (or the org's My Domain, or an emulator).
    #[serde(default = "default_login_url")]
    pub login_url: String,
    /// `v59.0` or `59.0`.
    #[serde(default = "default_sf_version")]
    pub api_version: String,
    /// `password`, `client_credentials`, `jwt_bearer` or `refresh_token`.
    #[serde(default = "default_auth")]
    pub auth: String,
    /// JWT bearer `aud` (default: `https://test.salesforce.com` when `login_url` is a
    /// sandbox, else `https://login.salesforce.com`; an Experience Cloud site URL goes here).
    pub audience: Option<String>,
    /// Percent of the org's daily API allocation left to its other integrations (default 10,
    /// 0..=99): above `100 - api_headroom_percent` percent used, crmmap makes no more calls.
    #[serde(default = "default_api_headroom_percent")]
    pub api_headroom_percent: u8,
    /// Send monday changes to converted Leads (default false): only for orgs whose integration
    /// user has "View and Edit Converted Leads". Without it Salesforce refuses them
    /// (`CANNOT_UPDATE_CONVERTED_LEAD`), and crmmap logs such a change as skipped.
    #[serde(default)]
    pub update_converted_leads: bool,
    /// Where `crmmap serve` takes change events from: `off` (default), `http` (alias
    /// `relay`: pushed to `POST /events/salesforce` or the Lambda), `pubsub` (it subscribes).
    #[serde(default)]
    pub change_events: crate::change_events::ChangeEvents,
    /// The Pub/Sub API endpoint, `host:port` (default `api.pubsub.salesforce.com:7443`), or
    /// an emulator's `http://127.0.0.1:PORT`.
    #[serde(default = "default_pubsub_endpoint")]
    pub pubsub_endpoint: String,
}

impl Default for SalesforceSection {
    fn default() -> Self {
        SalesforceSection {
            login_url: default_login_url(),
            api_version: default_sf_version(),
            auth: default_auth(),
            audience: None,
            api_headroom_percent: default_api_headroom_percent(),
            update_converted_leads: false,
            change_events: crate::change_events::ChangeEvents::default(),
            pubsub_endpoint: default_pubsub_endpoint(),
        }
    }
}

fn default_pubsub_endpoint() -> String {
    crate::change_events::DEFAULT_PUBSUB_ENDPOINT.into()
}

fn default_api_headroom_percent() -> u8 {
    crmmap_salesforce::DEFAULT_API_HEADROOM_PERCENT
}

fn default_login_url() -> String {
    "https://login.salesforce.com".into()
}

fn default_sf_version() -> String {
    "v62.0".into()
}

fn default_auth() -> String {
    "client_credentials".into()
}

/// `[monday]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MondaySection {
    /// GraphQL endpoint.
    #[serde(default = "default_monday_url")]
    pub api_url: String,
    /// `API-Version` header.
    #[serde(default = "default_monday_version")]
    pub api_version: String,
    /// Complexity budget per minute of the token (10,000,000 for a personal token).
    pub complexity_budget: Option<u64>,
    /// The monday user id of the API token, so that events caused by crmmap's own writes
    /// are recognised (echo suppression).
    pub user_id: Option<u64>,
    /// The longest one API call waits in all for monday's rate limits (complexity budget,
    /// minute, concurrency, IP), in seconds (default 60). A limit that asks for longer fails
    /// the call as an outage: a batch run stops (resumable), queued work waits without being
    /// charged an attempt. The webhook runner waits at most [`WEBHOOK_MONDAY_MAX_WAIT_S`].
    pub max_wait_s: Option<u64>,
    /// Most monday requests in flight at once from one process (default 8; at least 1). Keep
    /// it well below the plan's concurrency limit (40 on Basic and Standard).
    pub max_concurrency: Option<usize>,
}

impl Default for MondaySection {
    fn default() -> Self {
        MondaySection {
            api_url: default_monday_url(),
            api_version: default_monday_version(),
            complexity_budget: None,
            user_id: None,
            max_wait_s: None,
            max_concurrency: None,
        }
    }
}

/// The longest a webhook runner waits for a monday rate limit, in seconds: a longer limit
/// makes the event's call fail as an outage, and the event is queued for the retry drain
/// instead of holding a delivery (or a Lambda) while it waits.
pub const WEBHOOK_MONDAY_MAX_WAIT_S: u64 = 2;

impl Settings {
    /// These settings for a webhook runner: monday rate limits are waited for at most
    /// [`WEBHOOK_MONDAY_MAX_WAIT_S`] (or `[monday] max_wait_s`, when shorter).
    pub fn for_webhook(mut self) -> Settings {
        let wait = self
            .file
            .monday
            .max_wait_s
            .map_or(WEBHOOK_MONDAY_MAX_WAIT_S, |s| {
                s.min(WEBHOOK_MONDAY_MAX_WAIT_S)
            });
        self.file.monday.max_wait_s = Some(wait);
        self
    }
}

fn default_monday_url() -> String {
    crmmap_monday::config::DEFAULT_API_URL.into()
}

fn default_monday_version() -> String {
    crmmap_monday::schema::SCHEMA_API_VERSION.into()
}

/// `[alerts]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {
    /// Send alerts to Telegram (`TELEGRAM_TOKEN`, `TELEGRAM_CHAT_ID`).
    #[serde(default)]
    pub telegram: bool,
    /// Send alerts to Slack (`SLACK_WEBHOOK_URL`).
    #[serde(default)]
    pub slack: bool,
    /// Telegram API base URL (tests point it at a local server).
    pub telegram_api_url: Option<String>,
}

/// `[webhook]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// Require monday's JWT signature (`MONDAY_SIGNING_SECRET`); otherwise a path token.
    #[serde(default)]
    pub require_signature: bool,
    /// Name of the environment variable holding the secret path token (default
    /// `CRMMAP_WEBHOOK_TOKEN`).
    pub path_token_env: Option<String>,
    /// The older name of `[retry] max_attempts` (which wins when both are set).
    pub max_attempts: Option<u32>,
}

/// `[retry]`: when queued work is tried again and when it is given up.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySection {
    /// Seconds before the first retry (default 30); the delay doubles with each attempt.
    pub first_delay_s: Option<u64>,
    /// The longest delay between two attempts, in seconds (default 3600).
    pub max_delay_s: Option<u64>,
    /// Tries of the item itself before it is dead-lettered (default 8; at least 1). Time an
    /// API is unreachable does not count.
    pub max_attempts: Option<u32>,
}

impl Settings {
    /// The retry queue's policy: `[retry]`, with `[webhook] max_attempts` (the older name)
    /// when `[retry] max_attempts` is not set. Fails on a delay range that is empty.
    pub fn retry_policy(&self) -> Result<crmmap_store::RetryPolicy, ConfigError> {
        let r = &self.file.retry;
        let mut policy = crmmap_store::RetryPolicy::default();
        if let Some(s) = r.first_delay_s {
            policy.base_delay = std::time::Duration::from_secs(s);
        }
        if let Some(s) = r.max_delay_s {
            policy.max_delay = std::time::Duration::from_secs(s);
        }
        if let Some(n) = r.max_attempts.or(self.file.webhook.max_attempts) {
            policy.max_attempts = n;
        }
        if policy.max_attempts == 0 {
            return Err(ConfigError::Value(
                "[retry] max_attempts must be at least 1".into(),
            ));
        }
        if policy.max_delay < policy.base_delay {
            return Err(ConfigError::Value(format!(
                "[retry] max_delay_s ({}) is shorter than first_delay_s ({})",
                policy.max_delay.as_secs(),
                policy.base_delay.as_secs()
            )));
        }
        Ok(policy)
    }
}

/// Everything a runner needs: the file's settings with secrets filled in from the environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The parsed file.
    pub file: FileConfig,
    /// The mappings path, resolved against the configuration file's directory.
    pub mappings: PathBuf,
    /// The store URL (`DATABASE_URL` wins over the file).
    pub store_url: String,
    /// `[check] schema`, resolved against the configuration file's directory.
    pub check_schema: Option<PathBuf>,
}

impl Settings {
    /// Reads `path` (default `./crmmap.toml`).
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let path = path.unwrap_or(Path::new(DEFAULT_CONFIG));
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Settings::parse(&text, path, base, |k| std::env::var(k).ok())
    }

    /// Parses configuration text; `env` looks up environment variables.
    pub fn parse(
        text: &str,
        path: &Path,
        base: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.message().to_string(),
        })?;
        Ok(Settings::from_file(file, base, env))
    }

    /// Settings from an already parsed file.
    pub fn from_file(
        file: FileConfig,
        base: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Settings {
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let mappings = resolve(&file.mappings);
        let check_schema = file.check.schema.as_deref().map(resolve);
        let store_url = env("DATABASE_URL").unwrap_or_else(|| file.store.url.clone());
        Settings {
            file,
            mappings,
            store_url,
            check_schema,
        }
    }

    /// The Salesforce client configuration, with credentials from `env`.
    pub fn salesforce(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<crmmap_salesforce::Config, ConfigError> {
        let s = &self.file.salesforce;
        let need = |name: &'static str| {
            env(name).ok_or_else(|| ConfigError::MissingEnv(name, format!("auth = \"{}\"", s.auth)))
        };
        let auth = match s.auth.as_str() {
            "password" => AuthFlow::Password {
                client_id: need("SF_CLIENT_ID")?,
                client_secret: Secret::new(need("SF_CLIENT_SECRET")?),
                username: need("SF_USERNAME")?,
                password: Secret::new(need("SF_PASSWORD")?),
            },
            "client_credentials" => AuthFlow::ClientCredentials {
                client_id: need("SF_CLIENT_ID")?,
                client_secret: Secret::new(need("SF_CLIENT_SECRET")?),
            },
            "jwt_bearer" => {
                let key = match env("SF_PRIVATE_KEY") {
                    Some(k) => k,
                    None => {
                        let file = need("SF_PRIVATE_KEY_FILE")?;
                        std::fs::read_to_string(&file).map_err(|e| {
                            ConfigError::Value(format!(
                                "cannot read SF_PRIVATE_KEY_FILE `{file}`: {e}"
                            ))
                        })?
                    }
                };
                AuthFlow::JwtBearer {
                    client_id: need("SF_CLIENT_ID")?,
                    username: need("SF_USERNAME")?,
                    private_key_pem: Secret::new(key),
                    audience: s.audience.clone(),
                }
            }
            "refresh_token" => AuthFlow::RefreshToken {
                client_id: need("SF_CLIENT_ID")?,
                client_secret: env("SF_CLIENT_SECRET").map(Secret::new),
                refresh_token: Secret::new(need("SF_REFRESH_TOKEN")?),
            },
            other => {
                return Err(ConfigError::Value(format!(
                    "unknown salesforce auth `{other}`: use password, client_credentials, jwt_bearer or refresh_token"
                )));
            }
        };
        if s.api_headroom_percent > 99 {
            return Err(ConfigError::Value(format!(
                "[salesforce] api_headroom_percent is {}: use 0..=99 (the percent of the org's API allocation left to other integrations)",
                s.api_headroom_percent
            )));
        }
        let mut config = crmmap_salesforce::Config::new(s.login_url.trim_end_matches('/'), auth);
        config.api_version = s.api_version.trim_start_matches('v').to_string();
        config.api_headroom_percent = s.api_headroom_percent;
        Ok(config)
    }

    /// The monday client configuration, with the token from `env`.
    pub fn monday(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<MondayConfig, ConfigError> {
        let m = &self.file.monday;
        let token = env("MONDAY_TOKEN")
            .ok_or_else(|| ConfigError::MissingEnv("MONDAY_TOKEN", "the monday API".into()))?;
        let url = url::Url::parse(&m.api_url).map_err(|e| {
            ConfigError::Value(format!("monday api_url `{}` is not a URL: {e}", m.api_url))
        })?;
        let mut config = MondayConfig::new(token).with_api_url(url);
        config.api_version = m.api_version.clone();
        if let Some(budget) = m.complexity_budget {
            config.complexity_budget_per_minute = budget;
        }
        if let Some(s) = m.max_wait_s {
            config.max_wait = std::time::Duration::from_secs(s);
        }
        match m.max_concurrency {
            Some(0) => {
                return Err(ConfigError::Value(
                    "[monday] max_concurrency must be at least 1".into(),
                ));
            }
            Some(n) => config.max_concurrency = n,
            None => {}
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        move |k| pairs.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
    }

    #[test]
    fn check_schema_is_resolved_against_the_configuration_files_directory() {
        let parse = |text: &str| {
            Settings::parse(
                text,
                Path::new("cfg/crmmap.toml"),
                Path::new("cfg"),
                env(&[]),
            )
            .unwrap()
        };
        assert_eq!(parse("").check_schema, None);
        let s = parse("[check]\nschema = \"schema\"\n");
        assert_eq!(s.check_schema, Some(PathBuf::from("cfg/schema")));
        let s = parse("[check]\nschema = \"/abs/schema\"\n");
        assert_eq!(s.check_schema, Some(PathBuf::from("/abs/schema")));
        assert!(
            Settings::parse(
                "[check]\nschemas = 1\n",
                Path::new("c"),
                Path::new("."),
                env(&[])
            )
            .is_err()
        );
    }

    #[test]
    fn retry_policy_reads_retry_and_the_older_webhook_key() {
        let parse = |text: &str| {
            Settings::parse(text, Path::new("crmmap.toml"), Path::new("."), env(&[])).unwrap()
        };
        let default = parse("").retry_policy().unwrap();
        assert_eq!(default, crmmap_store::RetryPolicy::default());
        let p = parse("[retry]\nfirst_delay_s = 5\nmax_delay_s = 60\nmax_attempts = 3\n")
            .retry_policy()
            .unwrap();
        assert_eq!(
            (
                p.base_delay.as_secs(),
                p.max_delay.as_secs(),
                p.max_attempts
            ),
            (5, 60, 3)
        );
        let legacy = parse("[webhook]\nmax_attempts = 4\n")
            .retry_policy()
            .unwrap();
        assert_eq!(legacy.max_attempts, 4);
        let both = parse("[webhook]\nmax_attempts = 4\n[retry]\nmax_attempts = 2\n");
        assert_eq!(both.retry_policy().unwrap().max_attempts, 2);
        let zero = parse("[retry]\nmax_attempts = 0\n")
            .retry_policy()
            .unwrap_err();
        assert!(zero.to_string().contains("at least 1"), "{zero}");
        let empty = parse("[retry]\nfirst_delay_s = 60\nmax_delay_s = 10\n")
            .retry_policy()
            .unwrap_err();
        assert!(empty.to_string().contains("max_delay_s"), "{empty}");
    }

    #[test]
    fn the_documented_example_parses_with_defaults() {
        let text = r#"
mappings = "mappings"
[store]
url = "sqlite://crmmap.db"
[salesforce]
login_url   = "https://login.salesforce.com"
api_version = "v59.0"
auth        = "password"
[monday]
api_url     = "https://api.monday.com/v2"
api_version = "2026-10"
[alerts]
"#;
        let s = Settings::parse(
            text,
            Path::new("crmmap.toml"),
            Path::new("/srv/app"),
            env(&[]),
        )
        .unwrap();
        assert_eq!(s.mappings, Path::new("/srv/app/mappings"));
        assert_eq!(s.store_url, "sqlite://crmmap.db");
        let sf = s
            .salesforce(env(&[
                ("SF_CLIENT_ID", "id"),
                ("SF_CLIENT_SECRET", "s3cret"),
                ("SF_USERNAME", "u@example.org"),
                ("SF_PASSWORD", "pw-and-token"),
            ]))
            .unwrap();
        assert_eq!(sf.api_version, "59.0");
        assert!(!format!("{sf:?}").contains("s3cret"));
        assert!(!format!("{sf:?}").contains("pw-and-token"));
    }

    #[test]
    fn api_headroom_percent_defaults_to_10_and_is_checked() {
        let creds = [("SF_CLIENT_ID", "id"), ("SF_CLIENT_SECRET", "s")];
        let sf = |text: &str| {
            Settings::parse(text, Path::new("c.toml"), Path::new("."), env(&[]))
                .unwrap()
                .salesforce(env(&creds))
        };
        assert_eq!(sf("").unwrap().api_headroom_percent, 10);
        assert_eq!(
            sf("[salesforce]\napi_headroom_percent = 25\n")
                .unwrap()
                .api_headroom_percent,
            25
        );
        let e = sf("[salesforce]\napi_headroom_percent = 100\n").unwrap_err();
        assert!(e.to_string().contains("0..=99"), "{e}");
    }

    #[test]
    fn monday_waits_and_concurrency_come_from_the_monday_section() {
        let md = |text: &str| {
            Settings::parse(text, Path::new("c.toml"), Path::new("."), env(&[]))
                .unwrap()
                .monday(env(&[("MONDAY_TOKEN", "t")]))
        };
        let default = md("").unwrap();
        assert_eq!(
            (default.max_wait.as_secs(), default.max_concurrency),
            (60, 8)
        );
        let set = md("[monday]\nmax_wait_s = 5\nmax_concurrency = 3\n").unwrap();
        assert_eq!((set.max_wait.as_secs(), set.max_concurrency), (5, 3));
        let zero = md("[monday]\nmax_concurrency = 0\n").unwrap_err();
        assert!(zero.to_string().contains("at least 1"), "{zero}");
        // The webhook runner never waits long, and never longer than configured.
        let webhook = |text: &str| {
            Settings::parse(text, Path::new("c.toml"), Path::new("."), env(&[]))
                .unwrap()
                .for_webhook()
                .monday(env(&[("MONDAY_TOKEN", "t")]))
                .unwrap()
                .max_wait
                .as_secs()
        };
        assert_eq!(webhook(""), WEBHOOK_MONDAY_MAX_WAIT_S);
        assert_eq!(webhook("[monday]\nmax_wait_s = 0\n"), 0);
    }

    #[test]
    fn database_url_overrides_the_file() {
        let s = Settings::parse(
            "[store]\nurl = \"sqlite://a.db\"\n",
            Path::new("c.toml"),
            Path::new("."),
            env(&[("DATABASE_URL", "postgres://db/crmmap")]),
        )
        .unwrap();
        assert_eq!(s.store_url, "postgres://db/crmmap");
    }

    #[test]
    fn pool_sizes_come_from_the_store_section() {
        let parse = |text: &str| {
            Settings::parse(text, Path::new("c.toml"), Path::new("."), env(&[]))
                .unwrap()
                .file
                .store
                .options()
        };
        // Unset: what the store uses by default.
        assert_eq!(parse(""), crmmap_store::StoreOptions::default());
        let o = parse("[store]\nmax_connections = 2\nlock_connections = 3\n");
        assert_eq!((o.max_connections, o.lock_connections), (2, 3));
        // Zero would be a pool that never connects: at least one.
        let o = parse("[store]\nmax_connections = 0\nlock_connections = 0\n");
        assert_eq!((o.max_connections, o.lock_connections), (1, 1));
    }

    #[test]
    fn missing_credentials_and_bad_keys_are_named() {
        let s = Settings::parse("", Path::new("c.toml"), Path::new("."), env(&[])).unwrap();
        let e = s.salesforce(env(&[("SF_CLIENT_ID", "id")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable `SF_CLIENT_SECRET` is not set (needed by auth = \"client_credentials\")"
        );
        let e = s.monday(env(&[])).unwrap_err();
        assert!(e.to_string().contains("MONDAY_TOKEN"));
        let e = Settings::parse(
            "[store]\nuri = 1\n",
            Path::new("c.toml"),
            Path::new("."),
            env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `uri`"), "{e}");
    }
}
