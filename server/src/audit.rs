//! The audit trail (安全审计, GB/T 22239-2019 §8.1.4.3): who did what, when, from where, to what, with
//! what outcome — one row per committed change, written in the change's own transaction, and one per
//! refusal and authentication outcome. Rows are append-only (database triggers) and hash-chained: each
//! carries the SHA-256 of the previous row's hash and its own fields ([`hash`]), so a row changed or
//! removed by hand breaks the chain at that row ([`verify`], `gridwatch audit verify`).
//!
//! Who and where travel with the request, not through every function: the HTTP layer opens a
//! [`Context`] for each request ([`scope`]), authentication names the actor in it ([`identify`]),
//! `Core::write` carries it into the task that runs the write, and the store reads it when it commits
//! the write's events (`store/sql/tx.rs`). The intake writer, which commits many requests' cases in one
//! transaction, carries each report's context and opens a [`Context::group`] of them. A write with no
//! context (the escalation scheduler, the command line) is the system's.
//!
//! Must not: decide who may do what (`domain::permission`), or know SQL.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{Change, Event, Role};

/// The hash before the first row ever written: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub kind: ActorKind,
    /// The token's or user's id.
    pub id: Option<i64>,
    /// The token's label or the user's login name.
    pub name: Option<String>,
    pub role: Option<Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    Token,
    User,
    /// A tracker known by its device id (OsmAnd / Traccar Client): `id` and `name` are its worker's.
    Device,
    /// The server itself (the escalation scheduler) or the command line.
    System,
    /// A request that named no valid credential.
    Anonymous,
}

impl ActorKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::User => "user",
            Self::Device => "device",
            Self::System => "system",
            Self::Anonymous => "anonymous",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "token" => Some(Self::Token),
            "user" => Some(Self::User),
            "device" => Some(Self::Device),
            "system" => Some(Self::System),
            "anonymous" => Some(Self::Anonymous),
            _ => None,
        }
    }
}

impl Actor {
    #[must_use]
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: None,
            name: None,
            role: None,
        }
    }

    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            kind: ActorKind::Anonymous,
            ..Self::system()
        }
    }
}

/// Where a request came from and, once authenticated, who made it. Cheap to clone: clones share the
/// actor, so authentication inside a handler names the actor for the whole request.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub address: Option<String>,
    pub user_agent: Option<String>,
    actor: Arc<Mutex<Option<Actor>>>,
    /// The intake's group: one context a change, in commit order.
    group: Option<Arc<Mutex<std::collections::VecDeque<Option<Context>>>>>,
    /// The request's idempotency key (`principal`, `key`) while its handler runs: a transaction that
    /// commits a change under this context marks the key committed (`api/idempotency.rs`).
    request_key: Arc<Mutex<Option<(String, String)>>>,
}

impl Context {
    #[must_use]
    pub fn new(address: Option<String>, user_agent: Option<String>) -> Self {
        Self {
            address,
            user_agent,
            ..Self::default()
        }
    }

    /// The actor named so far (anonymous until authentication names one).
    #[must_use]
    pub fn actor(&self) -> Actor {
        self.actor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(Actor::anonymous)
    }

    fn name(&self, actor: Actor) {
        *self.actor.lock().unwrap_or_else(PoisonError::into_inner) = Some(actor);
    }

    /// A context whose changes are `members`' in order: the first change committed under it is the first
    /// member's, and so on (the intake's group commit); a member of `None`, and any change past the last
    /// member, is the system's.
    #[must_use]
    pub fn group(members: Vec<Option<Context>>) -> Self {
        Self {
            group: Some(Arc::new(Mutex::new(members.into()))),
            ..Self::default()
        }
    }

    /// Names the idempotency key of the request whose writes run under this context (`None`: none).
    pub fn set_request_key(&self, key: Option<(String, String)>) {
        *self
            .request_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = key;
    }

    /// The idempotency keys of the requests whose changes commit under this context: its own, or each
    /// member's of a group. Read when a transaction begins (a group's members are taken as it goes).
    #[must_use]
    pub fn request_keys(&self) -> Vec<(String, String)> {
        let own = |c: &Context| {
            c.request_key
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        };
        match &self.group {
            Some(group) => group
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .flatten()
                .filter_map(own)
                .collect(),
            None => own(self).into_iter().collect(),
        }
    }

