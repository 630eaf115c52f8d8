//! The REST client.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::{HeaderMap, Method, StatusCode};
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::auth::{Token, TokenManager};
use crate::config::Config;
use crate::error::{ApiError, Error, ErrorDetail, Result};
use crate::soql::validate_identifier;
use crate::types::{
    ApiUsage, ConditionalUpdate, GlobalDescribe, LimitInfo, Limits, NewRecord, QueryResponse,
    Record, RecordResult, RecordUpdate, SObjectDescribe, SaveResult, UpsertOutcome,
};

/// Largest batch sObject Collections accept.
pub const COLLECTION_BATCH: usize = 200;

/// Where a request goes.
enum Target {
    /// `{instance}/services/data/vNN.N/` + these path segments (each percent-encoded).
    Data(Vec<String>),
    /// A server-provided absolute path such as a `nextRecordsUrl`.
    Path(String),
}

struct Request {
    method: Method,
    target: Target,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
}

impl Request {
    fn new(method: Method, target: Target) -> Self {
        Request {
            method,
            target,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    fn json(mut self, body: &impl Serialize) -> Result<Self> {
        self.body = Some(
            serde_json::to_vec(body)
                .map_err(|e| Error::InvalidArgument(format!("cannot encode body: {e}")))?,
        );
        Ok(self)
    }

    fn is_write(&self) -> bool {
        matches!(
            self.method,
            Method::POST | Method::PATCH | Method::DELETE | Method::PUT
        )
    }
}

/// A successful (2xx or 300) response.
struct Raw {
    status: StatusCode,
    body: Vec<u8>,
    /// The `Date` header, when present and a valid HTTP date.
    date: Option<OffsetDateTime>,
}

impl Raw {
    fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            status: self.status.as_u16(),
            message: format!(
                "{e}; body starts with {:?}",
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(120)
                    .collect::<String>()
            ),
        })
    }
}

struct Inner {
    http: reqwest::Client,
    config: Config,
    auth: TokenManager,
    limit_info: Mutex<Usage>,
}

/// The latest `Sforce-Limit-Info`, and when it was learnt (or when the last recheck was let
/// through).
#[derive(Default)]
struct Usage {
    info: Option<LimitInfo>,
    seen: Option<Instant>,
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

/// The `Date` header of a response, when present and a valid HTTP date (RFC 9110 §5.6.7:
/// IMF-fixdate, and the obsolete RFC 850 and asctime forms).
fn response_date(headers: &HeaderMap) -> Option<OffsetDateTime> {
    let v = headers.get(http::header::DATE)?.to_str().ok()?;
    httpdate::parse_http_date(v).ok().map(OffsetDateTime::from)
}

/// Formats an HTTP date (`If-Unmodified-Since`): IMF-fixdate, `Sat, 01 Jun 2024 12:00:00
/// GMT`, in UTC, truncated to the second.
pub fn http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap_or_default()
}

fn record_body(sobject: &str, id: Option<&str>, fields: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("attributes".into(), json!({ "type": sobject }));
    if let Some(id) = id {
        m.insert("id".into(), Value::String(id.to_string()));
    }
    for (k, v) in fields {
        if k != "attributes" && !(id.is_some() && k.eq_ignore_ascii_case("id")) {
            m.insert(k.clone(), v.clone());
        }
    }
    Value::Object(m)
}

enum Attempt {
    Done(Raw),
    Retry(Error),
    Fail(Error),
    Reauth(ApiError),
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

    /// The latest `Sforce-Limit-Info` seen.
    pub fn limit_info(&self) -> Option<LimitInfo> {
        self.inner
            .limit_info
            .lock()
            .ok()
            .and_then(|g| g.info.clone())
    }

