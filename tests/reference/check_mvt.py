#!/usr/bin/env python3
"""Checks vector tiles written by gridwatch-tiles against independent references.

Usage: check_mvt.py MANIFEST.json

The manifest (written by tiles/tests/reference_decoder.rs) lists tiles: a file, its z/x/y, extent and
buffer, and per layer the *source* features in lon/lat degrees (GeoJSON geometry, id, properties), or
for an H3 aggregate layer the input cells with their values. For each tile this script:
  * decodes the file with `mapbox_vector_tile.decode` (the reference decoder; y kept down);
  * projects every source geometry to tile units itself (spherical mercator, its own formula), clips
    it with a shapely box of the buffered extent, and expects a feature exactly when something is left;
  * compares geometries with a tolerance of about one tile unit: points to the unit, lines and
    polygons by Hausdorff distance and symmetric-difference area;
  * checks polygon winding with shapely's orientation (exterior rings positive by the MVT shoelace
    sum, i.e. `is_ccw` in the raw y-down coordinates; interior rings the opposite), and that no two
    consecutive vertices of a line or ring are equal (no zero-length LineTo);
  * for H3 layers: rolls the cells up with the `h3` reference library to the resolution of the
    documented zoom table (capped at the input resolution), sums, and compares `h3`, `value`,
    `count` and each cell's clipped outline (from `h3.cell_to_boundary`).
Exits non-zero with one line per failure.
"""
import json
import math
import os
import sys

import h3
import mapbox_vector_tile
import shapely
from shapely.geometry import (
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
    shape,
)

FAILURES = []
# Rounding moves a vertex by at most √½ unit; simplification (tolerance 1 unit) by at most 1.
HAUSDORFF_TOL = 2.0
# Features whose clipped area is this small (units²) may be dropped (or kept) by rounding.
SLIVER_AREA = 100.0


def fail(message):
    FAILURES.append(message)
    if len(FAILURES) <= 40:
        print("FAIL:", message, file=sys.stderr)


def to_tile_units(lon, lat, z, x, y, extent):
    """Spherical mercator, written out independently of the Rust code."""
    lat = max(min(lat, 85.0511287798066), -85.0511287798066)
    n = 2.0**z
    wx = (lon + 180.0) / 360.0 * n
    s = math.sin(math.radians(lat))
    wy = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n
    return ((wx - x) * extent, (wy - y) * extent)


def _project(geom, z, x, y, extent):
    def f(arr):
        return [to_tile_units(c[0], c[1], z, x, y, extent) for c in arr]

    return shapely.transform(geom, f)


def clip_box(tile):
    b = tile["buffer"]
    return box(-b, -b, tile["extent"] + b, tile["extent"] + b)


def consecutive_repeats(coords):
    return [i for i in range(1, len(coords)) if tuple(coords[i]) == tuple(coords[i - 1])]


def decoded_shape(geometry, where):
    """A shapely geometry from a decoded feature, after the raw checks on its rings and lines."""
    kind = geometry["type"]
    coords = geometry["coordinates"]
    if kind in ("LineString", "MultiLineString"):
        lines = [coords] if kind == "LineString" else coords
        for i, line in enumerate(lines):
            if len(line) < 2:
                fail(f"{where}: line part {i} has {len(line)} vertices")
            if consecutive_repeats(line):
                fail(f"{where}: line part {i} repeats a vertex (zero-length LineTo)")
        return MultiLineString(lines)
    if kind in ("Polygon", "MultiPolygon"):
        polygons = [coords] if kind == "Polygon" else coords
        out = []
        for p, rings in enumerate(polygons):
            for r, ring in enumerate(rings):
                if len(ring) < 4:
                    fail(f"{where}: polygon {p} ring {r} has {len(ring)} vertices")
                    continue
                if consecutive_repeats(ring):
                    fail(f"{where}: polygon {p} ring {r} repeats a vertex (zero-length LineTo)")
                ccw = LinearRing(ring).is_ccw
                # Raw y-down coordinates: positive MVT area is shapely's counter-clockwise.
                if r == 0 and not ccw:
                    fail(f"{where}: polygon {p} exterior ring has negative area (wrong winding)")
                if r > 0 and ccw:
                    fail(f"{where}: polygon {p} interior ring {r} has positive area (wrong winding)")
            out.append(Polygon(rings[0], rings[1:]))
        return MultiPolygon(out)
    if kind == "Point":
        return MultiPoint([coords])
    if kind == "MultiPoint":
        return MultiPoint(coords)
    fail(f"{where}: unexpected geometry type {kind}")
    return None


def values_equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def compare_properties(got, want, where):
    if set(got) != set(want):
        fail(f"{where}: property keys {sorted(got)} != {sorted(want)}")
        return
    for key, value in want.items():
        if not values_equal(got[key], value):
            fail(f"{where}: property {key} = {got[key]!r}, expected {value!r}")


def compare_geometry(got, want, where):
    """got: decoded (tile units); want: the source projected and clipped by shapely."""
    if got is None:
        return
    if want.geom_type in ("Point", "MultiPoint"):
        want_pts = sorted((p.x, p.y) for p in getattr(want, "geoms", [want]))
        got_pts = sorted((p.x, p.y) for p in got.geoms)
        if len(want_pts) != len(got_pts) or any(
            abs(a[0] - b[0]) > 0.5 + 1e-9 or abs(a[1] - b[1]) > 0.5 + 1e-9 for a, b in zip(got_pts, want_pts)
        ):
            fail(f"{where}: points {got_pts} != expected {want_pts}")
        return
    hd = got.hausdorff_distance(want)
    if hd > HAUSDORFF_TOL:
        fail(f"{where}: Hausdorff distance {hd:.2f} units from the clipped source")
    if want.geom_type in ("Polygon", "MultiPolygon"):
        fixed = shapely.make_valid(got)
        diff = fixed.symmetric_difference(want).area
        allowed = want.boundary.length * 1.0 + 1.0
        if diff > allowed:
            fail(f"{where}: symmetric difference {diff:.1f} units² > {allowed:.1f} (area {want.area:.0f})")


