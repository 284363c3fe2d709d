//! A `Store` that runs every call on another tokio runtime, so the database keeps real time while the
//! runtime under test has its clock paused.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gridwatch::domain::Change;
use gridwatch::domain::{
    Building, Case, Category, Department, Event, Fix, GridId, IncidentId, Photo, Region, RegionId,
    SessionId, TokenId, UserId, Worker, WorkerId,
};
use gridwatch::replay::Keyframe;
use gridwatch::store::History;
use gridwatch::store::history::ReportedCase;
use gridwatch::store::idempotency::{Claimed, Idempotency, KeyClaim, StoredAnswer};
use gridwatch::store::{
    Accounts, ArchiveQuery, IncidentUpdate, NewBuilding, NewCity, NewRegion, NewSession, NewToken,
    NewUser, NewWorker, SessionRecord, Snapshot, Store, StoreError, StoreKind, TokenRecord,
    UserRecord, UserUpdate,
};
use gridwatch::world::Position;
use tokio::runtime::Handle;

pub struct Remote {
    inner: Arc<dyn Store>,
    runtime: Handle,
}

impl Remote {
    pub fn new(inner: Arc<dyn Store>, runtime: Handle) -> Self {
        Self { inner, runtime }
    }

    /// Runs `call` on the store's runtime and waits for it: a join, which is no timer.
    async fn run<T: Send + 'static>(&self, call: impl Future<Output = T> + Send + 'static) -> T {
        self.runtime
            .spawn(call)
            .await
            .expect("the store task panicked")
    }
}

/// Forwards one method: clones the store and the arguments into a task on the store's runtime.
macro_rules! forward {
    ($self:ident, $method:ident $(, $arg:ident)*) => {{
        let store = $self.inner.clone();
        $(let $arg = $arg.to_owned();)*
        $self.run(async move { store.$method($(&$arg),*).await }).await
    }};
}

/// Forwards one method whose arguments are all `Copy` and passed by value.
macro_rules! forward_copy {
    ($self:ident, $method:ident $(, $arg:ident)*) => {{
        let store = $self.inner.clone();
        $self.run(async move { store.$method($($arg),*).await }).await
    }};
}

#[async_trait]
impl Accounts for Remote {
    async fn insert_user(&self, user: &NewUser) -> Result<(UserRecord, Event), StoreError> {
        let (store, user) = (self.inner.clone(), user.clone());
        self.run(async move { store.insert_user(&user).await })
            .await
    }

    async fn update_user(&self, update: &UserUpdate) -> Result<(UserRecord, Event), StoreError> {
        let (store, update) = (self.inner.clone(), update.clone());
        self.run(async move { store.update_user(&update).await })
            .await
    }

    async fn user(&self, id: UserId) -> Result<Option<UserRecord>, StoreError> {
        forward_copy!(self, user, id)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let (store, name) = (self.inner.clone(), name.to_owned());
        self.run(async move { store.user_by_name(&name).await })
            .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        forward_copy!(self, users)
    }

    async fn user_versions(&self) -> Result<Vec<(UserId, i64)>, StoreError> {
        forward_copy!(self, user_versions)
    }

    async fn count_login_attempt(&self, id: UserId) -> Result<u32, StoreError> {
        forward_copy!(self, count_login_attempt, id)
    }

    async fn lock_user(
        &self,
        id: UserId,
        until: DateTime<Utc>,
        entry: gridwatch::audit::Entry,
    ) -> Result<(), StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.lock_user(id, until, entry).await })
            .await
    }

    async fn open_session(
        &self,
        session: &NewSession,
        totp_step: Option<i64>,
        entry: gridwatch::audit::Entry,
    ) -> Result<SessionRecord, StoreError> {
        let (store, session) = (self.inner.clone(), session.clone());
        self.run(async move { store.open_session(&session, totp_step, entry).await })
            .await
    }

    async fn session_by_hash(&self, hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let (store, hash) = (self.inner.clone(), hash.to_owned());
        self.run(async move { store.session_by_hash(&hash).await })
            .await
    }

    async fn session(&self, id: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        forward_copy!(self, session, id)
    }

    async fn sessions_of(&self, user: UserId) -> Result<Vec<SessionRecord>, StoreError> {
        forward_copy!(self, sessions_of, user)
    }

    async fn revoke_session(
        &self,
        id: SessionId,
        at: DateTime<Utc>,
        entry: gridwatch::audit::Entry,
    ) -> Result<bool, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.revoke_session(id, at, entry).await })
            .await
    }

    async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        forward_copy!(self, touch_session, id, at)
    }

    async fn revoked_sessions(&self, since: DateTime<Utc>) -> Result<Vec<SessionId>, StoreError> {
        forward_copy!(self, revoked_sessions, since)
    }
}