    /// The context the next change committed under this one belongs to.
    fn for_next_change(&self) -> Option<Context> {
        match &self.group {
            Some(group) => group
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front()
                .flatten(),
            None => Some(self.clone()),
        }
    }
}

tokio::task_local! {
    static CONTEXT: Context;
}

/// The current task's context, if it runs under one.
#[must_use]
pub fn current() -> Option<Context> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// Runs `future` under `context` (or under none).
pub async fn scope<F: Future>(context: Option<Context>, future: F) -> F::Output {
    match context {
        Some(context) => CONTEXT.scope(context, future).await,
        None => future.await,
    }
}

/// Names the actor of the current request (after authentication). Outside a request, nothing.
pub fn identify(actor: Actor) {
    let _ = CONTEXT.try_with(|c| c.name(actor));
}

/// Records `entry` — something that changed nothing: a refusal, a failure — in a task of its own, so
/// the answer never waits for the store. An error is logged.
pub fn record_beside(store: &Arc<dyn crate::store::Store>, entry: Entry) {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        if let Err(error) = store.append_audit(vec![entry]).await {
            tracing::error!(%error, "could not record a refusal in the audit trail");
        }
    });
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done (a committed change, a successful login).
    Ok,
    /// Refused: no or a dead credential (401), or not permitted (403).
    Denied,
    /// Asked and refused for its content, or it failed (4xx other than 401/403, 5xx).
    Failed,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::Failed => "failed",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ok" => Some(Self::Ok),
            "denied" => Some(Self::Denied),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One row before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// `incident.created`, `http.denied`, `session.login_failed`, …
    pub action: String,
    /// What it was done to: `incident:7`, `POST /api/tokens`, …
    pub target: Option<String>,
    pub outcome: Outcome,
    /// A short free text (a status code, a reason); never a secret.
    pub detail: Option<String>,
}

impl Entry {
    /// A row for `action` under `context` (the current one when `None`).
    #[must_use]
    pub fn new(
        context: Option<&Context>,
        action: impl Into<String>,
        target: Option<String>,
        outcome: Outcome,
        detail: Option<String>,
    ) -> Self {
        let (actor, address, user_agent) = match context {
            Some(c) => (c.actor(), c.address.clone(), c.user_agent.clone()),
            None => (Actor::system(), None, None),
        };
        Self {
            at: Utc::now(),
            actor,
            address,
            user_agent,
            action: action.into(),
            target,
            outcome,
            detail,
        }
    }

    /// The row of a committed event, made under `context` (`None`: the system's). For a group
    /// context, each event takes the next member.
    #[must_use]
    pub fn of_event(event: &Event, context: Option<&Context>) -> Self {
        let member = context.and_then(Context::for_next_change);
        let mut entry = Self::new(
            member.as_ref(),
            event.change.kind(),
            target_of(&event.change),
            Outcome::Ok,
            Some(format!("seq {}", event.seq)),
        );
        entry.at = event.at;
        entry
    }
}

