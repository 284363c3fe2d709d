//! One MVT layer: features are projected from degrees to tile units, optionally simplified,
//! clipped to the buffered tile, rounded, and encoded at once; keys and values are shared
//! (deduplicated) across the layer's features.
//!
//! Owns the pipeline from a `geo` geometry in degrees (EPSG:4326) to encoded feature bytes.
//! Knows nothing of other layers (see `tile`).

use std::collections::HashMap;

use geo::{Coord, CoordsIter, Geometry, LineString, Polygon};

use super::MvtError;
use super::clip::{ClipBox, Relation};
use super::geometry::{Commands, GeomType, Point, prepare_ring_into, round, round_path};
use super::projected::{ProjectedPolygons, ProjectedRing};
use super::value::{Value, ValueKey};
use super::wire;
use crate::simplify::{self, simplify_line_units, simplify_ring_into, simplify_ring_units};
use crate::tms::{TileId, world_units};

/// How a tile maps degrees to integer tile coordinates, shared by its layers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Projection {
    pub tile: TileId,
    pub extent: u32,
    pub buffer: u32,
    pub tolerance: f64,
}

impl Projection {
    /// A point in degrees (EPSG:4326) to fractional tile units (`0..extent` inside the tile, `y` down).
    fn project(&self, c: Coord<f64>) -> Coord<f64> {
        let w = world_units(c.x, c.y, self.tile.z());
        let scale = f64::from(self.extent);
        Coord {
            x: (w.x - f64::from(self.tile.x())) * scale,
            y: (w.y - f64::from(self.tile.y())) * scale,
        }
    }

    /// A point in world fractions (see `projected`) to fractional tile units. Scaling by `2^z`
    /// is exact, so this equals [`Self::project`] of the point's degrees bit for bit.
    fn project_world(&self, w: Coord<f64>) -> Coord<f64> {
        let n = f64::from(1u32 << self.tile.z());
        let scale = f64::from(self.extent);
        Coord {
            x: (w.x * n - f64::from(self.tile.x())) * scale,
            y: (w.y * n - f64::from(self.tile.y())) * scale,
        }
    }

    fn clip_box(&self) -> ClipBox {
        ClipBox {
            lo: -f64::from(self.buffer),
            hi: f64::from(self.extent) + f64::from(self.buffer),
        }
    }

    fn project_line(&self, line: &LineString<f64>) -> Vec<Coord<f64>> {
        line.0.iter().map(|&c| self.project(c)).collect()
    }
}

/// A layer under construction; get one from [`TileBuilder::layer`](super::TileBuilder::layer).
#[derive(Debug)]
pub struct Layer {
    name: String,
    projection: Projection,
    keys: Vec<String>,
    key_index: HashMap<String, u32>,
    values: Vec<Value>,
    value_index: HashMap<ValueKey, u32>,
    features: Vec<u8>,
    feature_count: usize,
    // Scratch buffers reused across features.
    commands: Commands,
    tags: Vec<u32>,
    scratch: Vec<u8>,
    rings: RingBuffers,
}

