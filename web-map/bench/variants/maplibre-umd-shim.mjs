// The UMD maplibre-gl (loaded by a classic <script> before the app's module) as the ES module the app
// imports, for bench/variants/maplibre-umd.sh. 4.x has no `Map#refreshTiles`: it reloads the whole
// source instead (the tile list is ignored).
const g = window.maplibregl;
if (!g) throw new Error('maplibre-gl UMD bundle not loaded');
if (typeof g.Map.prototype.refreshTiles !== 'function') {
  g.Map.prototype.refreshTiles = function refreshTiles(sourceId) {
    const cache = this.style?.sourceCaches?.[sourceId] ?? this.style?.tileManagers?.[sourceId];
    cache?.reload?.();
  };
}
console.info(`maplibre-gl ${g.getVersion()} (UMD, bench variant)`);
export const { Map, Popup, Marker, NavigationControl, AttributionControl, ScaleControl, LngLat, LngLatBounds, getVersion } = g;
export default g;
