//! The org's API allocation: the latest `Sforce-Limit-Info`, the gate that stops calls above
//! crmmap's share, and `GET /limits`.

use std::time::Instant;

use http::{HeaderMap, Method};
use serde_json::{Map, Value};

use super::SalesforceClient;
use super::request::Request;
use crate::error::{Error, Result};
use crate::types::{ApiUsage, LimitInfo, Limits};

/// The latest `Sforce-Limit-Info`, and when it was learnt (or when the last recheck was let
/// through).
#[derive(Default)]
pub(super) struct Usage {
    pub(super) info: Option<LimitInfo>,
    pub(super) seen: Option<Instant>,
}

impl SalesforceClient {
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
    pub(super) fn allocation_gate(&self) -> Result<()> {
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

    pub(super) fn note_limit_info(&self, headers: &HeaderMap) {
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
