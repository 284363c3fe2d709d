//! Rows as columns, each column every row's value in row order, in the order of the statement's
//! column list: the one place each table's columns are listed for the rows written in bulk (an
//! import, cells, a batch of position fixes, a worker's duties, new cases and their history).
//! Each dialect sends a [`Bulk`] its own way (`Dialect::insert_bulk`: `SQLite` as multi-row `VALUES`,
//! PostgreSQL as one `UNNEST` of the columns as arrays); a single case binds its row of the same
//! columns ([`bind_row`]), so a case's columns are listed once for both.
//!
//! Must not: know how a dialect sends rows, or run a statement.

use std::borrow::Cow;
use std::iter::repeat_n;

use chrono::{DateTime, Utc};
use h3o::CellIndex;

use super::Dialect;
use super::driver::{Sql, Stmt};
use crate::domain::incident::{HistoryEntry, Status};
use serde_json::Value;

use crate::domain::{BaseArea, BaseLine, Case, Fix, GridDuty, IncidentId};
use crate::store::sql::codec::{cell_to_i64, flag_text, geojson_text};
use crate::store::{NewBuilding, NewGrid, StoreError};

/// One column of a bulk insert: every row's value.
pub enum Column {
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    Float(Vec<f64>),
    OptFloat(Vec<Option<f64>>),
    Bool(Vec<bool>),
    OptBool(Vec<Option<bool>>),
    /// Borrowed when it is a `&'static str` (an enum's name), else owned.
    Text(Vec<Cow<'static, str>>),
    OptText(Vec<Option<Cow<'static, str>>>),
    Time(Vec<DateTime<Utc>>),
    OptTime(Vec<Option<DateTime<Utc>>>),
    /// The same value on every row (a batch's receipt time): one parameter where a dialect can.
    Same(DateTime<Utc>),
}

impl Column {
    /// How many rows the column holds; `None` for [`Column::Same`].
    fn len(&self) -> Option<usize> {
        Some(match self {
            Self::Int(values) => values.len(),
            Self::OptInt(values) => values.len(),
            Self::Float(values) => values.len(),
            Self::OptFloat(values) => values.len(),
            Self::Bool(values) => values.len(),
            Self::OptBool(values) => values.len(),
            Self::Text(values) => values.len(),
            Self::OptText(values) => values.len(),
            Self::Time(values) => values.len(),
            Self::OptTime(values) => values.len(),
            Self::Same(_) => return None,
        })
    }

    /// Binds row `i`'s value as `stmt`'s next parameter.
    fn bind_one<D: Dialect>(&self, stmt: Stmt<D>, i: usize) -> Stmt<D> {
        match self {
            Self::Int(values) => stmt.bind(values[i]),
            Self::OptInt(values) => stmt.bind(values[i]),
            Self::Float(values) => stmt.bind(values[i]),
            Self::OptFloat(values) => stmt.bind(values[i]),
            Self::Bool(values) => stmt.bind(values[i]),
            Self::OptBool(values) => stmt.bind(values[i]),
            Self::Text(values) => stmt.bind(values[i].clone()),
            Self::OptText(values) => stmt.bind(values[i].clone()),
            Self::Time(values) => stmt.bind(values[i]),
            Self::OptTime(values) => stmt.bind(values[i]),
            Self::Same(value) => stmt.bind(*value),
        }
    }
}

/// `stmt` with row `i` of `columns` bound as its parameters, in order.
pub(crate) fn bind_row<D: Dialect>(stmt: Stmt<D>, columns: &[Column], i: usize) -> Stmt<D> {
    columns
        .iter()
        .fold(stmt, |stmt, column| column.bind_one(stmt, i))
}

/// Owned text.
fn owned(text: &str) -> Cow<'static, str> {
    Cow::Owned(text.to_owned())
}

/// Where a case's state starts in [`incident_columns`]: the columns from there on are the ones an
/// update writes (`update_incident.sql`'s `$1 … $12`).
pub(crate) const STATE_COLUMNS: usize = 15;

/// A case row's columns but its id (`insert_incident.sql`'s `$1 … $27`), one element a case: what
/// never changes, then its state.
pub(crate) fn incident_columns(cases: &[Case]) -> Vec<Column> {
    use Column::{Bool, Float, Int, OptFloat, OptInt, OptText, OptTime, Text, Time};
    vec![
        Text(col(cases, |c| owned(&c.category))),
        Text(col(cases, |c| c.priority.as_str().into())),
        Text(col(cases, |c| c.source.as_str().into())),
        Text(col(cases, |c| c.kind.as_str().into())),
        Text(col(cases, |c| owned(&c.description))),
        Float(col(cases, |c| c.place.lat)),
        Float(col(cases, |c| c.place.lon)),
        Int(col(cases, |c| cell_to_i64(c.place.cell))),
        Int(col(cases, |c| c.place.grid.0)),
        Int(col(cases, |c| c.place.community.0)),
        OptInt(col(cases, |c| c.place.street.map(|r| r.0))),
        OptInt(col(cases, |c| c.place.district.map(|r| r.0))),
        OptFloat(col(cases, |c| c.place.outside_m)),
        OptInt(col(cases, |c| c.reporter.map(|t| t.0))),
        Time(col(cases, |c| c.created_at)),
        // From here on, what an update writes (`STATE_COLUMNS`).
        Text(col(cases, |c| c.state.status.as_str().into())),
        Text(col(cases, |c| c.state.level.as_str().into())),
        OptInt(col(cases, |c| c.state.assignee.map(|w| w.0))),
        OptInt(col(cases, |c| c.state.handler.map(|w| w.0))),
        OptTime(col(cases, |c| c.state.deadline)),
        OptTime(col(cases, |c| c.escalate_at)),
        Int(col(cases, |c| i64::from(c.state.rework_count))),
        Bool(col(cases, |c| c.state.deferred)),
        OptInt(col(cases, |c| c.state.merged_into.map(|i| i.0))),
        OptText(col(cases, |c| {
            c.state.resume_to.map(|s| Status::as_str(s).into())
        })),
        OptInt(col(cases, |c| c.duplicate_of.map(|i| i.0))),
        Time(col(cases, |c| c.updated_at)),
    ]
}

/// One history row to insert: `(incident id, position within the case, entry)`.
pub type NewHistory<'a> = (i64, i64, &'a HistoryEntry);

