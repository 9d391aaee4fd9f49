//! The record of every HTTP call a cloud provider client made. Providers never touch the database,
//! so the pipeline hands them a recorder that writes here; quotas the providers do not report and
//! the per-API success rates and latencies are computed from these rows.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::{Store, db_err};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderCall {
    /// Unix milliseconds when the call was sent.
    pub at_ms: i64,
    /// `ProviderKind::as_str()` of the cloud kind: gemini, google_tts, stability, did, youtube.
    pub api: String,
    pub endpoint: String,
    /// HTTP status; `None` when no answer came back (timeout, connection failure).
    pub status: Option<u16>,
    /// The catalogued code the client mapped the call to; `None` for a success.
    pub error_code: Option<String>,
    pub duration_ms: u64,
    /// YouTube Data API units the call costs; 0 for the other APIs.
    pub quota_units: u64,
    pub project_id: Option<Uuid>,
    pub trace_id: Option<String>,
}

/// Totals over a time window for one API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProviderUsage {
    pub calls: u64,
    /// Calls that ended without an error code.
    pub successes: u64,
    pub quota_units: u64,
}

fn corrupt(column: &str) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("stored provider_calls.{column} is not valid"),
    )
    .detail("column", format!("provider_calls.{column}"))
}

fn read<T>(row: &AnyRow, column: &str) -> YtResult<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column)
        .map_err(|e| db_err(&format!("read provider_calls.{column}"), e))
}

fn non_negative(value: i64, column: &str) -> YtResult<u64> {
    u64::try_from(value).map_err(|_| corrupt(column))
}

fn to_db(value: u64, column: &str) -> YtResult<i64> {
    i64::try_from(value).map_err(|_| {
        YtError::new(
            ErrorCode::DATABASE_ERROR,
            format!("provider call {column} {value} does not fit the database column"),
        )
        .detail("column", format!("provider_calls.{column}"))
    })
}

fn call_from_row(row: &AnyRow) -> YtResult<ProviderCall> {
    let status: Option<i64> = read(row, "status")?;
    let project_id: Option<String> = read(row, "project_id")?;
    Ok(ProviderCall {
        at_ms: read(row, "at_ms")?,
        api: read(row, "api")?,
        endpoint: read(row, "endpoint")?,
        status: status
            .map(|s| u16::try_from(s).map_err(|_| corrupt("status")))
            .transpose()?,
        error_code: read(row, "error_code")?,
        duration_ms: non_negative(read(row, "duration_ms")?, "duration_ms")?,
        quota_units: non_negative(read(row, "quota_units")?, "quota_units")?,
        project_id: project_id
            .map(|p| Uuid::parse_str(&p).map_err(|_| corrupt("project_id")))
            .transpose()?,
        trace_id: read(row, "trace_id")?,
    })
}

const COLUMNS: &str =
    "at_ms, api, endpoint, status, error_code, duration_ms, quota_units, project_id, trace_id";

impl Store {
    pub async fn record_provider_call(&self, call: &ProviderCall) -> YtResult<()> {
        sqlx::query(
            "INSERT INTO provider_calls (id, at_ms, api, endpoint, status, error_code, duration_ms, \
             quota_units, project_id, trace_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(call.at_ms)
        .bind(&call.api)
        .bind(&call.endpoint)
        .bind(call.status.map(i64::from))
        .bind(call.error_code.as_deref())
        .bind(to_db(call.duration_ms, "duration_ms")?)
        .bind(to_db(call.quota_units, "quota_units")?)
        .bind(call.project_id.map(|p| p.to_string()))
        .bind(call.trace_id.as_deref())
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("record a provider call", e))?;
        Ok(())
    }

    /// Every call made at or after `since_ms`, oldest first.
    pub async fn provider_calls_since(&self, since_ms: i64) -> YtResult<Vec<ProviderCall>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM provider_calls WHERE at_ms >= $1 ORDER BY at_ms ASC, id ASC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(since_ms)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("list provider calls", e))?;
        rows.iter().map(call_from_row).collect()
    }

    /// The latest `limit` calls to `api`, newest first.
    pub async fn recent_provider_calls(
        &self,
        api: &str,
        limit: u32,
    ) -> YtResult<Vec<ProviderCall>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM provider_calls WHERE api = $1 ORDER BY at_ms DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(api)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("list recent provider calls", e))?;
        rows.iter().map(call_from_row).collect()
    }

    /// Totals of the calls to `api` made at or after `since_ms`. With `endpoint`, only the calls
    /// to that endpoint are counted.
    pub async fn provider_usage_since(
        &self,
        api: &str,
        endpoint: Option<&str>,
        since_ms: i64,
    ) -> YtResult<ProviderUsage> {
        // PostgreSQL sums BIGINT into NUMERIC, which the Any driver cannot read: cast back.
        let filter = if endpoint.is_some() {
            "AND endpoint = $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT CAST(COUNT(*) AS BIGINT) AS calls, \
             CAST(COALESCE(SUM(CASE WHEN error_code IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS successes, \
             CAST(COALESCE(SUM(quota_units), 0) AS BIGINT) AS quota_units \
             FROM provider_calls WHERE api = $1 AND at_ms >= $2 {filter}"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(api)
            .bind(since_ms);
        if let Some(endpoint) = endpoint {
            query = query.bind(endpoint);
        }
        let row = query
            .fetch_one(&self.pool)
            .await
            .map_err(|e| db_err("sum provider calls", e))?;
        Ok(ProviderUsage {
            calls: non_negative(read(&row, "calls")?, "calls")?,
            successes: non_negative(read(&row, "successes")?, "successes")?,
            quota_units: non_negative(read(&row, "quota_units")?, "quota_units")?,
        })
    }
}