#[async_trait]
impl Idempotency for Remote {
    async fn claim_key(
        &self,
        claim: &KeyClaim,
        expired_before: DateTime<Utc>,
        abandoned_before: DateTime<Utc>,
    ) -> Result<Claimed, StoreError> {
        let (store, claim) = (self.inner.clone(), claim.clone());
        self.run(async move {
            store
                .claim_key(&claim, expired_before, abandoned_before)
                .await
        })
        .await
    }

    async fn finish_key(
        &self,
        principal: &str,
        key: &str,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        forward!(self, finish_key, principal, key, answer)
    }

    async fn release_key(&self, principal: &str, key: &str) -> Result<(), StoreError> {
        forward!(self, release_key, principal, key)
    }

    async fn prune_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        forward_copy!(self, prune_keys, before)
    }
}

#[async_trait]
impl History for Remote {
    async fn insert_keyframe(&self, keyframe: &Keyframe) -> Result<(), StoreError> {
        let (store, keyframe) = (self.inner.clone(), keyframe.clone());
        self.run(async move { store.insert_keyframe(&keyframe).await })
            .await
    }

    async fn keyframe_at(&self, seq: i64) -> Result<Option<Keyframe>, StoreError> {
        forward_copy!(self, keyframe_at, seq)
    }

    async fn first_keyframe(&self) -> Result<Option<(i64, DateTime<Utc>)>, StoreError> {
        forward_copy!(self, first_keyframe)
    }

    async fn seq_at(&self, at: DateTime<Utc>) -> Result<Option<i64>, StoreError> {
        forward_copy!(self, seq_at, at)
    }

    async fn positions_at(
        &self,
        at: DateTime<Utc>,
    ) -> Result<Vec<(WorkerId, Position)>, StoreError> {
        forward_copy!(self, positions_at, at)
    }

    async fn cases_since(&self, since: DateTime<Utc>) -> Result<Vec<ReportedCase>, StoreError> {
        forward_copy!(self, cases_since, since)
    }

    async fn fixes_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(WorkerId, Position, DateTime<Utc>)>, StoreError> {
        forward_copy!(self, fixes_between, after, until, limit)
    }

    async fn insert_warnings(&self, changes: &[Change]) -> Result<Vec<Event>, StoreError> {
        let (store, changes) = (self.inner.clone(), changes.to_vec());
        self.run(async move { store.insert_warnings(&changes).await })
            .await
    }
}

#[async_trait]
impl Store for Remote {
    fn kind(&self) -> StoreKind {
        self.inner.kind()
    }

    async fn ping(&self, within: std::time::Duration) -> Result<(), StoreError> {
        forward_copy!(self, ping, within)
    }

    async fn snapshot(
        &self,
        archived_before: Option<DateTime<Utc>>,
    ) -> Result<Snapshot, StoreError> {
        forward_copy!(self, snapshot, archived_before)
    }

    async fn incident(&self, id: IncidentId) -> Result<Option<Case>, StoreError> {
        forward_copy!(self, incident, id)
    }

    async fn archived(
        &self,
        query: &ArchiveQuery,
        limit: u64,
    ) -> Result<(u64, Vec<IncidentId>), StoreError> {
        let (store, query) = (self.inner.clone(), query.clone());
        self.run(async move { store.archived(&query, limit).await })
            .await
    }

    async fn incidents_in(&self, ids: &[IncidentId]) -> Result<Vec<Case>, StoreError> {
        forward!(self, incidents_in, ids)
    }

    async fn import_city(&self, city: &NewCity) -> Result<Event, StoreError> {
        forward!(self, import_city, city)
    }

