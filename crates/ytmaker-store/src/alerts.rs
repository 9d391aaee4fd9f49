//! Stored alerts (the monitor's output) and the record of daily summaries sent. The monitor in
//! `ytmaker-monitor` decides what fires; this module only keeps the episodes, with the database
//! enforcing "one open alert per rule and subject" (`alerts_one_open`).

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::{Event, Store, db_err, json_err};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Open,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Resolved => "resolved",
        }
    }

    fn parse(raw: &str) -> Option<AlertState> {
        match raw {
            "open" => Some(AlertState::Open),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// Which webhook notice of an alert: that it opened, or that it was resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    Opened,
    Resolved,
}

impl Notice {
    fn column(self) -> &'static str {
        match self {
            Notice::Opened => "open_delivery",
            Notice::Resolved => "resolve_delivery",
        }
    }
}

/// What happened to one webhook notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// Given up after the catalogue's retries for `ALERT_WEBHOOK_FAILED`; never attempted again.
    Failed,
}

impl Delivery {
    fn as_str(self) -> &'static str {
        match self {
            Delivery::Delivered => "delivered",
            Delivery::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Option<Delivery> {
        match raw {
            "delivered" => Some(Delivery::Delivered),
            "failed" => Some(Delivery::Failed),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub id: Uuid,
    pub rule: String,
    /// `P0`, `P1` or `P2`.
    pub priority: String,
    pub subject: String,
    pub state: AlertState,
    pub message: String,
    pub details: Value,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub resolved_ms: Option<i64>,
    pub occurrences: u64,
    pub open_delivery: Option<Delivery>,
    pub resolve_delivery: Option<Delivery>,
    pub delivered_ms: Option<i64>,
    pub delivery_attempts: u64,
    pub delivery_error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewAlert {
    pub rule: String,
    pub priority: String,
    pub subject: String,
    pub message: String,
    pub details: Value,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub occurrences: u64,
}

fn corrupt(column: &str, value: &str) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("stored alerts.{column} is not valid: {value:.80}"),
    )
    .detail("column", format!("alerts.{column}"))
}

fn get<T>(row: &AnyRow, column: &str) -> YtResult<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column)
        .map_err(|e| db_err(&format!("read alerts.{column}"), e))
}

fn count(row: &AnyRow, column: &str) -> YtResult<u64> {
    let n: i64 = get(row, column)?;
    u64::try_from(n).map_err(|_| corrupt(column, &n.to_string()))
}

fn delivery(row: &AnyRow, column: &str) -> YtResult<Option<Delivery>> {
    let raw: Option<String> = get(row, column)?;
    raw.map(|r| Delivery::parse(&r).ok_or_else(|| corrupt(column, &r)))
        .transpose()
}

fn alert_from_row(row: &AnyRow) -> YtResult<Alert> {
    let id: String = get(row, "id")?;
    let state: String = get(row, "state")?;
    let details: String = get(row, "details")?;
    Ok(Alert {
        id: Uuid::parse_str(&id).map_err(|_| corrupt("id", &id))?,
        rule: get(row, "rule")?,
        priority: get(row, "priority")?,
        subject: get(row, "subject")?,
        state: AlertState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        message: get(row, "message")?,
        details: serde_json::from_str(&details).map_err(|e| json_err("alerts.details", e))?,
        first_seen_ms: get(row, "first_seen_ms")?,
        last_seen_ms: get(row, "last_seen_ms")?,
        resolved_ms: get(row, "resolved_ms")?,
        occurrences: count(row, "occurrences")?,
        open_delivery: delivery(row, "open_delivery")?,
        resolve_delivery: delivery(row, "resolve_delivery")?,
        delivered_ms: get(row, "delivered_ms")?,
        delivery_attempts: count(row, "delivery_attempts")?,
        delivery_error: get(row, "delivery_error")?,
    })
}

