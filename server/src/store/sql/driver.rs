//! The sqlx glue that lets the store's statements be written once, generic over the dialect, with no
//! bound but `D: Dialect`: a statement text typed by its dialect ([`Sql`]), a statement with its
//! values ([`Stmt`]), and what each sqlx driver offers ([`Driver`], for `Sqlite` and `Postgres`).
//!
//! Why this and not sqlx's own generic bounds: generic sqlx code needs `for<'c> &'c mut
//! DB::Connection: Executor<'c, Database = DB>` and an `Encode`/`Decode`/`Type` bound for every
//! column type, and Rust does not carry such `where` clauses from a trait to the code that uses it, so
//! every generic function would repeat them. Here they are closed over the two drivers instead: a value
//! is a [`Param`] when both can bind it, a row a [`Record`] when both can decode it (supertraits, which
//! Rust does imply), and [`Driver`]'s associated types carry the executor. A third backend adds one
//! line to each of the two traits and one `impl Driver`.
//!
//! Must not: hold SQL, or know any table.

use std::marker::PhantomData;

use futures_util::TryStreamExt as _;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, PgConnection, Postgres, Sqlite};
use sqlx::{SqliteConnection, Type};

use super::Dialect;
use crate::store::StoreError;
use crate::store::sql::conflict::Context;

/// What the store was doing when a statement ran: the context of its error.
type Doing = &'static str;

/// A value both drivers can bind.
pub trait Param<'q>:
    Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send
{
}

impl<'q, T> Param<'q> for T where
    T: Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres> + Send
{
}

/// A row type (a `sqlx::FromRow` struct or a tuple) both drivers can decode.
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// A value the store reads back: the row its statements select, and how that row becomes the value
/// (`StoreError::Corrupt` when it does not). A plain row (a tuple, a `FromRow` struct) is its own.
pub(crate) trait Load: Sized + Send {
    type Row: Record;
    fn from_row(row: Self::Row) -> Result<Self, StoreError>;
}

impl<R: Record> Load for R {
    type Row = R;
    fn from_row(row: R) -> Result<R, StoreError> {
        Ok(row)
    }
}

type Query<DB> = sqlx::query::Query<'static, DB, <DB as Database>::Arguments>;

/// The connection of a dialect: what a transaction or a pooled connection dereferences to.
pub type Conn<D> = <<D as Dialect>::Db as Database>::Connection;

/// What the shared code needs of a sqlx driver, each a one-liner over the concrete types.
pub trait Driver: Database<Arguments: IntoArguments<Self>> {
    type Executor<'c>: Executor<'c, Database = Self>;
    fn executor(conn: &mut Self::Connection) -> Self::Executor<'_>;
    fn bind<'q, T: Param<'q>>(query: Query<Self>, value: T) -> Query<Self>;
    fn decode<O: Record>(row: &Self::Row) -> Result<O, sqlx::Error>;
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

/// `Driver` for a sqlx database whose connection and row types are named: the same one-liners for
/// each, since only the concrete types satisfy the bounds.
macro_rules! driver {
    ($db:ty, $conn:ty, $row:ty) => {
        impl Driver for $db {
            type Executor<'c> = &'c mut $conn;
            fn executor(conn: &mut $conn) -> &mut $conn {
                conn
            }
            fn bind<'q, T: Param<'q>>(query: Query<Self>, value: T) -> Query<Self> {
                query.bind(value)
            }
            fn decode<O: Record>(row: &$row) -> Result<O, sqlx::Error> {
                O::from_row(row)
            }
            fn rows_affected(done: &Self::QueryResult) -> u64 {
                done.rows_affected()
            }
        }
    };
}

driver!(Sqlite, SqliteConnection, SqliteRow);
driver!(Postgres, PgConnection, PgRow);

/// One statement's text in dialect `D` (a file under `store/sql/`); `D` only ties it to its driver.
pub struct Sql<D>(&'static str, PhantomData<fn() -> D>);

impl<D> Clone for Sql<D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<D> Copy for Sql<D> {}

impl<D: Dialect> Sql<D> {
    pub(crate) const fn new(text: &'static str) -> Self {
        Self(text, PhantomData)
    }

    pub(crate) fn text(self) -> &'static str {
        self.0
    }

    /// The statement with no values bound yet.
    pub(crate) fn query(self) -> Stmt<D> {
        Stmt(sqlx::query(self.0))
    }

    /// Runs a statement that takes no values and returns rows.
    pub(crate) async fn fetch_all<O: Load>(
        self,
        conn: &mut Conn<D>,
        doing: Doing,
    ) -> Result<Vec<O>, StoreError> {
        self.query().fetch_all(conn, doing).await
    }

    /// The statement with its first value (`$1`) bound.
    pub(crate) fn bind<'q, T: Param<'q>>(self, value: T) -> Stmt<D> {
        self.query().bind(value)
    }
}

/// A statement with the values bound so far. Running it says what the store was doing, so a database
/// error always becomes a `StoreError` with that context (`conflict.rs`).
pub struct Stmt<D: Dialect>(Query<D::Db>);

impl<D: Dialect> Stmt<D> {
    /// Binds the next `$n`.
    pub(crate) fn bind<'q, T: Param<'q>>(self, value: T) -> Self {
        Self(D::Db::bind(self.0, value))
    }

    /// Runs the statement; the number of rows it changed.
    pub(crate) async fn execute(self, conn: &mut Conn<D>, doing: Doing) -> Result<u64, StoreError> {
        let done = self.0.execute(D::Db::executor(conn)).await.context(doing)?;
        Ok(D::Db::rows_affected(&done))
    }

    pub(crate) async fn fetch_optional<O: Load>(
        self,
        conn: &mut Conn<D>,
        doing: Doing,
    ) -> Result<Option<O>, StoreError> {
        let row = self.0.fetch_optional(D::Db::executor(conn)).await;
        let row = row.context(doing)?.as_ref().map(D::Db::decode);
        row.transpose().context(doing)?.map(O::from_row).transpose()
    }

    /// The one row the statement returns; sqlx's `RowNotFound` when there is none.
    pub(crate) async fn fetch_one<O: Load>(
        self,
        conn: &mut Conn<D>,
        doing: Doing,
    ) -> Result<O, StoreError> {
        let row = self.fetch_optional(conn, doing).await?;
        row.ok_or(sqlx::Error::RowNotFound).context(doing)
    }

    pub(crate) async fn fetch_all<O: Load>(
        self,
        conn: &mut Conn<D>,
        doing: Doing,
    ) -> Result<Vec<O>, StoreError> {
        // Each row is decoded as it arrives and its wire form dropped at once. Holding every raw row,
        // then every decoded one, while the values were built was most of a node's peak memory at
        // start-up: 1.1 GiB over its steady size for a city of a million buildings (BENCHMARKS.md).
        let mut rows = self.0.fetch(D::Db::executor(conn));
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await.context(doing)? {
            let decoded: O::Row = D::Db::decode(&row).context(doing)?;
            out.push(O::from_row(decoded)?);
        }
        Ok(out)
    }

    /// The first column of the one row the statement returns (`RETURNING id`, `SELECT COUNT…`).
    pub(crate) async fn scalar<T>(self, conn: &mut Conn<D>, doing: Doing) -> Result<T, StoreError>
    where
        (T,): Record,
    {
        Ok(self.fetch_one::<(T,)>(conn, doing).await?.0)
    }
}