/// A ring to draw: degrees (EPSG:4326), or world fractions with its box (`projected`).
#[derive(Clone, Copy)]
enum RingIn<'a> {
    Degrees(&'a [Coord<f64>]),
    World(&'a ProjectedRing),
}

/// Buffers the polygon pipeline reuses from ring to ring and feature to feature.
#[derive(Debug, Default)]
struct RingBuffers {
    projected: Vec<Coord<f64>>,
    exterior: Vec<Coord<f64>>,
    clipped: Vec<Coord<f64>>,
    spare: Vec<Coord<f64>>,
    rounded: Vec<Point>,
    simplify: simplify::Scratch,
}

impl Layer {
    pub(crate) fn new(name: &str, projection: Projection) -> Self {
        Self {
            name: name.to_owned(),
            projection,
            keys: Vec::new(),
            key_index: HashMap::new(),
            values: Vec::new(),
            value_index: HashMap::new(),
            features: Vec::new(),
            feature_count: 0,
            commands: Commands::default(),
            tags: Vec::new(),
            scratch: Vec::new(),
            rings: RingBuffers::default(),
        }
    }

    /// The layer's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many features the layer holds (those clipped away are not counted).
    #[must_use]
    pub fn len(&self) -> usize {
        self.feature_count
    }

    /// Whether the layer holds no feature (it is then left out of the tile).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.feature_count == 0
    }

    /// The geometry commands of the last feature added (tests compare pipelines by them).
    #[cfg(test)]
    pub(crate) fn last_geometry(&self) -> &[u32] {
        &self.commands.out
    }

    /// Adds a feature without an id; see [`Layer::add_feature_with_id`].
    pub fn add_feature(
        &mut self,
        geometry: &Geometry<f64>,
        properties: &[(&str, Value)],
    ) -> Result<bool, MvtError> {
        self.add(None, geometry, properties)
    }

    /// Adds a feature from a geometry in degrees (EPSG:4326, lon/lat order) and its properties.
    ///
    /// The geometry is projected to tile units, simplified with the tile's tolerance (lines and
    /// rings), clipped to the tile plus its buffer, and rounded; repeated points and degenerate
    /// parts are dropped and rings get the MVT winding. Returns `Ok(false)` when nothing is
    /// left inside the tile (the feature is then not added). `Line`, `Rect` and `Triangle` are
    /// accepted as their line/polygon equivalents; a `GeometryCollection` is an error, as are
    /// non-finite coordinates and a key given twice. Longitudes are not wrapped: a feature
    /// crossing the antimeridian must be split by the caller.
    pub fn add_feature_with_id(
        &mut self,
        id: u64,
        geometry: &Geometry<f64>,
        properties: &[(&str, Value)],
    ) -> Result<bool, MvtError> {
        self.add(Some(id), geometry, properties)
    }

    /// Adds a polygon feature from a shape projected once ([`ProjectedPolygons`]), with an
    /// optional id. The tile is the same as [`Layer::add_feature_with_id`] of the shape's
    /// `MultiPolygon` in degrees gives, byte for byte, without the per-vertex mercator projection.
    pub fn add_projected(
        &mut self,
        id: Option<u64>,
        shape: &ProjectedPolygons,
        properties: &[(&str, Value)],
    ) -> Result<bool, MvtError> {
        check_properties(properties)?;
        self.commands.reset();
        let mut any = false;
        for polygon in &shape.polygons {
            any |= self.polygon(
                RingIn::World(&polygon.exterior),
                polygon.interiors.iter().map(RingIn::World),
            );
        }
        if !any {
            return Ok(false);
        }
        self.finish(id, GeomType::Polygon, properties);
        Ok(true)
    }

    fn add(
        &mut self,
        id: Option<u64>,
        geometry: &Geometry<f64>,
        properties: &[(&str, Value)],
    ) -> Result<bool, MvtError> {
        if let Some(c) = geometry
            .coords_iter()
            .find(|c| !c.x.is_finite() || !c.y.is_finite())
        {
            return Err(MvtError::NonFiniteCoordinate { lon: c.x, lat: c.y });
        }
        check_properties(properties)?;
        self.commands.reset();
        let kind = match geometry {
            Geometry::Point(p) => self.points(&[p.0]),
            Geometry::MultiPoint(m) => {
                let coords: Vec<_> = m.0.iter().map(|p| p.0).collect();
                self.points(&coords)
            }
            Geometry::Line(l) => self.lines(&[LineString::new(vec![l.start, l.end])]),
            Geometry::LineString(l) => self.lines(std::slice::from_ref(l)),
            Geometry::MultiLineString(m) => self.lines(&m.0),
            Geometry::Polygon(p) => self.polygons(std::slice::from_ref(p)),
            Geometry::MultiPolygon(m) => self.polygons(&m.0),
            Geometry::Rect(r) => self.polygons(&[r.to_polygon()]),
            Geometry::Triangle(t) => self.polygons(&[t.to_polygon()]),
            Geometry::GeometryCollection(_) => {
                return Err(MvtError::UnsupportedGeometry {
                    kind: "GeometryCollection",
                });
            }
        };
        let Some(kind) = kind else {
            return Ok(false);
        };
        self.finish(id, kind, properties);
        Ok(true)
    }

    /// Writes the feature whose geometry is in `self.commands`.
    fn finish(&mut self, id: Option<u64>, kind: GeomType, properties: &[(&str, Value)]) {
        self.tags.clear();
        for (key, value) in properties {
            let k = self.key(key);
            let v = self.value(value);
            self.tags.push(k);
            self.tags.push(v);
        }
        self.scratch.clear();
        if let Some(id) = id {
            wire::put_uint_field(&mut self.scratch, 1, id);
        }
        wire::put_packed_field(&mut self.scratch, 2, &self.tags);
        wire::put_uint_field(&mut self.scratch, 3, kind as u64);
        wire::put_packed_field(&mut self.scratch, 4, &self.commands.out);
        wire::put_bytes_field(&mut self.features, 2, &self.scratch);
        self.feature_count += 1;
    }

    fn key(&mut self, key: &str) -> u32 {
        if let Some(&i) = self.key_index.get(key) {
            return i;
        }
        let i = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.keys.push(key.to_owned());
        self.key_index.insert(key.to_owned(), i);
        i
    }

    fn value(&mut self, value: &Value) -> u32 {
        let key = value.dedup_key();
        if let Some(&i) = self.value_index.get(&key) {
            return i;
        }
        let i = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.clone());
        self.value_index.insert(key, i);
        i
    }

    fn points(&mut self, coords: &[Coord<f64>]) -> Option<GeomType> {
        let clip = self.projection.clip_box();
        let kept: Vec<Point> = coords
            .iter()
            .map(|&c| self.projection.project(c))
            .filter(|&c| clip.contains(c))
            .map(round)
            .collect();
        if kept.is_empty() {
            return None;
        }
        self.commands.points(&kept);
        Some(GeomType::Point)
    }

    fn lines(&mut self, lines: &[LineString<f64>]) -> Option<GeomType> {
        let clip = self.projection.clip_box();
        let mut any = false;
        for line in lines {
            let projected = self.projection.project_line(line);
            let simple = simplify_line_units(&projected, self.projection.tolerance);
            for piece in clip.clip_line(&simple) {
                let rounded = round_path(&piece);
                if rounded.len() >= 2 {
                    self.commands.line(&rounded);
                    any = true;
                }
            }
        }
        any.then_some(GeomType::LineString)
    }

    fn polygons(&mut self, polygons: &[Polygon<f64>]) -> Option<GeomType> {
        let mut any = false;
        for polygon in polygons {
            any |= self.polygon(
                RingIn::Degrees(&polygon.exterior().0),
                polygon.interiors().iter().map(|r| RingIn::Degrees(&r.0)),
            );
        }
        any.then_some(GeomType::Polygon)
    }

    /// Projects, simplifies, clips, rounds and writes one polygon; `false` if nothing of it is
    /// left in the tile.
    ///
    /// A ring whose unsimplified box lies apart from the buffered tile is not simplified:
    /// simplification keeps a subset of the vertices, so the simplified ring would lie apart too
    /// and be dropped. Everything else follows the one pipeline, so culling changes no byte
    /// (tested against the pipeline without it in `mvt/reference`).
    fn polygon<'a, I>(&mut self, exterior: RingIn<'a>, interiors: I) -> bool
    where
        I: Iterator<Item = RingIn<'a>> + Clone,
    {
        let projection = self.projection;
        let clip = projection.clip_box();
        let tolerance = projection.tolerance;
        let b = &mut self.rings;
        if !project_ring(&projection, exterior, &mut b.projected) {
            return false;
        }
        simplify_ring_into(&b.projected, tolerance, &mut b.simplify, &mut b.exterior);
        if clip.relate(&b.exterior) == Relation::Apart {
            return false;
        }
        if interiors.clone().next().is_none() {
            clip.clip_ring_into(&b.exterior, &mut b.clipped, &mut b.spare);
            if !prepare_ring_into(&b.clipped, true, &mut b.rounded) {
                return false;
            }
            self.commands.ring(&b.rounded);
            return true;
        }
        // With holes (rare in grids): holes apart from the tile are only projected, unless a
        // hole crosses the edge and the exact polygon intersection needs them all.
        let mut holes: Vec<Option<Vec<Coord<f64>>>> = interiors
            .clone()
            .map(|hole| {
                project_ring(&projection, hole, &mut b.projected)
                    .then(|| simplify_ring_units(&b.projected, tolerance))
            })
            .collect();
        let exterior = std::mem::take(&mut b.exterior);
        let drawn = if holes
            .iter()
            .flatten()
            .any(|r| clip.relate(r) == Relation::Across)
        {
            // A hole cut by the edge opens onto the outside: only a real polygon
            // intersection gets that right.
            for (slot, hole) in holes.iter_mut().zip(interiors) {
                if slot.is_none() {
                    project_ring(&projection, hole, &mut b.projected);
                    *slot = Some(simplify_ring_units(&b.projected, tolerance));
                }
            }
            let projected = Polygon::new(
                LineString::new(exterior.clone()),
                holes.into_iter().flatten().map(LineString::new).collect(),
            );
            let mut any = false;
            for part in clip.clip_polygon(&projected) {
                any |= self.polygon_rings(
                    &part.exterior().0,
                    part.interiors().iter().map(|r| r.0.as_slice()),
                );
            }
            any
        } else {
            let mut clipped = Vec::new();
            clip.clip_ring_into(&exterior, &mut clipped, &mut b.spare);
            // Holes apart from the square clip to nothing and are dropped here.
            let inside: Vec<Vec<Coord<f64>>> = holes
                .into_iter()
                .flatten()
                .filter(|r| clip.relate(r) == Relation::Inside)
                .collect();
            self.polygon_rings(&clipped, inside.iter().map(Vec::as_slice))
        };
        self.rings.exterior = exterior;
        drawn
    }

    /// Rounds, orients and writes one clipped polygon (tile units); `false` if its exterior
    /// ring vanished, which takes its holes with it.
    fn polygon_rings<'r>(
        &mut self,
        exterior: &[Coord<f64>],
        interiors: impl Iterator<Item = &'r [Coord<f64>]>,
    ) -> bool {
        let rounded = &mut self.rings.rounded;
        if !prepare_ring_into(exterior, true, rounded) {
            return false;
        }
        self.commands.ring(rounded);
        for interior in interiors {
            if prepare_ring_into(interior, false, rounded) {
                self.commands.ring(rounded);
            }
        }
        true
    }

    /// Appends the layer message (field 3 of `Tile`) to `out`; nothing for an empty layer.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        if self.is_empty() {
            return;
        }
        let mut body = Vec::with_capacity(self.features.len() + 64 * self.values.len() + 32);
        wire::put_uint_field(&mut body, 15, 2);
        wire::put_bytes_field(&mut body, 1, self.name.as_bytes());
        body.extend_from_slice(&self.features);
        for key in &self.keys {
            wire::put_bytes_field(&mut body, 3, key.as_bytes());
        }
        let mut value_bytes = Vec::new();
        for value in &self.values {
            value_bytes.clear();
            value.encode_into(&mut value_bytes);
            wire::put_bytes_field(&mut body, 4, &value_bytes);
        }
        wire::put_uint_field(&mut body, 5, u64::from(self.projection.extent));
        wire::put_bytes_field(out, 3, &body);
    }
}

