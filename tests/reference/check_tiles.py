#!/usr/bin/env python3
"""Checks tiles served by gridwatch against the JSON API, with an independent decoder.

Usage: check_tiles.py DIR

DIR holds `{layer}-{z}-{x}-{y}.mvt` tiles (uncompressed) and the sources fetched from the JSON API:
`grids.json` (/api/grids), `incidents.json` (/api/incidents), `buildings.json` (/api/buildings?bbox=…),
`workers.json` (/api/workers). Each tile is decoded with `mapbox_vector_tile`; each source feature is
projected to tile units and clipped to the buffered tile with shapely (check_mvt.py's projection,
written out independently of the Rust code); decoded and expected features must match one to one by
id, their properties must equal what the JSON API says, and geometries must agree within tile
precision (Hausdorff ≤ 2 units, symmetric difference ≤ perimeter × 1 unit).

Winding is judged by the surveyor's formula on the raw decoded rings, as the MVT spec defines it
(exterior positive, holes negative, y down). Geometry is compared inside the buffered tile shrunk by
half a unit: the encoder's Sutherland–Hodgman clipping may leave zero-width edges lying *on* the
buffer's border where a concave ring leaves and re-enters (a documented limit of gridwatch-tiles,
invisible to renderers); everything off that line is compared.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import mapbox_vector_tile
    import shapely  # noqa: F401
    from shapely.geometry import shape
except ImportError as e:  # pragma: no cover
    print(f"MISSING: {e}", file=sys.stderr)
    sys.exit(3)

import check_mvt  # noqa: E402  (projection, clipping and comparisons shared with the tiles crate's check)
from shapely.geometry import MultiPoint, MultiPolygon, Polygon, box  # noqa: E402

OPEN = {"registered", "dispatched", "accepted", "in_progress", "resolved"}


def signed_area(ring):
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)) / 2.0


def decoded(geometry, where):
    kind, coords = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return MultiPoint([coords])
    if kind == "MultiPoint":
        return MultiPoint(coords)
    polygons = [coords] if kind == "Polygon" else coords
    out = []
    for p, rings in enumerate(polygons):
        for r, ring in enumerate(rings):
            if len(ring) < 4:
                check_mvt.fail(f"{where}: polygon {p} ring {r} has {len(ring)} vertices")
            a = signed_area(ring)
            if (r == 0 and a <= 0) or (r > 0 and a >= 0):
                check_mvt.fail(f"{where}: polygon {p} ring {r} has signed area {a} (wrong winding)")
        out.append(shapely.make_valid(Polygon(rings[0], rings[1:])))
    return shapely.union_all(out)


def areal(g):
    parts = [x for x in getattr(g, "geoms", [g]) if x.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else MultiPolygon()


def check_layer(layer, got_layer, sources, tile, where_tile):
    inner = box(-63.5, -63.5, 4159.5, 4159.5)
    got = {}
    for f in got_layer["features"]:
        if f["id"] in got:
            check_mvt.fail(f"{where_tile}: two features with id {f['id']}")
        got[f["id"]] = f
    for key, (source, props, _) in sources.items():
        where = f"{where_tile}/{key}"
        clipped = check_mvt.expected_clip(source, tile)
        feature = got.pop(key, None)
        if clipped is None:
            if feature is not None:
                check_mvt.fail(f"{where}: feature present but the source lies outside the buffered tile")
            continue
        if feature is None:
            if not check_mvt.negligible(clipped):
                check_mvt.fail(f"{where}: feature missing though {clipped.geom_type} is left after clipping")
            continue
        check_mvt.compare_properties(feature["properties"], props, where)
        shp = decoded(feature["geometry"], where)
        if clipped.geom_type in ("Point", "MultiPoint"):
            check_mvt.compare_geometry(shp, clipped, where)
            continue
        g, w = areal(shp.intersection(inner)), areal(clipped.intersection(inner))
        hd = g.hausdorff_distance(w)
        if hd > check_mvt.HAUSDORFF_TOL:
            check_mvt.fail(f"{where}: Hausdorff distance {hd:.2f} units from the clipped source")
        diff = g.symmetric_difference(w).area
        if diff > w.boundary.length + 1.0:
            check_mvt.fail(f"{where}: symmetric difference {diff:.1f} units² (area {w.area:.0f})")
    for key in got:
        check_mvt.fail(f"{where_tile}: unexpected feature {key}")


def load(d, name):
    with open(os.path.join(d, name)) as f:
        return json.load(f)


def main():
    d = sys.argv[1]
    grids = load(d, "grids.json")["features"]
    incidents = load(d, "incidents.json")["features"]
    buildings = load(d, "buildings.json")["features"]
    workers = {w["properties"]["id"]: w["properties"] for w in load(d, "workers.json")["features"]}

    open_cases = {}
    for f in incidents:
        p = f["properties"]
        if p["status"] in OPEN:
            open_cases[p["grid_id"]] = open_cases.get(p["grid_id"], 0) + 1

    def grid_props(p):
        props = {"id": p["id"], "code": p["code"], "name": p["name"], "households": p["households"],
                 "open_cases": open_cases.get(p["id"], 0)}
        if p.get("primary_worker_id") is not None:
            props["worker_id"] = p["primary_worker_id"]
            props["worker"] = workers[p["primary_worker_id"]]["name"]
        return props

    sources = {
        "grids": {f["properties"]["id"]: (shape(f["geometry"]), grid_props(f["properties"]), None) for f in grids},
        "incidents": {
            f["properties"]["id"]: (
                shape(f["geometry"]),
                {k: f["properties"][k] for k in ("id", "category", "priority", "status", "overdue")},
                None,
            )
            for f in incidents
            if f["properties"]["status"] in OPEN
        },
        "buildings": {
            f["properties"]["id"]: (
                shape(f["geometry"]),
                {"id": f["properties"]["id"], "households": f["properties"]["households"], "kind": f["properties"]["kind"],
                 **({"levels": f["properties"]["levels"]} if f["properties"].get("levels") is not None else {})},
                None,
            )
            for f in buildings
        },
    }

    checked = 0
    features = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith(".mvt"):
            continue
        layer, z, x, y = name[:-4].split("-")
        tile = {"z": int(z), "x": int(x), "y": int(y), "extent": 4096, "buffer": 64}
        with open(os.path.join(d, name), "rb") as f:
            data = f.read()
        decoded = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True}) if data else {}
        got = decoded.get(layer, {"features": [], "extent": 4096})
        if set(decoded) - {layer}:
            check_mvt.fail(f"{name}: unexpected layers {sorted(set(decoded) - {layer})}")
        if got.get("extent", 4096) != 4096:
            check_mvt.fail(f"{name}: extent {got.get('extent')}")
        features += len(got["features"])
        check_layer(layer, got, sources[layer], tile, f"{name}/{layer}")
        checked += 1

    if checked == 0 or features == 0:
        check_mvt.fail(f"nothing checked: {checked} tiles, {features} features")
    if check_mvt.FAILURES:
        print(f"{len(check_mvt.FAILURES)} failures in {checked} tiles", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {checked} tiles, {features} features match the JSON API")


if __name__ == "__main__":
    main()
