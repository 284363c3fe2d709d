//! [`crate::store::Store::search_cases`] over a SQL dialect: one statement (`*/search_cases.sql`) on a
//! pooled connection, its text values made by `store::search::TextQuery::binds` for the dialect.

use super::{Dialect, SqlStore};
use crate::domain::IncidentId;
use crate::store::StoreError;
use crate::store::search::CaseSearch;

/// The ids of the cases matching `search`, newest first.
pub(super) async fn cases<D: Dialect>(
    store: &SqlStore<D>,
    search: &CaseSearch,
) -> Result<Vec<IncidentId>, StoreError> {
    let (first, rest) = search.text.binds(D::KIND);
    let seer = search.seen_by.as_ref();
    let grids = seer.map(|s| {
        serde_json::Value::from(s.grids.iter().map(|g| g.0).collect::<Vec<_>>()).to_string()
    });
    let stmt = D::SQL
        .search_cases
        .bind(first)
        .bind(rest)
        .bind(grids)
        .bind(seer.and_then(|s| s.worker).map(|w| w.0))
        .bind(seer.and_then(|s| s.token).map(|t| t.0))
        .bind(i64::from(search.limit));
    let rows: Vec<(i64,)> = store.rows(stmt, "searching cases").await?;
    Ok(rows.into_iter().map(|(id,)| IncidentId(id)).collect())
}
