//! OpenStreetMap PBF import: buildings, base-map lines and areas, and administrative
//! boundaries into a [`Dataset`].
//!
//! Owns the tag rules below and the three-pass read (relations, then the ways they and the
//! tags need, then only the nodes those ways use), so memory follows what is kept, not the
//! size of the extract. Output is in degrees (EPSG:4326, lon/lat order). It must not plan
//! grids or know about H3.
//!
//! What is kept:
//! - buildings: closed ways with `building=*` (not `building=no`) and `type=multipolygon`
//!   relations with `building=*`; households from `building:flats` when tagged, else
//!   [`households::estimate`] on the geodesic footprint, `building:levels` and the kind.
//!   Footprints failing geo's validity rules are skipped.
//! - lines: ways with `highway`, `railway` or `waterway` (not areas), with their `name`.
//! - areas: `water` (`natural=water`, `waterway=riverbank`, `landuse=reservoir|basin`) and
//!   `park` (`leisure=park|garden`), as closed ways or multipolygon relations.
//! - regions: `boundary=administrative` relations whose outer rings close completely inside
//!   the extract (incomplete ones are skipped). `admin_level` → [`Level`]: 6 → district,
//!   8 → street, 10 → community, the Chinese hierarchy (区/县 → 街道/乡镇 → 社区/村);
//!   other levels are skipped. See [`regions`] for the codes they get.

mod regions;
mod rings;

use crate::households;
use crate::model::{AreaRecord, BuildingRecord, Dataset, Level, LineRecord};
use geo::orient::Direction;
use geo::{
    Contains as _, Coord, LineString, MultiPolygon, Orient as _, Point, Polygon, Validation as _,
};
use osmpbf::{Element, ElementReader, RelMemberType};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The attribution OSM's licence requires wherever the data goes.
pub const OSM_ATTRIBUTION: &str = "© OpenStreetMap contributors, ODbL 1.0";

/// Why an OSM PBF file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OsmError {
    /// The file could not be opened or decoded as OSM PBF.
    #[error("cannot read OSM PBF {path} during the {pass} pass: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Which pass failed: `relations`, `ways` or `nodes`.
        pass: &'static str,
        /// The decoder's error.
        #[source]
        source: osmpbf::Error,
    },
}

/// What a tagged way or relation becomes.
#[derive(Debug, Clone)]
enum Class {
    Building {
        kind: String,
        levels: Option<u32>,
        flats: Option<u32>,
    },
    Line {
        kind: String,
        name: Option<String>,
    },
    Area {
        kind: &'static str,
        name: Option<String>,
    },
    Admin {
        level: Level,
        name: String,
    },
}

#[derive(Debug)]
struct Relation {
    id: i64,
    class: Class,
    outer: Vec<i64>,
    inner: Vec<i64>,
}

/// Reads an OSM PBF extract (output in degrees, EPSG:4326, lon/lat order).
///
/// The dataset is named after the file stem and carries [`OSM_ATTRIBUTION`]. See the module
/// doc for the tag rules.
pub fn read_osm_pbf(path: &Path) -> Result<Dataset, OsmError> {
    let relations = read_relations(path)?;
    let member_ways: HashSet<i64> = relations
        .iter()
        .flat_map(|r| r.outer.iter().chain(&r.inner))
        .copied()
        .collect();
    let (tagged, way_refs) = read_ways(path, &member_ways)?;
    let nodes = read_nodes(path, &way_refs.values().flatten().copied().collect())?;

    let mut dataset = Dataset {
        name: dataset_name(path),
        attribution: Some(OSM_ATTRIBUTION.to_owned()),
        ..Dataset::default()
    };
    let coords = |refs: &[i64]| {
        refs.iter()
            .map(|r| nodes.get(r).copied())
            .collect::<Option<Vec<_>>>()
    };

    for (id, class) in tagged {
        let Some(refs) = way_refs.get(&id) else {
            continue;
        };
        let Some(line) = coords(refs) else { continue };
        let source = format!("osm:way/{id}");
        match class {
            Class::Line { kind, name } if line.len() >= 2 => dataset.roads.push(LineRecord {
                kind,
                name,
                geometry: LineString::new(line),
            }),
            Class::Line { .. } | Class::Admin { .. } => {}
            Class::Building { .. } | Class::Area { .. } => {
                if line.len() >= 4 && line.first() == line.last() {
                    let shape =
                        MultiPolygon::new(vec![Polygon::new(LineString::new(line), vec![])]);
                    push_polygonal(&mut dataset, source, class, &shape);
                }
            }
        }
    }

    let mut admin = Vec::new();
    for relation in relations {
        let Some(shape) = relation_shape(&relation, &way_refs, &coords) else {
            continue;
        };
        match relation.class {
            Class::Admin { level, name } => admin.push((relation.id, level, name, shape)),
            class => push_polygonal(
                &mut dataset,
                format!("osm:relation/{}", relation.id),
                class,
                &shape,
            ),
        }
    }
    dataset.regions = regions::assign_codes(admin);
    Ok(dataset)
}

