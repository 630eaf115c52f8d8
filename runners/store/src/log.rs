//! The sync log: one row per decision a runner makes.

use crmmap_ids::{BoardId, ItemId};
use time::OffsetDateTime;

use crate::db::{Conn, DbTime, with_conn, with_pool};
use crate::error::Result;
use crate::scrub::scrub_secrets;
use crate::{Store, parse_enum};

/// Which runner made a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerKind {
    /// `crmmap migrate` (Salesforce → monday).
    Migrate,
    /// The webhook runner (monday → Salesforce).
    Webhook,
    /// A retry from the retry queue.
    Retry,
}

impl RunnerKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Migrate => "migrate",
            RunnerKind::Webhook => "webhook",
            RunnerKind::Retry => "retry",
        }
    }

    fn parse(s: &str) -> Option<RunnerKind> {
        [RunnerKind::Migrate, RunnerKind::Webhook, RunnerKind::Retry]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// What a runner decided for one item or record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A record or item was created.
    Created,
    /// A record or item was updated.
    Updated,
    /// Nothing differed: nothing written.
    Unchanged,
    /// Deliberately not synced (an echo, a filtered record, a duplicate delivery).
    Skipped,
    /// The attempt failed.
    Failed,
    /// A record or item was deleted.
    Deleted,
    /// A link was made.
    Linked,
    /// A link was parked until its target exists.
    Parked,
}

const ACTIONS: [Action; 8] = [
    Action::Created,
    Action::Updated,
    Action::Unchanged,
    Action::Skipped,
    Action::Failed,
    Action::Deleted,
    Action::Linked,
    Action::Parked,
];

impl Action {
    /// The name stored in the database and shown by `crmmap log`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
            Action::Failed => "failed",
            Action::Deleted => "deleted",
            Action::Linked => "linked",
            Action::Parked => "parked",
        }
    }

    fn parse(s: &str) -> Option<Action> {
        ACTIONS.into_iter().find(|a| a.as_str() == s)
    }
}

/// One decision. Build with [`LogEntry::new`] and the setters.
///
/// The summaries must not contain secrets: pass what was asked and answered in a
/// few words (`PATCH Lead 00Q… {Status}` / `204`), never headers or tokens. The
/// store scrubs obvious token shapes again before writing ([`crate::scrub_secrets`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When the decision was made.
    pub at: OffsetDateTime,
    /// Who made it.
    pub runner: RunnerKind,
    /// What was decided.
    pub action: Action,
    /// The crmmap object (or sObject) concerned.
    pub object: Option<String>,
    /// monday board id.
    pub board_id: Option<String>,
    /// monday item id.
    pub item_id: Option<String>,
    /// Salesforce record id.
    pub record_id: Option<String>,
    /// The webhook delivery that caused it.
    pub trigger_uuid: Option<String>,
    /// Why (for skipped and failed, especially).
    pub reason: Option<String>,
    /// What was sent, summarized, without secrets.
    pub request_summary: Option<String>,
    /// What came back, summarized, without secrets.
    pub response_summary: Option<String>,
}

impl LogEntry {
    /// A decision with nothing but its time, runner and action.
    pub fn new(at: OffsetDateTime, runner: RunnerKind, action: Action) -> LogEntry {
        LogEntry {
            at,
            runner,
            action,
            object: None,
            board_id: None,
            item_id: None,
            record_id: None,
            trigger_uuid: None,
            reason: None,
            request_summary: None,
            response_summary: None,
        }
    }

    /// Sets the object.
    pub fn object(mut self, object: impl Into<String>) -> LogEntry {
        self.object = Some(object.into());
        self
    }

    /// Sets the monday board and item.
    pub fn item(mut self, board_id: BoardId, item_id: ItemId) -> LogEntry {
        self.board_id = Some(board_id.to_string());
        self.item_id = Some(item_id.to_string());
        self
    }

    /// Sets the Salesforce record id.
    pub fn record(mut self, record_id: impl Into<String>) -> LogEntry {
        self.record_id = Some(record_id.into());
        self
    }

    /// Sets the webhook delivery.
    pub fn trigger(mut self, trigger_uuid: impl Into<String>) -> LogEntry {
        self.trigger_uuid = Some(trigger_uuid.into());
        self
    }

    /// Sets the reason.
    pub fn reason(mut self, reason: impl Into<String>) -> LogEntry {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the request summary.
    pub fn request(mut self, summary: impl Into<String>) -> LogEntry {
        self.request_summary = Some(summary.into());
        self
    }

    /// Sets the response summary.
    pub fn response(mut self, summary: impl Into<String>) -> LogEntry {
        self.response_summary = Some(summary.into());
        self
    }
}

/// A logged decision with its id (ids grow with insertion order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// Row id.
    pub id: i64,
    /// The decision.
    pub entry: LogEntry,
}

