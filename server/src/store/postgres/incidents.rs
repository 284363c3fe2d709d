//! Cases, categories and departments in PostgreSQL: the statements, run inside the caller's transaction.
//!
//! A case's point is also written as `location geometry(Point, 4326)` for GIS tools; `jsonb` details are
//! read back as text so both stores share one row type.

use sqlx::PgConnection;

use super::super::StoreError;
use super::super::payload::codec::cell_to_i64;
use super::super::payload::conflict::Context;
use super::super::payload::incidents::{
    self, CategoryRow, DepartmentRow, HistoryRow, INCIDENT_COLUMNS, IncidentRow, MemberRow,
    PhotoRow, detail_text,
};
use crate::domain::incident::{HistoryEntry, Status};
use crate::domain::{Case, Category, Department, IncidentId, Photo};

/// Everything the world needs about cases: categories, departments and whole cases.
pub(super) async fn load(
    conn: &mut PgConnection,
) -> Result<(Vec<Category>, Vec<Department>, Vec<Case>), StoreError> {
    let categories: Vec<CategoryRow> = sqlx::query_as(
        "SELECT code, name, class, department_code, limit_low_h, limit_normal_h, limit_high_h, limit_urgent_h, \
         kind, active FROM categories ORDER BY code",
    )
    .fetch_all(&mut *conn)
    .await
    .context("loading categories")?;
    let departments: Vec<DepartmentRow> =
        sqlx::query_as("SELECT code, name FROM departments ORDER BY code")
            .fetch_all(&mut *conn)
            .await
            .context("loading departments")?;
    let members: Vec<MemberRow> = sqlx::query_as(
        "SELECT department_code, worker_id FROM department_members ORDER BY department_code, position",
    )
    .fetch_all(&mut *conn)
    .await
    .context("loading department members")?;
    let rows: Vec<IncidentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {INCIDENT_COLUMNS} FROM incidents ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await
    .context("loading incidents")?;
    let history: Vec<HistoryRow> = sqlx::query_as(
        "SELECT incident_id, at, actor_worker_id, actor_role, action, from_status, to_status, note, detail::text AS detail \
         FROM incident_history ORDER BY incident_id, position",
    )
    .fetch_all(&mut *conn)
    .await
    .context("loading incident history")?;
    let photos: Vec<PhotoRow> = sqlx::query_as(
        "SELECT ip.incident_id, ip.sha256, p.content_type, p.size, ip.at, ip.by_worker_id, ip.by_role \
         FROM incident_photos ip JOIN photos p ON p.sha256 = ip.sha256 ORDER BY ip.incident_id, ip.at, ip.sha256",
    )
    .fetch_all(&mut *conn)
    .await
    .context("loading incident photos")?;
    let categories = categories
        .into_iter()
        .map(CategoryRow::into_category)
        .collect::<Result<_, _>>()?;
    Ok((
        categories,
        incidents::departments(departments, members),
        incidents::cases(rows, history, photos)?,
    ))
}

pub(super) async fn write_category(
    conn: &mut PgConnection,
    c: &Category,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO categories (code, name, class, department_code, limit_low_h, limit_normal_h, limit_high_h, \
         limit_urgent_h, kind, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, class = excluded.class, \
         department_code = excluded.department_code, limit_low_h = excluded.limit_low_h, \
         limit_normal_h = excluded.limit_normal_h, limit_high_h = excluded.limit_high_h, \
         limit_urgent_h = excluded.limit_urgent_h, kind = excluded.kind, active = excluded.active",
    )
    .bind(&c.code)
    .bind(&c.name)
    .bind(c.class.as_str())
    .bind(&c.department)
    .bind(c.limits.low_h)
    .bind(c.limits.normal_h)
    .bind(c.limits.high_h)
    .bind(c.limits.urgent_h)
    .bind(c.kind.as_str())
    .bind(c.active)
    .execute(&mut *conn)
    .await
    .context("writing a category")?;
    Ok(())
}

pub(super) async fn write_department(
    conn: &mut PgConnection,
    d: &Department,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO departments (code, name) VALUES ($1, $2) ON CONFLICT (code) DO UPDATE SET name = excluded.name")
        .bind(&d.code)
        .bind(&d.name)
        .execute(&mut *conn)
        .await
        .context("writing a department")?;
    sqlx::query("DELETE FROM department_members WHERE department_code = $1")
        .bind(&d.code)
        .execute(&mut *conn)
        .await
        .context("replacing a department's members")?;
    for (position, member) in (0_i64..).zip(&d.members) {
        sqlx::query("INSERT INTO department_members (department_code, worker_id, position) VALUES ($1, $2, $3)")
            .bind(&d.code)
            .bind(member.0)
            .bind(position)
            .execute(&mut *conn)
            .await
            .context("writing a department's members")?;
    }
    Ok(())
}

