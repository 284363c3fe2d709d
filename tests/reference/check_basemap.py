#!/usr/bin/env python3
"""Checks the `basemap` tiles' roads, waterways, water and landuse against `GET /api/basemap`.

Usage: check_basemap.py DIR

DIR holds `basemap-{z}-{x}-{y}.mvt` tiles (uncompressed) and `basemap.json`, the sources from
`/api/basemap?bbox=…` (lon/lat degrees). Each tile is decoded with `mapbox_vector_tile`; every source
feature is projected to tile units and clipped to the buffered tile with shapely (check_mvt.py's
projection, written independently of the Rust code). Base-map features carry no id, so features are
matched by (kind, name): per tile layer and key, the union of the decoded geometries must lie within
tile precision of the union of the clipped sources (Hausdorff ≤ 2 units; polygons also by symmetric
difference), and the number of decoded features must lie between the number of sources that leave
more than a sliver after clipping and the number that leave anything at all.

Which layer a feature belongs to is this script's own reading of the layer contract: lines whose kind
is an OSM waterway value go to `waterway`, other lines to `road`; areas of kind `water` to `water`,
other areas to `landuse`. At least one tile must hold a road.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import mapbox_vector_tile
    import shapely
    from shapely.geometry import MultiPolygon, box, shape
except ImportError as e:  # pragma: no cover
    print(f"MISSING: {e}", file=sys.stderr)
    sys.exit(3)

import check_mvt  # noqa: E402

WATERWAYS = {"river", "stream", "canal", "drain", "ditch", "brook", "tidal_channel"}
LAYERS = ("road", "waterway", "water", "landuse")


INNER = box(-63.5, -63.5, 4159.5, 4159.5)


def areal(g):
    parts = [p for p in getattr(g, "geoms", [g]) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else MultiPolygon()


def layer_of(props):
    if props["layer"] == "line":
        return "waterway" if props["kind"] in WATERWAYS else "road"
    return "water" if props["kind"] == "water" else "landuse"


def key_of(props):
    return (props["kind"], props.get("name"))


def decoded_geometry(feature, where):
    g = shape(feature["geometry"])
    if g.geom_type in ("Polygon", "MultiPolygon"):
        g = shapely.make_valid(g)
    elif g.geom_type not in ("LineString", "MultiLineString"):
        check_mvt.fail(f"{where}: unexpected geometry {g.geom_type}")
    return g


def check_tile(name, data, sources):
    _, z, x, y = name[:-4].split("-")
    tile = {"z": int(z), "x": int(x), "y": int(y), "extent": 4096, "buffer": 64}
    layers = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True}) if data else {}
    counts = {}
    for layer in LAYERS:
        got = {}
        for f in layers.get(layer, {"features": []})["features"]:
            props = f["properties"]
            if set(props) - {"kind", "name"} or "kind" not in props:
                check_mvt.fail(f"{name}/{layer}: properties {sorted(props)}")
                continue
            got.setdefault(key_of(props), []).append(decoded_geometry(f, f"{name}/{layer}"))
        counts[layer] = sum(len(v) for v in got.values())
        want = {}
        for source, props in sources:
            if layer_of(props) != layer:
                continue
            clipped = check_mvt.expected_clip(source, tile)
            if clipped is not None:
                want.setdefault(key_of(props), []).append(clipped)
        for key in sorted(set(got) | set(want), key=str):
            where = f"{name}/{layer}/{key}"
            g, w = got.get(key, []), want.get(key, [])
            substantial = sum(not check_mvt.negligible(c) for c in w)
            if not substantial <= len(g) <= len(w):
                check_mvt.fail(f"{where}: {len(g)} features, expected {substantial}..={len(w)}")
                continue
            if not g:
                continue
            gu, wu = shapely.union_all(g), shapely.union_all(w)
            if wu.geom_type in ("Polygon", "MultiPolygon"):
                # As check_tiles.py: the encoder's polygon clipping may leave zero-width edges lying on
                # the buffer's border (a documented limit); compare everything off that line.
                gu, wu = areal(gu.intersection(INNER)), areal(wu.intersection(INNER))
            hd = gu.hausdorff_distance(wu)
            if hd > check_mvt.HAUSDORFF_TOL:
                check_mvt.fail(f"{where}: Hausdorff distance {hd:.2f} units from the clipped source")
            if wu.geom_type in ("Polygon", "MultiPolygon"):
                diff = gu.symmetric_difference(wu).area
                if diff > wu.boundary.length + 1.0:
                    check_mvt.fail(f"{where}: symmetric difference {diff:.1f} units² (area {wu.area:.0f})")
    return counts


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "basemap.json")) as f:
        features = json.load(f)["features"]
    sources = [(shape(f["geometry"]), f["properties"]) for f in features]
    totals = dict.fromkeys(LAYERS, 0)
    tiles = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".mvt"):
            continue
        with open(os.path.join(d, name), "rb") as f:
            counts = check_tile(name, f.read(), sources)
        for layer, n in counts.items():
            totals[layer] += n
        tiles += 1
    if tiles == 0 or totals["road"] == 0:
        check_mvt.fail(f"nothing checked: {tiles} tiles, {totals['road']} road features")
    if check_mvt.FAILURES:
        print(f"{len(check_mvt.FAILURES)} failures in {tiles} tiles", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {tiles} tiles; features per layer {totals} match /api/basemap")


if __name__ == "__main__":
    main()
