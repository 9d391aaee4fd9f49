//! The durable job queue: one row per request to run a project, claimed by a worker under a lease.
//!
//! A job only says "this project needs a worker"; what has been done lives in `projects` and
//! `assets`, and every pipeline step is idempotent, so a job that is run again (worker killed, lease
//! expired, server restarted) redoes nothing that was completed. A worker renews its lease with
//! [`JobQueue::heartbeat`]; a job whose lease has expired is claimable again by any worker, which is
//! how work held by a dead process is taken over.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use ytmaker_core::{ErrorCode, TraceId, YtError, YtResult};

use crate::{Backend, Store, db_err};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Stopped,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Stopped => "stopped",
        }
    }

    fn parse(raw: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
            JobState::Stopped,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// What a user asked a running job to do; the worker holding it acts on it at its next heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StopRequest {
    Pause,
    Cancel,
}

impl StopRequest {
    pub fn as_str(self) -> &'static str {
        match self {
            StopRequest::Pause => "pause",
            StopRequest::Cancel => "cancel",
        }
    }

    fn parse(raw: &str) -> Option<StopRequest> {
        match raw {
            "pause" => Some(StopRequest::Pause),
            "cancel" => Some(StopRequest::Cancel),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: Uuid,
    pub project_id: Uuid,
    pub state: JobState,
    pub trace_id: TraceId,
    /// How many times a worker has claimed it (1 on the first run; more after a takeover).
    pub attempts: i64,
    pub lease_owner: Option<String>,
    /// When the lease runs out unless renewed, in Unix milliseconds on the database's clock
    /// ([`Store::db_now_ms`]); `None` unless running.
    pub lease_expires_ms: Option<i64>,
    /// How many earlier runs ended with their worker gone: claims that took the job over from a
    /// lease that had run out. A job handed back with [`JobQueue::release`] does not count.
    pub abandoned_runs: i64,
    /// The worker whose lease on this job last ran out (the last one that died), if any.
    pub previous_owner: Option<String>,
    pub stop_request: Option<StopRequest>,
    /// When it was queued, on the database's clock.
    pub enqueued_ms: i64,
}

impl Job {
    /// How many abandoned runs a job may have before it is given up, unless configured.
    pub const DEFAULT_MAX_ABANDONED_RUNS: u32 = 3;

    /// Whether this job's workers died `max_abandoned_runs` times (or more) without finishing, so
    /// the one that just claimed it should not run it again but mark the project failed with
    /// [`Job::worker_kept_dying`] and then end the job with [`JobQueue::give_up`]. In that order:
    /// if this worker dies too before the project is marked, the next claim sees the same.
    pub fn kept_dying(&self, max_abandoned_runs: u32) -> bool {
        self.abandoned_runs >= i64::from(max_abandoned_runs)
    }

    /// The catalogued error for a job that [`Job::kept_dying`], naming the last worker that died.
    pub fn worker_kept_dying(&self) -> YtError {
        let last = self.previous_owner.as_deref().unwrap_or("unknown");
        YtError::new(
            ErrorCode::WORKER_KEPT_DYING,
            format!(
                "the run was started {} times and its worker ended {} times without finishing \
                 (last: {last}); it is not started again by itself",
                self.attempts, self.abandoned_runs
            ),
        )
        .detail("job_id", self.id.to_string())
        .detail("project_id", self.project_id.to_string())
        .detail("attempts", self.attempts)
        .detail("abandoned_runs", self.abandoned_runs)
        .detail("last_worker", last)
        .detail("trace_id", self.trace_id.as_str())
    }
}

/// Who holds a live lease on a project's job, as [`JobQueue::acquire`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseHolder {
    pub job_id: Uuid,
    /// The worker or runner holding the lease (e.g. `server-host:1234:w0`, `cli-host:5678`).
    pub lease_owner: String,
    /// When the lease runs out unless renewed, in Unix milliseconds on the database's clock.
    pub lease_expires_ms: i64,
    /// How long that was from the moment of the answer (at most the holder's lease).
    pub expires_in_ms: i64,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// Still ours; carries a stop the user asked for, if any.
    Held(Option<StopRequest>),
    /// Another worker took the job over (our lease had expired): stop without writing anything.
    Lost,
}

#[derive(Debug, Clone, Copy, Serialize, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queued: i64,
    pub running: i64,
    /// Age of the oldest job waiting for a worker, in milliseconds (0 when none waits).
    pub oldest_queued_ms: i64,
}