fn reader(
    path: &Path,
    pass: &'static str,
) -> Result<ElementReader<std::io::BufReader<std::fs::File>>, OsmError> {
    ElementReader::from_path(path).map_err(|source| read_error(path, pass, source))
}

fn read_error(path: &Path, pass: &'static str, source: osmpbf::Error) -> OsmError {
    OsmError::Read {
        path: path.to_path_buf(),
        pass,
        source,
    }
}

/// Pass 1: the relations kept, with their member ways.
fn read_relations(path: &Path) -> Result<Vec<Relation>, OsmError> {
    let mut relations = Vec::new();
    reader(path, "relations")?
        .for_each(|element| {
            let Element::Relation(relation) = element else {
                return;
            };
            let tags: Vec<(&str, &str)> = relation.tags().collect();
            let is_multipolygon = tag(&tags, "type") == Some("multipolygon");
            let class = classify(&tags).filter(|class| match class {
                Class::Admin { .. } => true,
                Class::Building { .. } | Class::Area { .. } => is_multipolygon,
                Class::Line { .. } => false,
            });
            let Some(class) = class else { return };
            let (mut outer, mut inner) = (Vec::new(), Vec::new());
            for member in relation
                .members()
                .filter(|m| m.member_type == RelMemberType::Way)
            {
                match member.role() {
                    Ok("inner") => inner.push(member.member_id),
                    Ok("outer" | "") => outer.push(member.member_id),
                    _ => {}
                }
            }
            relations.push(Relation {
                id: relation.id(),
                class,
                outer,
                inner,
            });
        })
        .map_err(|source| read_error(path, "relations", source))?;
    Ok(relations)
}

/// Ways with a kept tag, in file order, and the node ids of those and of relation members.
type Ways = (Vec<(i64, Class)>, HashMap<i64, Vec<i64>>);

/// Pass 2: tagged ways and relation members.
fn read_ways(path: &Path, member_ways: &HashSet<i64>) -> Result<Ways, OsmError> {
    let mut way_refs: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut tagged: Vec<(i64, Class)> = Vec::new();
    reader(path, "ways")?
        .for_each(|element| {
            let Element::Way(way) = element else { return };
            let tags: Vec<(&str, &str)> = way.tags().collect();
            let class = classify(&tags).filter(|c| !matches!(c, Class::Admin { .. }));
            let keep = class.is_some() || member_ways.contains(&way.id());
            if let Some(class) = class {
                tagged.push((way.id(), class));
            }
            if keep {
                way_refs.insert(way.id(), way.refs().collect());
            }
        })
        .map_err(|source| read_error(path, "ways", source))?;
    Ok((tagged, way_refs))
}

/// Pass 3: the coordinates (degrees, lon/lat) of the nodes in `needed`.
fn read_nodes(path: &Path, needed: &HashSet<i64>) -> Result<HashMap<i64, Coord<f64>>, OsmError> {
    let mut nodes: HashMap<i64, Coord<f64>> = HashMap::with_capacity(needed.len());
    reader(path, "nodes")?
        .for_each(|element| {
            let (id, lon, lat) = match element {
                Element::Node(n) => (n.id(), n.lon(), n.lat()),
                Element::DenseNode(n) => (n.id(), n.lon(), n.lat()),
                _ => return,
            };
            if needed.contains(&id) {
                nodes.insert(id, Coord { x: lon, y: lat });
            }
        })
        .map_err(|source| read_error(path, "nodes", source))?;
    Ok(nodes)
}

/// The file name without `.osm.pbf` / `.pbf`.
fn dataset_name(path: &Path) -> String {
    let file = path.file_name().and_then(|s| s.to_str()).unwrap_or("osm");
    let stem = file.strip_suffix(".pbf").unwrap_or(file);
    stem.strip_suffix(".osm").unwrap_or(stem).to_owned()
}

