//! The wait an answer asks for, from every place monday puts one.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::error::{GraphQlError, LONGEST_HINT};

/// The wait an answer asks for: the longest of `Retry-After` (seconds or an HTTP date),
/// the error's `retry_in_seconds` (in `extensions` or `error_data`), the `t` of each
/// exhausted item of the `RateLimit` header, and a "reset in N seconds" in the message
/// (reference §1.4, §1.5, §2.3, §2.4). `None` when the answer names no wait.
pub(super) fn hinted_wait(headers: &HeaderMap, error: Option<&GraphQlError>) -> Option<Duration> {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after(v.trim()));
    let rate_limit = headers
        .get_all("RateLimit")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(rate_limit_reset)
        .max()
        .map(Duration::from_secs);
    let in_error = error
        .and_then(|e| e.retry_in_seconds)
        .map(Duration::from_secs);
    let in_message = error
        .and_then(|e| reset_in_message(&e.message))
        .map(Duration::from_secs);
    [retry_after, rate_limit, in_error, in_message]
        .into_iter()
        .flatten()
        .max()
        .map(|d| d.min(LONGEST_HINT))
}

/// `Retry-After`: delay seconds or an HTTP date (RFC 9110 §10.2.3).
pub(super) fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// The longest `t` among the exhausted items (`r=0`, or no `r`) of a `RateLimit` header, e.g.
/// `"minuteRate";r=0;t=38, "concurrency";r=249` → 38 (reference §2.4). The complexity item
/// always carries a `t`, so only exhausted items count.
fn rate_limit_reset(header: &str) -> Option<u64> {
    header
        .split(',')
        .filter_map(|item| {
            let mut remaining = None;
            let mut reset = None;
            for param in item.split(';').skip(1) {
                let (key, value) = param.trim().split_once('=')?;
                let value = value.trim().trim_matches('"').parse::<u64>().ok();
                match key.trim() {
                    "r" => remaining = value,
                    "t" => reset = value,
                    _ => {}
                }
            }
            reset.filter(|_| remaining.is_none_or(|r| r == 0))
        })
        .max()
}

/// The N of "… reset in N seconds" (the historic complexity message, reference §1.5).
fn reset_in_message(message: &str) -> Option<u64> {
    let lower = message.to_ascii_lowercase();
    let at = lower.find("reset in ")? + "reset in ".len();
    let rest = lower.get(at..)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;
    use serde_json::json;

    use super::*;

    #[test]
    fn the_rate_limit_header_counts_only_exhausted_items() {
        // reference §2.4: the complexity item always has a `t`; the others only when exceeded.
        let header =
            "\"minuteRate\";r=0;t=38, \"concurrency\";r=249, \"complexityMinute\";r=4950000;t=45";
        assert_eq!(rate_limit_reset(header), Some(38));
        let fine = "\"minuteRate\";r=4999, \"complexityMinute\";r=4950000;t=45";
        assert_eq!(rate_limit_reset(fine), None);
        assert_eq!(rate_limit_reset("\"concurrency\";t=7"), Some(7));
        assert_eq!(rate_limit_reset("garbage;;=, ;t=x"), None);
    }

    #[test]
    fn waits_are_read_from_every_place_monday_puts_them() {
        assert_eq!(retry_after("12"), Some(Duration::from_secs(12)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(
            reset_in_message(
                "Complexity budget exhausted, query cost 30001 budget remaining 19986 out of 1000000 reset in 3 seconds"
            ),
            Some(3)
        );
        assert_eq!(reset_in_message("reset in a while"), None);
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("5"));
        headers.insert(
            "RateLimit",
            HeaderValue::from_static("\"minuteRate\";r=0;t=40"),
        );
        let error = GraphQlError::from_json(&json!({
            "message": "Rate Limit Exceeded",
            "extensions": {"retry_in_seconds": 20, "error_data": {"retry_in_seconds": 30}}
        }));
        // The longest of them.
        assert_eq!(
            hinted_wait(&headers, Some(&error)),
            Some(Duration::from_secs(40))
        );
        assert_eq!(hinted_wait(&HeaderMap::new(), None), None);
        // Absurd values are clamped.
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999999999999"));
        assert_eq!(hinted_wait(&headers, None), Some(LONGEST_HINT));
    }
}