/// The rows of history `entries`, the first at `first` within case `id`.
pub(crate) fn history_rows(
    id: IncidentId,
    first: usize,
    entries: &[HistoryEntry],
) -> Result<Vec<NewHistory<'_>>, StoreError> {
    let rows = entries.iter().enumerate().map(|(i, entry)| {
        let position = i64::try_from(first + i)
            .map_err(|_| StoreError::Conflict("history too long".into()))?;
        Ok((id.0, position, entry))
    });
    rows.collect()
}

impl<D: Dialect> Bulk<D> {
    /// History entries of one or more cases.
    pub(crate) fn history(rows: &[NewHistory<'_>]) -> Self {
        use Column::{Int, OptInt, OptText, Text, Time};
        let columns = vec![
            Int(col(rows, |r| r.0)),
            Int(col(rows, |r| r.1)),
            Time(col(rows, |r| r.2.at)),
            OptInt(col(rows, |r| r.2.actor.worker.map(|w| w.0))),
            Text(col(rows, |r| r.2.actor.role.as_str().into())),
            Text(col(rows, |r| owned(&r.2.action))),
            Text(col(rows, |r| r.2.from.as_str().into())),
            Text(col(rows, |r| r.2.to.as_str().into())),
            OptText(col(rows, |r| r.2.note.as_deref().map(owned))),
            OptText(col(rows, |r| {
                r.2.detail.as_ref().map(|d| d.to_string().into())
            })),
        ];
        Self::new(D::SQL.insert_history, columns, "appending incident history")
    }
}

impl<D: Dialect> Bulk<D> {
    /// Audit rows, chained (`audit::chain`).
    pub(crate) fn audit(rows: &[crate::audit::Row]) -> Self {
        use Column::{Int, OptInt, OptText, Text, Time};
        let opt = |v: &Option<String>| v.as_deref().map(owned);
        let columns = vec![
            Int(col(rows, |r| r.seq)),
            Time(col(rows, |r| r.entry.at)),
            Text(col(rows, |r| r.entry.actor.kind.as_str().into())),
            OptInt(col(rows, |r| r.entry.actor.id)),
            OptText(col(rows, |r| opt(&r.entry.actor.name))),
            OptText(col(rows, |r| r.entry.actor.role.map(|x| x.as_str().into()))),
            OptText(col(rows, |r| opt(&r.entry.address))),
            OptText(col(rows, |r| opt(&r.entry.user_agent))),
            Text(col(rows, |r| owned(&r.entry.action))),
            OptText(col(rows, |r| opt(&r.entry.target))),
            Text(col(rows, |r| r.entry.outcome.as_str().into())),
            OptText(col(rows, |r| opt(&r.entry.detail))),
            Text(col(rows, |r| owned(&r.prev_hash))),
            Text(col(rows, |r| owned(&r.hash))),
        ];
        Self::new(D::SQL.insert_audit, columns, "appending audit rows")
    }
}

/// Rows to insert with the dialect's statement `sql` (a `sqlite/` column list the rows follow, a
/// `postgres/` `INSERT … SELECT FROM UNNEST`).
pub struct Bulk<D> {
    pub(crate) sql: Sql<D>,
    pub(crate) columns: Vec<Column>,
    /// How many rows: every column's length.
    pub(crate) rows: usize,
    /// What the store was doing: the context of an error.
    pub(crate) doing: &'static str,
}

/// One column of `items`.
pub(crate) fn col<T, U>(items: &[T], column: impl Fn(&T) -> U) -> Vec<U> {
    items.iter().map(column).collect()
}

impl<D: Dialect> Bulk<D> {
    /// An import's grids; `communities[i]` is the community of `grids[i]`.
    pub(crate) fn grids(grids: &[NewGrid], communities: Vec<i64>) -> Self {
        let columns = vec![
            Column::Text(col(grids, |g| owned(&g.code))),
            Column::Text(col(grids, |g| owned(&g.name))),
            Column::Int(communities),
            Column::Int(col(grids, |g| i64::from(g.households))),
            Column::Int(col(grids, |g| i64::from(g.building_count))),
            Column::OptText(col(grids, |g| flag_text(g.flag.as_ref()).map(Cow::Owned))),
            Column::Text(col(grids, |g| geojson_text(&g.boundary).into())),
        ];
        Self::new(D::SQL.insert_grids, columns, "importing grids")
    }