/// The queue as the worker pool and the API see it. Implemented on [`Store`] so jobs share the
/// database (and its backend choice) with the state they refer to.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues a run of `project`. Refused with `INVALID_STATE_TRANSITION` if it already has a
    /// queued or running job.
    async fn enqueue(&self, project: Uuid, trace: &TraceId) -> YtResult<Job>;
    /// Gives `runner` (a process running `project` itself, e.g. the CLI's `generate` or
    /// `projects resume`) the project's job under a lease of `lease`, atomically: its queued job,
    /// or its running job whose lease has run out (a takeover, counted as in [`JobQueue::claim`]),
    /// or a new running job (with `trace`) when it has no live one. When another worker or runner
    /// holds a live lease, nothing changes and the holder is returned. The runner then renews the
    /// lease with [`JobQueue::heartbeat`] and ends the job with [`JobQueue::finish`] or
    /// [`JobQueue::release`] like a worker; a job taken from the queue keeps its own trace id.
    async fn acquire(
        &self,
        project: Uuid,
        runner: &str,
        lease: Duration,
        trace: &TraceId,
    ) -> YtResult<Result<Job, LeaseHolder>>;
    /// Takes the oldest claimable job (queued, or running with an expired lease) for `worker`.
    /// Taking over an expired lease counts an abandoned run and records the worker that held it
    /// ([`Job::abandoned_runs`], [`Job::previous_owner`]); the caller checks [`Job::kept_dying`].
    async fn claim(&self, worker: &str, lease: Duration) -> YtResult<Option<Job>>;
    async fn heartbeat(&self, job: Uuid, worker: &str, lease: Duration) -> YtResult<Lease>;
    /// Ends a job this worker holds. Returns false if the lease had been lost.
    async fn finish(
        &self,
        job: Uuid,
        worker: &str,
        state: JobState,
        error: Option<&str>,
    ) -> YtResult<bool>;
    /// Ends a job this worker holds as failed because its workers [kept dying](Job::kept_dying),
    /// recording `error`'s code. Returns false if the lease had been lost.
    async fn give_up(&self, job: Uuid, worker: &str, error: &YtError) -> YtResult<bool> {
        self.finish(job, worker, JobState::Failed, Some(error.code.as_str()))
            .await
    }
    /// Hands a job this worker holds back to the queue (the server is stopping), so the next
    /// worker claims it at once instead of waiting for the lease to expire.
    async fn release(&self, job: Uuid, worker: &str) -> YtResult<()>;
    /// The queued or running job of a project, if any.
    async fn live_job(&self, project: Uuid) -> YtResult<Option<Job>>;
    /// Asks the live job of `project` to stop. A job still waiting in the queue is ended at once
    /// (returns `Some(JobState::Stopped)`); a running one is flagged for its worker
    /// (`Some(JobState::Running)`); `None` when the project has no live job.
    async fn request_stop(&self, project: Uuid, stop: StopRequest) -> YtResult<Option<JobState>>;
    async fn stats(&self) -> YtResult<QueueStats>;
}

pub fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    // The unit tests below play a host whose clock is wrong.
    #[cfg(test)]
    let ms = ms.saturating_add(tests::HOST_CLOCK_SKEW_MS.with(std::cell::Cell::get));
    ms
}

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX)
}

fn job_from_row(row: &AnyRow) -> YtResult<Job> {
    let read = |c: &str, e: sqlx::Error| db_err(&format!("read jobs.{c}"), e);
    let corrupt = |c: &str, v: &str| {
        YtError::new(
            ErrorCode::DATABASE_ERROR,
            format!("stored jobs.{c} is not valid: {v:.80}"),
        )
        .detail("column", c)
    };
    let id: String = row.try_get("id").map_err(|e| read("id", e))?;
    let project: String = row
        .try_get("project_id")
        .map_err(|e| read("project_id", e))?;
    let state: String = row.try_get("state").map_err(|e| read("state", e))?;
    let trace: String = row.try_get("trace_id").map_err(|e| read("trace_id", e))?;
    let stop: Option<String> = row
        .try_get("stop_request")
        .map_err(|e| read("stop_request", e))?;
    Ok(Job {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("id", &id))?,
        project_id: Uuid::parse_str(&project).map_err(|_| corrupt("project_id", &project))?,
        state: JobState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        trace_id: TraceId::parse(&trace).ok_or_else(|| corrupt("trace_id", &trace))?,
        attempts: row.try_get("attempts").map_err(|e| read("attempts", e))?,
        lease_owner: row
            .try_get("lease_owner")
            .map_err(|e| read("lease_owner", e))?,
        lease_expires_ms: row
            .try_get("lease_expires_ms")
            .map_err(|e| read("lease_expires_ms", e))?,
        abandoned_runs: row
            .try_get("abandoned_runs")
            .map_err(|e| read("abandoned_runs", e))?,
        previous_owner: row
            .try_get("previous_owner")
            .map_err(|e| read("previous_owner", e))?,
        stop_request: match stop {
            Some(s) => Some(StopRequest::parse(&s).ok_or_else(|| corrupt("stop_request", &s))?),
            None => None,
        },
        enqueued_ms: row
            .try_get("enqueued_ms")
            .map_err(|e| read("enqueued_ms", e))?,
    })
}