/// Which decisions [`Store::query_log`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFilter {
    /// Only `failed` decisions (`crmmap log --failed`).
    pub failed_only: bool,
    /// Only decisions at or after this time (`--since`).
    pub since: Option<OffsetDateTime>,
    /// Only decisions about this object.
    pub object: Option<String>,
    /// At most this many rows.
    pub limit: u32,
}

impl Default for LogFilter {
    fn default() -> LogFilter {
        LogFilter {
            failed_only: false,
            since: None,
            object: None,
            limit: 100,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LogDbRow {
    id: i64,
    at: DbTime,
    runner: String,
    action: String,
    object: Option<String>,
    board_id: Option<String>,
    item_id: Option<String>,
    record_id: Option<String>,
    trigger_uuid: Option<String>,
    reason: Option<String>,
    request_summary: Option<String>,
    response_summary: Option<String>,
}

impl Store {
    /// Appends a decision and returns its id. Reason and summaries are scrubbed of
    /// token-shaped text and cut to [`crate::MAX_SUMMARY_CHARS`]. One statement.
    #[tracing::instrument(name = "store.append_log", level = "debug", skip_all)]
    pub async fn append_log(&self, entry: &LogEntry) -> Result<i64> {
        with_pool!(self.pool(), pool => {
            let mut c = pool.acquire().await?;
            insert_log((&mut *c).into(), entry).await
        })
    }

    /// Decisions matching the filter, newest first (by time, then id).
    pub async fn query_log(&self, filter: &LogFilter) -> Result<Vec<LogRow>> {
        let since = filter.since.map(DbTime::from);
        let limit = i64::from(filter.limit);
        let rows: Vec<LogDbRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT id, at, runner, action, object, board_id, item_id, record_id, trigger_uuid, \
                 reason, request_summary, response_summary FROM sync_log \
                 WHERE ($1 = FALSE OR action = 'failed') \
                   AND ($2 IS NULL OR at >= $2) \
                   AND ($3 IS NULL OR object = $3) \
                 ORDER BY at DESC, id DESC LIMIT $4",
            )
            .bind(filter.failed_only)
            .bind(since)
            .bind(&filter.object)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(LogRow {
                    id: r.id,
                    entry: LogEntry {
                        at: r.at.0,
                        runner: parse_enum("sync_log.runner", &r.runner, RunnerKind::parse)?,
                        action: parse_enum("sync_log.action", &r.action, Action::parse)?,
                        object: r.object,
                        board_id: r.board_id,
                        item_id: r.item_id,
                        record_id: r.record_id,
                        trigger_uuid: r.trigger_uuid,
                        reason: r.reason,
                        request_summary: r.request_summary,
                        response_summary: r.response_summary,
                    },
                })
            })
            .collect()
    }

    /// Deletes decisions logged before `before` (retention). Returns how many.
    pub async fn prune_log(&self, before: OffsetDateTime) -> Result<u64> {
        let before = DbTime::from(before);
        let n = with_pool!(self.pool(), pool => {
            sqlx::query("DELETE FROM sync_log WHERE at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}

/// The free texts of an entry (reason, request and response summaries) as they are
/// stored: scrubbed of token-shaped text and cut to [`crate::MAX_SUMMARY_CHARS`].
pub(crate) fn scrubbed_texts(entry: &LogEntry) -> [Option<String>; 3] {
    [
        &entry.reason,
        &entry.request_summary,
        &entry.response_summary,
    ]
    .map(|s| s.as_deref().map(scrub_secrets))
}

/// [`Store::append_log`] on a given connection (inside a caller's transaction).
pub(crate) async fn insert_log(c: Conn<'_>, entry: &LogEntry) -> Result<i64> {
    let [reason, request, response] = scrubbed_texts(entry);
    let at = DbTime::from(entry.at);
    let (id,): (i64,) = with_conn!(c, c => {
        sqlx::query_as(
            "INSERT INTO sync_log (at, runner, object, board_id, item_id, record_id, \
             trigger_uuid, action, reason, request_summary, response_summary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(at)
        .bind(entry.runner.as_str())
        .bind(&entry.object)
        .bind(&entry.board_id)
        .bind(&entry.item_id)
        .bind(&entry.record_id)
        .bind(&entry.trigger_uuid)
        .bind(entry.action.as_str())
        .bind(&reason)
        .bind(&request)
        .bind(&response)
        .fetch_one(c)
        .await?
    });
    Ok(id)
}
