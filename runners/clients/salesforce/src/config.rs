//! Client configuration.

use std::time::Duration;

use crmmap_backoff::Backoff;
use crmmap_secret::Secret;

/// How the client obtains access tokens from `POST {login_url}/services/oauth2/token`.
#[derive(Clone, Debug)]
pub enum AuthFlow {
    /// Username-password flow (deprecated by Salesforce; kept for old orgs). `password` is the
    /// password with the security token appended.
    Password {
        client_id: String,
        client_secret: Secret,
        username: String,
        password: Secret,
    },
    /// Client credentials flow (run-as integration user). Use the org's My Domain as login URL.
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    /// JWT bearer flow: an RS256 assertion signed with `private_key_pem`, `iss` = consumer key,
    /// `sub` = username, `aud` = `audience` (default: [`jwt_audience_for`] the login URL),
    /// `exp` = now + 180 s.
    JwtBearer {
        client_id: String,
        username: String,
        private_key_pem: Secret,
        audience: Option<String>,
    },
    /// Refresh-token flow with a refresh token obtained out of band.
    RefreshToken {
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
    },
}

impl AuthFlow {
    /// The flow's name, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            AuthFlow::Password { .. } => "password",
            AuthFlow::ClientCredentials { .. } => "client_credentials",
            AuthFlow::JwtBearer { .. } => "jwt_bearer",
            AuthFlow::RefreshToken { .. } => "refresh_token",
        }
    }
}

/// The JWT bearer `aud` Salesforce expects for a login URL: `https://test.salesforce.com` for a
/// sandbox (`test.salesforce.com` itself, or a My Domain `…--<sandbox>.sandbox.my.salesforce.com`),
/// else `https://login.salesforce.com`, whatever the host the token is requested from (a My
/// Domain included). Salesforce accepts only these two or an Experience Cloud site URL, which
/// is set with `audience` (salesforce-api.md §1.2, §1.4 `audience is invalid`).
pub fn jwt_audience_for(login_url: &str) -> &'static str {
    let host = url::Url::parse(login_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let host = host.trim_end_matches('.');
    if host == "test.salesforce.com" || host.ends_with(".sandbox.my.salesforce.com") {
        "https://test.salesforce.com"
    } else {
        "https://login.salesforce.com"
    }
}

/// When and how often to retry transient failures.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// Upper bound of the first backoff; each retry doubles it ("full jitter": the actual
    /// sleep is uniform in `0..=bound`).
    pub base_delay: Duration,
    /// Cap on the backoff bound.
    pub max_delay: Duration,
    /// Also resend non-idempotent requests (POST creates) after a failure that leaves their
    /// outcome unknown (a timeout, a connection lost after the request was sent, HTTP 5xx other
    /// than `UNABLE_TO_LOCK_ROW`), when Salesforce may have applied the first attempt. Off by
    /// default: a resent create could duplicate; the caller reconciles instead.
    pub resend_unknown_creates: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            resend_unknown_creates: false,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff: from `base_delay` doubling up to `max_delay`, with full jitter.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.base_delay, self.max_delay, Backoff::FULL_JITTER)
    }

    /// The backoff bound before retry number `retry` (1-based).
    pub fn backoff_bound(&self, retry: u32) -> Duration {
        self.backoff().bound(retry)
    }
}

/// Everything the client needs to talk to one org.
#[derive(Clone, Debug)]
pub struct Config {
    /// `https://login.salesforce.com`, `https://test.salesforce.com` or the org's My Domain
    /// (for the emulator: its base URL).
    pub login_url: String,
    /// API version without the `v`, e.g. `"62.0"`.
    pub api_version: String,
    pub auth: AuthFlow,
    /// Timeout of each HTTP request (each attempt).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// `Sforce-Query-Options: batchSize=N` on queries (Salesforce accepts 200..=2000).
    pub query_batch_size: Option<u32>,
    /// Value of `client=` in `Sforce-Call-Options`, sent on every write so that change events
    /// can be told apart from the sync's own writes.
    pub call_options_client: String,
    /// Share of the org's daily API allocation (percent, 0..=99) left to the org's other
    /// integrations: once `Sforce-Limit-Info` says usage is above `100 - api_headroom_percent`
    /// percent, calls fail with [`crate::Error::AllocationReached`] without being sent.
    pub api_headroom_percent: u8,
    /// While usage is above the threshold, one call is let through this often to learn
    /// whether the rolling 24-hour usage has dropped.
    pub allocation_recheck: Duration,
    /// Host names pinned to addresses instead of being looked up (the URL's port is kept),
    /// e.g. a My Domain host served by a local emulator in tests.
    pub resolve: Vec<(String, std::net::SocketAddr)>,
}

/// Default of [`Config::api_headroom_percent`]: stop at 90 % of the allocation, as Fivetran and
/// Google Datastream do (realtime-and-limits.md §8).
pub const DEFAULT_API_HEADROOM_PERCENT: u8 = 10;

impl Config {
    /// A configuration with the defaults: API v62.0, 60 s timeout, default retries, client
    /// name `crmmap`, 10 % of the API allocation left to others, rechecked every 5 minutes.
    pub fn new(login_url: impl Into<String>, auth: AuthFlow) -> Self {
        Config {
            login_url: login_url.into(),
            api_version: "62.0".into(),
            auth,
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            query_batch_size: None,
            call_options_client: "crmmap".into(),
            api_headroom_percent: DEFAULT_API_HEADROOM_PERCENT,
            allocation_recheck: Duration::from_secs(300),
            resolve: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::jwt_audience_for;

    #[test]
    fn jwt_audience_follows_the_kind_of_org() {
        let login = "https://login.salesforce.com";
        let test = "https://test.salesforce.com";
        for (url, want) in [
            ("https://login.salesforce.com", login),
            ("https://test.salesforce.com/", test),
            ("https://TEST.salesforce.com", test),
            ("https://acme.my.salesforce.com", login),
            ("https://acme--uat.sandbox.my.salesforce.com", test),
            ("https://acme--uat.sandbox.my.salesforce.com.:443/", test),
            ("https://acme.develop.my.salesforce.com", login),
            ("http://127.0.0.1:8080", login),
            ("not a url", login),
        ] {
            assert_eq!(jwt_audience_for(url), want, "{url}");
        }
    }
}
