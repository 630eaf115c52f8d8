//! One request: where it goes, its body and headers, and the successful answer.

use http::{HeaderMap, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use time::macros::format_description;

use super::SalesforceClient;
use crate::auth::Token;
use crate::error::{Error, Result};

/// Where a request goes.
pub(super) enum Target {
    /// `{instance}/services/data/vNN.N/` + these path segments (each percent-encoded).
    Data(Vec<String>),
    /// A server-provided absolute path such as a `nextRecordsUrl`.
    Path(String),
}

pub(super) struct Request {
    pub(super) method: Method,
    pub(super) target: Target,
    pub(super) query: Vec<(String, String)>,
    pub(super) body: Option<Vec<u8>>,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Request {
    pub(super) fn new(method: Method, target: Target) -> Self {
        Request {
            method,
            target,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub(super) fn json(mut self, body: &impl Serialize) -> Result<Self> {
        self.body = Some(
            serde_json::to_vec(body)
                .map_err(|e| Error::InvalidArgument(format!("cannot encode body: {e}")))?,
        );
        Ok(self)
    }

    pub(super) fn is_write(&self) -> bool {
        matches!(
            self.method,
            Method::POST | Method::PATCH | Method::DELETE | Method::PUT
        )
    }
}

/// A successful (2xx or 300) response.
pub(super) struct Raw {
    pub(super) status: StatusCode,
    pub(super) body: Vec<u8>,
    /// The `Date` header, when present and a valid HTTP date.
    pub(super) date: Option<OffsetDateTime>,
}

impl Raw {
    pub(super) fn json<T: DeserializeOwned>(&self) -> Result<T> {
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

/// The `Date` header of a response, when present and a valid HTTP date (RFC 9110 §5.6.7:
/// IMF-fixdate, and the obsolete RFC 850 and asctime forms).
pub(super) fn response_date(headers: &HeaderMap) -> Option<OffsetDateTime> {
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

impl SalesforceClient {
    pub(super) fn build_url(
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

    pub(super) fn data(segs: &[&str]) -> Target {
        Target::Data(segs.iter().map(|s| s.to_string()).collect())
    }
}