    async fn insert_region(
        &self,
        region: &NewRegion,
        parent: Option<RegionId>,
    ) -> Result<(Region, Event), StoreError> {
        let (store, region) = (self.inner.clone(), region.clone());
        self.run(async move { store.insert_region(&region, parent).await })
            .await
    }

    async fn insert_building(
        &self,
        building: &NewBuilding,
        grid: Option<GridId>,
    ) -> Result<(Building, Event), StoreError> {
        let (store, building) = (self.inner.clone(), building.clone());
        self.run(async move { store.insert_building(&building, grid).await })
            .await
    }

    async fn insert_worker(&self, worker: &NewWorker) -> Result<(Worker, Event), StoreError> {
        forward!(self, insert_worker, worker)
    }

    async fn update_worker(&self, worker: &Worker) -> Result<Event, StoreError> {
        forward!(self, update_worker, worker)
    }

    async fn insert_token(&self, token: &NewToken) -> Result<(TokenRecord, Event), StoreError> {
        forward!(self, insert_token, token)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        forward!(self, token_by_hash, hash)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        forward!(self, tokens)
    }

    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.token(id).await }).await
    }

    async fn revoke_token(
        &self,
        id: TokenId,
        by: Option<TokenId>,
    ) -> Result<Option<Event>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.revoke_token(id, by).await })
            .await
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.touch_token(id, at).await })
            .await
    }

    async fn revoked_tokens(&self) -> Result<Vec<TokenId>, StoreError> {
        forward!(self, revoked_tokens)
    }

    async fn append_audit(&self, entries: Vec<gridwatch::audit::Entry>) -> Result<(), StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.append_audit(entries).await })
            .await
    }

    async fn audit_rows(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<gridwatch::audit::Row>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.audit_rows(after, limit).await })
            .await
    }

    async fn find_audit(
        &self,
        query: &gridwatch::store::AuditQuery,
    ) -> Result<Vec<gridwatch::audit::Row>, StoreError> {
        forward!(self, find_audit, query)
    }

    async fn audit_anchor(&self) -> Result<(i64, String), StoreError> {
        forward!(self, audit_anchor)
    }

    async fn prune_audit(&self, seq: i64, hash: &str) -> Result<u64, StoreError> {
        let store = self.inner.clone();
        let hash = hash.to_owned();
        self.run(async move { store.prune_audit(seq, &hash).await })
            .await
    }

    async fn put_category(&self, category: &Category) -> Result<Event, StoreError> {
        forward!(self, put_category, category)
    }

    async fn put_department(&self, department: &Department) -> Result<Event, StoreError> {
        forward!(self, put_department, department)
    }

    async fn insert_incident(&self, case: &Case) -> Result<(Case, Event), StoreError> {
        forward!(self, insert_incident, case)
    }

    async fn insert_incidents(&self, cases: &[Case]) -> Result<Vec<(Case, Event)>, StoreError> {
        let (store, cases) = (self.inner.clone(), cases.to_vec());
        self.run(async move { store.insert_incidents(&cases).await })
            .await
    }

    async fn update_incidents(&self, updates: &[IncidentUpdate]) -> Result<Event, StoreError> {
        let (store, updates) = (self.inner.clone(), updates.to_vec());
        self.run(async move { store.update_incidents(&updates).await })
            .await
    }

    async fn add_photo(
        &self,
        incident: IncidentId,
        photo: &Photo,
        data: &[u8],
    ) -> Result<Event, StoreError> {
        let (store, photo, data) = (self.inner.clone(), photo.clone(), data.to_vec());
        self.run(async move { store.add_photo(incident, &photo, &data).await })
            .await
    }

    async fn photo(&self, sha256: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        forward!(self, photo, sha256)
    }

    async fn thumbnail(&self, sha256: &str) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        forward!(self, thumbnail, sha256)
    }

    async fn put_thumbnail(&self, sha256: &str, data: Option<Vec<u8>>) -> Result<(), StoreError> {
        let store = self.inner.clone();
        let sha256 = sha256.to_owned();
        self.run(async move { store.put_thumbnail(&sha256, data).await })
            .await
    }

    async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<Event>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.events_since(after, limit).await })
            .await
    }

    async fn last_seq(&self) -> Result<i64, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.last_seq().await }).await
    }

    async fn insert_alert(
        &self,
        alert: &gridwatch::domain::event::AlertRaised,
    ) -> Result<Event, StoreError> {
        let (store, alert) = (self.inner.clone(), alert.clone());
        self.run(async move { store.insert_alert(&alert).await })
            .await
    }

    async fn insert_alarm_ack(
        &self,
        ack: &gridwatch::domain::alarm::AlarmAcknowledged,
    ) -> Result<Event, StoreError> {
        let (store, ack) = (self.inner.clone(), ack.clone());
        self.run(async move { store.insert_alarm_ack(&ack).await })
            .await
    }

    async fn insert_fixes(
        &self,
        fixes: &[Fix],
        received_at: DateTime<Utc>,
        audit: Vec<gridwatch::audit::Entry>,
    ) -> Result<(), StoreError> {
        let (store, fixes) = (self.inner.clone(), fixes.to_vec());
        self.run(async move { store.insert_fixes(&fixes, received_at, audit).await })
            .await
    }

    async fn track(
        &self,
        worker: WorkerId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Fix>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.track(worker, from, to, limit).await })
            .await
    }

    async fn patrol_book(&self) -> Result<gridwatch::domain::patrol::PatrolBook, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.patrol_book().await }).await
    }

    async fn insert_patrol(
        &self,
        worker: WorkerId,
        started_at: DateTime<Utc>,
    ) -> Result<(gridwatch::domain::patrol::Patrol, Event), StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.insert_patrol(worker, started_at).await })
            .await
    }

    async fn end_patrol(
        &self,
        patrol: gridwatch::domain::PatrolId,
        ended_at: DateTime<Utc>,
    ) -> Result<(gridwatch::domain::patrol::Patrol, Event), StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.end_patrol(patrol, ended_at).await })
            .await
    }

    async fn insert_checkpoint(
        &self,
        checkpoint: &gridwatch::domain::patrol::NewCheckpoint,
    ) -> Result<(gridwatch::domain::patrol::Checkpoint, Event), StoreError> {
        let (store, checkpoint) = (self.inner.clone(), checkpoint.clone());
        self.run(async move { store.insert_checkpoint(&checkpoint).await })
            .await
    }

    async fn record_patrol_progress(
        &self,
        progress: &gridwatch::domain::patrol::Progress,
    ) -> Result<Vec<Event>, StoreError> {
        let (store, progress) = (self.inner.clone(), progress.clone());
        self.run(async move { store.record_patrol_progress(&progress).await })
            .await
    }

    async fn insert_cameras(
        &self,
        cameras: &[gridwatch::domain::camera::NewCamera],
    ) -> Result<Vec<(gridwatch::domain::camera::Camera, Event)>, StoreError> {
        let (store, cameras) = (self.inner.clone(), cameras.to_vec());
        self.run(async move { store.insert_cameras(&cameras).await })
            .await
    }

    async fn update_camera(
        &self,
        camera: &gridwatch::domain::camera::Camera,
    ) -> Result<Event, StoreError> {
        let (store, camera) = (self.inner.clone(), camera.clone());
        self.run(async move { store.update_camera(&camera).await })
            .await
    }

    async fn delete_camera(&self, id: gridwatch::domain::CameraId) -> Result<Event, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.delete_camera(id).await }).await
    }

    async fn insert_plan(
        &self,
        plan: &gridwatch::store::boundary::NewPlan,
    ) -> Result<(gridwatch::store::boundary::PlanRecord, Event), StoreError> {
        forward!(self, insert_plan, plan)
    }

    async fn plans(
        &self,
        community: RegionId,
    ) -> Result<Vec<gridwatch::store::boundary::PlanRecord>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.plans(community).await }).await
    }

    async fn plan(
        &self,
        id: i64,
    ) -> Result<Option<gridwatch::store::boundary::PlanRecord>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.plan(id).await }).await
    }

    async fn versions(
        &self,
        community: RegionId,
    ) -> Result<Vec<gridwatch::store::boundary::VersionRecord>, StoreError> {
        let store = self.inner.clone();
        self.run(async move { store.versions(community).await })
            .await
    }

    async fn apply_boundary(
        &self,
        change: &gridwatch::store::boundary::BoundaryChange,
    ) -> Result<gridwatch::store::boundary::BoundaryApplied, StoreError> {
        forward!(self, apply_boundary, change)
    }
}