/// Inserts the case's row (ignoring its id) and returns the id assigned.
pub(super) async fn insert_row(conn: &mut PgConnection, case: &Case) -> Result<i64, StoreError> {
    let s = &case.state;
    let p = &case.place;
    sqlx::query_scalar(
        "INSERT INTO incidents (category_code, priority, source, kind, description, lat, lon, cell, location, grid_id, \
         community_id, street_id, district_id, outside_m, status, level, assignee_id, handler_id, deadline, \
         escalate_at, rework_count, deferred, merged_into, resume_to, duplicate_of, reporter_token_id, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ST_SetSRID(ST_MakePoint($7, $6), 4326), $9, $10, $11, $12, $13, \
         $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) \
         RETURNING id",
    )
    .bind(&case.category)
    .bind(case.priority.as_str())
    .bind(case.source.as_str())
    .bind(case.kind.as_str())
    .bind(&case.description)
    .bind(p.lat)
    .bind(p.lon)
    .bind(cell_to_i64(p.cell))
    .bind(p.grid.0)
    .bind(p.community.0)
    .bind(p.street.map(|r| r.0))
    .bind(p.district.map(|r| r.0))
    .bind(p.outside_m)
    .bind(s.status.as_str())
    .bind(s.level.as_str())
    .bind(s.assignee.map(|w| w.0))
    .bind(s.handler.map(|w| w.0))
    .bind(s.deadline)
    .bind(case.escalate_at)
    .bind(i64::from(s.rework_count))
    .bind(s.deferred)
    .bind(s.merged_into.map(|i| i.0))
    .bind(s.resume_to.map(Status::as_str))
    .bind(case.duplicate_of.map(|i| i.0))
    .bind(case.reporter.map(|t| t.0))
    .bind(case.created_at)
    .bind(case.updated_at)
    .fetch_one(&mut *conn)
    .await
    .context("inserting an incident")
}

/// Writes the case's mutable columns; `NotFound` when there is no such case.
pub(super) async fn update_row(conn: &mut PgConnection, case: &Case) -> Result<(), StoreError> {
    let s = &case.state;
    let updated = sqlx::query(
        "UPDATE incidents SET status = $1, level = $2, assignee_id = $3, handler_id = $4, deadline = $5, escalate_at = $6, \
         rework_count = $7, deferred = $8, merged_into = $9, resume_to = $10, duplicate_of = $11, updated_at = $12 \
         WHERE id = $13",
    )
    .bind(s.status.as_str())
    .bind(s.level.as_str())
    .bind(s.assignee.map(|w| w.0))
    .bind(s.handler.map(|w| w.0))
    .bind(s.deadline)
    .bind(case.escalate_at)
    .bind(i64::from(s.rework_count))
    .bind(s.deferred)
    .bind(s.merged_into.map(|i| i.0))
    .bind(s.resume_to.map(Status::as_str))
    .bind(case.duplicate_of.map(|i| i.0))
    .bind(case.updated_at)
    .bind(s.id.0)
    .execute(&mut *conn)
    .await
    .context("updating an incident")?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("incident {}", s.id)));
    }
    Ok(())
}

/// Appends history entries at `first`, `first + 1`, … within their case, in one statement.
pub(super) async fn insert_histories(
    conn: &mut PgConnection,
    id: IncidentId,
    first: usize,
    entries: &[HistoryEntry],
) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let position = i64::try_from(first + i)
            .map_err(|_| StoreError::Conflict("history too long".into()))?;
        rows.push((position, entry));
    }
    let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "INSERT INTO incident_history (incident_id, position, at, actor_worker_id, actor_role, action, from_status, \
         to_status, note, detail) ",
    );
    insert.push_values(rows, |mut row, (position, entry)| {
        row.push_bind(id.0)
            .push_bind(position)
            .push_bind(entry.at)
            .push_bind(entry.actor.worker.map(|w| w.0))
            .push_bind(entry.actor.role.as_str())
            .push_bind(entry.action.clone())
            .push_bind(entry.from.as_str())
            .push_bind(entry.to.as_str())
            .push_bind(entry.note.clone())
            .push_bind(detail_text(entry.detail.as_ref()))
            .push_unseparated("::jsonb");
    });
    insert
        .build()
        .execute(&mut *conn)
        .await
        .context("appending incident history")?;
    Ok(())
}

/// Stores the bytes once under their hash and attaches them to the case.
pub(super) async fn attach_photo(
    conn: &mut PgConnection,
    id: IncidentId,
    photo: &Photo,
    data: &[u8],
) -> Result<(), StoreError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM incidents WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .context("finding the incident of a photo")?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("incident {id}")));
    }
    let size =
        i64::try_from(photo.size).map_err(|_| StoreError::Conflict("photo too large".into()))?;
    sqlx::query("INSERT INTO photos (sha256, content_type, size, data) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING")
        .bind(&photo.sha256)
        .bind(&photo.content_type)
        .bind(size)
        .bind(data)
        .execute(&mut *conn)
        .await
        .context("storing a photo")?;
    sqlx::query("INSERT INTO incident_photos (incident_id, sha256, at, by_worker_id, by_role) VALUES ($1, $2, $3, $4, $5)")
        .bind(id.0)
        .bind(&photo.sha256)
        .bind(photo.at)
        .bind(photo.by.worker.map(|w| w.0))
        .bind(photo.by.role.as_str())
        .execute(&mut *conn)
        .await
        .context("attaching a photo")?;
    Ok(())
}
