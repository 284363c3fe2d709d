// The fixed loop of views both benchmarks ease the map round: the whole city, then closer looks at its
// quarters and one grid (zooms 13–17), from the grids' outlines.

/** The fixed loop of views: the whole city, then closer looks at its quarters and one grid. */
export function tourOf(grids) {
  let [west, south, east, north] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const grid of grids) {
    for (const polygon of grid.geometry.coordinates) {
      for (const [lon, lat] of polygon[0]) {
        west = Math.min(west, lon);
        east = Math.max(east, lon);
        south = Math.min(south, lat);
        north = Math.max(north, lat);
      }
    }
  }
  const at = (x, y) => [west + (east - west) * x, south + (north - south) * y];
  return [
    { center: at(0.5, 0.5), zoom: 13 },
    { center: at(0.7, 0.7), zoom: 15 },
    { center: at(0.65, 0.6), zoom: 17 },
    { center: at(0.3, 0.35), zoom: 16 },
    { center: at(0.4, 0.6), zoom: 14 },
  ];
}
