//! A case's history as a page reads it: every stored [`HistoryEntry`] with the names it refers to
//! resolved at read time — who acted (`actor_name`, `actor_kind`), the worker a dispatch, reassign,
//! reopen or routing decision went to (`detail.to_name`, `detail.from_name`, `detail.route.worker_name`)
//! — so a page renders each line in its own language from structured data, never from stored prose.
//!
//! Names are read when asked, not stored: a renamed worker reads under the new name everywhere.
//! Old automatic escalations carried an English note (`督办: overdue since <time>`) and the escalation
//! time as `overdue_since`; they are read as the structured form (no note, `overdue_since` the deadline
//! in effect then). This module shapes JSON only; it changes nothing stored.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::domain::incident::HistoryEntry;
use crate::domain::{Case, Role, TokenId, UserId, WorkerId};
use crate::store::Store;
use crate::world::World;

/// The prose the scheduler stored before escalations were structured.
const LEGACY_ESCALATION_NOTE: &str = "督办: overdue since ";

/// Who acted, as `actor_kind`: a worker, a signed-in person, a machine's token, the server itself, or
/// only a role (an entry written before the caller was recorded).
fn actor_kind(entry: &HistoryEntry) -> &'static str {
    let detail = entry.detail.as_ref();
    let by = |key: &str| detail.and_then(|d| d.get("by")?.get(key)).is_some();
    if entry.actor.worker.is_some() {
        "worker"
    } else if by("user") {
        "user"
    } else if by("token") {
        "token"
    } else if entry.actor.role == Role::Admin
        && (detail.and_then(|d| d.get("automatic")) == Some(&json!(true))
            || entry.action == "register")
    {
        // The server's own actor (`cases::SYSTEM`): routing, automatic dispatch, supervision.
        "system"
    } else {
        "role"
    }
}

fn worker_name(world: &World, id: &Value) -> Value {
    id.as_i64()
        .and_then(|id| world.worker(WorkerId(id)))
        .map_or(Value::Null, |w| json!(w.name))
}

/// The history of `case` as JSON, oldest first, with the world's names resolved.
#[must_use]
pub fn entries(world: &World, case: &Case) -> Value {
    // The deadline in effect at each entry: the register entry's, moved by each extension.
    let mut deadline = case
        .history
        .first()
        .and_then(|e| e.detail.as_ref()?.get("deadline").cloned())
        .or_else(|| case.state.deadline.map(|d| json!(d)))
        .unwrap_or(Value::Null);
    let lines: Vec<Value> = case
        .history
        .iter()
        .map(|entry| {
            let mut line = json!(entry);
            let kind = actor_kind(entry);
            line["actor_kind"] = json!(kind);
            line["actor_name"] = match entry.actor.worker {
                Some(id) => worker_name(world, &json!(id)),
                None => Value::Null,
            };
            if let Some(detail) = line.get_mut("detail").and_then(Value::as_object_mut) {
                for (id, name) in [("to", "to_name"), ("from", "from_name")] {
                    if let Some(worker) = detail.get(id).filter(|v| v.is_i64()) {
                        let named = worker_name(world, worker);
                        detail.insert(name.into(), named);
                    }
                }
                if let Some(route) = detail.get_mut("route").and_then(Value::as_object_mut)
                    && let Some(worker) = route.get("worker").filter(|v| v.is_i64())
                {
                    let named = worker_name(world, worker);
                    route.insert("worker_name".into(), named);
                }
            }
            match entry.action.as_str() {
                "extend" => {
                    if let Some(until) = entry.detail.as_ref().and_then(|d| d.get("until")) {
                        deadline = until.clone();
                    }
                }
                "escalate"
                    if entry
                        .note
                        .as_deref()
                        .is_some_and(|n| n.starts_with(LEGACY_ESCALATION_NOTE)) =>
                {
                    line["note"] = Value::Null;
                    line["detail"]["automatic"] = json!(true);
                    line["detail"]["overdue_since"] = deadline.clone();
                }
                _ => {}
            }
            line
        })
        .collect();
    Value::Array(lines)
}

/// Fills `actor_name` of the lines a signed-in person or a token wrote (`detail.by`), from the store:
/// people's display names and tokens' labels. A name that cannot be read stays `null`.
pub async fn name_callers(store: &dyn Store, history: &mut Value) {
    let Some(lines) = history.as_array_mut() else {
        return;
    };
    let mut users: BTreeMap<i64, Value> = BTreeMap::new();
    let mut tokens: BTreeMap<i64, Value> = BTreeMap::new();
    for line in lines.iter() {
        let by = &line["detail"]["by"];
        if let Some(id) = by["user"].as_i64() {
            users.entry(id).or_insert(Value::Null);
        }
        if let Some(id) = by["token"].as_i64() {
            tokens.entry(id).or_insert(Value::Null);
        }
    }
    for (id, name) in &mut users {
        if let Ok(Some(user)) = store.user(UserId(*id)).await {
            *name = json!(user.display_name);
        }
    }
    for (id, name) in &mut tokens {
        if let Ok(Some(token)) = store.token(TokenId(*id)).await {
            *name = json!(token.label);
        }
    }
    for line in lines.iter_mut() {
        let by = &line["detail"]["by"];
        let name = match (by["user"].as_i64(), by["token"].as_i64()) {
            (Some(id), _) => users.get(&id).cloned(),
            (None, Some(id)) => tokens.get(&id).cloned(),
            (None, None) => None,
        };
        if let Some(name) = name
            && line["actor_name"].is_null()
        {
            line["actor_name"] = name;
        }
    }
}
