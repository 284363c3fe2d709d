//! Cases, categories and departments: the statements, run inside the caller's transaction, and their
//! rows as both dialects select them (PostgreSQL casts `jsonb` to text) with how each becomes a
//! domain value again.

use chrono::{DateTime, Utc};

use super::bulk::{Bulk, STATE_COLUMNS, bind_row, history_rows, incident_columns};
use super::codec::{cell_from_i64, corrupt, from_json, parse_enum};
use super::driver::Load;
use super::rows::by_owner;
use super::{Dialect, Tx};
use crate::domain::category::CategoryClock;
use crate::domain::event::IncidentSummary;
use crate::domain::incident::{
    Actor, CaseKind, EscalationLevel, HistoryEntry, Priority, Source, Status,
};
use crate::domain::{
    Case, Category, CategoryClass, Change, Department, Event, GridId, Incident, IncidentId, Photo,
    Place, RegionId, Role, TimeLimits, TokenId, WorkerId,
};
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
        .bind(&c.name_zh)
        .bind(c.clock.as_str())
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
    let columns = incident_columns(std::slice::from_ref(case));
    let update = bind_row(D::SQL.update_incident.query(), &columns[STATE_COLUMNS..], 0);
    let updated = update
        .bind(case.id().0)
        .execute(tx, "updating an incident")
        .await?;
    if updated == 0 {
        return Err(StoreError::NotFound(format!("incident {}", case.id())));
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
    let exists: Option<(i64,)> = find
        .fetch_optional(tx, "finding the incident of a photo")
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

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CategoryRow {
    pub code: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub class: String,
    pub department_code: Option<String>,
    pub limit_low_h: f64,
    pub limit_normal_h: f64,
    pub limit_high_h: f64,
    pub limit_urgent_h: f64,
    pub kind: String,
    pub active: bool,
    pub clock: String,
}

impl Load for Category {
    type Row = CategoryRow;
    fn from_row(row: CategoryRow) -> Result<Self, StoreError> {
        Ok(Category {
            class: parse_enum("categories", "class", &row.class, CategoryClass::parse)?,
            kind: parse_enum("categories", "kind", &row.kind, CaseKind::parse)?,
            clock: parse_enum("categories", "clock", &row.clock, CategoryClock::parse)?,
            code: row.code,
            name: row.name,
            name_zh: row.name_zh,
            department: row.department_code,
            limits: TimeLimits {
                low_h: row.limit_low_h,
                normal_h: row.limit_normal_h,
                high_h: row.limit_high_h,
                urgent_h: row.limit_urgent_h,
            },
            active: row.active,
        })
    }
}

/// Departments (`code, name` rows) with their members in stored order (`department_code,
/// worker_id` rows sorted by department, then position).
pub(crate) fn departments(
    rows: Vec<(String, String)>,
    members: Vec<(String, i64)>,
) -> Result<Vec<Department>, StoreError> {
    let mut members = by_owner(members.into_iter().map(|(d, w)| Ok((d, WorkerId(w)))))?;
    let department = |(code, name): (String, String)| Department {
        members: members.remove(&code).unwrap_or_default(),
        code,
        name,
    };
    Ok(rows.into_iter().map(department).collect())
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct IncidentRow {
    pub id: i64,
    pub category_code: String,
    pub priority: String,
    pub source: String,
    pub kind: String,
    pub description: String,
    pub lat: f64,
    pub lon: f64,
    pub cell: i64,
    pub grid_id: i64,
    pub community_id: i64,
    pub street_id: Option<i64>,
    pub district_id: Option<i64>,
    pub outside_m: Option<f64>,
    pub status: String,
    pub level: String,
    pub assignee_id: Option<i64>,
    pub handler_id: Option<i64>,
    pub deadline: Option<DateTime<Utc>>,
    pub escalate_at: Option<DateTime<Utc>>,
    pub rework_count: i64,
    pub deferred: bool,
    pub merged_into: Option<i64>,
    pub resume_to: Option<String>,
    pub duplicate_of: Option<i64>,
    pub reporter_token_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct HistoryRow {
    pub incident_id: i64,
    pub at: DateTime<Utc>,
    pub actor_worker_id: Option<i64>,
    pub actor_role: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub note: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PhotoRow {
    pub incident_id: i64,
    pub sha256: String,
    pub content_type: String,
    pub size: i64,
    pub at: DateTime<Utc>,
    pub by_worker_id: Option<i64>,
    pub by_role: String,
}

const T: &str = "incidents";

/// Whole cases from their rows; `history` in (incident, position) order, `photos` in (incident, at) order.
pub(crate) fn cases(
    rows: Vec<IncidentRow>,
    history: Vec<HistoryRow>,
    photos: Vec<PhotoRow>,
) -> Result<Vec<Case>, StoreError> {
    let mut entries = by_owner(
        history
            .into_iter()
            .map(|row| Ok((row.incident_id, history_entry(row)?))),
    )?;
    let photo = |row: PhotoRow| {
        let size = u64::try_from(row.size)
            .map_err(|_| corrupt("incident_photos", format!("size {}", row.size)))?;
        let photo = Photo {
            sha256: row.sha256,
            content_type: row.content_type,
            size,
            at: row.at,
            by: Actor {
                worker: row.by_worker_id.map(WorkerId),
                role: parse_enum("incident_photos", "by_role", &row.by_role, Role::parse)?,
            },
        };
        Ok((row.incident_id, photo))
    };
    let mut attached = by_owner(photos.into_iter().map(photo))?;
    rows.into_iter()
        .map(|row| {
            let history = entries.remove(&row.id).unwrap_or_default();
            let photos = attached.remove(&row.id).unwrap_or_default();
            case(row, history, photos)
        })
        .collect()
}

fn history_entry(row: HistoryRow) -> Result<HistoryEntry, StoreError> {
    const H: &str = "incident_history";
    let detail = row.detail.map(|d| from_json(H, "detail", &d)).transpose()?;
    Ok(HistoryEntry {
        at: row.at,
        actor: Actor {
            worker: row.actor_worker_id.map(WorkerId),
            role: parse_enum(H, "actor_role", &row.actor_role, Role::parse)?,
        },
        action: row.action,
        from: parse_enum(H, "from_status", &row.from_status, Status::parse)?,
        to: parse_enum(H, "to_status", &row.to_status, Status::parse)?,
        note: row.note,
        detail,
    })
}

fn case(
    row: IncidentRow,
    history: Vec<HistoryEntry>,
    photos: Vec<Photo>,
) -> Result<Case, StoreError> {
    let rework_count = u32::try_from(row.rework_count)
        .map_err(|_| corrupt(T, format!("rework_count {}", row.rework_count)))?;
    let resume_to = row
        .resume_to
        .as_deref()
        .map(|s| parse_enum(T, "resume_to", s, Status::parse))
        .transpose()?;
    Ok(Case {
        state: Incident {
            id: IncidentId(row.id),
            status: parse_enum(T, "status", &row.status, Status::parse)?,
            level: parse_enum(T, "level", &row.level, EscalationLevel::parse)?,
            assignee: row.assignee_id.map(WorkerId),
            handler: row.handler_id.map(WorkerId),
            deadline: row.deadline,
            rework_count,
            deferred: row.deferred,
            merged_into: row.merged_into.map(IncidentId),
            resume_to,
        },
        priority: parse_enum(T, "priority", &row.priority, Priority::parse)?,
        source: parse_enum(T, "source", &row.source, Source::parse)?,
        kind: parse_enum(T, "kind", &row.kind, CaseKind::parse)?,
        category: row.category_code,
        description: row.description,
        place: Place {
            lat: row.lat,
            lon: row.lon,
            cell: cell_from_i64(T, row.cell)?,
            grid: GridId(row.grid_id),
            community: RegionId(row.community_id),
            street: row.street_id.map(RegionId),
            district: row.district_id.map(RegionId),
            outside_m: row.outside_m,
        },
        reporter: row.reporter_token_id.map(TokenId),
        created_at: row.created_at,
        updated_at: row.updated_at,
        escalate_at: row.escalate_at,
        duplicate_of: row.duplicate_of.map(IncidentId),
        history,
        photos,
    })
}
