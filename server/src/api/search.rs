//! `GET /api/search?q=…&limit=…`: one box for the command centre's operator — a case by its number
//! (`123`, `#123`), cases by the words of their description (full text in the store, open, finished
//! and archived alike, Chinese included: `store::search`), grids by code or name, and places —
//! districts, streets, communities — by name or code. Buildings carry no address in this model (an
//! OSM id, a kind, levels and households), so there is no address to search; a region's name is the
//! place a caller can name.
//!
//! Everything answered is what the caller may see: cases through the same rule as every case read
//! (`cases::actions::can_see`, pushed into the store's query as a `Seer`), grids and places only with
//! `read_map` and only inside the caller's scope.

use axum::Json;
use axum::extract::State;
use geo::{BoundingRect, Centroid, MultiPolygon};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};

use super::AppQuery;
use crate::auth::Auth;
use crate::cases::{actions, archive};
use crate::domain::incident::{Priority, Status};
use crate::domain::{Case, GridId, IncidentId, Permission, RegionId, RegionLevel};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::search::{CaseSearch, TextQuery, TextQueryError};
use crate::world::{Visibility, World};

const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A case number (`123`, `#123`), words of a case's description (every word must appear; any
    /// script, Chinese included), a grid code or name, or a place name. 1 to 100 characters, at most
    /// 8 words.
    #[param(min_length = 1, max_length = 100)]
    q: String,
    /// At most this many of each kind (default 10, at most 50).
    #[param(minimum = 1, maximum = 50)]
    limit: Option<u32>,
}

/// What a search found, by kind, each list best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    /// The query as given, trimmed.
    query: String,
    /// The case with that number first, then cases by text, newest first.
    cases: Vec<CaseHit>,
    /// Grids by code (exact, then prefix, then anywhere) or name; `read_map` only.
    grids: Vec<AreaHit>,
    /// Districts, streets and communities by name or code; `read_map` only.
    places: Vec<AreaHit>,
}

/// How a case matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseMatch {
    Number,
    Text,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseHit {
    id: IncidentId,
    #[serde(rename = "match")]
    matched: CaseMatch,
    status: Status,
    priority: Priority,
    category: String,
    description: String,
    grid_id: GridId,
    grid_code: Option<String>,
    /// Degrees (EPSG:4326).
    lon: f64,
    /// Degrees (EPSG:4326).
    lat: f64,
    #[schema(value_type = String, format = DateTime)]
    created_at: chrono::DateTime<chrono::Utc>,
}

/// A grid or a region: where to fly to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AreaHit {
    id: i64,
    /// `grid`, or the region's level (`district`, `street`, `community`).
    kind: String,
    code: String,
    name: String,
    /// The outline's centroid, degrees (EPSG:4326, lon/lat order).
    center: Option<[f64; 2]>,
    /// `[min_lon, min_lat, max_lon, max_lat]`, degrees.
    bbox: Option<[f64; 4]>,
}