/// Every property key once, as the spec requires.
fn check_properties(properties: &[(&str, Value)]) -> Result<(), MvtError> {
    for (i, (key, _)) in properties.iter().enumerate() {
        if properties[..i].iter().any(|(k, _)| k == key) {
            return Err(MvtError::DuplicateProperty {
                key: (*key).to_owned(),
            });
        }
    }
    Ok(())
}

/// Projects a ring to tile units into `out`; `false` (and `out` left unspecified) when its box
/// lies apart from the buffered tile. A projected ring's box is projected from its two corners:
/// the projection only multiplies by and subtracts constants, which IEEE rounding keeps
/// monotonic, so the corners land exactly on the projected vertices' box.
fn project_ring(projection: &Projection, ring: RingIn<'_>, out: &mut Vec<Coord<f64>>) -> bool {
    let clip = projection.clip_box();
    out.clear();
    match ring {
        RingIn::World(r) => {
            if !r.coords.is_empty()
                && clip.apart(
                    projection.project_world(r.min),
                    projection.project_world(r.max),
                )
            {
                return false;
            }
            out.extend(r.coords.iter().map(|&w| projection.project_world(w)));
            true
        }
        RingIn::Degrees(r) => {
            out.extend(r.iter().map(|&c| projection.project(c)));
            out.is_empty() || clip.relate(out) != Relation::Apart
        }
    }
}
