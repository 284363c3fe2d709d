//! Which tiles a change touches: rectangles of tiles per zoom, from a point, a bounding box or an H3
//! cell, widened by the tile buffer. Pure tile math (degrees in, EPSG:4326, lon/lat order), no state.
//!
//! A tile `k` is drawn over `[k − m, k + 1 + m]` in tile units, where `m` is the buffer (64 of 4096
//! units) plus one unit for rounding. So a point at fractional tile column `w` is in the tiles
//! `ceil(w − 1 − m) ..= floor(w + m)`: its own and, within `m` of an edge, the neighbour. A polygon
//! touches at most the tiles its bounding box does (simplification only drops vertices).

use std::ops::RangeInclusive;

use geo::{BoundingRect, Coord, Rect};
use gridwatch_tiles::tms::world_units;
use gridwatch_tiles::{DEFAULT_BUFFER, DEFAULT_EXTENT, TileId, resolution_for_zoom};
use h3o::{CellIndex, Resolution};

/// The margin around a tile, in tiles: the buffer plus one unit for rounding.
pub const MARGIN_TILES: f64 = (DEFAULT_BUFFER as f64 + 1.0) / DEFAULT_EXTENT as f64;

/// A rectangle of tiles at one zoom, bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileRect {
    pub z: u8,
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl TileRect {
    #[must_use]
    pub fn count(&self) -> u64 {
        u64::from(self.x1 - self.x0 + 1) * u64::from(self.y1 - self.y0 + 1)
    }

    #[must_use]
    pub fn contains(&self, t: TileId) -> bool {
        t.z() == self.z
            && (self.x0..=self.x1).contains(&t.x())
            && (self.y0..=self.y1).contains(&t.y())
    }

    /// Every tile in the rectangle, row by row.
    pub fn tiles(&self) -> impl Iterator<Item = TileId> + '_ {
        (self.y0..=self.y1).flat_map(move |y| {
            (self.x0..=self.x1).filter_map(move |x| TileId::new(self.z, x, y).ok())
        })
    }
}

/// The tile range `ceil(lo − 1 − m) ..= floor(hi + m)` at zoom `z`, clamped to the world.
fn span(lo: f64, hi: f64, z: u8) -> (u32, u32) {
    let max = f64::from((1u32 << z) - 1);
    // Clamped to 0..2^z - 1 first, so the casts are exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let range = (
        (lo - 1.0 - MARGIN_TILES).ceil().clamp(0.0, max) as u32,
        (hi + MARGIN_TILES).floor().clamp(0.0, max) as u32,
    );
    range
}

/// The tiles at each zoom in `zooms` whose buffered area holds a point (degrees).
#[must_use]
pub fn point_rects(lon: f64, lat: f64, zooms: RangeInclusive<u8>) -> Vec<TileRect> {
    bbox_rects(
        Rect::new(Coord { x: lon, y: lat }, Coord { x: lon, y: lat }),
        zooms,
    )
}

/// The tiles at each zoom in `zooms` whose buffered area meets a bounding box (degrees).
#[must_use]
pub fn bbox_rects(bbox: Rect<f64>, zooms: RangeInclusive<u8>) -> Vec<TileRect> {
    if ![bbox.min().x, bbox.min().y, bbox.max().x, bbox.max().y]
        .iter()
        .all(|v| v.is_finite())
    {
        return Vec::new();
    }
    zooms
        .map(|z| {
            let nw = world_units(bbox.min().x, bbox.max().y, z);
            let se = world_units(bbox.max().x, bbox.min().y, z);
            let (x0, x1) = span(nw.x, se.x, z);
            let (y0, y1) = span(nw.y, se.y, z);
            TileRect { z, x0, y0, x1, y1 }
        })
        .collect()
}

/// For an H3 aggregate layer: at each zoom, the tiles the rolled-up cell holding `cell` is drawn in
/// (the cell's ancestor at [`resolution_for_zoom`], never finer than `cell` itself).
#[must_use]
pub fn cell_rects(cell: CellIndex, zooms: RangeInclusive<u8>) -> Vec<TileRect> {
    zooms
        .filter_map(|z| {
            let resolution: Resolution = resolution_for_zoom(z).min(cell.resolution());
            let parent = cell.parent(resolution)?;
            let outline = geo::LineString::from(parent.boundary());
            let bbox = outline.bounding_rect()?;
            bbox_rects(bbox, z..=z).pop()
        })
        .collect()
}

