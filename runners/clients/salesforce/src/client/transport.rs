//! Sending a request: the bearer token (refreshed once on `INVALID_SESSION_ID`), the
//! classification of each answer, and retries of transient failures with backoff.

use http::{Method, StatusCode};

use super::SalesforceClient;
use super::request::{Raw, Request, response_date};
use crate::auth::Token;
use crate::error::{ApiError, Error, ErrorDetail, Result};

enum Attempt {
    Done(Raw),
    Retry(Error),
    Fail(Error),
    Reauth(ApiError),
}

impl SalesforceClient {
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
    pub(super) async fn send(&self, req: Request) -> Result<Raw> {
        self.allocation_gate()?;
        self.send_ungated(req).await
    }

    #[tracing::instrument(name = "salesforce.request", level = "debug", skip_all)]
    pub(super) async fn send_ungated(&self, req: Request) -> Result<Raw> {
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
                    let sleep = policy.backoff().delay_now(attempt);
                    tracing::debug!(attempt, ?sleep, error = %e, "transient Salesforce failure; retrying");
                    tokio::time::sleep(sleep).await;
                }
            }
        }
    }
}
