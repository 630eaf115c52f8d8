//! Run checkpoints: a migrate run stopped anywhere resumes where it stopped.
//!
//! The migrator saves, per object, its phase and the position after each page it
//! finished (the last Id, or an opaque cursor) together with its counts, and marks
//! the object done at the end. On start it asks [`Store::unfinished_run`] for a run
//! of its kind to resume, skips objects that are done and restarts the others after
//! their saved position. Work between the last save and a crash is redone, and is
//! safe to redo because writes go through links (an item already linked is updated,
//! not created again).

use crmmap_ids::ObjectName;
use serde_json::Value;
use sqlx::types::Json;
use time::OffsetDateTime;

use crate::db::{DbTime, Dialect, with_pool};
use crate::error::{Result, StoreError};
use crate::{Store, parse_enum};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Started and not finished: resumable.
    Running,
    /// Finished.
    Finished,
    /// Stopped for good by an error the run could not get past.
    Failed,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<RunStatus> {
        [RunStatus::Running, RunStatus::Finished, RunStatus::Failed]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// The progress of one object in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectProgress {
    /// The object.
    pub object: ObjectName,
    /// The runner's phase name (`items`, `links`, ...).
    pub phase: String,
    /// The last processed position (an Id or cursor), if any.
    pub position: Option<String>,
    /// Counts so far, as the runner likes them (`{"created": 3, "updated": 5}`).
    pub counts: Value,
    /// Whether the object is finished in this run.
    pub done: bool,
    /// When progress was last saved.
    pub updated_at: OffsetDateTime,
}

/// A run and its per-object progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The run id (chosen by the caller, e.g. a UUID).
    pub id: String,
    /// The kind (`migrate`).
    pub kind: String,
    /// The options it was started with.
    pub options: Value,
    /// Where it is.
    pub status: RunStatus,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it finished.
    pub finished_at: Option<OffsetDateTime>,
    /// Progress per object, ordered by object name.
    pub objects: Vec<ObjectProgress>,
}

impl Run {
    /// The progress of one object, if it has any.
    pub fn object(&self, object: &ObjectName) -> Option<&ObjectProgress> {
        self.objects.iter().find(|o| &o.object == object)
    }
}

#[derive(sqlx::FromRow)]
struct RunRow {
    id: String,
    kind: String,
    options: Json<Value>,
    status: String,
    started_at: DbTime,
    finished_at: Option<DbTime>,
}

#[derive(sqlx::FromRow)]
struct ProgressRow {
    object: String,
    phase: String,
    position: Option<String>,
    counts: Json<Value>,
    done: bool,
    updated_at: DbTime,
}

/// Where one object of a run stands (see [`Store::save_progress`]).
#[derive(Clone, Copy, Debug)]
pub enum ObjectStep<'a> {
    /// In `phase`, after `position` (the migrator's cursor).
    At {
        phase: &'a str,
        position: Option<&'a str>,
    },
    /// Done, with its final counts.
    Done,
}

impl Store {
    /// Starts a run. Fails if the id is taken.
    pub async fn start_run(
        &self,
        id: &str,
        kind: &str,
        options: &Value,
        now: OffsetDateTime,
    ) -> Result<Run> {
        let now = DbTime::from(now);
        with_pool!(self.pool(), pool => {
            sqlx::query(
                "INSERT INTO runs (id, kind, options, status, started_at) VALUES ($1, $2, $3, 'running', $4)",
            )
            .bind(id)
            .bind(kind)
            .bind(Json(options))
            .bind(now)
            .execute(pool)
            .await?;
        });
        self.run(id)
            .await?
            .ok_or_else(|| StoreError::UnknownRun(id.to_owned()))
    }

    /// Saves where one object of a run stands, or that it is done, with its counts
    /// (overwrites the previous save). Atomic.
    pub async fn save_progress(
        &self,
        run_id: &str,
        object: &ObjectName,
        step: ObjectStep<'_>,
        counts: &Value,
        now: OffsetDateTime,
    ) -> Result<()> {
        let (phase, position, done) = match step {
            ObjectStep::At { phase, position } => (phase, position, false),
            ObjectStep::Done => ("done", None, true),
        };
        let now = DbTime::from(now);
        let found = with_pool!(self.pool(), pool => {
            let mut tx = pool.begin_write().await?;
            let run: Option<(String,)> = sqlx::query_as("SELECT id FROM runs WHERE id = $1")
                .bind(run_id)
                .fetch_optional(&mut *tx)
                .await?;
            if run.is_some() {
                sqlx::query(
                    "INSERT INTO run_objects (run_id, object, phase, position, counts, done, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (run_id, object) DO UPDATE SET phase = excluded.phase, \
                     position = excluded.position, counts = excluded.counts, done = excluded.done, \
                     updated_at = excluded.updated_at",
                )
                .bind(run_id)
                .bind(object.as_str())
                .bind(phase)
                .bind(position)
                .bind(Json(counts))
                .bind(done)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            run.is_some()
        });
        if found {
            Ok(())
        } else {
            Err(StoreError::UnknownRun(run_id.to_owned()))
        }
    }

    /// Ends a run as finished or failed. Idempotent.
    pub async fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = DbTime::from(now);
        let n = with_pool!(self.pool(), pool => {
            sqlx::query("UPDATE runs SET status = $2, finished_at = $3 WHERE id = $1")
                .bind(run_id)
                .bind(status.as_str())
                .bind(if status == RunStatus::Running { None } else { Some(now) })
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n > 0 {
            Ok(())
        } else {
            Err(StoreError::UnknownRun(run_id.to_owned()))
        }
    }

    /// A run with its progress.
    pub async fn run(&self, run_id: &str) -> Result<Option<Run>> {
        self.run_where("id = $1", run_id).await
    }

    /// The most recently started unfinished run of a kind, to resume.
    pub async fn unfinished_run(&self, kind: &str) -> Result<Option<Run>> {
        self.run_where(
            "kind = $1 AND status = 'running' ORDER BY started_at DESC, id DESC LIMIT 1",
            kind,
        )
        .await
    }

    /// The first run matching `filter` (a fixed condition on `$1`, bound to `value`), with its
    /// progress.
    async fn run_where(&self, filter: &'static str, value: &str) -> Result<Option<Run>> {
        let sql = format!(
            "SELECT id, kind, options, status, started_at, finished_at FROM runs WHERE {filter}"
        );
        let row: Option<RunRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(&sql).bind(value).fetch_optional(pool).await?
        });
        match row {
            Some(row) => Ok(Some(self.with_progress(row).await?)),
            None => Ok(None),
        }
    }

    async fn with_progress(&self, row: RunRow) -> Result<Run> {
        let rows: Vec<ProgressRow> = with_pool!(self.pool(), pool => {
            sqlx::query_as(
                "SELECT object, phase, position, counts, done, updated_at FROM run_objects \
                 WHERE run_id = $1 ORDER BY object",
            )
            .bind(&row.id)
            .fetch_all(pool)
            .await?
        });
        Ok(Run {
            status: parse_enum("runs.status", &row.status, RunStatus::parse)?,
            id: row.id,
            kind: row.kind,
            options: row.options.0,
            started_at: row.started_at.0,
            finished_at: row.finished_at.map(|t| t.0),
            objects: rows
                .into_iter()
                .map(|p| ObjectProgress {
                    object: ObjectName::new(p.object),
                    phase: p.phase,
                    position: p.position,
                    counts: p.counts.0,
                    done: p.done,
                    updated_at: p.updated_at.0,
                })
                .collect(),
        })
    }
}
