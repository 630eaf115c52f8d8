//! Sending one document: the token and headers, the concurrency limit, pacing by the
//! complexity budget, rate limits waited out, and retries of transient failures.

use std::time::Duration;

use crmmap_backoff::Backoff;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::{Map, Value, json};

use super::hints::{hinted_wait, retry_after};
use super::{GraphQlResponse, MondayClient};
use crate::error::{Limit, MondayError, classify, limit_error};
use crate::types::ShapeError;

/// What came back for one request.
enum Exchange {
    /// Nothing: the request failed before an answer (it may have been sent).
    Unanswered(reqwest::Error),
    /// A status and headers, but the body could not be read.
    Unread(StatusCode, reqwest::Error),
    /// A whole answer; its body as JSON, when it is.
    Answered {
        status: StatusCode,
        headers: HeaderMap,
        json: Option<Value>,
    },
}

/// Which failed requests [`MondayClient::send_with`] sends again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Every transient failure (reads and idempotent writes).
    Always,
    /// Only failures after which monday has certainly not run the document (writes that
    /// create items).
    OnlyUnapplied,
}

impl MondayClient {
    /// The wait before resending after `attempt` failures (≥ 1): from twice
    /// `retry_base_delay`, doubling up to `retry_max_delay`, with equal jitter.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        Backoff::new(
            self.config.retry_base_delay,
            self.config.retry_max_delay,
            Backoff::EQUAL_JITTER,
        )
        .delay_now(attempt.saturating_add(1))
    }

    /// Sends one document with retries. Rate limits (HTTP 429, or an error naming the
    /// complexity budget, the minute, concurrency or IP limit) are waited out for as long as
    /// the answer asks (`Retry-After`, `retry_in_seconds`, the `RateLimit` header's `t`), as
    /// long as the call's waits stay within [`MondayConfig::max_wait`]; past it the call fails
    /// at once with [`MondayError::RateLimited`]. The daily limit fails at once with
    /// [`MondayError::DailyLimit`]. 423, 5xx and transport errors back off exponentially with
    /// jitter. At most [`MondayConfig::max_concurrency`] requests are in flight at once.
    /// `variables` must be a JSON object.
    ///
    /// Every failure is resent, also one after which monday may have applied the document:
    /// use it for reads and idempotent writes only.
    pub async fn send(
        &self,
        query: &str,
        variables: Value,
        estimate: u64,
    ) -> Result<GraphQlResponse, MondayError> {
        self.send_with(query, variables, estimate, Resend::Always)
            .await
    }

    /// Sends the request once, holding a concurrency permit until its answer is read.
    async fn exchange(&self, token: &HeaderValue, body: &Value) -> Exchange {
        // The semaphore is never closed, so a permit always comes.
        let _permit = self.in_flight.acquire().await.ok();
        let sent = self
            .http
            .post(self.config.api_url.clone())
            .header(AUTHORIZATION, token.clone())
            .header("API-Version", &self.config.api_version)
            .header(CONTENT_TYPE, "application/json")
            .json(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return Exchange::Unanswered(err),
        };
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(bytes) => Exchange::Answered {
                status,
                headers,
                json: serde_json::from_slice(&bytes).ok(),
            },
            Err(err) => Exchange::Unread(status, err),
        }
    }

    /// [`Self::send`] with a choice of what is resent. With [`Resend::OnlyUnapplied`], a
    /// failure after which monday may have applied the document (a timeout, a connection lost
    /// after the request was sent, HTTP 5xx, an unreadable answer) is returned at once as
    /// [`MondayError::OutcomeUnknown`]; only failures that say the document was not run (a
    /// refused connection, 423, rate limits) are resent. An answer that names a limit but
    /// holds results (monday ran part of the document) is never resent: it is returned, and
    /// the failed parts carry their own errors.
    #[tracing::instrument(name = "monday.request", level = "debug", skip_all)]
    pub(crate) async fn send_with(
        &self,
        query: &str,
        variables: Value,
        estimate: u64,
        resend: Resend,
    ) -> Result<GraphQlResponse, MondayError> {
        // Variables are always a JSON object (a string is rejected since 2025-04). Null
        // values are left out, so that optional arguments are absent rather than null.
        let variables: Map<String, Value> = match variables {
            Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => Map::new(),
        };
        let body = json!({ "query": query, "variables": variables });
        let mut token = HeaderValue::from_str(self.config.token.expose()).map_err(|_| {
            MondayError::BadRequest {
                status: 0,
                message: "api token is not a valid header value".into(),
            }
        })?;
        token.set_sensitive(true);
        let max_wait = self.config.max_wait;
        // Time this call has spent waiting for limits (the budget's pacing included).
        let mut waited = Duration::ZERO;
        let mut attempts = 0u32;
        let mut rate_limited = 0u32;
        loop {
            match self
                .budget
                .acquire_within(estimate, max_wait.saturating_sub(waited))
                .await
            {
                Ok(paced) => waited = waited.saturating_add(paced),
                Err(needed) => {
                    return Err(MondayError::RateLimited {
                        message: "the complexity budget is spent until its window resets".into(),
                        retry_in: Some(needed.saturating_sub(waited)),
                        waited,
                    });
                }
            }
            let (status, headers, json) = match self.exchange(&token, &body).await {
                Exchange::Answered {
                    status,
                    headers,
                    json,
                } => (status, headers, json),
                Exchange::Unanswered(err) => {
                    // A refused connection never reached monday; anything later may have.
                    if resend == Resend::OnlyUnapplied && !err.is_connect() {
                        return Err(MondayError::OutcomeUnknown {
                            message: err.without_url().to_string(),
                        });
                    }
                    attempts += 1;
                    if attempts >= self.config.max_attempts {
                        return Err(MondayError::Transport(err.without_url().to_string()));
                    }
                    tokio::time::sleep(self.backoff(attempts)).await;
                    continue;
                }
                Exchange::Unread(status, err) => {
                    if resend == Resend::OnlyUnapplied {
                        return Err(MondayError::OutcomeUnknown {
                            message: format!(
                                "http {status}, answer unreadable: {}",
                                err.without_url()
                            ),
                        });
                    }
                    attempts += 1;
                    if attempts >= self.config.max_attempts {
                        return Err(MondayError::Transport(err.without_url().to_string()));
                    }
                    tokio::time::sleep(self.backoff(attempts)).await;
                    continue;
                }
            };
            if let Some(quota) = headers
                .get("RateLimit-Policy")
                .and_then(|v| v.to_str().ok())
                .and_then(crate::budget::complexity_quota)
            {
                self.budget.set_limit(quota);
            }
            let parsed = json.as_ref().map(GraphQlResponse::from_json);
            let first_error = parsed.as_ref().and_then(|p| p.errors.first().cloned());

            let named = parsed.as_ref().and_then(GraphQlResponse::limit);
            let limit = match named {
                Some((limit, error)) => Some((limit, Some(error.clone()))),
                None if status == StatusCode::TOO_MANY_REQUESTS => Some((Limit::Passing, None)),
                None => None,
            };
            let ran = parsed.as_ref().is_some_and(GraphQlResponse::ran);
            if let (Some((limit, error)), false) = (limit, ran) {
                let hinted = hinted_wait(&headers, error.as_ref());
                let code = error.as_ref().and_then(|e| e.code.clone());
                let message = error
                    .as_ref()
                    .map_or_else(|| format!("http {status}"), |e| e.message.clone());
                if limit == Limit::Daily {
                    return Err(limit_error(
                        limit,
                        code.as_deref(),
                        &message,
                        hinted,
                        waited,
                    ));
                }
                rate_limited += 1;
                let wait = hinted.unwrap_or_else(|| self.backoff(rate_limited));
                if waited.saturating_add(wait) > max_wait {
                    tracing::debug!(
                        ?wait,
                        ?waited,
                        "monday rate limit outlasts the wait allowed"
                    );
                    return Err(limit_error(
                        limit,
                        code.as_deref(),
                        &message,
                        Some(wait),
                        waited,
                    ));
                }
                tracing::debug!(?wait, "monday rate limit, waiting");
                // Every request of this client waits for it (the budget's pacing).
                self.budget.exhausted(wait).await;
                continue;
            }
            if status.is_server_error() && resend == Resend::OnlyUnapplied {
                return Err(MondayError::OutcomeUnknown {
                    message: format!("http {status}"),
                });
            }
            if status == StatusCode::LOCKED || status.is_server_error() {
                attempts += 1;
                if attempts >= self.config.max_attempts {
                    return Err(MondayError::Unavailable {
                        status: status.as_u16(),
                        attempts,
                    });
                }
                let retry_after = headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v.trim()));
                let wait = retry_after.unwrap_or_else(|| self.backoff(attempts));
                tokio::time::sleep(wait.min(self.config.retry_max_delay)).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(MondayError::Unauthorized {
                    status: status.as_u16(),
                });
            }
            if !status.is_success() {
                // A 404 with `ResourceNotFoundException` and the like keep their meaning.
                if let Some(error) = first_error.as_ref().filter(|e| {
                    crate::error::missing(e.code.as_deref(), &e.message, e.error_data.as_ref())
                        .is_some()
                }) {
                    return Err(classify(error));
                }
                return Err(MondayError::BadRequest {
                    status: status.as_u16(),
                    message: first_error.map_or_else(|| status.to_string(), |e| e.message),
                });
            }
            let Some(parsed) = parsed else {
                if resend == Resend::OnlyUnapplied {
                    return Err(MondayError::OutcomeUnknown {
                        message: format!("http {status}, answer is not json"),
                    });
                }
                return Err(ShapeError("response body is not json".into()).into());
            };
            if let Some(complexity) = &parsed.complexity {
                self.budget.observe(complexity).await;
            }
            return Ok(parsed);
        }
    }
}
