//! The base map in the read model: roads, railways, waterways, water and parks, with an R-tree of
//! their bounding boxes for the tile server and `GET /api/basemap`.
//!
//! Built once from the snapshot and never changed afterwards: only a city import writes the base map,
//! and an import replaces the whole world. All geometry in degrees (EPSG:4326, lon/lat order).

use geo::BoundingRect;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use crate::domain::{BaseArea, BaseLine};

/// A feature's bounding box (degrees) with its index into the feature list.
type FeatureBox = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The base map's features and their bounding-box indexes.
#[derive(Debug, Default)]
pub(super) struct BaseMap {
    lines: Vec<BaseLine>,
    areas: Vec<BaseArea>,
    line_boxes: RTree<FeatureBox>,
    area_boxes: RTree<FeatureBox>,
}

impl BaseMap {
    pub(super) fn new(lines: Vec<BaseLine>, areas: Vec<BaseArea>) -> Self {
        let line_boxes = RTree::bulk_load(boxes(lines.iter().map(|l| l.geometry.bounding_rect())));
        let area_boxes = RTree::bulk_load(boxes(areas.iter().map(|a| a.geometry.bounding_rect())));
        Self {
            lines,
            areas,
            line_boxes,
            area_boxes,
        }
    }

    /// Lines whose bounding box meets `bbox` (`[min_lon, min_lat, max_lon, max_lat]`, degrees), in
    /// import order.
    pub(super) fn lines_in_bbox(&self, bbox: [f64; 4]) -> impl Iterator<Item = &BaseLine> {
        hits(&self.line_boxes, bbox)
            .into_iter()
            .filter_map(|i| self.lines.get(i))
    }

    /// Areas whose bounding box meets `bbox` (`[min_lon, min_lat, max_lon, max_lat]`, degrees), in
    /// import order.
    pub(super) fn areas_in_bbox(&self, bbox: [f64; 4]) -> impl Iterator<Item = &BaseArea> {
        hits(&self.area_boxes, bbox)
            .into_iter()
            .filter_map(|i| self.areas.get(i))
    }
}

/// The boxes of features that have one (an empty geometry has none), tagged with their index.
fn boxes(rects: impl Iterator<Item = Option<geo::Rect<f64>>>) -> Vec<FeatureBox> {
    rects
        .enumerate()
        .filter_map(|(i, rect)| {
            let rect = rect?;
            Some(FeatureBox::new(
                Rectangle::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]),
                i,
            ))
        })
        .collect()
}

/// Indexes of the boxes meeting `bbox`, sorted so features draw in import order whatever the tree's.
fn hits(tree: &RTree<FeatureBox>, bbox: [f64; 4]) -> Vec<usize> {
    let envelope = rstar::AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]);
    let mut found: Vec<usize> = tree
        .locate_in_envelope_intersecting(&envelope)
        .map(|b| b.data)
        .collect();
    found.sort_unstable();
    found
}

#[cfg(test)]
mod tests {
    use geo::{MultiLineString, line_string};

    use super::*;

    fn line(kind: &str, from: (f64, f64), to: (f64, f64)) -> BaseLine {
        BaseLine {
            kind: kind.to_owned(),
            name: None,
            geometry: MultiLineString::new(vec![
                line_string![(x: from.0, y: from.1), (x: to.0, y: to.1)],
            ]),
        }
    }

    #[test]
    fn finds_lines_by_bounding_box_in_import_order() {
        let map = BaseMap::new(
            vec![
                line("a", (0.0, 0.0), (1.0, 1.0)),
                line("b", (5.0, 5.0), (6.0, 6.0)),
                line("c", (0.5, 0.0), (0.5, 3.0)),
            ],
            Vec::new(),
        );
        let kinds = |bbox| {
            map.lines_in_bbox(bbox)
                .map(|l| l.kind.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds([0.4, 0.4, 0.6, 0.6]), ["a", "c"]);
        assert_eq!(kinds([5.5, 5.5, 7.0, 7.0]), ["b"]);
        assert!(kinds([10.0, 10.0, 11.0, 11.0]).is_empty());
        assert_eq!(map.areas_in_bbox([-90.0, -90.0, 90.0, 90.0]).count(), 0);
    }
}