const JOB_COLUMNS: &str = "id, project_id, state, trace_id, attempts, lease_owner, \
     lease_expires_ms, abandoned_runs, previous_owner, stop_request, enqueued_ms";

/// The SET list that gives a claimable job (queued, or running with an expired lease) to the
/// runner bound as `$1` for `$2` ms. Every right-hand side reads the row as it was, so a running
/// row's `lease_owner` is the worker whose lease ran out.
fn take_job_sql(now: &str) -> String {
    format!(
        "previous_owner = CASE WHEN state = 'running' THEN lease_owner ELSE previous_owner END, \
         abandoned_runs = abandoned_runs + CASE WHEN state = 'running' THEN 1 ELSE 0 END, \
         state = 'running', lease_owner = $1, lease_expires_ms = {now} + $2, \
         attempts = attempts + 1, updated_ms = {now}"
    )
}

const ACQUIRE_ROUNDS: usize = 5;

fn holder_from_row(row: &AnyRow) -> YtResult<LeaseHolder> {
    let read = |c: &str, e: sqlx::Error| db_err(&format!("read jobs.{c}"), e);
    let id: String = row.try_get("id").map_err(|e| read("id", e))?;
    let owner: Option<String> = row
        .try_get("lease_owner")
        .map_err(|e| read("lease_owner", e))?;
    let corrupt = |c: &str, v: &str| {
        YtError::new(
            ErrorCode::DATABASE_ERROR,
            format!("stored jobs.{c} is not valid: {v:.80}"),
        )
        .detail("column", c)
    };
    Ok(LeaseHolder {
        job_id: Uuid::parse_str(&id).map_err(|_| corrupt("id", &id))?,
        lease_owner: owner.ok_or_else(|| corrupt("lease_owner", "NULL on a running job"))?,
        lease_expires_ms: row
            .try_get("lease_expires_ms")
            .map_err(|e| read("lease_expires_ms", e))?,
        expires_in_ms: row
            .try_get("expires_in_ms")
            .map_err(|e| read("expires_in_ms", e))?,
    })
}

fn already_live(project: Uuid) -> YtError {
    YtError::new(
        ErrorCode::INVALID_STATE_TRANSITION,
        "the project is already queued or running",
    )
    .detail("project_id", project.to_string())
    .detail("reason", "a live job exists")
}

impl Store {
    /// SQL for the database's clock in Unix milliseconds. Every time a lease or the queue is
    /// measured by comes from here, never from the host running the query: hosts sharing a
    /// PostgreSQL database may disagree about the time, and a lease must mean the same to all.
    fn sql_now_ms(&self) -> &'static str {
        match self.backend {
            // julianday('now') is fixed for the whole statement; ROUND keeps a float error from
            // losing a millisecond.
            Backend::Sqlite => {
                "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"
            }
            Backend::Postgres => "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT",
        }
    }

    /// The database's clock, in Unix milliseconds: the clock job leases are measured by.
    pub async fn db_now_ms(&self) -> YtResult<i64> {
        let sql = format!("SELECT {} AS now_ms", self.sql_now_ms());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("read the database clock", e))?;
        row.try_get("now_ms")
            .map_err(|e| db_err("read the database clock", e))
    }
}