fn tag<'a>(tags: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn classify(tags: &[(&str, &str)]) -> Option<Class> {
    let name = tag(tags, "name").map(str::to_owned);
    if let Some(kind) = tag(tags, "building").filter(|&b| b != "no") {
        let levels = tag(tags, "building:levels")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(households::round_to_u32);
        let flats = tag(tags, "building:flats").and_then(|v| v.trim().parse::<u32>().ok());
        return Some(Class::Building {
            kind: kind.to_owned(),
            levels,
            flats,
        });
    }
    if tag(tags, "boundary") == Some("administrative") {
        let level = match tag(tags, "admin_level") {
            Some("6") => Level::District,
            Some("8") => Level::Street,
            Some("10") => Level::Community,
            _ => return None,
        };
        return Some(Class::Admin {
            level,
            name: name.unwrap_or_default(),
        });
    }
    let water = tag(tags, "natural") == Some("water")
        || tag(tags, "waterway") == Some("riverbank")
        || matches!(tag(tags, "landuse"), Some("reservoir" | "basin"));
    if water {
        return Some(Class::Area {
            kind: "water",
            name,
        });
    }
    if matches!(tag(tags, "leisure"), Some("park" | "garden")) {
        return Some(Class::Area { kind: "park", name });
    }
    if tag(tags, "area") == Some("yes") {
        return None;
    }
    let line = tag(tags, "highway")
        .or_else(|| tag(tags, "railway"))
        .or_else(|| tag(tags, "waterway"));
    line.map(|kind| Class::Line {
        kind: kind.to_owned(),
        name,
    })
}

/// The polygons of a multipolygon or boundary relation; `None` if a ring does not close
/// inside the extract or the shape is invalid.
fn relation_shape(
    relation: &Relation,
    way_refs: &HashMap<i64, Vec<i64>>,
    coords: &impl Fn(&[i64]) -> Option<Vec<Coord<f64>>>,
) -> Option<MultiPolygon<f64>> {
    let members = |ids: &[i64]| {
        ids.iter()
            .map(|id| way_refs.get(id).map(Vec::as_slice))
            .collect::<Option<Vec<_>>>()
    };
    let outer = rings::join_rings(&members(&relation.outer)?)?;
    let inner = rings::join_rings(&members(&relation.inner)?)?;
    if outer.is_empty() {
        return None;
    }
    let to_ring = |ids: &Vec<i64>| coords(ids).map(LineString::new);
    let outer: Vec<LineString<f64>> = outer.iter().map(to_ring).collect::<Option<_>>()?;
    let inner: Vec<LineString<f64>> = inner.iter().map(to_ring).collect::<Option<_>>()?;
    let mut polygons: Vec<(Polygon<f64>, Vec<LineString<f64>>)> = outer
        .into_iter()
        .map(|ring| (Polygon::new(ring, vec![]), Vec::new()))
        .collect();
    for hole in inner {
        let probe = Point::from(*hole.0.first()?);
        if let Some((_, holes)) = polygons
            .iter_mut()
            .find(|(shell, _)| shell.contains(&probe))
        {
            holes.push(hole);
        }
    }
    let shape = MultiPolygon::new(
        polygons
            .into_iter()
            .map(|(shell, holes)| Polygon::new(shell.exterior().clone(), holes))
            .collect(),
    );
    if shape.is_valid() {
        return Some(shape);
    }
    // Islands drawn inside a hole often share a way with it (valid for OSM, invalid for
    // OGC); their union is the same area as a valid shape.
    let repaired = geo::unary_union(shape.0.iter());
    repaired.is_valid().then_some(repaired)
}

fn push_polygonal(dataset: &mut Dataset, source: String, class: Class, shape: &MultiPolygon<f64>) {
    if !shape.is_valid() {
        return;
    }
    // RFC 7946 winding: exterior counter-clockwise, holes clockwise.
    let shape = shape.orient(Direction::Default);
    match class {
        Class::Building {
            kind,
            levels,
            flats,
        } => {
            let households = flats.unwrap_or_else(|| {
                households::estimate(households::footprint_area_m2(&shape), levels, &kind)
            });
            dataset.buildings.push(BuildingRecord {
                source_id: Some(source),
                footprint: shape,
                kind,
                levels,
                households,
            });
        }
        Class::Area { kind, name } => dataset.areas.push(AreaRecord {
            kind: kind.to_owned(),
            name,
            geometry: shape,
        }),
        Class::Line { .. } | Class::Admin { .. } => {}
    }
}

#[cfg(test)]
mod tests;
