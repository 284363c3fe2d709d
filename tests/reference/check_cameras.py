#!/usr/bin/env python3
"""Checks a running gridwatch's cameras (视频监控点) against an independent rebuild with shapely and h3.

Usage: check_cameras.py BASE_URL TOKEN GRID_ID... [--points N] [--seed S]

Nothing here reuses the server's geometry. For every camera of GET /api/cameras:
  (a) the view sector is rebuilt from the camera's raw parameters (lat, lon, heading_deg, fov_deg,
      range_m, kind) and compared with the `sector` polygon the API returns: same vertex count and a
      Hausdorff distance below 1e-7 degrees (about 1 cm).
      The rebuild: meters in a local plane at the camera (x east, y north, bearing clockwise from
      north) turned into degrees with the equirectangular approximation at the camera's latitude,
      dlat = y / M, dlon = x / (M cos lat), M = R pi / 180 with the mean Earth radius R = 6,371,008.8 m;
      the apex at the camera, then the arc from heading - fov/2 to heading + fov/2 in ceil(fov / 5)
      equal steps; a PTZ camera or a 360-degree view is a circle of 72 points without the apex.
  (b) for N seeded random points in and around the cameras' sectors, GET /api/cameras?covers=lat,lon equals the
      brute-force set of cameras whose rebuilt sector contains the point (points within 1e-7 degrees
      of a sector's outline are skipped: either answer is right there), nearest first by haversine
      distance, each `distance_m` within 1 mm of the haversine distance computed here.
  (c) for each GRID_ID, the `cameras` part of GET /api/grids/{id}/coverage: a cell (from the grid's
      cell list, centres by h3.cell_to_latlng) is covered when its centre lies in the union of the
      rebuilt sectors of the online cameras; covered_cells, total_cells, covered_share and the
      blind_spots list must equal that (a centre within 1e-9 degrees of an online sector's outline,
      such as the cell a camera is mounted at the centre of, may be on either side), and
      blind_spots_outline must equal the union of the listed blind cells' boundaries
      (h3.cell_to_boundary) up to 1e-9 square degrees of symmetric difference.
  (d) with --cells, each camera's covered cells (GET /api/cameras?cells=true) are exactly the reference
      library's h3.polygon_to_cells of the rebuilt sector (centre containment) at the cells' resolution,
      but for cells whose centre lies within 1e-9 degrees of the outline (either answer is right there).
Exits non-zero with one line per failure.
"""
import argparse
import json
import math
import random
import sys
import urllib.parse
import urllib.request

import h3
from shapely.geometry import Point, Polygon, shape
from shapely.ops import unary_union

EARTH_RADIUS_M = 6_371_008.8
M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
STEP_DEG = 5.0
EDGE_TOL_DEG = 1e-7
TIE_TOL_DEG = 1e-9

failures = []


def fail(message):
    failures.append(message)
    print("FAIL:", message)


def get(base, token, path):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def rebuild_sector(p):
    """The sector in degrees (lon, lat) from the raw parameters; see the module docstring."""
    lat, lon, rng = p["lat"], p["lon"], p["range_m"]
    m_per_deg_lon = M_PER_DEG * math.cos(math.radians(lat))

    def at(bearing):
        b = math.radians(bearing)
        return (lon + rng * math.sin(b) / m_per_deg_lon, lat + rng * math.cos(b) / M_PER_DEG)

    if p["kind"] == "ptz" or p["fov_deg"] >= 360.0:
        return Polygon([at(360.0 * i / 72) for i in range(72)])
    steps = max(1, math.ceil(p["fov_deg"] / STEP_DEG))
    start = p["heading_deg"] - p["fov_deg"] / 2.0
    arc = [at(start + p["fov_deg"] * i / steps) for i in range(steps + 1)]
    return Polygon([(lon, lat)] + arc)


