//! Placeholder until the store implementation lands.
#![allow(clippy::unused_async)]

use async_trait::async_trait;

use super::{NewBuilding, NewCity, NewRegion, NewToken, NewWorker, Snapshot, Store, StoreError, StoreKind, TokenRecord};
use crate::domain::{Building, Event, GridId, Region, RegionId, Worker};

pub struct PgStore;

impl PgStore {
    pub async fn connect(_url: &str) -> Result<Self, StoreError> {
        Err(StoreError::Url("not implemented yet".into()))
    }
}

#[async_trait]
impl Store for PgStore {
    fn kind(&self) -> StoreKind { StoreKind::Sqlite }
    async fn snapshot(&self) -> Result<Snapshot, StoreError> { unimplemented!() }
    async fn import_city(&self, _c: &NewCity) -> Result<Event, StoreError> { unimplemented!() }
    async fn insert_region(&self, _r: &NewRegion, _p: Option<RegionId>) -> Result<(Region, Event), StoreError> { unimplemented!() }
    async fn insert_building(&self, _b: &NewBuilding, _g: Option<GridId>) -> Result<(Building, Event), StoreError> { unimplemented!() }
    async fn insert_worker(&self, _w: &NewWorker) -> Result<(Worker, Event), StoreError> { unimplemented!() }
    async fn update_worker(&self, _w: &Worker) -> Result<Event, StoreError> { unimplemented!() }
    async fn insert_token(&self, _t: &NewToken) -> Result<(TokenRecord, Event), StoreError> { unimplemented!() }
    async fn token_by_hash(&self, _h: &str) -> Result<Option<TokenRecord>, StoreError> { unimplemented!() }
    async fn events_since(&self, _a: i64, _l: u32) -> Result<Vec<Event>, StoreError> { unimplemented!() }
}