#[utoipa::path(get, path = "/api/search", tag = "incidents", params(SearchQuery),
    responses((status = 200, description = "cases, grids and places the caller may see", body = SearchResults),
        (status = 400, description = "a parameter of the wrong type"), (status = 403),
        (status = 422, description = "empty or oversized `q`, control characters, too many words, or `limit` out of range")),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(query): AppQuery<SearchQuery>,
) -> Result<Json<SearchResults>, ApiError> {
    auth.require(Permission::ReadCases)?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!("limit must be 1..={MAX_LIMIT}")));
    }
    let text = checked_text(&query.q)?;
    let raw = query.q.trim().to_owned();
    let number = case_number(&raw);
    let map = auth.may(Permission::ReadMap);
    let (seer, grids, places) = {
        let world = state.world();
        let visibility = world.visibility(&auth.0);
        let (grids, places) = if map {
            (
                grid_hits(&world, &visibility, &raw, limit),
                place_hits(&world, &visibility, &raw, limit),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        (archive::seer(&world, &auth.0), grids, places)
    };
    let mut ids: Vec<(IncidentId, CaseMatch)> = Vec::new();
    if let Some(id) = number
        && let Some(case) = archive::find(state.core(), id).await?
        && actions::can_see(&state.world(), &auth.0, &case)
    {
        ids.push((id, CaseMatch::Number));
    }
    let found = state
        .store()
        .search_cases(&CaseSearch {
            text,
            seen_by: seer,
            limit,
        })
        .await?;
    for id in found {
        if ids.len() >= usize::try_from(limit).unwrap_or(usize::MAX) {
            break;
        }
        if !ids.iter().any(|(seen, _)| *seen == id) {
            ids.push((id, CaseMatch::Text));
        }
    }
    let order: Vec<IncidentId> = ids.iter().map(|(id, _)| *id).collect();
    let loaded = archive::cases(state.core(), &order).await?;
    let world = state.world();
    let cases = loaded
        .iter()
        // Read again: the store's rule and the world's are the same, but the world's is the one
        // every other read answers by.
        .filter(|c| actions::can_see(&world, &auth.0, c))
        .filter_map(|c| {
            let matched = ids.iter().find(|(id, _)| *id == c.id())?.1;
            Some(case_hit(&world, c, matched))
        })
        .collect();
    Ok(Json(SearchResults {
        query: raw,
        cases,
        grids,
        places,
    }))
}

/// The query's words, or a 422 saying what is wrong with them (`code` for the page to say it in its
/// language).
pub(super) fn checked_text(q: &str) -> Result<TextQuery, ApiError> {
    TextQuery::parse(q).map_err(|e| {
        let error = ApiError::invalid(format!("q: {e}"));
        match e {
            TextQueryError::TooLong { max } => error.code("search_too_long").with("max", max),
            TextQueryError::TooManyTerms { max } => {
                error.code("search_too_many_words").with("max", max)
            }
            TextQueryError::Empty => error.code("search_empty"),
            TextQueryError::Control => error.code("search_control_characters"),
        }
    })
}

/// `123`, `#123` or `＃123` as a case number.
fn case_number(q: &str) -> Option<IncidentId> {
    let digits = q
        .strip_prefix('#')
        .or_else(|| q.strip_prefix('＃'))
        .unwrap_or(q);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .map(IncidentId)
}

fn case_hit(world: &World, case: &Case, matched: CaseMatch) -> CaseHit {
    CaseHit {
        id: case.id(),
        matched,
        status: case.state.status,
        priority: case.priority,
        category: case.category.clone(),
        description: case.description.clone(),
        grid_id: case.place.grid,
        grid_code: world.grid(case.place.grid).map(|g| g.code.clone()),
        lon: case.place.lon,
        lat: case.place.lat,
        created_at: case.created_at,
    }
}

/// How well `code`/`name` answer `q`: 0 an exact code, 1 a code prefix, 2 a code or name holding it;
/// `None`, not at all.
fn rank(code: &str, name: &str, q: &str) -> Option<u8> {
    let q = q.to_lowercase();
    if code.eq_ignore_ascii_case(&q) {
        Some(0)
    } else if code.to_lowercase().starts_with(&q) {
        Some(1)
    } else if code.to_lowercase().contains(&q) || name.to_lowercase().contains(&q) {
        Some(2)
    } else {
        None
    }
}

fn outline(boundary: &MultiPolygon<f64>) -> (Option<[f64; 2]>, Option<[f64; 4]>) {
    let center = boundary.centroid().map(|p| [p.x(), p.y()]);
    let bbox = boundary
        .bounding_rect()
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    (center, bbox)
}

fn grid_hits(world: &World, visibility: &Visibility, q: &str, limit: u32) -> Vec<AreaHit> {
    let mut hits: Vec<(u8, &crate::domain::Grid)> = world
        .grids()
        .filter(|g| visibility.grid(g.id))
        .filter_map(|g| rank(&g.code, &g.name, q).map(|r| (r, g)))
        .collect();
    hits.sort_by(|a, b| (a.0, &a.1.code).cmp(&(b.0, &b.1.code)));
    hits.into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|(_, g)| {
            let (center, bbox) = outline(&g.boundary);
            AreaHit {
                id: g.id.0,
                kind: "grid".into(),
                code: g.code.clone(),
                name: g.name.clone(),
                center,
                bbox,
            }
        })
        .collect()
}

/// Regions the caller may see: all, or those above one of their visible grids.
fn visible_regions(world: &World, visibility: &Visibility) -> Option<FxHashSet<RegionId>> {
    let Visibility::Grids(grids) = visibility else {
        return None;
    };
    let mut set = FxHashSet::default();
    for links in grids.iter().filter_map(|&g| world.grid_links(g)) {
        set.insert(links.community);
        set.extend(links.street);
        set.extend(links.district);
    }
    Some(set)
}

fn place_hits(world: &World, visibility: &Visibility, q: &str, limit: u32) -> Vec<AreaHit> {
    let allowed = visible_regions(world, visibility);
    let mut hits: Vec<(u8, &crate::domain::Region)> = world
        .regions()
        .filter(|r| allowed.as_ref().is_none_or(|a| a.contains(&r.id)))
        .filter_map(|r| rank(&r.code, &r.name, q).map(|rank| (rank, r)))
        .collect();
    hits.sort_by(|a, b| (a.0, &a.1.code).cmp(&(b.0, &b.1.code)));
    hits.into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|(_, r)| {
            let (center, bbox) = outline(&r.boundary);
            AreaHit {
                id: r.id.0,
                kind: match r.level {
                    RegionLevel::District => "district",
                    RegionLevel::Street => "street",
                    RegionLevel::Community => "community",
                }
                .into(),
                code: r.code.clone(),
                name: r.name.clone(),
                center,
                bbox,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_numbers() {
        assert_eq!(case_number("123"), Some(IncidentId(123)));
        assert_eq!(case_number("#123"), Some(IncidentId(123)));
        assert_eq!(case_number("＃7"), Some(IncidentId(7)));
        assert_eq!(case_number("0"), None);
        assert_eq!(case_number("#"), None);
        assert_eq!(case_number("12a"), None);
        assert_eq!(case_number("-3"), None);
        assert_eq!(case_number(&"9".repeat(30)), None);
    }

    #[test]
    fn ranks() {
        assert_eq!(
            rank("140105001001001", "一网格", "140105001001001"),
            Some(0)
        );
        assert_eq!(rank("140105001001001", "一网格", "140105"), Some(1));
        assert_eq!(rank("140105001001001", "一网格", "001001"), Some(2));
        assert_eq!(rank("140105001001001", "一网格", "网格"), Some(2));
        assert_eq!(rank("140105001001001", "一网格", "二"), None);
    }
}