def haversine_m(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("token")
    parser.add_argument("grids", nargs="*", type=int)
    parser.add_argument("--points", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--cells", action="store_true", help="check each camera's covered cells too")
    args = parser.parse_args()

    cameras = get(args.base, args.token, "/api/cameras")["features"]
    if not cameras:
        fail("no cameras to check")
    sectors = {}
    params = {}
    # (a) sectors
    for f in cameras:
        p = f["properties"]
        cid = p["id"]
        lon, lat = f["geometry"]["coordinates"]
        if (lon, lat) != (p["lon"], p["lat"]):
            fail(f"camera {cid}: geometry {lon},{lat} is not the lat/lon properties")
        mine = rebuild_sector(p)
        theirs = shape(p["sector"])
        sectors[cid] = mine
        params[cid] = p
        if not mine.is_valid:
            fail(f"camera {cid}: the rebuilt sector is not valid")
        if not theirs.is_valid:
            fail(f"camera {cid}: the API's sector is not a valid polygon")
        if len(theirs.exterior.coords) != len(mine.exterior.coords):
            fail(f"camera {cid}: {len(theirs.exterior.coords)} sector vertices, expected {len(mine.exterior.coords)}")
        d = theirs.hausdorff_distance(mine)
        if not d < 1e-7:
            fail(f"camera {cid}: sector is {d:.3g} degrees (Hausdorff) from the rebuilt one")

    # (d) each camera's covered cells against h3.polygon_to_cells
    if args.cells:
        listed = {f["properties"]["id"]: f["properties"]["cells"] for f in get(args.base, args.token, "/api/cameras?cells=true")["features"]}
        # The world's resolution, from any listed cell (a small sector may cover no cell centre).
        any_cell = next((c for cells in listed.values() for c in cells), None)
        if any_cell is None:
            fail("no camera lists a covered cell: --cells proved nothing")
        for cid, sector in sectors.items() if any_cell is not None else []:
            theirs = set(listed.get(cid, []))
            res = h3.get_resolution(any_cell)
            outer = [(lat, lon) for lon, lat in sector.exterior.coords][:-1]
            mine = set(h3.polygon_to_cells(h3.LatLngPoly(outer), res))
            for cell in sorted(mine ^ theirs):
                lat, lon = h3.cell_to_latlng(cell)
                if sector.exterior.distance(Point(lon, lat)) >= TIE_TOL_DEG:
                    side = "listed" if cell in theirs else "missing"
                    fail(f"camera {cid}: cell {cell} {side}, but h3.polygon_to_cells says otherwise")
            print(f"camera {cid}: {len(theirs)} covered cells checked against h3.polygon_to_cells")

    # (b) covers, by brute force over seeded random points
    rng = random.Random(args.seed)
    # Each point is drawn in the bounding box (padded by a fifth) of a camera drawn at random, so points
    # fall inside, beside and between sectors, where they overlap too.
    ordered = sorted(sectors)
    checked = skipped = hits = 0
    for _ in range(args.points):
        min_x, min_y, max_x, max_y = sectors[rng.choice(ordered)].bounds
        pad_x, pad_y = (max_x - min_x) * 0.2, (max_y - min_y) * 0.2
        lat = rng.uniform(min_y - pad_y, max_y + pad_y)
        lon = rng.uniform(min_x - pad_x, max_x + pad_x)
        pt = Point(lon, lat)
        if any(s.exterior.distance(pt) < EDGE_TOL_DEG for s in sectors.values()):
            skipped += 1
            continue
        query = urllib.parse.urlencode({"covers": f"{lat!r},{lon!r}"})
        got = get(args.base, args.token, f"/api/cameras?{query}")["features"]
        want = sorted(
            (haversine_m(params[c]["lat"], params[c]["lon"], lat, lon), c) for c, s in sectors.items() if s.contains(pt)
        )
        got_ids = [g["properties"]["id"] for g in got]
        want_ids = [c for _, c in want]
        checked += 1
        hits += bool(want_ids)
        if sorted(got_ids) != sorted(want_ids):
            fail(f"covers {lat},{lon}: {got_ids}, expected {want_ids}")
            continue
        distances = [g["properties"]["distance_m"] for g in got]
        if distances != sorted(distances):
            fail(f"covers {lat},{lon}: not nearest first: {distances}")
        for g in got:
            c = g["properties"]["id"]
            expected = haversine_m(params[c]["lat"], params[c]["lon"], lat, lon)
            if abs(g["properties"]["distance_m"] - expected) > 1e-3:
                fail(f"covers {lat},{lon}: camera {c} at {g['properties']['distance_m']} m, expected {expected}")
    if hits == 0:
        fail("no random point fell in any sector: the covers check proved nothing")

    # (c) camera coverage of grids
    online = unary_union([s for c, s in sectors.items() if params[c]["status"] == "online"])
    for grid in args.grids:
        cells = get(args.base, args.token, f"/api/grids/{grid}")["properties"]["cells"]
        coverage = get(args.base, args.token, f"/api/grids/{grid}/coverage")
        cams = coverage.get("cameras")
        if cams is None:
            fail(f"grid {grid}: coverage has no cameras part")
            continue
        # A centre within TIE_TOL_DEG of an online sector's outline (a camera mounted at a cell's centre
        # puts its apex there) may fall either way: it must be listed, but on either side.
        covered, blind, ties = [], [], []
        for cell in cells:
            lat, lon = h3.cell_to_latlng(cell)
            pt = Point(lon, lat)
            if any(s.exterior.distance(pt) < TIE_TOL_DEG for c, s in sectors.items() if params[c]["status"] == "online"):
                ties.append(cell)
            else:
                (covered if online.contains(pt) else blind).append(cell)
        listed_blind = set(cams["blind_spots"])
        if cams["total_cells"] != len(cells):
            fail(f"grid {grid}: total_cells {cams['total_cells']}, expected {len(cells)}")
        if not listed_blind <= set(cells):
            fail(f"grid {grid}: blind spots outside the grid: {sorted(listed_blind - set(cells))[:5]}")
        wrong = sorted((set(blind) - listed_blind) | (set(covered) & listed_blind))
        for cell in wrong:
            lat, lon = h3.cell_to_latlng(cell)
            near = min((s.exterior.distance(Point(lon, lat)), c) for c, s in sectors.items() if params[c]["status"] == "online")
            side = "listed blind" if cell in listed_blind else "listed covered"
            fail(f"grid {grid}: cell {cell} centre {lat!r},{lon!r} {side}, wrongly; {near[0]:.3g} degrees from camera {near[1]}'s outline")
        if cams["covered_cells"] != len(cells) - len(listed_blind):
            fail(f"grid {grid}: covered_cells {cams['covered_cells']} is not total_cells minus the blind spots")
        share = cams["covered_cells"] / len(cells) if cells else 0.0
        if abs(cams["covered_share"] - share) > 1e-12:
            fail(f"grid {grid}: covered_share {cams['covered_share']}, expected {share}")
        blind = [c for c in cells if c in listed_blind]
        blind_shape = unary_union([Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in blind])
        outline = shape(cams["blind_spots_outline"])
        if blind:
            diff = outline.symmetric_difference(blind_shape).area
            if not diff < 1e-9 * max(1.0, blind_shape.area / 1e-6):
                fail(f"grid {grid}: blind_spots_outline differs from the blind cells by {diff:.3g} square degrees")
        elif not outline.is_empty:
            fail(f"grid {grid}: no blind cell, but a non-empty blind_spots_outline")
        print(f"grid {grid}: {len(covered)}/{len(cells)} cells covered by online cameras, {len(blind)} blind, {len(ties)} on an outline")

    print(f"{len(cameras)} sectors rebuilt; covers checked at {checked} points ({hits} inside a sector, {skipped} skipped on an outline)")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