#[async_trait]
impl JobQueue for Store {
    async fn enqueue(&self, project: Uuid, trace: &TraceId) -> YtResult<Job> {
        if self.live_job(project).await?.is_some() {
            return Err(already_live(project));
        }
        let now = self.sql_now_ms();
        let sql = format!(
            "INSERT INTO jobs (id, project_id, state, trace_id, attempts, enqueued_ms, updated_ms) \
             VALUES ($1, $2, 'queued', $3, 0, {now}, {now}) RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(Uuid::new_v4().to_string())
            .bind(project.to_string())
            .bind(trace.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| {
                // Two requests racing past the check above meet the partial unique index.
                if e.as_database_error()
                    .is_some_and(|d| d.is_unique_violation())
                {
                    already_live(project)
                } else {
                    db_err("queue a job", e)
                }
            })?;
        job_from_row(&row)
    }

    async fn claim(&self, worker: &str, lease: Duration) -> YtResult<Option<Job>> {
        let now = self.sql_now_ms();
        // The candidate is picked by a sub-select and the UPDATE re-checks the same condition,
        // so when two workers race for one row only one of them changes it.
        let take = take_job_sql(now);
        let sql = format!(
            "UPDATE jobs SET {take} \
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' \
                           OR (state = 'running' AND lease_expires_ms < {now}) \
                         ORDER BY enqueued_ms LIMIT 1) \
               AND (state = 'queued' OR (state = 'running' AND lease_expires_ms < {now})) \
             RETURNING {JOB_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_ms(lease))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("claim a job", e))?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn acquire(
        &self,
        project: Uuid,
        runner: &str,
        lease: Duration,
        trace: &TraceId,
    ) -> YtResult<Result<Job, LeaseHolder>> {
        let now = self.sql_now_ms();
        let take = take_job_sql(now);
        let take_sql = format!(
            "UPDATE jobs SET {take} WHERE project_id = $3 \
               AND (state = 'queued' OR (state = 'running' AND lease_expires_ms < {now})) \
             RETURNING {JOB_COLUMNS}"
        );
        let start_sql = format!(
            "INSERT INTO jobs (id, project_id, state, trace_id, attempts, lease_owner, \
               lease_expires_ms, enqueued_ms, updated_ms) \
             VALUES ($1, $2, 'running', $3, 1, $4, {now} + $5, {now}, {now}) \
             RETURNING {JOB_COLUMNS}"
        );
        let holder_sql = format!(
            "SELECT id, lease_owner, lease_expires_ms, lease_expires_ms - {now} AS expires_in_ms \
             FROM jobs WHERE project_id = $1 AND state = 'running' AND lease_expires_ms >= {now}"
        );
        // Each round either settles or saw the live job change between two statements (it
        // finished, was handed back or its lease ran out); a few rounds are plenty.
        for _ in 0..ACQUIRE_ROUNDS {
            // 1. The project's queued job, or its running one whose lease ran out.
            let taken = sqlx::query(sqlx::AssertSqlSafe(take_sql.as_str()))
                .bind(runner)
                .bind(lease_ms(lease))
                .bind(project.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_err("take a project's job", e))?;
            if let Some(row) = taken {
                return Ok(Ok(job_from_row(&row)?));
            }
            // 2. No live job: start one. The partial unique index refuses it if another runner
            // got there first.
            let started = sqlx::query(sqlx::AssertSqlSafe(start_sql.as_str()))
                .bind(Uuid::new_v4().to_string())
                .bind(project.to_string())
                .bind(trace.as_str())
                .bind(runner)
                .bind(lease_ms(lease))
                .fetch_one(&self.pool)
                .await;
            match started {
                Ok(row) => return Ok(Ok(job_from_row(&row)?)),
                Err(e)
                    if e.as_database_error()
                        .is_some_and(|d| d.is_unique_violation()) => {}
                Err(e) => return Err(db_err("start a project's job", e)),
            }
            // 3. Someone holds a live job: report a live lease, or go round again.
            let held = sqlx::query(sqlx::AssertSqlSafe(holder_sql.as_str()))
                .bind(project.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| db_err("read who holds a project's job", e))?;
            if let Some(row) = held {
                return Ok(Err(holder_from_row(&row)?));
            }
        }
        Err(YtError::new(
            ErrorCode::DATABASE_ERROR,
            format!(
                "the project's job kept changing while {runner} tried to take it \
                 ({ACQUIRE_ROUNDS} rounds)"
            ),
        )
        .detail("operation", "acquire a project's job")
        .detail("project_id", project.to_string()))
    }

    async fn heartbeat(&self, job: Uuid, worker: &str, lease: Duration) -> YtResult<Lease> {
        let now = self.sql_now_ms();
        let sql = format!(
            "UPDATE jobs SET lease_expires_ms = {now} + $1, updated_ms = {now} \
             WHERE id = $2 AND lease_owner = $3 AND state = 'running' RETURNING stop_request"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(lease_ms(lease))
            .bind(job.to_string())
            .bind(worker)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("renew a job lease", e))?;
        let Some(row) = row else {
            return Ok(Lease::Lost);
        };
        let stop: Option<String> = row
            .try_get("stop_request")
            .map_err(|e| db_err("read jobs.stop_request", e))?;
        match stop {
            None => Ok(Lease::Held(None)),
            Some(raw) => StopRequest::parse(&raw)
                .map(|s| Lease::Held(Some(s)))
                .ok_or_else(|| {
                    YtError::new(
                        ErrorCode::DATABASE_ERROR,
                        format!("stored jobs.stop_request is not valid: {raw:.80}"),
                    )
                    .detail("column", "stop_request")
                }),
        }
    }

    async fn finish(
        &self,
        job: Uuid,
        worker: &str,
        state: JobState,
        error: Option<&str>,
    ) -> YtResult<bool> {
        let sql = format!(
            "UPDATE jobs SET state = $1, last_error = $2, lease_owner = NULL, lease_expires_ms = NULL, \
             updated_ms = {} WHERE id = $3 AND lease_owner = $4 AND state = 'running'",
            self.sql_now_ms()
        );
        let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(error)
            .bind(job.to_string())
            .bind(worker)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("finish a job", e))?
            .rows_affected();
        Ok(changed == 1)
    }

    async fn release(&self, job: Uuid, worker: &str) -> YtResult<()> {
        let sql = format!(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_expires_ms = NULL, \
             updated_ms = {} WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            self.sql_now_ms()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(job.to_string())
            .bind(worker)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("hand a job back to the queue", e))?;
        Ok(())
    }

    async fn live_job(&self, project: Uuid) -> YtResult<Option<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE project_id = $1 AND state IN ('queued', 'running')"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("read a project's job", e))?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn request_stop(&self, project: Uuid, stop: StopRequest) -> YtResult<Option<JobState>> {
        let now = self.sql_now_ms();
        let sql = format!(
            "UPDATE jobs SET state = 'stopped', stop_request = $1, updated_ms = {now} \
             WHERE project_id = $2 AND state = 'queued'"
        );
        let dequeued = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stop.as_str())
            .bind(project.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("stop a queued job", e))?
            .rows_affected();
        if dequeued > 0 {
            return Ok(Some(JobState::Stopped));
        }
        let sql = format!(
            "UPDATE jobs SET stop_request = $1, updated_ms = {now} \
             WHERE project_id = $2 AND state = 'running'"
        );
        let flagged = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stop.as_str())
            .bind(project.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("flag a running job", e))?
            .rows_affected();
        Ok((flagged > 0).then_some(JobState::Running))
    }

    async fn stats(&self) -> YtResult<QueueStats> {
        let sql = format!(
            "SELECT \
               COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) AS queued, \
               COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) AS running, \
               COALESCE({} - MIN(CASE WHEN state = 'queued' THEN enqueued_ms END), 0) AS oldest \
             FROM jobs WHERE state IN ('queued', 'running')",
            self.sql_now_ms()
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("count jobs", e))?;
        let get = |c: &str| -> YtResult<i64> {
            row.try_get::<i64, _>(c)
                .map_err(|e| db_err(&format!("read job count {c}"), e))
        };
        Ok(QueueStats {
            queued: get("queued")?,
            running: get("running")?,
            oldest_queued_ms: get("oldest")?.max(0),
        })
    }
}