def expected_clip(source, tile):
    clipped = _project(source, tile["z"], tile["x"], tile["y"], tile["extent"]).intersection(clip_box(tile))
    if clipped.is_empty:
        return None
    if source.geom_type in ("Polygon", "MultiPolygon"):
        # Keep only the areal part (a box edge touching a polygon leaves lines and points).
        parts = [g for g in getattr(clipped, "geoms", [clipped]) if g.geom_type in ("Polygon", "MultiPolygon")]
        clipped = shapely.union_all(parts) if parts else None
        if clipped is None or clipped.area == 0:
            return None
    if source.geom_type in ("LineString", "MultiLineString"):
        parts = [g for g in getattr(clipped, "geoms", [clipped]) if g.geom_type in ("LineString", "MultiLineString")]
        clipped = shapely.union_all(parts) if parts else None
        if clipped is None or clipped.length == 0:
            return None
    return clipped


def negligible(clipped):
    if clipped.geom_type in ("Polygon", "MultiPolygon"):
        return clipped.area < SLIVER_AREA
    if clipped.geom_type in ("LineString", "MultiLineString"):
        return clipped.length < 2.0
    return False


def check_features(layer_name, decoded, expected, tile, where_tile, key_of):
    """expected: {match_key: (source geometry in degrees, properties, expected_parts or None)}."""
    got = {}
    for feature in decoded["features"]:
        key = key_of(feature)
        if key in got:
            fail(f"{where_tile}/{layer_name}: two features with key {key}")
        got[key] = feature
    for key, (source, props, parts) in expected.items():
        where = f"{where_tile}/{layer_name}/{key}"
        clipped = expected_clip(source, tile)
        feature = got.pop(key, None)
        if clipped is None:
            if feature is not None:
                fail(f"{where}: feature present but the source lies outside the buffered tile")
            continue
        if feature is None:
            if not negligible(clipped):
                fail(f"{where}: feature missing though {clipped.geom_type} is left after clipping")
            continue
        compare_properties(feature["properties"], props, where)
        shp = decoded_shape(feature["geometry"], where)
        compare_geometry(shp, clipped, where)
        if parts is not None and shp is not None:
            n = len(shp.geoms)
            if n != parts:
                fail(f"{where}: {n} parts, expected {parts}")
    for key in got:
        fail(f"{where_tile}/{layer_name}: unexpected feature {key}")


def resolution_for_zoom(z):
    """The table documented in tiles/src/h3agg.rs."""
    table = [(4, 3), (6, 4), (8, 5), (10, 6), (12, 7), (13, 8), (15, 9)]
    for max_zoom, res in table:
        if z <= max_zoom:
            return res
    return 10


def h3_expected(spec, tile):
    cells = spec["cells"]
    input_res = min(h3.get_resolution(c) for c, _ in cells)
    res = min(resolution_for_zoom(tile["z"]), input_res)
    sums = {}
    for cell, value in cells:
        parent = h3.cell_to_parent(cell, res) if h3.get_resolution(cell) > res else cell
        total, count = sums.get(parent, (0.0, 0))
        sums[parent] = (total + value, count + 1)
    expected = {}
    for cell, (total, count) in sums.items():
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
        value = total if spec["aggregation"] == "sum" else total / count
        expected[cell] = (Polygon(ring), {"h3": cell, "value": value, "count": count}, None)
    return expected


def main():
    manifest_path = sys.argv[1]
    with open(manifest_path) as f:
        manifest = json.load(f)
    base = os.path.dirname(manifest_path)
    for tile in manifest["tiles"]:
        where_tile = tile["file"]
        with open(os.path.join(base, tile["file"]), "rb") as f:
            data = f.read()
        try:
            decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
        except Exception as exc:  # noqa: BLE001 - any decoding error is a failure to report
            fail(f"{where_tile}: the reference decoder rejects the tile: {exc!r}")
            continue
        want_layers = set(tile.get("layers", {})) | set(tile.get("h3_layers", {}))
        if set(decoded) != want_layers:
            fail(f"{where_tile}: layers {sorted(decoded)} != expected {sorted(want_layers)}")
        for name, layer in decoded.items():
            if layer["version"] != 2 or layer["extent"] != tile["extent"]:
                fail(f"{where_tile}/{name}: version {layer['version']} extent {layer['extent']}")
        for name, features in tile.get("layers", {}).items():
            if name not in decoded:
                continue
            expected = {
                f["id"]: (shape(f["geometry"]), f["properties"], f.get("parts")) for f in features
            }
            check_features(name, decoded[name], expected, tile, where_tile, lambda f: f["id"])
        for name, spec in tile.get("h3_layers", {}).items():
            if name not in decoded:
                continue
            expected = h3_expected(spec, tile)
            check_features(name, decoded[name], expected, tile, where_tile, lambda f: f["properties"].get("h3"))
    if FAILURES:
        print(f"{len(FAILURES)} failure(s)", file=sys.stderr)
        sys.exit(1)
    print(f"check_mvt: {len(manifest['tiles'])} tile(s) agree with mapbox_vector_tile + shapely + h3")


if __name__ == "__main__":
    main()
