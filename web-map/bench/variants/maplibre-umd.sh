#!/bin/sh
# An older MapLibre GL JS (4.x, 5.x: UMD bundles only) in a copy of the web map's build, for the frame
# benchmark's A/B of versions (BENCHMARKS.md, "The web map"). Not used by gridwatch itself.
#
#   node build.mjs --out /tmp/web-ml6                                  # the build as shipped
#   mkdir -p /tmp/ml5 && (cd /tmp/ml5 && npm install maplibre-gl@5.24.1)
#   bench/variants/maplibre-umd.sh /tmp/web-ml6 /tmp/ml5 /tmp/web-ml5
#   GRIDWATCH_WEB_DIR=/tmp/web-ml5 node bench/frames.mjs --incidents 0 --workers 0 --seconds 15
#
# The copy loads the UMD bundle with a classic <script> before the app's module, and its
# vendor/maplibre-gl.mjs becomes a shim exporting what the app imports from the global.
set -eu
base=$1; modules=$2/node_modules/maplibre-gl; out=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$out"; cp -r "$base" "$out"
rm -f "$out/vendor/maplibre-gl-worker.mjs"
cp "$modules/dist/maplibre-gl.js" "$out/vendor/maplibre-gl-umd.js"
cp "$modules/dist/maplibre-gl.css" "$out/vendor/maplibre-gl.css"
cp "$here/maplibre-umd-shim.mjs" "$out/vendor/maplibre-gl.mjs"
for page in index planner worker; do
  sed -i 's|  <script type="module"|  <script src="/static/vendor/maplibre-gl-umd.js"></script>\n  <script type="module"|' "$out/$page.html"
done
grep -q maplibre-gl-umd.js "$out/index.html" || { echo "the page's module script was not found" >&2; exit 1; }
echo "maplibre-gl $(node -p "require('$modules/package.json').version") in $out"
