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

OPEN = {"registered", "dispatched", "accepted", "in_progress", "resolved"}


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
        check_mvt.check_features(layer, got, sources[layer], tile, name, lambda f: f["id"])
        checked += 1

    if checked == 0 or features == 0:
        check_mvt.fail(f"nothing checked: {checked} tiles, {features} features")
    if check_mvt.FAILURES:
        print(f"{len(check_mvt.FAILURES)} failures in {checked} tiles", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {checked} tiles, {features} features match the JSON API")


if __name__ == "__main__":
    main()