    /// The org's API usage from the latest `Sforce-Limit-Info` seen (every REST response
    /// carries it), or `None` before the first call.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.limit_info().map(|l| l.usage())
    }

    /// Refuses a call while the org's usage is above `100 - api_headroom_percent` percent of
    /// its allocation ([`Error::AllocationReached`]). Usage only changes through responses, so
    /// one call is let through every `allocation_recheck` to learn whether it has dropped.
    fn allocation_gate(&self) -> Result<()> {
        let config = &self.inner.config;
        let Ok(mut g) = self.inner.limit_info.lock() else {
            return Ok(());
        };
        let Some(usage) = g.info.as_ref().map(LimitInfo::usage) else {
            return Ok(());
        };
        if !usage.above_headroom(config.api_headroom_percent) {
            return Ok(());
        }
        let recheck_due = g
            .seen
            .is_none_or(|seen| seen.elapsed() >= config.allocation_recheck);
        if recheck_due {
            // This call is the recheck; the others wait for its answer's header.
            g.seen = Some(Instant::now());
            tracing::debug!(%usage, "API allocation above crmmap's share; rechecking with one call");
            return Ok(());
        }
        Err(Error::AllocationReached {
            used: usage.used,
            max: usage.max,
        })
    }

    /// Learns the org's API usage now with `GET /limits` (one API call, made even when the
    /// allocation is above crmmap's share) and returns it, or [`Error::AllocationReached`] when
    /// it is above `100 - api_headroom_percent` percent. A batch run calls this before its first
    /// data call, so that an org already past the threshold costs it one call, not a page.
    pub async fn check_api_allocation(&self) -> Result<ApiUsage> {
        let raw = self
            .send_ungated(Request::new(Method::GET, Self::data(&["limits", ""])))
            .await?;
        let usage = match self.api_usage() {
            Some(u) => u,
            None => {
                // No header: read `DailyApiRequests` from the body.
                let all: Map<String, Value> = raw.json()?;
                let daily = all
                    .get("DailyApiRequests")
                    .and_then(|v| {
                        serde_json::from_value::<crate::types::LimitValue>(v.clone()).ok()
                    })
                    .ok_or_else(|| Error::Decode {
                        status: raw.status.as_u16(),
                        message: "limits without DailyApiRequests and no Sforce-Limit-Info".into(),
                    })?;
                let max = u64::try_from(daily.max).unwrap_or(0);
                let remaining = u64::try_from(daily.remaining).unwrap_or(0);
                ApiUsage {
                    used: max.saturating_sub(remaining),
                    max,
                }
            }
        };
        if usage.above_headroom(self.inner.config.api_headroom_percent) {
            return Err(Error::AllocationReached {
                used: usage.used,
                max: usage.max,
            });
        }
        Ok(usage)
    }

    fn build_url(
        &self,
        token: &Token,
        target: &Target,
        query: &[(String, String)],
    ) -> Result<url::Url> {
        let mut url = url::Url::parse(&token.instance_url).map_err(|e| Error::Decode {
            status: 200,
            message: format!("instance_url {:?}: {e}", token.instance_url),
        })?;
        match target {
            Target::Data(segs) => {
                let version = format!("v{}", self.inner.config.api_version);
                let mut path = url
                    .path_segments_mut()
                    .map_err(|()| Error::Config("instance_url cannot be a base URL".into()))?;
                path.pop_if_empty()
                    .extend(["services", "data", version.as_str()]);
                path.extend(segs.iter().map(String::as_str));
            }
            Target::Path(p) => {
                if !p.starts_with("/services/data/") {
                    return Err(Error::Decode {
                        status: 200,
                        message: format!("unexpected next page URL {p:?}"),
                    });
                }
                url = url.join(p).map_err(|e| Error::Decode {
                    status: 200,
                    message: format!("next page URL {p:?}: {e}"),
                })?;
            }
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }

    fn note_limit_info(&self, headers: &HeaderMap) {
        if let Some(li) = headers
            .get_all("sforce-limit-info")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(LimitInfo::parse)
            && let Ok(mut g) = self.inner.limit_info.lock()
        {
            g.info = Some(li);
            g.seen = Some(Instant::now());
        }
    }

    /// One attempt. `resend_unknown`: whether a failure after which Salesforce may have
    /// applied the request (a timeout, a connection lost after sending, a 5xx) is retried;
    /// false for creates, which would be made twice.
    async fn attempt(&self, req: &Request, token: &Token, resend_unknown: bool) -> Attempt {
        let url = match self.build_url(token, &req.target, &req.query) {
            Ok(u) => u,
            Err(e) => return Attempt::Fail(e),
        };
        let timeout = self.inner.config.request_timeout;
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url)
            .timeout(timeout)
            .bearer_auth(token.access_token.expose())
            .header(http::header::ACCEPT, "application/json");
        for (k, v) in &req.headers {
            rb = rb.header(*k, v);
        }
        if req.is_write() {
            rb = rb.header(
                "Sforce-Call-Options",
                format!("client={}", self.inner.config.call_options_client),
            );
        }
        if let Some(body) = &req.body {
            rb = rb
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transport = |e: reqwest::Error| {
            let e = e.without_url();
            if e.is_timeout() {
                if resend_unknown {
                    Attempt::Retry(Error::Timeout(timeout))
                } else {
                    Attempt::Fail(Error::Timeout(timeout))
                }
            } else if e.is_connect() || resend_unknown {
                // A refused connection never reached Salesforce, so even a create is safe to resend.
                Attempt::Retry(Error::Transport(e.to_string()))
            } else {
                Attempt::Fail(Error::Transport(e.to_string()))
            }
        };
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => return transport(e),
        };
        self.note_limit_info(resp.headers());
        let date = response_date(resp.headers());
        let status = resp.status();
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return transport(e),
        };
        if status.is_success() || status == StatusCode::MULTIPLE_CHOICES {
            return Attempt::Done(Raw { status, body, date });
        }
        let errors: Vec<ErrorDetail> = serde_json::from_slice(&body).unwrap_or_else(|_| {
            vec![ErrorDetail {
                error_code: format!("HTTP_{}", status.as_u16()),
                message: String::from_utf8_lossy(&body).chars().take(300).collect(),
                fields: vec![],
            }]
        });
        let api = ApiError {
            status: status.as_u16(),
            errors,
        };
        if status == StatusCode::UNAUTHORIZED && api.has_code("INVALID_SESSION_ID") {
            return Attempt::Reauth(api);
        }
        if api.has_code("REQUEST_LIMIT_EXCEEDED") {
            let message = api
                .errors
                .iter()
                .find(|e| e.error_code == "REQUEST_LIMIT_EXCEEDED")
                .map(|e| e.message.clone())
                .unwrap_or_default();
            return Attempt::Fail(Error::RequestLimitExceeded {
                message,
                limit_info: self.limit_info(),
            });
        }
        let transient = status.is_server_error()
            || api.has_code("UNABLE_TO_LOCK_ROW")
            || api.has_code("SERVER_UNAVAILABLE");
        if transient {
            // A 5xx does not say whether a create was saved; `UNABLE_TO_LOCK_ROW` says it was
            // not (reference §4.3: 400, "some clients saw 500").
            if !resend_unknown && status.is_server_error() && !api.has_code("UNABLE_TO_LOCK_ROW") {
                return Attempt::Fail(Error::Api(api));
            }
            return Attempt::Retry(Error::Api(api));
        }
        if status == StatusCode::NOT_FOUND {
            return Attempt::Fail(Error::NotFound {
                what: "requested resource".into(),
                errors: api.errors,
            });
        }
        Attempt::Fail(Error::Api(api))
    }

    /// Sends a request: attaches the token (refreshing it once on `INVALID_SESSION_ID`),
    /// retries transient failures with exponential backoff and full jitter. A POST (a create)
    /// is resent only after failures that say it was not applied (a refused connection,
    /// `UNABLE_TO_LOCK_ROW`, an expired session): after a timeout, a lost connection or a 5xx
    /// the error is returned, and the caller reconciles before creating again.
    ///
    /// No call is sent while the org's API usage is above crmmap's share
    /// ([`Error::AllocationReached`]; see [`Self::allocation_gate`]).
    async fn send(&self, req: Request) -> Result<Raw> {
        self.allocation_gate()?;
        self.send_ungated(req).await
    }

    #[tracing::instrument(name = "salesforce.request", level = "debug", skip_all)]
    async fn send_ungated(&self, req: Request) -> Result<Raw> {
        let policy = &self.inner.config.retry;
        // Creates are not idempotent: after a timeout or a 5xx the first attempt may have been
        // applied.
        let resend_unknown = req.method != Method::POST || policy.resend_unknown_creates;
        let mut attempt: u32 = 0;
        let mut reauthenticated = false;
        let mut token = self.inner.auth.token().await?;
        loop {
            attempt += 1;
            match self.attempt(&req, &token, resend_unknown).await {
                Attempt::Done(raw) => return Ok(raw),
                Attempt::Fail(e) => return Err(e),
                Attempt::Reauth(api) => {
                    if reauthenticated {
                        return Err(Error::Api(api));
                    }
                    reauthenticated = true;
                    // Replaying after a refresh is not a retry: it does not use up an attempt.
                    attempt -= 1;
                    tracing::debug!(
                        "session expired; requesting a new Salesforce token and replaying"
                    );
                    token = self.inner.auth.refresh(&token).await?;
                }
                Attempt::Retry(e) => {
                    if attempt >= policy.max_attempts.max(1) {
                        return Err(e);
                    }
                    let bound = policy.backoff_bound(attempt);
                    let sleep = Duration::from_secs_f64(
                        rand::thread_rng().gen_range(0.0..=bound.as_secs_f64()),
                    );
                    tracing::debug!(attempt, ?sleep, error = %e, "transient Salesforce failure; retrying");
                    tokio::time::sleep(sleep).await;
                }
            }
        }
    }

    fn data(segs: &[&str]) -> Target {
        Target::Data(segs.iter().map(|s| s.to_string()).collect())
    }

    // ------------------------------------------------------------------ queries

    async fn query_page<T: DeserializeOwned>(
        &self,
        target: Target,
        q: Option<String>,
    ) -> Result<QueryResponse<T>> {
        let mut req = Request::new(Method::GET, target);
        if let Some(q) = q {
            req.query.push(("q".into(), q));
        }
        if let Some(n) = self.inner.config.query_batch_size {
            req.headers
                .push(("Sforce-Query-Options", format!("batchSize={n}")));
        }
        self.send(req).await?.json()
    }

    fn pages<T>(
        &self,
        soql: String,
        resource: &'static str,
    ) -> BoxStream<'static, Result<QueryResponse<T>>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        enum Next {
            First(String),
            More(String),
            Done,
        }
        let client = self.clone();
        stream::try_unfold(Next::First(soql), move |state| {
            let client = client.clone();
            async move {
                let page: QueryResponse<T> = match state {
                    Next::Done => return Ok(None),
                    Next::First(q) => client.query_page(Self::data(&[resource]), Some(q)).await?,
                    Next::More(url) => client.query_page(Target::Path(url), None).await?,
                };
                let next = match (&page.next_records_url, page.done) {
                    (Some(url), false) => Next::More(url.clone()),
                    _ => Next::Done,
                };
                Ok(Some((page, next)))
            }
        })
        .boxed()
    }

    /// Runs a SOQL query (`/query`) and streams its pages, following `nextRecordsUrl`.
    pub fn query_pages<T>(
        &self,
        soql: impl Into<String>,
    ) -> BoxStream<'static, Result<QueryResponse<T>>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages(soql.into(), "query")
    }

    /// Like [`Self::query_pages`] on `/queryAll`, which also returns deleted and archived rows.
    pub fn query_all_pages<T>(
        &self,
        soql: impl Into<String>,
    ) -> BoxStream<'static, Result<QueryResponse<T>>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages(soql.into(), "queryAll")
    }

    /// Runs a SOQL query and streams its records, page after page.
    pub fn query<T>(&self, soql: impl Into<String>) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.query_pages(soql)
            .map_ok(|p: QueryResponse<T>| stream::iter(p.records.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Like [`Self::query`] on `/queryAll` (deleted rows included, with `IsDeleted`).
    pub fn query_all<T>(&self, soql: impl Into<String>) -> BoxStream<'static, Result<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.query_all_pages(soql)
            .map_ok(|p: QueryResponse<T>| stream::iter(p.records.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Runs a query and collects every record.
    pub async fn query_collect(&self, soql: impl Into<String>) -> Result<Vec<Record>> {
        self.query::<Record>(soql).try_collect().await
    }

    // ------------------------------------------------------------------ sObject rows

    /// `GET /sobjects/{sobject}/{id}[?fields=…]`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        sobject: &str,
        id: &str,
        fields: Option<&[&str]>,
    ) -> Result<T> {
        let mut req = Request::new(
            Method::GET,
            Self::data(&["sobjects", check_name(sobject)?, check_id(id)?]),
        );
        if let Some(fields) = fields {
            for f in fields {
                check_name(f)?;
            }
            req.query.push(("fields".into(), fields.join(",")));
        }
        self.send(req)
            .await
            .map_err(|e| not_found(e, sobject, id))?
            .json()
    }

    /// `POST /sobjects/{sobject}/`; returns the new id. Not resent after a failure that leaves
    /// its outcome unknown (a timeout, a lost connection, a 5xx): the record may exist, and
    /// the caller looks it up before creating it again.
    pub async fn create(&self, sobject: &str, fields: &impl Serialize) -> Result<String> {
        let req = Request::new(
            Method::POST,
            Self::data(&["sobjects", check_name(sobject)?, ""]),
        )
        .json(fields)?;
        let result: SaveResult = self.send(req).await?.json()?;
        match (result.success, result.id) {
            (true, Some(id)) => Ok(id),
            _ => Err(Error::Api(ApiError {
                status: 201,
                errors: result.errors,
            })),
        }
    }

    /// `PATCH /sobjects/{sobject}/{id}`. With `if_unmodified_since`, Salesforce refuses the
    /// change (412 → [`Error::Conflict`]) when the record was modified after that time
    /// (second granularity); [`Self::update_if_unmodified`] returns that outcome as a value.
    pub async fn update(
        &self,
        sobject: &str,
        id: &str,
        fields: &impl Serialize,
        if_unmodified_since: Option<OffsetDateTime>,
    ) -> Result<()> {
        let Some(since) = if_unmodified_since else {
            let req = Request::new(
                Method::PATCH,
                Self::data(&["sobjects", check_name(sobject)?, check_id(id)?]),
            )
            .json(fields)?;
            return self
                .send(req)
                .await
                .map(|_| ())
                .map_err(|e| not_found(e, sobject, id));
        };
        match self
            .update_if_unmodified(sobject, id, fields, since)
            .await?
        {
            ConditionalUpdate::Applied { .. } => Ok(()),
            ConditionalUpdate::Modified => Err(Error::Conflict {
                sobject: sobject.to_string(),
                id: id.to_string(),
                since: http_date(since),
                errors: Vec::new(),
            }),
        }
    }

    /// Conditional update: `PATCH /sobjects/{sobject}/{id}` with `If-Unmodified-Since: since`
    /// (an HTTP date, so `since` counts to the second; reference §6).
    ///
    /// - [`ConditionalUpdate::Applied`]: HTTP 204, the record was not modified after `since`
    ///   and the change is saved. `date` is the response's `Date` header. A 204 has no body,
    ///   so it does not say the record's new `LastModifiedDate`; the save happened before the
    ///   answer, so `date` is in the same second as the save or later, and passing it as the
    ///   next call's `since` keeps that call's condition right without reading the record.
    ///   (An edit by someone else within that same second cannot be told apart: the validators
    ///   have second granularity.)
    /// - [`ConditionalUpdate::Modified`]: HTTP 412, the record's `LastModifiedDate` is after
    ///   `since` (second precision); nothing was written. Read the record to decide.
    /// - `Err`: anything else, classified as by [`Self::update`] (404 → [`Error::NotFound`],
    ///   400 refusals → [`Error::Api`], …).
    ///
    /// Transient failures are retried like any update. A retry after a failure that leaves the
    /// first attempt's outcome unknown (a timeout, a 5xx) can answer `Modified` because that
    /// first attempt was applied: `Modified` means "changed after `since`", possibly by this
    /// very change.
    pub async fn update_if_unmodified(
        &self,
        sobject: &str,
        id: &str,
        fields: &impl Serialize,
        since: OffsetDateTime,
    ) -> Result<ConditionalUpdate> {
        let mut req = Request::new(
            Method::PATCH,
            Self::data(&["sobjects", check_name(sobject)?, check_id(id)?]),
        )
        .json(fields)?;
        req.headers.push(("If-Unmodified-Since", http_date(since)));
        match self.send(req).await {
            Ok(raw) => Ok(ConditionalUpdate::Applied { date: raw.date }),
            Err(Error::Api(api)) if api.status == 412 => Ok(ConditionalUpdate::Modified),
            Err(e) => Err(not_found(e, sobject, id)),
        }
    }

    /// `DELETE /sobjects/{sobject}/{id}`.
    pub async fn delete(&self, sobject: &str, id: &str) -> Result<()> {
        let req = Request::new(
            Method::DELETE,
            Self::data(&["sobjects", check_name(sobject)?, check_id(id)?]),
        );
        self.send(req)
            .await
            .map(|_| ())
            .map_err(|e| not_found(e, sobject, id))
    }

    /// `PATCH /sobjects/{sobject}/{external_field}/{value}`: creates (201) or updates (200)
    /// the record with that external id; 300 when several records have it.
    pub async fn upsert(
        &self,
        sobject: &str,
        external_field: &str,
        value: &str,
        fields: &impl Serialize,
    ) -> Result<UpsertOutcome> {
        let target = Self::data(&[
            "sobjects",
            check_name(sobject)?,
            check_name(external_field)?,
            value,
        ]);
        let req = Request::new(Method::PATCH, target).json(fields)?;
        let raw = self.send(req).await?;
        match raw.status {
            StatusCode::CREATED => {
                let r: SaveResult = raw.json()?;
                r.id.map(UpsertOutcome::Created)
                    .ok_or_else(|| Error::Decode {
                        status: 201,
                        message: "upsert result without id".into(),
                    })
            }
            StatusCode::MULTIPLE_CHOICES => Ok(UpsertOutcome::MultipleMatches(raw.json()?)),
            StatusCode::NO_CONTENT => Ok(UpsertOutcome::Updated(None)),
            _ => {
                let r: SaveResult = raw.json()?;
                Ok(if r.created == Some(true) {
                    UpsertOutcome::Created(r.id.unwrap_or_default())
                } else {
                    UpsertOutcome::Updated(r.id)
                })
            }
        }
    }

    // ------------------------------------------------------------------ collections

    async fn collection_call(
        &self,
        method: Method,
        target: Target,
        body: Option<Value>,
        query: Vec<(String, String)>,
    ) -> Result<Vec<SaveResult>> {
        let mut req = Request::new(method, target);
        req.query = query;
        if let Some(b) = body {
            req = req.json(&b)?;
        }
        self.send(req).await?.json()
    }

    fn index_results(
        offset: usize,
        expected: usize,
        results: Vec<SaveResult>,
    ) -> Result<Vec<RecordResult>> {
        if results.len() != expected {
            return Err(Error::Decode {
                status: 200,
                message: format!(
                    "sObject Collections returned {} results for {expected} records",
                    results.len()
                ),
            });
        }
        Ok(results
            .into_iter()
            .enumerate()
            .map(|(i, r)| RecordResult {
                index: offset + i,
                id: r.id,
                success: r.success,
                errors: r.errors,
                created: r.created,
            })
            .collect())
    }

    /// Creates records through sObject Collections, 200 per request, in input order. Results
    /// carry the input index. Like [`Self::create`], a request is not resent after a failure
    /// that leaves its outcome unknown. `all_or_none` applies per request of 200: Salesforce has no
    /// transaction spanning several calls. If a whole request fails, the error is returned
    /// and the records of earlier requests stay created.
    pub async fn create_many(
        &self,
        records: &[NewRecord],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let items = records
            .iter()
            .map(|r| Ok(record_body(check_name(&r.sobject)?, None, &r.fields)))
            .collect::<Result<Vec<_>>>()?;
        let target = || Ok(Self::data(&["composite", "sobjects"]));
        self.save_in_chunks(Method::POST, target, items, all_or_none)
            .await
    }

    /// Updates records through sObject Collections, 200 per request (see [`Self::create_many`]).
    pub async fn update_many(
        &self,
        records: &[RecordUpdate],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let items = records
            .iter()
            .map(|r| {
                Ok(record_body(
                    check_name(&r.sobject)?,
                    Some(check_id(&r.id)?),
                    &r.fields,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let target = || Ok(Self::data(&["composite", "sobjects"]));
        self.save_in_chunks(Method::PATCH, target, items, all_or_none)
            .await
    }

    /// Upserts records of one object by an external id field through sObject Collections
    /// (`PATCH /composite/sobjects/{sobject}/{field}`, v46+), 200 per request. Each record
    /// must carry the external id field.
    pub async fn upsert_many(
        &self,
        sobject: &str,
        external_field: &str,
        records: &[Map<String, Value>],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let target = || -> Result<Target> {
            Ok(Self::data(&[
                "composite",
                "sobjects",
                check_name(sobject)?,
                check_name(external_field)?,
            ]))
        };
        let items = records
            .iter()
            .map(|r| record_body(sobject, None, r))
            .collect();
        self.save_in_chunks(Method::PATCH, target, items, all_or_none)
            .await
    }

    /// Sends record bodies through sObject Collections, 200 per request, in order; results
    /// carry the input index. Requests already sent stay applied if a later one fails.
    async fn save_in_chunks(
        &self,
        method: Method,
        target: impl Fn() -> Result<Target>,
        items: Vec<Value>,
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let mut out = Vec::with_capacity(items.len());
        for (chunk_no, chunk) in items.chunks(COLLECTION_BATCH).enumerate() {
            let body = json!({"allOrNone": all_or_none, "records": chunk});
            let results = self
                .collection_call(method.clone(), target()?, Some(body), vec![])
                .await?;
            out.extend(Self::index_results(
                chunk_no * COLLECTION_BATCH,
                chunk.len(),
                results,
            )?);
        }
        Ok(out)
    }

    /// Deletes records by id through sObject Collections, 200 per request.
    pub async fn delete_many<S: AsRef<str>>(
        &self,
        ids: &[S],
        all_or_none: bool,
    ) -> Result<Vec<RecordResult>> {
        let mut out = Vec::with_capacity(ids.len());
        for (chunk_no, chunk) in ids.chunks(COLLECTION_BATCH).enumerate() {
            let list = chunk
                .iter()
                .map(|i| check_id(i.as_ref()).map(str::to_string))
                .collect::<Result<Vec<_>>>()?
                .join(",");
            let query = vec![
                ("ids".to_string(), list),
                ("allOrNone".to_string(), all_or_none.to_string()),
            ];
            let results = self
                .collection_call(
                    Method::DELETE,
                    Self::data(&["composite", "sobjects"]),
                    None,
                    query,
                )
                .await?;
            out.extend(Self::index_results(
                chunk_no * COLLECTION_BATCH,
                chunk.len(),
                results,
            )?);
        }
        Ok(out)
    }

    // ------------------------------------------------------------------ metadata, limits

    /// `GET /sobjects/{sobject}/describe`.
    pub async fn describe(&self, sobject: &str) -> Result<SObjectDescribe> {
        let req = Request::new(
            Method::GET,
            Self::data(&["sobjects", check_name(sobject)?, "describe"]),
        );
        self.send(req)
            .await
            .map_err(|e| not_found(e, sobject, "describe"))?
            .json()
    }

    /// `GET /sobjects/`.
    pub async fn describe_global(&self) -> Result<GlobalDescribe> {
        self.send(Request::new(Method::GET, Self::data(&["sobjects", ""])))
            .await?
            .json()
    }

    /// `GET /limits`.
    pub async fn limits(&self) -> Result<Limits> {
        let raw = self
            .send(Request::new(Method::GET, Self::data(&["limits", ""])))
            .await?;
        // Keep only the entries that have the `{Max, Remaining}` shape.
        let all: Map<String, Value> = raw.json()?;
        Ok(all
            .into_iter()
            .filter_map(|(k, v)| serde_json::from_value(v).ok().map(|l| (k, l)))
            .collect())
    }
}

fn not_found(e: Error, sobject: &str, id: &str) -> Error {
    match e {
        Error::NotFound { errors, .. } => Error::NotFound {
            what: format!("{sobject} {id}"),
            errors,
        },
        other => other,
    }
}
