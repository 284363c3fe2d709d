#!/usr/bin/env python3
"""Checks a running gridwatch against independent references: the `h3` reference library and shapely.

Usage: check_city.py BASE_URL TOKEN [--points N] [--seed S] [--expect-grids LO HI] [--strict-households]

Exits non-zero with one line per failure. Checks:
  * every grid boundary is a valid polygon; no two grids overlap (shapely);
  * every grid boundary equals the outline of its cells as the h3 library draws it;
  * no cell belongs to two grids;
  * each community's grids cover exactly the cells whose centre lies in the community boundary
    (h3.geo_to_cells, centre containment);
  * for N seeded random points over the city (plus a margin), /api/locate (batch) returns the cell
    h3.latlng_to_cell gives at the configured resolution, and the grid whose polygon contains the point;
    points outside every grid are flagged `outside` with their distance to the nearest grid;
  * with --strict-households, every grid holds 100–150 households unless flagged single-building.
"""
import argparse
import json
import math
import random
import sys
import urllib.request

import h3
import shapely
from shapely.geometry import Point, shape
from shapely.strtree import STRtree

FAILURES = []


def fail(message):
    FAILURES.append(message)
    if len(FAILURES) <= 30:
        print("FAIL:", message, file=sys.stderr)


def request(base, token, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method="POST" if body is not None else "GET")
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)


def local_meters(lat0):
    """Equirectangular projection to meters around lat0 (city scale)."""
    k = 111_319.490_793_273_57
    c = math.cos(math.radians(lat0))
    return lambda lon, lat: (lon * c * k, lat * k)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token")
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--expect-grids", type=int, nargs=2)
    ap.add_argument("--strict-households", action="store_true")
    args = ap.parse_args()
    base = args.base.rstrip("/")

    res = request(base, args.token, "/health")["cell_resolution"]
    grids = request(base, args.token, "/api/grids?cells=true")["features"]
    communities = request(base, args.token, "/api/regions?level=community")["features"]
    if not grids:
        fail("no grids")
        return report()
    if args.expect_grids and not (args.expect_grids[0] <= len(grids) <= args.expect_grids[1]):
        fail(f"{len(grids)} grids, expected {args.expect_grids[0]}..{args.expect_grids[1]}")

    polys = {}
    owner = {}
    for g in grids:
        gid = g["id"]
        poly = shape(g["geometry"])
        polys[gid] = poly
        if not poly.is_valid:
            fail(f"grid {gid}: boundary invalid: {shapely.validation.explain_validity(poly)}")
        cells = g["properties"]["cells"]
        for c in cells:
            if h3.get_resolution(c) != res:
                fail(f"grid {gid}: cell {c} is not at resolution {res}")
            if c in owner:
                fail(f"cell {c} in grids {owner[c]} and {gid}")
            owner[c] = gid
        reference = shape(h3.cells_to_h3shape(cells).__geo_interface__)
        diff = poly.symmetric_difference(reference).area
        if diff > 1e-6 * max(reference.area, 1e-12):
            fail(f"grid {gid}: boundary differs from the h3 outline of its cells by {diff:.3e} deg²")
        hh = g["properties"]["households"]
        flag = g["properties"]["flag"]
        if args.strict_households and not (100 <= hh <= 150):
            if not (flag and flag.get("reason") == "single_building_over_max"):
                fail(f"grid {gid}: {hh} households and not flagged single-building")

    ids = list(polys)
    tree = STRtree([polys[i] for i in ids])
    for n, i in enumerate(ids):
        for j in tree.query(polys[i]):
            if ids[j] <= i:
                continue
            overlap = polys[i].intersection(polys[ids[j]]).area
            if overlap > 1e-6 * polys[i].area:
                fail(f"grids {i} and {ids[j]} overlap by {overlap:.3e} deg²")

    by_community = {}
    for g in grids:
        by_community.setdefault(g["properties"]["community_id"], set()).update(g["properties"]["cells"])
    for c in communities:
        expected = set(h3.geo_to_cells(c["geometry"], res))
        got = by_community.get(c["id"], set())
        missing, extra = expected - got, got - expected
        if missing or extra:
            fail(f"community {c['id']}: {len(missing)} cells of its boundary in none of its grids, "
                 f"{len(extra)} grid cells outside its boundary")

    # Seeded random points over the city's extent plus a 10% margin on each side.
    minx, miny, maxx, maxy = shapely.unary_union(list(polys.values())).bounds
    mx, my = (maxx - minx) * 0.1, (maxy - miny) * 0.1
    rng = random.Random(args.seed)
    points = [[rng.uniform(minx - mx, maxx + mx), rng.uniform(miny - my, maxy + my)] for _ in range(args.points)]
    results = request(base, args.token, "/api/locate", {"points": points})["results"]
    if len(results) != len(points):
        fail(f"{len(results)} results for {len(points)} points")
    proj = local_meters((miny + maxy) / 2)
    projected = [shapely.ops.transform(lambda x, y, z=None: proj(x, y), polys[i]) for i in ids]
    tree_m = STRtree(projected)
    outside = 0
    for (lon, lat), r in zip(points, results):
        want_cell = h3.latlng_to_cell(lat, lon, res)
        if r["cell"] != want_cell:
            fail(f"({lon}, {lat}): cell {r['cell']} != h3 {want_cell}")
        p = Point(lon, lat)
        containing = [ids[k] for k in tree.query(p, predicate="intersects")]
        if r["outside"]:
            outside += 1
            if containing:
                fail(f"({lon}, {lat}) flagged outside but lies in grid {containing}")
            # Distance to the nearest grid, in local meters, against the reported one.
            px, py = proj(lon, lat)
            here = Point(px, py)
            nearest = projected[tree_m.nearest(here)].distance(here)
            if abs(r["distance_m"] - nearest) > 1.0 + 0.01 * nearest:
                fail(f"({lon}, {lat}): distance {r['distance_m']} m, shapely says {nearest:.1f} m")
        else:
            if r["grid_id"] not in containing:
                fail(f"({lon}, {lat}): located in grid {r['grid_id']} but lies in {containing}")
    print(f"checked {len(grids)} grids, {len(communities)} communities, {len(points)} points "
          f"({outside} outside every grid) at resolution {res}")
    return report()


def report():
    if FAILURES:
        print(f"{len(FAILURES)} failures", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    import shapely.ops  # noqa: F401  (shapely.ops.transform above)
    import shapely.validation  # noqa: F401
    sys.exit(main())
