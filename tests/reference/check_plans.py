#!/usr/bin/env python3
"""Checks a community's grids after a boundary change against the `h3` reference library.

Usage: check_plans.py BASE_URL TOKEN COMMUNITY_ID EXPECTED_JSON

EXPECTED_JSON is a file holding {"cells": [every cell of the community], "moved": {"<cell>": "<grid code>"}}.
Exits non-zero with one line per failure. Checks, with h3 only (never gridwatch's own code):
  * every grid's cells are connected through shared edges (h3.are_neighbor_cells), so no grid is split;
  * no cell is in two grids, and the community's grids hold exactly the expected cells (no gap, nothing foreign);
  * each moved cell is in the grid the plan gave it;
  * each grid's outline covers its cells' centres (h3.cell_to_latlng inside the GeoJSON polygon by shapely).
"""
import json
import sys
import urllib.request

import h3
from shapely.geometry import Point, shape

FAILURES = []


def fail(message):
    FAILURES.append(message)
    if len(FAILURES) <= 30:
        print("FAIL:", message, file=sys.stderr)


def main():
    base, token, community, expected_path = sys.argv[1:5]
    with open(expected_path) as f:
        expected = json.load(f)
    req = urllib.request.Request(f"{base}/api/grids?community={community}&cells=true",
                                 headers={"Authorization": f"Bearer {token}"})
    grids = json.load(urllib.request.urlopen(req))["features"]
    owner = {}
    for g in grids:
        code = g["properties"]["code"]
        cells = g["properties"]["cells"]
        for c in cells:
            if c in owner:
                fail(f"cell {c} is in {owner[c]} and {code}")
            owner[c] = code
        # Contiguity by breadth-first search over edge neighbours, as h3 defines them.
        todo, seen = [cells[0]], {cells[0]}
        members = set(cells)
        while todo:
            c = todo.pop()
            for n in h3.grid_ring(c, 1):
                if n in members and n not in seen and h3.are_neighbor_cells(c, n):
                    seen.add(n)
                    todo.append(n)
        if len(seen) != len(members):
            fail(f"grid {code} is split: {len(seen)} of {len(members)} cells reachable")
        outline = shape(g["geometry"])
        for c in cells:
            lat, lng = h3.cell_to_latlng(c)
            if not outline.buffer(1e-9).contains(Point(lng, lat)):
                fail(f"grid {code}'s outline misses the centre of its cell {c}")
                break
    if set(owner) != set(expected["cells"]):
        fail(f"community {community} holds {len(owner)} cells, expected {len(expected['cells'])}: "
             f"{len(set(expected['cells']) - set(owner))} missing, {len(set(owner) - set(expected['cells']))} foreign")
    for cell, code in expected["moved"].items():
        if owner.get(cell) != code:
            fail(f"moved cell {cell} is in {owner.get(cell)}, expected {code}")
    print(f"checked {len(grids)} grids, {len(owner)} cells of community {community}")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