fn to_db(value: u64, what: &str) -> YtResult<i64> {
    i64::try_from(value).map_err(|_| {
        YtError::new(
            ErrorCode::DATABASE_ERROR,
            format!("{what} {value} does not fit the database column"),
        )
        .detail("column", format!("alerts.{what}"))
    })
}

impl Store {
    /// Opens an alert unless one is already open for the same rule and subject (then `None`:
    /// whoever opened it owns it, and the caller bumps it instead).
    pub async fn open_alert(&self, new: &NewAlert) -> YtResult<Option<Alert>> {
        let id = Uuid::new_v4();
        let inserted = sqlx::query(
            "INSERT INTO alerts (id, rule, priority, subject, state, message, details, first_seen_ms, \
             last_seen_ms, occurrences) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9) \
             ON CONFLICT (rule, subject) WHERE state = 'open' DO NOTHING",
        )
        .bind(id.to_string())
        .bind(&new.rule)
        .bind(&new.priority)
        .bind(&new.subject)
        .bind(&new.message)
        .bind(new.details.to_string())
        .bind(new.first_seen_ms)
        .bind(new.last_seen_ms)
        .bind(to_db(new.occurrences, "occurrences")?)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("open an alert", e))?
        .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        self.alert(id).await.map(Some)
    }

    pub async fn alert(&self, id: Uuid) -> YtResult<Alert> {
        let row = sqlx::query("SELECT * FROM alerts WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("read an alert", e))?;
        match row {
            Some(row) => alert_from_row(&row),
            None => Err(
                YtError::new(ErrorCode::NOT_FOUND, format!("no alert with id {id}"))
                    .detail("resource", "alert")
                    .detail("id", id.to_string()),
            ),
        }
    }

    /// Records that an open alert fired again: `added` more occurrences, the latest at
    /// `last_seen_ms`, with the current message and details.
    pub async fn bump_alert(
        &self,
        id: Uuid,
        last_seen_ms: i64,
        added: u64,
        message: &str,
        details: &Value,
    ) -> YtResult<()> {
        sqlx::query(
            "UPDATE alerts SET last_seen_ms = $1, occurrences = occurrences + $2, message = $3, \
             details = $4 WHERE id = $5 AND state = 'open'",
        )
        .bind(last_seen_ms)
        .bind(to_db(added, "occurrences")?)
        .bind(message)
        .bind(details.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("update an alert", e))?;
        Ok(())
    }

    /// Resolves an open alert. False if it was not open any more (another evaluator got there
    /// first), so exactly one caller reports the resolution.
    pub async fn resolve_alert(&self, id: Uuid, at_ms: i64) -> YtResult<bool> {
        let changed = sqlx::query(
            "UPDATE alerts SET state = 'resolved', resolved_ms = $1 WHERE id = $2 AND state = 'open'",
        )
        .bind(at_ms)
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("resolve an alert", e))?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Alerts in `state` (all when `None`), newest first.
    pub async fn alerts(&self, state: Option<AlertState>, limit: u32) -> YtResult<Vec<Alert>> {
        let rows = match state {
            Some(state) => sqlx::query(
                "SELECT * FROM alerts WHERE state = $1 ORDER BY first_seen_ms DESC, id LIMIT $2",
            )
            .bind(state.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await,
            None => {
                sqlx::query("SELECT * FROM alerts ORDER BY first_seen_ms DESC, id LIMIT $1")
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(|e| db_err("list alerts", e))?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Alerts with a webhook notice never attempted: the opening of an open alert, and the
    /// resolution of a resolved alert whose opening was delivered (a resolution of something
    /// never announced would only confuse).
    pub async fn alerts_awaiting_notice(&self) -> YtResult<Vec<(Alert, Notice)>> {
        let rows = sqlx::query(
            "SELECT * FROM alerts WHERE (state = 'open' AND open_delivery IS NULL) \
             OR (state = 'resolved' AND open_delivery = 'delivered' AND resolve_delivery IS NULL) \
             ORDER BY first_seen_ms, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("list alerts awaiting a notice", e))?;
        rows.iter()
            .map(|row| {
                let alert = alert_from_row(row)?;
                let notice = if alert.open_delivery.is_none() {
                    Notice::Opened
                } else {
                    Notice::Resolved
                };
                Ok((alert, notice))
            })
            .collect()
    }

    /// Takes the right to post `notice` of an alert for `lease_ms`: true for exactly one caller
    /// while the notice is unattempted and nobody else holds an unexpired lease.
    pub async fn claim_alert_notice(
        &self,
        id: Uuid,
        notice: Notice,
        now_ms: i64,
        lease_ms: i64,
    ) -> YtResult<bool> {
        let sql = format!(
            "UPDATE alerts SET delivery_lease_ms = $1 WHERE id = $2 AND {} IS NULL \
             AND (delivery_lease_ms IS NULL OR delivery_lease_ms < $3)",
            notice.column()
        );
        let changed = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_ms.saturating_add(lease_ms))
            .bind(id.to_string())
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("claim an alert notice", e))?
            .rows_affected();
        Ok(changed == 1)
    }

    /// Records the outcome of posting `notice`: `Err(message)` when it was given up.
    pub async fn record_alert_notice(
        &self,
        id: Uuid,
        notice: Notice,
        outcome: Result<(), &str>,
        attempts: u32,
        now_ms: i64,
    ) -> YtResult<()> {
        let (delivery, error) = match outcome {
            Ok(()) => (Delivery::Delivered, None),
            Err(message) => (Delivery::Failed, Some(message)),
        };
        let sql = format!(
            "UPDATE alerts SET {} = $1, delivery_attempts = delivery_attempts + $2, \
             delivery_error = COALESCE($3, delivery_error), \
             delivered_ms = CASE WHEN $3 IS NULL THEN $4 ELSE delivered_ms END, \
             delivery_lease_ms = NULL WHERE id = $5",
            notice.column()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(delivery.as_str())
            .bind(i64::from(attempts))
            .bind(error)
            .bind(now_ms)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("record an alert notice", e))?;
        Ok(())
    }

    /// Events of `kind` of every project created in `[from, to)` (RFC 3339 UTC, as stored),
    /// oldest first, each read on its own: a damaged row is its own `DATABASE_ERROR` (with its
    /// project and seq), for the caller to report, and does not hide the others.
    pub async fn events_of_kind_between(
        &self,
        kind: ytmaker_core::event::EventKind,
        from: &str,
        to: &str,
    ) -> YtResult<Vec<YtResult<Event>>> {
        let rows = sqlx::query(
            "SELECT * FROM project_events WHERE kind = $1 AND created_at >= $2 AND created_at < $3 \
             ORDER BY seq",
        )
        .bind(kind.as_str())
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("read events of all projects", e))?;
        Ok(rows.iter().map(Event::from_row).collect())
    }

    /// Takes the daily summary of `date` (YYYY-MM-DD, UTC) for sending: true for exactly one
    /// caller, ever, so a summary is never posted twice.
    pub async fn claim_daily_summary(&self, date: &str, now_ms: i64) -> YtResult<bool> {
        let inserted = sqlx::query(
            "INSERT INTO alert_summaries (date, claimed_ms) VALUES ($1, $2) ON CONFLICT (date) DO NOTHING",
        )
        .bind(date)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("claim the daily summary", e))?
        .rows_affected();
        Ok(inserted == 1)
    }

    pub async fn record_daily_summary(
        &self,
        date: &str,
        outcome: Result<(), &str>,
        attempts: u32,
        now_ms: i64,
    ) -> YtResult<()> {
        let (sent, error) = match outcome {
            Ok(()) => (Some(now_ms), None),
            Err(message) => (None, Some(message)),
        };
        sqlx::query(
            "UPDATE alert_summaries SET sent_ms = $1, attempts = $2, error = $3 WHERE date = $4",
        )
        .bind(sent)
        .bind(i64::from(attempts))
        .bind(error)
        .bind(date)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("record the daily summary", e))?;
        Ok(())
    }
}