/// What a change was done to, as `noun:id[,id…]`.
#[must_use]
pub fn target_of(change: &Change) -> Option<String> {
    let one = |noun: &str, id: i64| Some(format!("{noun}:{id}"));
    match change {
        Change::CityImported(_) => Some("city".to_owned()),
        Change::RegionCreated(r) => one("region", r.id.0),
        Change::BuildingCreated(b) => one("building", b.id.0),
        Change::WorkerCreated(w) | Change::WorkerUpdated(w) => one("worker", w.id.0),
        Change::TokenCreated(t) => one("token", t.id.0),
        Change::TokenRevoked(t) => one("token", t.id.0),
        Change::UserCreated(u) | Change::UserUpdated(u) => one("user", u.id.0),
        Change::IncidentCreated(c) => one("incident", c.id.0),
        Change::IncidentUpdated(u) => {
            let ids: Vec<String> = u.incidents.iter().map(|c| c.id.0.to_string()).collect();
            Some(format!("incident:{}", ids.join(",")))
        }
        Change::IncidentPhotoAdded(p) => one("incident", p.incident.0),
        Change::CategoryUpdated(c) => Some(format!("category:{}", c.code)),
        Change::DepartmentUpdated(d) => Some(format!("department:{}", d.code)),
        Change::AlertRaised(_) => Some("alert".to_owned()),
        Change::CameraCreated(c) | Change::CameraUpdated(c) | Change::CameraDeleted(c) => {
            one("camera", c.id.0)
        }
        Change::PatrolStarted(p) | Change::PatrolEnded(p) => one("patrol", p.id.0),
        Change::PatrolGridEntered(c) | Change::PatrolGridExited(c) => one("patrol", c.patrol.0),
        Change::PatrolCheckedIn(c) => one("patrol", c.patrol.0),
        Change::CheckpointCreated(c) => one("checkpoint", c.id.0),
        Change::PlanCreated(p) => one("plan", p.id),
        Change::BoundaryChanged(b) => one("region", b.community.0),
        Change::AlarmAcknowledged(a) => Some(format!("alarm:{}", a.alarm.id)),
        Change::WarningRaised(w) => Some(format!("warning:{}", w.key)),
        Change::WarningCleared(c) => Some(format!("warning:{}", c.key)),
    }
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub seq: i64,
    #[serde(flatten)]
    pub entry: Entry,
    pub prev_hash: String,
    pub hash: String,
}

/// The SHA-256 (lower-case hex) of a row: the previous row's hash, then the row's fields as a JSON
/// array (so no field can run into the next), `at` at microsecond precision in UTC.
#[must_use]
pub fn hash(prev_hash: &str, seq: i64, entry: &Entry) -> String {
    let fields = serde_json::json!([
        seq,
        entry.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        entry.actor.kind.as_str(),
        entry.actor.id,
        entry.actor.name,
        entry.actor.role.map(Role::as_str),
        entry.address,
        entry.user_agent,
        entry.action,
        entry.target,
        entry.outcome.as_str(),
        entry.detail,
    ]);
    let mut digest = Sha256::new();
    digest.update(prev_hash.as_bytes());
    digest.update(b"\n");
    digest.update(fields.to_string().as_bytes());
    hex::encode(digest.finalize())
}

/// Chains `entries` after the row `(seq, hash)` (the last row kept, or the anchor).
#[must_use]
pub fn chain(after: (i64, &str), entries: Vec<Entry>) -> Vec<Row> {
    let (mut seq, mut prev) = (after.0, after.1.to_owned());
    entries
        .into_iter()
        .map(|mut entry| {
            // The stores keep microseconds: hash what is stored.
            entry.at = entry.at.trunc_subsecs(6);
            seq += 1;
            let digest = hash(&prev, seq, &entry);
            let prev_hash = std::mem::replace(&mut prev, digest.clone());
            Row {
                seq,
                entry,
                prev_hash,
                hash: digest,
            }
        })
        .collect()
}

/// The first link that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit chain breaks at row {seq}: {reason}")]
pub struct Broken {
    pub seq: i64,
    pub reason: &'static str,
}

/// Checks `rows` (in `seq` order) follow the anchor `(seq, hash)` and each other.
pub fn verify(anchor: (i64, &str), rows: &[Row]) -> Result<(), Broken> {
    let (mut seq, mut prev) = (anchor.0, anchor.1.to_owned());
    for row in rows {
        if row.seq != seq + 1 {
            return Err(Broken {
                seq: seq + 1,
                reason: "the row is missing",
            });
        }
        if row.prev_hash != prev {
            return Err(Broken {
                seq: row.seq,
                reason: "it does not follow the row before it",
            });
        }
        if hash(&row.prev_hash, row.seq, &row.entry) != row.hash {
            return Err(Broken {
                seq: row.seq,
                reason: "its fields are not those it was written with",
            });
        }
        seq = row.seq;
        prev.clone_from(&row.hash);
    }
    Ok(())
}

