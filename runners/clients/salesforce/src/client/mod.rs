//! The REST client, one file per concern: the request and its URL ([`request`]), sending with
//! token refresh and retries ([`transport`]), the org's API allocation ([`limits`]), SOQL
//! queries and paging ([`query`]), single rows ([`rows`]), sObject Collections
//! ([`collections`]) and describe calls ([`describe`]).

mod collections;
mod describe;
mod limits;
mod query;
mod request;
mod rows;
mod session;
mod transport;

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::auth::TokenManager;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::soql::validate_identifier;

pub use collections::COLLECTION_BATCH;
pub use request::http_date;
pub use session::Session;

use limits::Usage;

struct Inner {
    http: reqwest::Client,
    config: Config,
    auth: TokenManager,
    limit_info: Mutex<Usage>,
}

/// A Salesforce REST client. Cheap to clone; clones share the token and the limit info.
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for SalesforceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceClient")
            .field("login_url", &self.inner.config.login_url)
            .field("api_version", &self.inner.config.api_version)
            .field("auth", &self.inner.config.auth)
            .finish_non_exhaustive()
    }
}

fn check_id(id: &str) -> Result<&str> {
    if (id.len() == 15 || id.len() == 18) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(id)
    } else {
        Err(Error::InvalidArgument(format!(
            "{id:?} is not a Salesforce id"
        )))
    }
}

fn check_name(name: &str) -> Result<&str> {
    validate_identifier(name)
        .ok()
        .filter(|n| !n.contains('.'))
        .ok_or_else(|| Error::InvalidArgument(format!("{name:?} is not a Salesforce API name")))
}

impl SalesforceClient {
    /// A client for `config`. No request is made until the first call.
    pub fn new(config: Config) -> Result<Self> {
        url::Url::parse(&config.login_url)
            .map_err(|e| Error::Config(format!("login_url {:?}: {e}", config.login_url)))?;
        if !config
            .api_version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(Error::Config(format!(
                "api_version {:?} should look like \"62.0\"",
                config.api_version
            )));
        }
        if let crate::config::AuthFlow::JwtBearer {
            private_key_pem, ..
        } = &config.auth
        {
            jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem.expose().as_bytes()).map_err(
                |e| Error::Config(format!("JWT private key is not a valid RSA PEM key: {e}")),
            )?;
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("crmmap-salesforce/", env!("CARGO_PKG_VERSION")));
        for (host, addr) in &config.resolve {
            builder = builder.resolve(host, *addr);
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        let auth = TokenManager::new(http.clone(), &config);
        Ok(SalesforceClient {
            inner: Arc::new(Inner {
                http,
                config,
                auth,
                limit_info: Mutex::new(Usage::default()),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Gets a token now (otherwise the first call does).
    pub async fn authenticate(&self) -> Result<()> {
        self.inner.auth.token().await.map(|_| ())
    }

    /// The instance URL of the current token, if there is one.
    pub async fn instance_url(&self) -> Result<String> {
        Ok(self.inner.auth.token().await?.instance_url.clone())
    }

    /// The id of the user the client acts as (from the token's identity URL), when the
    /// token response named one.
    pub async fn user_id(&self) -> Result<Option<String>> {
        Ok(self.inner.auth.token().await?.user_id.clone())
    }

    /// Token requests this client has made.
    pub fn token_requests(&self) -> u64 {
        self.inner.auth.requests()
    }
}

fn not_found(e: Error, sobject: &str, id: impl fmt::Display) -> Error {
    match e {
        Error::NotFound { errors, .. } => Error::NotFound {
            what: format!("{sobject} {id}"),
            errors,
        },
        other => other,
    }
}
