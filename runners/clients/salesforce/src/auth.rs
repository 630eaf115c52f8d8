//! Access tokens: obtained with the configured flow, cached, shared, refreshed once at a time.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::Mutex;

use crate::config::{AuthFlow, Config, RetryPolicy};
use crate::error::{Error, Result};
use crate::types::{OAuthErrorBody, TokenResponse};
use crmmap_secret::Secret;

/// JWT assertions expire this long after they are made (restforce uses the same).
const JWT_LIFETIME: Duration = Duration::from_secs(180);

/// A cached access token and the instance it is valid for.
pub(crate) struct Token {
    pub(crate) access_token: Secret,
    pub(crate) instance_url: String,
    /// The user the token acts as (18 characters), from the response's identity URL.
    pub(crate) user_id: Option<String>,
    /// The org the token belongs to (18 characters), from the identity URL.
    pub(crate) org_id: Option<String>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &self.access_token)
            .field("instance_url", &self.instance_url)
            .field("user_id", &self.user_id)
            .field("org_id", &self.org_id)
            .finish()
    }
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

/// Builds the RS256-signed assertion of the JWT bearer flow.
pub(crate) fn jwt_assertion(
    client_id: &str,
    username: &str,
    audience: &str,
    private_key_pem: &Secret,
) -> Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let claims = JwtClaims {
        iss: client_id,
        sub: username,
        aud: audience,
        exp: (now + JWT_LIFETIME).as_secs(),
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose().as_bytes())
        .map_err(|e| Error::Config(format!("JWT private key is not a valid RSA PEM key: {e}")))?;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .map_err(|e| Error::Config(format!("cannot sign JWT assertion: {e}")))
}

/// Gets tokens and shares them between concurrent calls. At most one token request is in
/// flight: callers that find the token stale wait for the refresh that is under way.
pub(crate) struct TokenManager {
    http: reqwest::Client,
    login_url: String,
    flow: AuthFlow,
    timeout: Duration,
    retry: RetryPolicy,
    current: Mutex<Option<Arc<Token>>>,
    requests: AtomicU64,
}

impl TokenManager {
    pub(crate) fn new(http: reqwest::Client, config: &Config) -> Self {
        TokenManager {
            http,
            login_url: config.login_url.trim_end_matches('/').to_string(),
            flow: config.auth.clone(),
            timeout: config.request_timeout,
            retry: config.retry.clone(),
            current: Mutex::new(None),
            requests: AtomicU64::new(0),
        }
    }

    /// Token requests sent so far.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The cached token, fetching one if there is none.
    pub(crate) async fn token(&self) -> Result<Arc<Token>> {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref() {
            return Ok(t.clone());
        }
        let t = Arc::new(self.fetch().await?);
        *guard = Some(t.clone());
        Ok(t)
    }

    /// Replaces `stale` (a token the server refused) with a new one. If another caller has
    /// already replaced it, returns that token without a new request.
    pub(crate) async fn refresh(&self, stale: &Arc<Token>) -> Result<Arc<Token>> {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref()
            && !Arc::ptr_eq(t, stale)
        {
            return Ok(t.clone());
        }
        *guard = None;
        let t = Arc::new(self.fetch().await?);
        *guard = Some(t.clone());
        Ok(t)
    }