    /// `grid_cells` rows: every cell of each `(grid id, cells)`.
    pub(crate) fn cells(grids: &[(i64, &[CellIndex])], doing: &'static str) -> Self {
        let cells = grids
            .iter()
            .flat_map(|(_, cells)| cells.iter().map(|&c| cell_to_i64(c)));
        let owners = grids
            .iter()
            .flat_map(|&(id, cells)| repeat_n(id, cells.len()));
        let columns = vec![Column::Int(cells.collect()), Column::Int(owners.collect())];
        Self::new(D::SQL.insert_cells, columns, doing)
    }

    /// A worker's grid duties, in the order given.
    pub(crate) fn duties(worker: i64, duties: &[GridDuty], doing: &'static str) -> Self {
        let columns = vec![
            Column::Int(col(duties, |_| worker)),
            Column::Int(col(duties, |d| d.grid_id.0)),
            Column::Text(col(duties, |d| d.responsibility.as_str().into())),
            Column::Int((0_i64..).take(duties.len()).collect()),
        ];
        Self::new(D::SQL.insert_duties, columns, doing)
    }

    /// An import's buildings; `grids[i]` is the grid of the i-th.
    pub(crate) fn buildings(
        buildings: &[(NewBuilding, Option<String>)],
        grids: Vec<Option<i64>>,
    ) -> Self {
        let columns = vec![
            Column::OptText(col(buildings, |(b, _)| b.source_id.as_deref().map(owned))),
            Column::Text(col(buildings, |(b, _)| geojson_text(&b.footprint).into())),
            Column::Text(col(buildings, |(b, _)| owned(&b.kind))),
            Column::OptInt(col(buildings, |(b, _)| b.levels.map(i64::from))),
            Column::Int(col(buildings, |(b, _)| i64::from(b.households))),
            Column::Int(col(buildings, |(b, _)| cell_to_i64(b.cell))),
            Column::OptInt(grids),
        ];
        Self::new(D::SQL.insert_buildings, columns, "importing buildings")
    }

    /// An import's base-map lines, in input order.
    pub(crate) fn base_lines(lines: &[BaseLine]) -> Self {
        let columns = vec![
            Column::Text(col(lines, |l| owned(&l.kind))),
            Column::OptText(col(lines, |l| l.name.as_deref().map(owned))),
            Column::Text(col(lines, |l| geojson_text(&l.geometry).into())),
        ];
        Self::new(
            D::SQL.insert_base_lines,
            columns,
            "importing base-map lines",
        )
    }

    /// An import's base-map areas, in input order.
    pub(crate) fn base_areas(areas: &[BaseArea]) -> Self {
        let columns = vec![
            Column::Text(col(areas, |a| owned(&a.kind))),
            Column::OptText(col(areas, |a| a.name.as_deref().map(owned))),
            Column::Text(col(areas, |a| geojson_text(&a.geometry).into())),
        ];
        Self::new(
            D::SQL.insert_base_areas,
            columns,
            "importing base-map areas",
        )
    }

    /// A batch of position fixes and when it was received.
    pub(crate) fn fixes(fixes: &[Fix], received_at: DateTime<Utc>) -> Self {
        let columns = vec![
            Column::Int(col(fixes, |f| f.worker.0)),
            Column::Time(col(fixes, |f| f.at)),
            Column::Same(received_at),
            Column::Float(col(fixes, |f| f.lat)),
            Column::Float(col(fixes, |f| f.lon)),
            Column::OptFloat(col(fixes, |f| f.accuracy_m)),
            Column::OptFloat(col(fixes, |f| f.speed_mps)),
            Column::OptFloat(col(fixes, |f| f.heading_deg)),
            Column::OptFloat(col(fixes, |f| f.altitude_m)),
            Column::OptFloat(col(fixes, |f| f.battery_pct)),
            Column::OptBool(col(fixes, |f| f.moving)),
            Column::Text(col(fixes, |f| {
                Value::from(f.flags.clone()).to_string().into()
            })),
            Column::Text(col(fixes, |f| {
                Value::Object(f.attributes.clone()).to_string().into()
            })),
        ];
        Self::new(D::SQL.insert_fixes, columns, "inserting positions")
    }

    pub(crate) fn new(sql: Sql<D>, columns: Vec<Column>, doing: &'static str) -> Self {
        let rows = columns.iter().find_map(Column::len).unwrap_or(0);
        Self {
            sql,
            columns,
            rows,
            doing,
        }
    }
}