/// [`cell_rects`] of every cell of `cells`, deduplicated: the same rectangles, found from each distinct
/// rolled-up cell once. A camera's coverage is tens of thousands of cells with a few hundred ancestors
/// at the coarsest resolution a tile draws, so this outlines a few hundred cells instead of one per cell
/// and zoom; the ancestors at each resolution come from those one finer, so each cell is looked at once.
#[must_use]
pub fn cells_rects(cells: &[CellIndex], zooms: RangeInclusive<u8>) -> Vec<TileRect> {
    let mut resolutions: Vec<Resolution> = zooms.clone().map(resolution_for_zoom).collect();
    resolutions.sort_unstable_by(|a, b| b.cmp(a));
    resolutions.dedup();
    // A cell coarser than a resolution stays itself there, as in `cell_rects`.
    let mut current: Vec<CellIndex> = cells.to_vec();
    let mut ancestors: Vec<(Resolution, Vec<CellIndex>)> = Vec::with_capacity(resolutions.len());
    for resolution in resolutions {
        current = current
            .iter()
            .map(|&c| c.parent(resolution).unwrap_or(c))
            .collect();
        current.sort_unstable();
        current.dedup();
        ancestors.push((resolution, current.clone()));
    }
    let mut rects = Vec::new();
    for z in zooms {
        let resolution = resolution_for_zoom(z);
        let cells = ancestors
            .iter()
            .find(|(r, _)| *r == resolution)
            .map_or(&[][..], |(_, cells)| cells.as_slice());
        for cell in cells {
            if let Some(bbox) = geo::LineString::from(cell.boundary()).bounding_rect() {
                rects.extend(bbox_rects(bbox, z..=z));
            }
        }
    }
    rects.sort_unstable();
    rects.dedup();
    rects
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tile column of a longitude at zoom z, by the slippy-map formula written out here, so the tests
    /// do not lean on the code under test.
    fn column(lon: f64, z: u8) -> f64 {
        (lon + 180.0) / 360.0 * f64::from(1u32 << z)
    }

    fn row(lat: f64, z: u8) -> f64 {
        let r = lat.to_radians();
        (1.0 - r.tan().asinh() / std::f64::consts::PI) / 2.0 * f64::from(1u32 << z)
    }

    #[test]
    fn a_point_in_the_middle_of_a_tile_touches_only_that_tile() {
        // The centre of tile 14/13529/6486.
        let z = 14;
        let lon = (13529.5 / 16384.0) * 360.0 - 180.0;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * 6486.5 / 16384.0))
            .sinh()
            .atan()
            .to_degrees();
        assert!((column(lon, z) - 13529.5).abs() < 1e-9 && (row(lat, z) - 6486.5).abs() < 1e-9);
        let rects = point_rects(lon, lat, z..=z);
        assert_eq!(
            rects,
            vec![TileRect {
                z,
                x0: 13529,
                y0: 6486,
                x1: 13529,
                y1: 6486
            }]
        );
    }

    #[test]
    fn a_point_within_the_buffer_of_an_edge_touches_the_neighbour_too() {
        let z = 16;
        // 40 units (of 4096) east of the west edge of column 53_000, and 30 units north of row 25_000's
        // south edge: inside the 64-unit buffer of the west and south neighbours.
        let lon = (53_000.0 + 40.0 / 4096.0) / 65_536.0 * 360.0 - 180.0;
        let y = 25_001.0 - 30.0 / 4096.0;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * y / 65_536.0))
            .sinh()
            .atan()
            .to_degrees();
        let rects = point_rects(lon, lat, z..=z);
        assert_eq!(
            rects,
            vec![TileRect {
                z,
                x0: 52_999,
                y0: 25_000,
                x1: 53_000,
                y1: 25_001
            }]
        );
        assert_eq!(rects[0].count(), 4);
        // 100 units in: past the buffer, one tile.
        let lon = (53_000.0 + 100.0 / 4096.0) / 65_536.0 * 360.0 - 180.0;
        let lat = (std::f64::consts::PI * (1.0 - 2.0 * (25_000.5) / 65_536.0))
            .sinh()
            .atan()
            .to_degrees();
        assert_eq!(point_rects(lon, lat, z..=z)[0].count(), 1);
    }

    #[test]
    fn a_box_touches_the_tiles_it_spans_at_every_zoom_and_nothing_outside_the_world() {
        // About 2 km × 2 km around Changzhi.
        let bbox = Rect::new(
            Coord {
                x: 113.10,
                y: 36.18,
            },
            Coord {
                x: 113.12,
                y: 36.20,
            },
        );
        let rects = bbox_rects(bbox, 0..=18);
        assert_eq!(rects.len(), 19);
        assert_eq!(
            rects[0],
            TileRect {
                z: 0,
                x0: 0,
                y0: 0,
                x1: 0,
                y1: 0
            }
        );
        for r in &rects {
            let (wx0, wx1) = (column(113.10, r.z), column(113.12, r.z));
            let (wy0, wy1) = (row(36.20, r.z), row(36.18, r.z));
            let m = 65.0 / 4096.0;
            let west = (wx0 - 1.0 - m).ceil().max(0.0);
            let east = (wx1 + m).floor();
            let north = (wy0 - 1.0 - m).ceil().max(0.0);
            let south = (wy1 + m).floor();
            assert_eq!(
                (f64::from(r.x0), f64::from(r.x1)),
                (west, east),
                "z {}",
                r.z
            );
            assert_eq!(
                (f64::from(r.y0), f64::from(r.y1)),
                (north, south),
                "z {}",
                r.z
            );
        }
        // At zoom 18 (tiles of ~125 m) a 2 km box spans about 15 × 19 tiles.
        let last = rects[18];
        assert!((14..=17).contains(&(last.x1 - last.x0)), "{last:?}");
        // The edge of the world clamps instead of wrapping.
        let corner = point_rects(-180.0, 85.0, 3..=3);
        assert_eq!((corner[0].x0, corner[0].y0), (0, 0));
    }

    #[test]
    fn a_cell_touches_the_tiles_of_its_rolled_up_ancestor() {
        let ll = h3o::LatLng::new(36.19, 113.11).expect("a valid point");
        let cell = ll.to_cell(Resolution::Twelve);
        for z in [10_u8, 14, 16] {
            let parent = cell.parent(resolution_for_zoom(z)).expect("coarser");
            let rect = cell_rects(cell, z..=z)[0];
            // Every vertex of the ancestor lies in the touched tiles.
            for v in parent.boundary().iter() {
                let t = TileId::from_lon_lat(v.lng(), v.lat(), z).expect("a valid point");
                assert!(rect.contains(t), "z {z}: vertex tile {t} outside {rect:?}");
            }
        }
    }
    /// The rectangles of a camera's tens of thousands of cells, found from their distinct ancestors, are
    /// exactly those of every cell one by one.
    #[test]
    fn cells_rects_are_the_union_of_each_cells_rects() {
        let centre = h3o::LatLng::new(36.19, 113.11).expect("a point");
        for (resolution, k) in [
            (Resolution::Twelve, 40),
            (Resolution::Ten, 12),
            (Resolution::Nine, 3),
        ] {
            let cells: Vec<CellIndex> = centre.to_cell(resolution).grid_disk(k);
            let mut one_by_one: Vec<TileRect> =
                cells.iter().flat_map(|&c| cell_rects(c, 8..=18)).collect();
            one_by_one.sort_unstable();
            one_by_one.dedup();
            assert_eq!(cells_rects(&cells, 8..=18), one_by_one, "{resolution}");
        }
        // Mixed resolutions too, and nothing for no cell.
        let mixed = [
            centre.to_cell(Resolution::Twelve),
            centre.to_cell(Resolution::Eight),
        ];
        let mut one_by_one: Vec<TileRect> =
            mixed.iter().flat_map(|&c| cell_rects(c, 5..=18)).collect();
        one_by_one.sort_unstable();
        one_by_one.dedup();
        assert_eq!(cells_rects(&mixed, 5..=18), one_by_one);
        assert!(cells_rects(&[], 8..=18).is_empty());
    }
}