    fn form(&self) -> Result<Vec<(&'static str, String)>> {
        Ok(match &self.flow {
            AuthFlow::Password {
                client_id,
                client_secret,
                username,
                password,
            } => vec![
                ("grant_type", "password".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().to_string()),
                ("username", username.clone()),
                ("password", password.expose().to_string()),
            ],
            AuthFlow::ClientCredentials {
                client_id,
                client_secret,
            } => vec![
                ("grant_type", "client_credentials".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose().to_string()),
            ],
            AuthFlow::JwtBearer {
                client_id,
                username,
                private_key_pem,
                audience,
            } => {
                let aud = audience.clone().unwrap_or_else(|| {
                    crate::config::jwt_audience_for(&self.login_url).to_string()
                });
                vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                    ),
                    (
                        "assertion",
                        jwt_assertion(client_id, username, &aud, private_key_pem)?,
                    ),
                ]
            }
            AuthFlow::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => {
                let mut f = vec![
                    ("grant_type", "refresh_token".into()),
                    ("client_id", client_id.clone()),
                    ("refresh_token", refresh_token.expose().to_string()),
                ];
                if let Some(s) = client_secret {
                    f.push(("client_secret", s.expose().to_string()));
                }
                f
            }
        })
    }

    /// Requests a token, retrying connection failures, timeouts and 5xx answers with the
    /// client's retry policy (a token request changes nothing server-side, so it is safe to
    /// resend). Refusals (4xx) are returned at once.
    async fn fetch(&self) -> Result<Token> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.fetch_once().await {
                Err(e) if attempt < self.retry.max_attempts.max(1) && is_transient(&e) => {
                    let sleep = self.retry.backoff().delay_now(attempt);
                    tracing::debug!(attempt, ?sleep, error = %e, "token request failed; retrying");
                    tokio::time::sleep(sleep).await;
                }
                other => return other,
            }
        }
    }

    #[tracing::instrument(name = "salesforce.request", level = "debug", skip_all)]
    async fn fetch_once(&self) -> Result<Token> {
        let url = format!("{}/services/oauth2/token", self.login_url);
        let flow = self.flow.name();
        let form = self.form()?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(flow, "requesting Salesforce access token");
        let resp = self
            .http
            .post(&url)
            .timeout(self.timeout)
            .header(http::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    Error::Timeout(self.timeout)
                } else {
                    Error::Transport(e.without_url().to_string())
                }
            })?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::Transport(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            let t: TokenResponse = serde_json::from_slice(&body).map_err(|e| Error::Decode {
                status,
                message: format!("token response is not the expected JSON: {e}"),
            })?;
            return Ok(Token {
                access_token: t.access_token,
                instance_url: t.instance_url.trim_end_matches('/').to_string(),
                user_id: t.id.as_deref().and_then(crate::ids::user_of_identity_url),
                org_id: t.id.as_deref().and_then(crate::ids::org_of_identity_url),
            });
        }
        let (error, mut description) = match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(e) => (e.error, e.error_description),
            Err(_) => (
                "unexpected_response".into(),
                String::from_utf8_lossy(&body).chars().take(200).collect(),
            ),
        };
        if let Some(hint) = my_domain_hint(flow, &self.login_url) {
            description.push_str(hint);
        }
        Err(Error::Auth {
            flow,
            status,
            error,
            description,
        })
    }
}

/// Salesforce's own client-credentials sample posts to the org's My Domain (salesforce-api.md
/// §1.2, [S6], [S12]); posting to `login.salesforce.com` or `test.salesforce.com` is reported
/// to fail (uncertain). crmmap posts where `login_url` says, and a refusal from a generic login
/// host says what to change.
fn my_domain_hint(flow: &str, login_url: &str) -> Option<&'static str> {
    let host = url::Url::parse(login_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))?;
    let generic = matches!(
        host.trim_end_matches('.'),
        "login.salesforce.com" | "test.salesforce.com"
    );
    (flow == "client_credentials" && generic).then_some(
        " (the client credentials flow needs the org's My Domain: set login_url to https://<domain>.my.salesforce.com)",
    )
}

fn is_transient(e: &Error) -> bool {
    match e {
        Error::Timeout(_) | Error::Transport(_) => true,
        Error::Auth { status, .. } => *status >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which token URL the client-credentials flow accepts is uncertain (§1.2): a refusal from
    /// a generic login host points at My Domain; other hosts and flows are left as they are.
    #[test]
    fn a_client_credentials_refusal_from_a_generic_login_host_names_my_domain() {
        for url in [
            "https://login.salesforce.com",
            "https://TEST.salesforce.com/",
        ] {
            assert!(my_domain_hint("client_credentials", url).is_some(), "{url}");
        }
        for (flow, url) in [
            ("client_credentials", "https://acme.my.salesforce.com"),
            ("client_credentials", "http://127.0.0.1:8080"),
            ("client_credentials", "not a url"),
            ("password", "https://login.salesforce.com"),
            ("jwt_bearer", "https://login.salesforce.com"),
        ] {
            assert_eq!(my_domain_hint(flow, url), None, "{flow} {url}");
        }
    }
}
