//! `crmmap log`: the sync log, newest first, and the Salesforce org's last known API usage.
//!
//! The usage is whatever a runner last wrote to the log in the `api-usage=N/M` form of
//! [`crmmap_salesforce::ApiUsage`]'s `Display` (in a row's reason or response summary: a run
//! stopped by the allocation says it there); `crmmap log` looks for it in the newest
//! [`USAGE_SCAN_ROWS`] rows, whatever the filters, and prints it after them.

use std::path::{Path, PathBuf};

use clap::Args;
use crmmap_salesforce::ApiUsage;
use crmmap_store::{LogFilter, LogRow, Store};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::exit::CrmmapExit;

/// Arguments of `crmmap log`.
#[derive(Args)]
pub struct LogArgs {
    /// The configuration file (default: `crmmap.toml` when present; else `DATABASE_URL` or
    /// `sqlite://crmmap.db`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Only failures.
    #[arg(long)]
    pub failed: bool,
    /// Only decisions since this time: RFC 3339 (`2026-01-31T08:00:00Z`) or an age (`90s`,
    /// `30m`, `12h`, `7d`).
    #[arg(long, value_parser = parse_since)]
    pub since: Option<OffsetDateTime>,
    /// Only decisions about this object.
    #[arg(long)]
    pub object: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// Runs `crmmap log`.
pub fn log(args: &LogArgs) -> CrmmapExit {
    let url = match store_url(args.config.as_deref()) {
        Ok(u) => u,
        Err(e) => return super::fail(&e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return super::fail(&format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        let store = match Store::connect(&url).await {
            Ok(s) => s,
            Err(e) => return super::fail(&format!("cannot open the store: {e}")),
        };
        let filter = LogFilter {
            failed_only: args.failed,
            since: args.since,
            object: args.object.clone(),
            limit: args.limit,
        };
        let rows = match store.query_log(&filter).await {
            Ok(r) => r,
            Err(e) => return super::fail(&format!("cannot read the log: {e}")),
        };
        if rows.is_empty() {
            eprintln!("no matching log entries");
        }
        for row in &rows {
            println!("{}", render_row(row));
        }
        let recent = store
            .query_log(&LogFilter {
                limit: USAGE_SCAN_ROWS,
                ..LogFilter::default()
            })
            .await
            .unwrap_or_default();
        if let Some(line) = last_api_usage(&recent) {
            println!("{line}");
        }
        store.close().await;
        CrmmapExit::Clean
    })
}

/// The store URL: from the configuration when there is one, else the environment or default.
fn store_url(config: Option<&Path>) -> Result<String, String> {
    let default = Path::new(crmmap_sync::config::DEFAULT_CONFIG);
    match config {
        Some(path) => crmmap_sync::Settings::load(Some(path))
            .map(|s| s.store_url)
            .map_err(|e| e.to_string()),
        None if default.exists() => crmmap_sync::Settings::load(Some(default))
            .map(|s| s.store_url)
            .map_err(|e| e.to_string()),
        None => Ok(crmmap_store::effective_url(
            None,
            std::env::var(crmmap_store::DATABASE_URL_ENV)
                .ok()
                .as_deref(),
        )),
    }
}

/// How many of the newest log rows `crmmap log` searches for the last known API usage.
pub const USAGE_SCAN_ROWS: u32 = 1000;

/// `salesforce: api-usage=N/M (P %) as of <time>`, from the newest row (rows come newest first)
/// that names the org's usage.
pub fn last_api_usage(rows: &[LogRow]) -> Option<String> {
    rows.iter().find_map(|row| {
        let e = &row.entry;
        let usage = [e.response_summary.as_deref(), e.reason.as_deref()]
            .into_iter()
            .flatten()
            .find_map(ApiUsage::find_in)?;
        let at = e.at.format(&Rfc3339).unwrap_or_default();
        Some(format!("salesforce: {usage} as of {at}"))
    })
}

/// One line: time, runner, action, object, record, item, reason.
pub fn render_row(row: &LogRow) -> String {
    let e = &row.entry;
    let at = e.at.format(&Rfc3339).unwrap_or_default();
    let mut line = format!(
        "{at}  {:<8} {:<9} {:<12}",
        e.runner.as_str(),
        e.action.as_str(),
        e.object.as_deref().unwrap_or("-")
    );
    if let Some(r) = &e.record_id {
        line.push_str(&format!(" record {r}"));
    }
    if let Some(i) = &e.item_id {
        line.push_str(&format!(" item {i}"));
    }
    if let Some(reason) = &e.reason {
        line.push_str(&format!("  {reason}"));
    }
    if let Some(resp) = &e.response_summary {
        line.push_str(&format!("  [{resp}]"));
    }
    line
}

/// `--since`: RFC 3339, or an age before now (`90s`, `30m`, `12h`, `7d`).
pub fn parse_since(s: &str) -> Result<OffsetDateTime, String> {
    since_at(s, OffsetDateTime::now_utc())
}

fn since_at(s: &str, now: OffsetDateTime) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is neither an RFC 3339 time nor an age like 30m, 12h or 7d"))?;
    let age = match unit {
        "s" => time::Duration::seconds(n),
        "m" => time::Duration::minutes(n),
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        _ => {
            return Err(format!(
                "`{s}` is neither an RFC 3339 time nor an age like 30m, 12h or 7d"
            ));
        }
    };
    Ok(now - age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_and_ages() {
        let t = parse_since("2026-01-31T08:00:00Z").unwrap();
        assert_eq!(t.unix_timestamp(), 1_769_846_400);
        assert_eq!(since_at("2h", t).unwrap(), t - time::Duration::hours(2));
        assert_eq!(since_at("90s", t).unwrap(), t - time::Duration::seconds(90));
        assert_eq!(since_at("7d", t).unwrap(), t - time::Duration::days(7));
        assert_eq!(
            parse_since("soon").unwrap_err(),
            "`soon` is neither an RFC 3339 time nor an age like 30m, 12h or 7d"
        );
        assert!(parse_since("5y").is_err());
    }

    #[test]
    fn rows_read_in_one_line() {
        let at = parse_since("2026-01-31T08:00:00Z").unwrap();
        let entry = crmmap_store::LogEntry::new(
            at,
            crmmap_store::RunnerKind::Migrate,
            crmmap_store::Action::Failed,
        )
        .object("Lead")
        .record("00Q5g000000000AEAQ")
        .reason("invalid column value");
        let line = render_row(&LogRow { id: 1, entry });
        assert_eq!(
            line,
            "2026-01-31T08:00:00Z  migrate  failed    Lead         record 00Q5g000000000AEAQ  invalid column value"
        );
    }

    #[test]
    fn the_newest_logged_api_usage_is_shown() {
        let at = |s| parse_since(s).unwrap();
        let row = |id, t, reason: &str| LogRow {
            id,
            entry: crmmap_store::LogEntry::new(
                at(t),
                crmmap_store::RunnerKind::Migrate,
                crmmap_store::Action::Failed,
            )
            .reason(reason),
        };
        let stopped = crmmap_salesforce::Error::AllocationReached {
            used: 9_500,
            max: 10_000,
        };
        let rows = [
            row(3, "2026-01-31T09:00:00Z", "invalid column value"),
            row(2, "2026-01-31T08:00:00Z", &stopped.to_string()),
            row(1, "2026-01-30T08:00:00Z", "api-usage=10/10000 (0.1 %)"),
        ];
        assert_eq!(
            last_api_usage(&rows).as_deref(),
            Some("salesforce: api-usage=9500/10000 (95.0 %) as of 2026-01-31T08:00:00Z")
        );
        assert_eq!(last_api_usage(&rows[..1]), None);
    }
}
