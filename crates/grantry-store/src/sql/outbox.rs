//! The outbox on either backend: notifications are inserted with their batch (see `write`); here
//! they are leased for delivery — a compare-and-set on each row, so two servers never hold the
//! same one at once — settled, and listed. Webhook secrets are derived from the audit key, never
//! stored.

use super::queries as q;
use super::statement::{bound, Arg, Statement};
use super::{enter, Scope, SqlStore};
use crate::error::{Result, StoreError};
use crate::rows::{micros, timestamp};
use crate::traits::{BoxFuture, Delivery, Notice, NoticeRecord, Outbox, Settlement};
use grantry_core::ids::OrgId;
use grantry_core::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

fn count(r: &AnyRow, column: &str) -> Result<u32> {
    let n: i64 = r.try_get(column)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} is {n}")))
}

fn notice(r: &AnyRow) -> Result<Notice> {
    Ok(Notice {
        id: r.try_get("id")?,
        webhook: r.try_get("webhook_id")?,
        event_type: r.try_get("event_type")?,
        payload: r.try_get("payload")?,
    })
}

impl SqlStore {
    /// Runs one organization's statement in a transaction of its own; the rows it changed.
    async fn execute_for(&self, org: &OrgId, statement: Statement) -> Result<u64> {
        if let Some(writer) = &self.sqlite_writer {
            return writer.execute(statement).await;
        }
        let mut tx = self.pool.begin().await?;
        enter(&mut tx, self.backend, Scope::Org(org)).await?;
        let n = bound(&statement).execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

impl Outbox for SqlStore {
    fn webhooks_due(&self, now: Timestamp, limit: u32) -> BoxFuture<'_, Result<Vec<(OrgId, String)>>> {
        Box::pin(async move {
            let mut tx = self.begin(Scope::All, false).await?;
            let rows = sqlx::query(q::WEBHOOKS_DUE.sql).bind(micros(now)).bind(i64::from(limit)).fetch_all(&mut *tx).await?;
            rows.iter().map(|r| Ok((OrgId(r.try_get("org_id")?), r.try_get("webhook_id")?))).collect()
        })
    }

    fn lease_due<'a>(
        &'a self,
        org: &'a OrgId,
        webhook: &'a str,
        now: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<Delivery>>> {
        Box::pin(async move {
            let rows = {
                let mut tx = self.begin(Scope::Org(org), false).await?;
                sqlx::query(q::NOTICES_DUE.sql)
                    .bind(org.as_str())
                    .bind(webhook)
                    .bind(micros(now))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?
            };
            let mut leased = Vec::with_capacity(rows.len());
            for r in &rows {
                let notice = notice(r)?;
                let args: Vec<Arg> = vec![micros(until).into(), org.as_str().into(), notice.id.as_str().into(), micros(now).into()];
                if self.execute_for(org, Statement::new(q::LEASE_NOTICE.sql, args)).await? == 1 {
                    leased.push(Delivery {
                        org: org.clone(),
                        notice,
                        created_at: timestamp(r.try_get("created_at_us")?)?,
                        attempts: count(r, "attempts")?,
                    });
                }
            }
            Ok(leased)
        })
    }

    fn settle<'a>(&'a self, org: &'a OrgId, id: &'a str, how: Settlement) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let (attempts, next, delivered, given_up, error) = match how {
                Settlement::Delivered { at, attempts } => (attempts, micros(at), Some(micros(at)), 0, None),
                Settlement::Retry { attempts, next, error } => (attempts, micros(next), None, 0, Some(error)),
                Settlement::GivenUp { attempts, error } => (attempts, 0, None, 1, Some(error)),
            };
            let sql = q::SETTLE_NOTICE.sql;
            let args = vec![
                i64::from(attempts).into(),
                next.into(),
                delivered.into(),
                Arg::from(i64::from(given_up)),
                error.into(),
                org.as_str().into(),
                id.into(),
            ];
            self.execute_for(org, Statement::new(sql, args)).await.map(drop)
        })
    }

    fn notices<'a>(&'a self, org: &'a OrgId, webhook: &'a str, limit: u32) -> BoxFuture<'a, Result<Vec<NoticeRecord>>> {
        Box::pin(async move {
            let mut tx = self.begin(Scope::Org(org), false).await?;
            let rows = sqlx::query(q::NOTICES.sql).bind(org.as_str()).bind(webhook).bind(i64::from(limit)).fetch_all(&mut *tx).await?;
            rows.iter()
                .map(|r| {
                    let n = notice(r)?;
                    let delivered: Option<i64> = r.try_get("delivered_at_us")?;
                    let given_up: i64 = r.try_get("given_up")?;
                    let next: i64 = r.try_get("next_attempt_us")?;
                    Ok(NoticeRecord {
                        id: n.id,
                        webhook: n.webhook,
                        event_type: n.event_type,
                        payload: n.payload,
                        created_at: timestamp(r.try_get("created_at_us")?)?,
                        attempts: count(r, "attempts")?,
                        next_attempt_at: (delivered.is_none() && given_up == 0).then(|| timestamp(next)).transpose()?,
                        delivered_at: delivered.map(timestamp).transpose()?,
                        given_up: given_up != 0,
                        last_error: r.try_get("last_error")?,
                    })
                })
                .collect()
        })
    }

    fn webhook_secret(&self, org: &OrgId, webhook: &str, generation: u32) -> String {
        let seal = self.audit_key.seal("webhook secret", &[org.as_str().as_bytes(), webhook.as_bytes(), &generation.to_be_bytes()]);
        format!("whsec_{seal}")
    }
}
