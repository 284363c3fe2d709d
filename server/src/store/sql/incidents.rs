//! Cases, categories and departments: the statements, run inside the caller's transaction.

use super::bulk::{Bulk, bind_row, history_rows, incident_columns};
use super::{Dialect, Tx};
use crate::domain::event::IncidentSummary;
use crate::domain::incident::Status;
use crate::domain::{Case, Category, Change, Department, Event, IncidentId, Photo};
use crate::store::{IncidentUpdate, StoreError};

pub(super) async fn write_category<D: Dialect>(
    tx: &mut Tx<D>,
    c: &Category,
) -> Result<(), StoreError> {
    (D::SQL.put_category)
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
        .execute(tx, "writing a category")
        .await?;
    Ok(())
}

pub(super) async fn write_department<D: Dialect>(
    tx: &mut Tx<D>,
    d: &Department,
) -> Result<(), StoreError> {
    (D::SQL.put_department)
        .bind(&d.code)
        .bind(&d.name)
        .execute(tx, "writing a department")
        .await?;
    (D::SQL.delete_members)
        .bind(&d.code)
        .execute(tx, "replacing a department's members")
        .await?;
    for (position, member) in (0_i64..).zip(&d.members) {
        (D::SQL.insert_member)
            .bind(&d.code)
            .bind(member.0)
            .bind(position)
            .execute(tx, "writing a department's members")
            .await?;
    }
    Ok(())
}

/// Inserts one new case (row, history, `incident.created`) inside the caller's transaction.
pub(crate) async fn insert_case<D: Dialect>(
    tx: &mut Tx<D>,
    case: &Case,
) -> Result<(Case, Event), StoreError> {
    let id = IncidentId(insert_row(tx, case).await?);
    D::insert_bulk(tx, Bulk::history(&history_rows(id, 0, &case.history)?)).await?;
    let mut stored = case.clone();
    stored.state.id = id;
    let change = Change::IncidentCreated(Box::new(IncidentSummary::of(&stored)));
    let event = tx.append_event(change).await?;
    Ok((stored, event))
}

/// Inserts the case's row (ignoring its id) and returns the id assigned.
async fn insert_row<D: Dialect>(tx: &mut Tx<D>, case: &Case) -> Result<i64, StoreError> {
    let columns = incident_columns(std::slice::from_ref(case));
    let insert = bind_row(D::SQL.insert_incident.query(), &columns, 0);
    insert.scalar(tx, "inserting an incident").await
}

/// Writes each case's new state and appends its new history entries (its last `new_entries`);
/// `NotFound` when a case does not exist.
pub(super) async fn update_cases<D: Dialect>(
    tx: &mut Tx<D>,
    updates: &[IncidentUpdate],
) -> Result<(), StoreError> {
    for IncidentUpdate { case, new_entries } in updates {
        update_row(tx, case).await?;
        let first = case.history.len().saturating_sub(*new_entries);
        let history = history_rows(case.id(), first, &case.history[first..])?;
        D::insert_bulk(tx, Bulk::history(&history)).await?;
    }
    Ok(())
}

async fn update_row<D: Dialect>(tx: &mut Tx<D>, case: &Case) -> Result<(), StoreError> {
    let s = &case.state;
    let updated = (D::SQL.update_incident)
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
        .execute(tx, "updating an incident")
        .await?;
    if updated == 0 {
        return Err(StoreError::NotFound(format!("incident {}", s.id)));
    }
    Ok(())
}

/// Stores the bytes once under their hash and attaches them to the case.
pub(super) async fn attach_photo<D: Dialect>(
    tx: &mut Tx<D>,
    id: IncidentId,
    photo: &Photo,
    data: &[u8],
) -> Result<(), StoreError> {
    let find = D::SQL.find_incident.bind(id.0);
    let exists: Option<i64> = find
        .optional_scalar(tx, "finding the incident of a photo")
        .await?;
    if exists.is_none() {
        return Err(StoreError::NotFound(format!("incident {id}")));
    }
    let size =
        i64::try_from(photo.size).map_err(|_| StoreError::Conflict("photo too large".into()))?;
    (D::SQL.insert_photo)
        .bind(&photo.sha256)
        .bind(&photo.content_type)
        .bind(size)
        .bind(data)
        .execute(tx, "storing a photo")
        .await?;
    (D::SQL.attach_photo)
        .bind(id.0)
        .bind(&photo.sha256)
        .bind(photo.at)
        .bind(photo.by.worker.map(|w| w.0))
        .bind(photo.by.role.as_str())
        .execute(tx, "attaching a photo")
        .await?;
    Ok(())
}