#[cfg(test)]
mod tests {
    //! Leases across hosts whose clocks disagree (issue 12, defect 7). `now_ms`, this process's
    //! clock, is skewed per test thread; the database's clock is not. A lease must mean the same
    //! to every host, so only the database's clock may decide when one expires.

    use std::cell::Cell;
    use std::time::Duration;

    use super::*;
    use crate::records::NewProject;

    thread_local! {
        pub(super) static HOST_CLOCK_SKEW_MS: Cell<i64> = const { Cell::new(0) };
    }

    const HOUR_MS: i64 = 3_600_000;
    const LEASE: Duration = Duration::from_secs(30);

    /// Runs what follows as a host whose clock is `skew_ms` off.
    fn host_clock_off_by(skew_ms: i64) {
        HOST_CLOCK_SKEW_MS.with(|c| c.set(skew_ms));
    }

    async fn sqlite() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        (store, dir)
    }

    async fn postgres() -> Store {
        let admin_url = std::env::var("YTMAKER_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("ytmaker_test_{}", Uuid::new_v4().simple());
        sqlx::any::install_default_drivers();
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .expect(
                "PostgreSQL must be running for the storage tests (scripts/ensure-services.sh)",
            );
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let base = admin_url.rsplit_once('/').unwrap().0;
        Store::open(&format!("{base}/{name}")).await.unwrap()
    }

    async fn queued_job(store: &Store, name: &str) -> Job {
        let p = store
            .create_project(&NewProject {
                name: name.into(),
                content: "x".repeat(600),
                configuration: ytmaker_core::config::ProjectConfig::default(),
            })
            .await
            .unwrap();
        store.enqueue(p.id, &TraceId::generate()).await.unwrap()
    }

    /// A worker on a host an hour ahead dies holding a short lease: a worker with a right clock
    /// takes the job over once the lease has run out, not an hour later.
    async fn a_fast_host_does_not_lock_a_job_for_an_hour(store: Store) {
        let job = queued_job(&store, "fast").await;
        host_clock_off_by(HOUR_MS);
        let held = store
            .claim("fast-host", Duration::from_millis(300))
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(held.id, job.id);
        host_clock_off_by(0);
        tokio::time::sleep(Duration::from_millis(600)).await;
        let taken = store.claim("right-host", LEASE).await.unwrap();
        assert_eq!(
            taken.map(|j| j.id),
            Some(job.id),
            "the dead fast host's lease ran out on the database's clock"
        );
    }

    /// A host an hour behind claims or renews a lease: a host with a right clock must not take
    /// the job while that lease runs (that would run the project twice and pay twice).
    async fn a_slow_host_keeps_its_lease(store: Store) {
        let job = queued_job(&store, "slow").await;
        host_clock_off_by(-HOUR_MS);
        store
            .claim("slow-host", LEASE)
            .await
            .unwrap()
            .expect("claimed");
        host_clock_off_by(0);
        assert!(
            store.claim("right-host", LEASE).await.unwrap().is_none(),
            "a live lease of a slow host was taken"
        );
        // The same for a renewal: claimed on a right clock, renewed on a slow one.
        let other = queued_job(&store, "slow-renewal").await;
        let held = store
            .claim("renewing-host", LEASE)
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(held.id, other.id);
        host_clock_off_by(-HOUR_MS);
        assert_eq!(
            store
                .heartbeat(other.id, "renewing-host", LEASE)
                .await
                .unwrap(),
            Lease::Held(None)
        );
        host_clock_off_by(0);
        assert!(
            store.claim("right-host", LEASE).await.unwrap().is_none(),
            "a lease renewed by a slow host was taken"
        );
        assert_eq!(
            store.heartbeat(job.id, "slow-host", LEASE).await.unwrap(),
            Lease::Held(None)
        );
    }

    /// How long the oldest job has waited does not depend on the clock of the host asking.
    async fn queue_age_is_measured_on_the_database_clock(store: Store) {
        host_clock_off_by(-HOUR_MS);
        queued_job(&store, "waiting").await;
        host_clock_off_by(HOUR_MS);
        let stats = store.stats().await.unwrap();
        host_clock_off_by(0);
        assert_eq!(stats.queued, 1);
        assert!(
            stats.oldest_queued_ms < 60_000,
            "a job queued a moment ago has waited {} ms",
            stats.oldest_queued_ms
        );
    }

    macro_rules! both_backends {
        ($($name:ident => $body:ident;)+) => {
            mod on_sqlite { $( #[tokio::test] async fn $name() { let (store, _dir) = super::sqlite().await; super::$body(store).await } )+ }
            mod on_postgres { $( #[tokio::test] async fn $name() { super::$body(super::postgres().await).await } )+ }
        };
    }

    both_backends! {
        fast_host => a_fast_host_does_not_lock_a_job_for_an_hour;
        slow_host => a_slow_host_keeps_its_lease;
        queue_age => queue_age_is_measured_on_the_database_clock;
    }
}