/// The rows as CSV (RFC 4180), with a header line.
#[must_use]
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "seq,at,actor_kind,actor_id,actor_name,actor_role,address,user_agent,action,target,outcome,detail,prev_hash,hash\r\n",
    );
    for r in rows {
        let e = &r.entry;
        let fields = [
            r.seq.to_string(),
            e.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            e.actor.kind.as_str().to_owned(),
            e.actor.id.map(|i| i.to_string()).unwrap_or_default(),
            e.actor.name.clone().unwrap_or_default(),
            e.actor
                .role
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            e.address.clone().unwrap_or_default(),
            e.user_agent.clone().unwrap_or_default(),
            e.action.clone(),
            e.target.clone().unwrap_or_default(),
            e.outcome.as_str().to_owned(),
            e.detail.clone().unwrap_or_default(),
            r.prev_hash.clone(),
            r.hash.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet never runs a user agent as a formula.
fn quote(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> Entry {
        Entry {
            at: "2026-12-06T10:00:00.123456Z".parse().expect("a time"),
            actor: Actor {
                kind: ActorKind::Token,
                id: Some(3),
                name: Some("指挥中心 desk".into()),
                role: Some(Role::Commander),
            },
            address: Some("10.0.0.7".into()),
            user_agent: Some("curl/8".into()),
            action: action.into(),
            target: Some("incident:7".into()),
            outcome: Outcome::Ok,
            detail: None,
        }
    }

    #[test]
    fn a_row_hashes_its_fields_after_the_previous_hash() {
        // Computed independently: sha256(GENESIS + "\n" + the JSON array below), with Python's hashlib.
        let text = format!(
            "{GENESIS}\n{}",
            r#"[1,"2026-12-06T10:00:00.123456Z","token",3,"指挥中心 desk","commander","10.0.0.7","curl/8","incident.updated","incident:7","ok",null]"#
        );
        let expected = hex::encode(Sha256::digest(text.as_bytes()));
        assert_eq!(hash(GENESIS, 1, &entry("incident.updated")), expected);
    }

    #[test]
    fn a_chain_verifies_and_any_change_breaks_it_where_it_was_made() {
        let rows = chain(
            (0, GENESIS),
            vec![entry("a"), entry("b"), entry("c"), entry("d")],
        );
        assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(rows[0].prev_hash, GENESIS);
        assert_eq!(rows[1].prev_hash, rows[0].hash);
        assert_eq!(verify((0, GENESIS), &rows), Ok(()));

        let mut edited = rows.clone();
        edited[2].entry.outcome = Outcome::Denied;
        assert_eq!(verify((0, GENESIS), &edited).map_err(|b| b.seq), Err(3));

        let mut rehashed = rows.clone();
        rehashed[1].entry.action = "x".into();
        rehashed[1].hash = hash(&rehashed[1].prev_hash, 2, &rehashed[1].entry);
        assert_eq!(
            verify((0, GENESIS), &rehashed).map_err(|b| b.seq),
            Err(3),
            "a row rehashed by hand breaks the link to the next"
        );

        let mut removed = rows.clone();
        removed.remove(1);
        assert_eq!(verify((0, GENESIS), &removed).map_err(|b| b.seq), Err(2));

        // After retention, the chain starts at the anchor.
        assert_eq!(verify((2, &rows[1].hash), &rows[2..]), Ok(()));
        assert_eq!(verify((2, GENESIS), &rows[2..]).map_err(|b| b.seq), Err(3));
    }

    #[test]
    fn a_group_context_gives_each_change_its_own_request() {
        let a = Context::new(Some("10.0.0.1".into()), None);
        let b = Context::new(Some("10.0.0.2".into()), None);
        let group = Context::group(vec![Some(a), None, Some(b)]);
        let addresses: Vec<Option<String>> = (0..4)
            .map(|_| group.for_next_change().and_then(|c| c.address))
            .collect();
        assert_eq!(
            addresses,
            [Some("10.0.0.1".into()), None, Some("10.0.0.2".into()), None]
        );
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut e = entry("http.denied");
        e.user_agent = Some("=HYPERLINK(\"x\")".into());
        e.detail = Some("a, b".into());
        let rows = chain((0, GENESIS), vec![e]);
        let text = csv(&rows);
        let line = text.lines().nth(1).expect("a row");
        assert!(line.contains(r#""'=HYPERLINK(""x"")""#), "{line}");
        assert!(line.contains(r#""a, b""#), "{line}");
    }
}
