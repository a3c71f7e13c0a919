//! Statements as values — a query's text and its arguments — and [`Db`], what a write needs of a
//! database transaction to run them: sqlx's (both backends) here, and rusqlite's on SQLite
//! ([`super::sqlite_writer`]), so a group is planned once and either runs it.

use super::{enter, Backend, Scope};
use crate::error::Result;
use grantry_core::ids::OrgId;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::borrow::Cow;

/// A value bound to a statement, typed even when null (PostgreSQL wants a null's type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
}

/// The type of a column read back.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Int,
    Text,
}

impl Arg {
    /// The integer in a column read as [`Kind::Int`]; null is an error naming `what`.
    pub(super) fn int(&self, what: &str) -> Result<i64> {
        match self {
            Self::Int(Some(v)) => Ok(*v),
            _ => Err(crate::StoreError::Corrupt(format!("{what} is not an integer"))),
        }
    }

    /// The text in a column read as [`Kind::Text`]; null is an error naming `what`.
    pub(super) fn text(self, what: &str) -> Result<String> {
        match self {
            Self::Text(Some(v)) => Ok(v),
            _ => Err(crate::StoreError::Corrupt(format!("{what} is not text"))),
        }
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}

/// A query's text (`$n` placeholders) and its arguments.
#[derive(Debug, Clone)]
pub(super) struct Statement {
    pub sql: Cow<'static, str>,
    pub args: Vec<Arg>,
}

impl Statement {
    pub(super) fn new(sql: impl Into<Cow<'static, str>>, args: Vec<Arg>) -> Self {
        Self { sql: sql.into(), args }
    }
}

/// What a write needs of a transaction. Every method is `async` for sqlx; rusqlite's finish at
/// once, so a write on it runs to completion in one poll.
pub(super) trait Db {
    /// Runs the next statements for `org` (PostgreSQL's row-level security reads it).
    async fn enter(&mut self, org: &OrgId) -> Result<()>;
    /// Runs `s`; returns the rows it changed.
    async fn execute(&mut self, s: &Statement) -> Result<u64>;
    /// The first row `s` returns, its columns read as `columns`.
    async fn row(&mut self, s: &Statement, columns: &[Kind]) -> Result<Option<Vec<Arg>>>;
}

/// A sqlx transaction on either backend.
pub(super) struct SqlxDb<'t, 'c> {
    tx: &'t mut Transaction<'c, Any>,
    backend: Backend,
    /// The organization entered last, if any.
    entered: Option<OrgId>,
}

impl<'t, 'c> SqlxDb<'t, 'c> {
    pub(super) fn new(tx: &'t mut Transaction<'c, Any>, backend: Backend) -> Self {
        Self { tx, backend, entered: None }
    }
}

impl Db for SqlxDb<'_, '_> {
    async fn enter(&mut self, org: &OrgId) -> Result<()> {
        if self.entered.as_ref() != Some(org) {
            enter(self.tx, self.backend, Scope::Org(org)).await?;
            self.entered = Some(org.clone());
        }
        Ok(())
    }

    async fn execute(&mut self, s: &Statement) -> Result<u64> {
        Ok(bound(s).execute(&mut **self.tx).await?.rows_affected())
    }

    async fn row(&mut self, s: &Statement, columns: &[Kind]) -> Result<Option<Vec<Arg>>> {
        let Some(r): Option<AnyRow> = bound(s).fetch_optional(&mut **self.tx).await? else { return Ok(None) };
        let cells = columns.iter().enumerate().map(|(i, kind)| {
            Ok(match kind {
                Kind::Int => Arg::Int(r.try_get(i)?),
                Kind::Text => Arg::Text(r.try_get(i)?),
            })
        });
        Ok(Some(cells.collect::<Result<_>>()?))
    }
}

/// `s` as a sqlx query with its arguments bound.
pub(super) fn bound(s: &Statement) -> sqlx::query::Query<'_, Any, sqlx::any::AnyArguments<'_>> {
    s.args.iter().fold(sqlx::query(&s.sql), |q, a| match a {
        Arg::Int(v) => q.bind(*v),
        Arg::Text(v) => q.bind(v.as_deref()),
    })
}
