//! The map at a past moment `T`, as a subscriber whose filter is a bbox would have held it: the frame
//! at the last event committed at or before `T` (a keyframe and the events after it), each worker's
//! newest unflagged fix received by `T`, and each community's grids as its boundary version in force
//! at `T` had them. Filtered by the caller's scope and the bbox with the live stream's own rule
//! (`Filter::admits_at`), so a replay never shows what the live map would not have.

use chrono::{DateTime, Utc};
use geo::BoundingRect;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};

use super::{Frame, KEYFRAME_EVERY};
use crate::domain::{GridId, Principal, RegionId, RegionLevel, WorkerId};
use crate::live::filter::{Filter, FilterRequest, Item, Layer};
use crate::store::{Store, StoreError};
use crate::world::{Position, World};

/// Why there is no map at `T`.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("no event had been committed by {at}: the log starts at {first}")]
    BeforeLog {
        at: DateTime<Utc>,
        first: DateTime<Utc>,
    },
    #[error("the log is empty")]
    EmptyLog,
    #[error("the replay history starts at {starts} (seq {seq}); {at} is before it")]
    BeforeHistory {
        at: DateTime<Utc>,
        starts: DateTime<Utc>,
        seq: i64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One grid as it was at `T`.
#[derive(Debug, Clone)]
pub struct GridThen {
    /// The grid's id today; `None` for a grid that no longer exists under its code.
    pub id: Option<GridId>,
    pub code: String,
    pub name: String,
    pub community: RegionId,
    /// The boundary version it comes from; `None` for the grids as imported (never changed).
    pub version: Option<i64>,
    pub cells: Vec<h3o::CellIndex>,
}

/// What the store held of the map at `T`, before any filter.
#[derive(Debug)]
pub struct Then {
    pub at: DateTime<Utc>,
    pub frame: Frame,
    /// The keyframe the frame was read from.
    pub keyframe: i64,
    pub positions: FxHashMap<WorkerId, Position>,
}

/// The frame and positions at `at`.
pub async fn then(store: &dyn Store, at: DateTime<Utc>) -> Result<Then, ReplayError> {
    let Some(seq) = store.seq_at(at).await? else {
        return Err(match store.events_since(0, 1).await?.first() {
            Some(first) => ReplayError::BeforeLog {
                at,
                first: first.at,
            },
            None => ReplayError::EmptyLog,
        });
    };
    let Some(key) = store.keyframe_at(seq).await? else {
        return Err(match store.first_keyframe().await? {
            Some((seq, starts)) => ReplayError::BeforeHistory { at, starts, seq },
            // The keyframe writer has not written its first yet (a node that just started).
            None => ReplayError::Store(StoreError::Unavailable(
                "the replay history is being started; try again in a few seconds".into(),
            )),
        });
    };
    let mut frame = Frame::decode(&key.state).map_err(|reason| StoreError::Corrupt {
        table: "replay_keyframes",
        reason: format!("keyframe {}: {reason}", key.seq),
    })?;
    let page = u32::try_from((seq - frame.seq).clamp(0, KEYFRAME_EVERY)).unwrap_or(1_000);
    while frame.seq < seq {
        let events = store.events_since(frame.seq, page.max(1)).await?;
        if events.is_empty() {
            break;
        }
        for event in events.iter().take_while(|e| e.seq <= seq) {
            frame.apply(event);
        }
    }
    let positions = store.positions_at(at).await?.into_iter().collect();
    Ok(Then {
        at,
        frame,
        keyframe: key.seq,
        positions,
    })
}

/// The grids of every community whose boundary meets `bbox`, as they were at `at`: the community's
/// newest boundary version applied by then; before its first change, the baseline that change recorded;
/// a community never changed has the grids the world holds.
pub async fn grids_then(
    store: &dyn Store,
    communities: Vec<(RegionId, Vec<GridThen>)>,
    at: DateTime<Utc>,
) -> Result<Vec<GridThen>, StoreError> {
    let mut out = Vec::new();
    for (community, today) in communities {
        let versions = store.versions(community).await?;
        let chosen = versions
            .iter()
            .rev()
            .find(|v| v.applied_at <= at)
            .or_else(|| versions.first().filter(|v| v.plan.is_none()));
        match chosen {
            None => out.extend(today),
            Some(version) => {
                let ids: FxHashMap<&str, GridId> = today
                    .iter()
                    .filter_map(|g| Some((g.code.as_str(), g.id?)))
                    .collect();
                out.extend(
                    version
                        .grids
                        .iter()
                        .filter(|g| !g.cells.is_empty())
                        .map(|g| GridThen {
                            id: ids.get(g.code.as_str()).copied(),
                            code: g.code.clone(),
                            name: g.name.clone(),
                            community,
                            version: Some(version.id),
                            cells: g.cells.clone(),
                        }),
                );
            }
        }
    }
    Ok(out)
}

/// The communities whose boundary meets `bbox`, each with its grids as the world holds them now.
#[must_use]
pub fn communities_in(world: &World, bbox: [f64; 4]) -> Vec<(RegionId, Vec<GridThen>)> {
    let meets = |rect: geo::Rect<f64>| {
        rect.min().x <= bbox[2]
            && bbox[0] <= rect.max().x
            && rect.min().y <= bbox[3]
            && bbox[1] <= rect.max().y
    };
    let mut communities: Vec<(RegionId, Vec<GridThen>)> = world
        .regions()
        .filter(|r| r.level == RegionLevel::Community)
        .filter(|r| r.boundary.bounding_rect().is_some_and(meets))
        .map(|r| (r.id, Vec::new()))
        .collect();
    communities.sort_by_key(|(id, _)| *id);
    let index: FxHashMap<RegionId, usize> = communities
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    for grid in world.grids() {
        if let Some(&i) = index.get(&grid.community) {
            communities[i].1.push(GridThen {
                id: Some(grid.id),
                code: grid.code.clone(),
                name: grid.name.clone(),
                community: grid.community,
                version: None,
                cells: grid.cells.clone(),
            });
        }
    }
    communities
}

/// The map at `then.at` as `principal` with a `bbox` filter would have held it, as the JSON
/// `GET /api/replay/state` answers: `{at, seq, keyframe, incidents, workers, cameras, grids}`, each
/// list ordered by id (grids by code). `world` gives the caller's scope and the grids' ids today.
#[must_use]
pub fn view(
    world: &World,
    principal: &Principal,
    bbox: [f64; 4],
    then: &Then,
    grids: &[GridThen],
) -> Value {
    let filter = Filter::check(
        FilterRequest {
            bbox: Some(bbox),
            ..FilterRequest::default()
        },
        |_| true,
        |_| None::<std::iter::Empty<GridId>>,
        principal.worker,
    )
    .unwrap_or_default();
    let visibility = world.visibility(principal);
    let me_at = principal
        .worker
        .and_then(|w| then.positions.get(&w))
        .map(|p| (p.lat, p.lon));
    let admits = |item: &Item| filter.admits_at(item, &visibility, principal.worker, me_at);

    let incidents: Vec<&crate::domain::event::IncidentSummary> = then
        .frame
        .incidents
        .values()
        .filter(|s| {
            admits(&Item {
                layer: Layer::Incidents,
                point: Some((s.lat, s.lon)),
                grids: vec![s.grid],
                workers: [s.assignee, s.handler, None],
                open: true,
            })
        })
        .collect();
    let contacts = crate::domain::worker::sees_contacts(principal.role);
    let workers: Vec<Value> = then
        .frame
        .workers
        .values()
        .filter_map(|w| {
            let position = then.positions.get(&w.id);
            let item = Item {
                layer: Layer::Workers,
                point: position.map(|p| (p.lat, p.lon)),
                grids: w.grids.iter().map(|d| d.grid_id).collect(),
                workers: [Some(w.id), None, None],
                open: true,
            };
            admits(&item).then(|| {
                let mut value = w.for_client(contacts);
                value["position"] = position.map_or(
                    Value::Null,
                    |p| json!({"lat": p.lat, "lon": p.lon, "at": p.at}),
                );
                value
            })
        })
        .collect();
    let cameras: Vec<&crate::domain::camera::Camera> = then
        .frame
        .cameras
        .values()
        .filter(|c| {
            admits(&Item {
                layer: Layer::Cameras,
                point: Some((c.lat, c.lon)),
                grids: Vec::new(),
                workers: [None, None, None],
                open: true,
            })
        })
        .collect();
    let mut shown: Vec<Value> = grids
        .iter()
        .filter(|g| g.id.is_some_and(|id| visibility.grid(id)))
        .filter_map(|g| {
            let outline = gridwatch_geodata::cells::outline(&g.cells);
            let rect = outline.bounding_rect()?;
            let meets = rect.min().x <= bbox[2]
                && bbox[0] <= rect.max().x
                && rect.min().y <= bbox[3]
                && bbox[1] <= rect.max().y;
            meets.then(|| {
                json!({"id": g.id, "code": g.code, "name": g.name, "community": g.community,
                    "version": g.version, "cells": g.cells.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    "boundary": geojson::GeometryValue::from(&outline)})
            })
        })
        .collect();
    shown.sort_by(|a, b| a["code"].as_str().cmp(&b["code"].as_str()));
    json!({
        "at": then.at,
        "seq": then.frame.seq,
        "keyframe": then.keyframe,
        "incidents": incidents,
        "workers": workers,
        "cameras": cameras,
        "grids": shown,
    })
}
