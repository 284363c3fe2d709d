//! `/api/categories` and `/api/departments`: the data that decides time limits and who owns a category.
//!
//! Anyone with a token may read the categories (a reporter's app lists them); only an admin edits them,
//! through `admin::categories`.
//!
//! A category has two names, `name` (English) and `name_zh` (Chinese, or null): a page shows the one in
//! its language (`web-map/src/js/common/categories.js`), falling back to `name`. `clock` is `office`
//! (limits in working hours on the deployment's calendar, the default) or `always` (24/7).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{AppJson, AppPath};
use crate::auth::Auth;
use crate::domain::Permission;
use crate::domain::category::{CategoryClock, MAX_LIMIT_H};
use crate::domain::incident::CaseKind;
use crate::domain::{Category, CategoryClass, Department, TimeLimits, WorkerId};
use crate::error::ApiError;
use crate::state::AppState;

const MAX_CODE_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 200;
const MAX_MEMBERS: usize = 1000;

#[utoipa::path(get, path = "/api/categories", tag = "incidents",
    responses((status = 200, description = "every category, by code", body = [Category])), security(("bearer" = [])))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadCategories)?;
    let world = state.world();
    Ok(Json(Value::Array(world.categories().map(shown).collect())))
}

/// A category as the API shows it: every field, `clock` and `name_zh` included (the stored form leaves
/// out their defaults).
fn shown(category: &Category) -> Value {
    let mut value = json!(category);
    value["clock"] = json!(category.clock);
    value["name_zh"] = json!(category.name_zh);
    value
}

/// A category's fields; the code is in the path.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCategory {
    /// The name in English.
    name: String,
    /// The name in Chinese; omitted or null for none.
    #[serde(default)]
    name_zh: Option<String>,
    class: CategoryClass,
    department: Option<String>,
    limits: TimeLimits,
    kind: CaseKind,
    #[serde(default = "yes")]
    active: bool,
    /// `office` (the default) or `always` (24/7).
    #[serde(default)]
    clock: CategoryClock,
}

fn yes() -> bool {
    true
}

#[utoipa::path(put, path = "/api/categories/{code}", tag = "incidents", params(("code" = String, Path)),
    request_body = PutCategory, responses((status = 200, body = Category), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn put(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(code): AppPath<String>,
    AppJson(body): AppJson<PutCategory>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::EditCategories)?;
    if !body.limits.is_valid() {
        return Err(ApiError::invalid(format!(
            "every time limit must be a number of working hours in (0, {MAX_LIMIT_H}]"
        ))
        .with("field", "limits"));
    }
    let category = Category {
        code: checked_code(&code)?,
        name: checked_name(&body.name)?,
        name_zh: body
            .name_zh
            .as_deref()
            .map(|n| checked_name(n).map_err(|e| e.with("field", "name_zh")))
            .transpose()?,
        class: body.class,
        department: body.department,
        limits: body.limits,
        kind: body.kind,
        active: body.active,
        clock: body.clock,
    };
    Ok(Json(shown(
        &crate::admin::categories::put_category(state.core(), category).await?,
    )))
}

#[utoipa::path(get, path = "/api/departments", tag = "incidents",
    responses((status = 200, description = "every department, by code", body = [Department]),
        (status = 403)), security(("bearer" = [])))]
pub async fn departments(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.require(Permission::ReadDepartments)?;
    let world = state.world();
    Ok(Json(json!(world.departments().collect::<Vec<_>>())))
}

/// A department's fields; the code is in the path.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutDepartment {
    name: String,
    /// Workers in order of preference.
    #[serde(default)]
    members: Vec<WorkerId>,
}

#[utoipa::path(put, path = "/api/departments/{code}", tag = "incidents", params(("code" = String, Path)),
    request_body = PutDepartment, responses((status = 200, body = Department), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn put_department(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(code): AppPath<String>,
    AppJson(body): AppJson<PutDepartment>,
) -> Result<Json<Department>, ApiError> {
    auth.require(Permission::EditCategories)?;
    if body.members.len() > MAX_MEMBERS {
        return Err(ApiError::invalid(format!("at most {MAX_MEMBERS} members")));
    }
    let mut members = Vec::with_capacity(body.members.len());
    for member in body.members {
        if members.contains(&member) {
            return Err(
                ApiError::invalid(format!("worker {member} is listed twice"))
                    .with("field", "members"),
            );
        }
        members.push(member);
    }
    let department = Department {
        code: checked_code(&code)?,
        name: checked_name(&body.name)?,
        members,
    };
    Ok(Json(
        crate::admin::categories::put_department(state.core(), department).await?,
    ))
}

/// Codes are short ASCII identifiers (`street_order`), safe in URLs and as Open311 service codes.
fn checked_code(code: &str) -> Result<String, ApiError> {
    let ok = !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(code.to_owned())
    } else {
        Err(ApiError::invalid(format!(
            "a code is 1..={MAX_CODE_CHARS} characters of a-z, 0-9, '_' and '-'"
        )))
    }
}

fn checked_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let chars = name.chars().count();
    if name.is_empty() || chars > MAX_NAME_CHARS {
        return Err(
            ApiError::invalid(format!("name must be 1..={MAX_NAME_CHARS} characters"))
                .with("field", "name"),
        );
    }
    Ok(name.to_owned())
}
