// A GeoJSON source kept in step with a set of features by id: changes are collected and sent to
// MapLibre at most once per animation frame, as one `updateData` diff (or one `setData` after a reset),
// however many websocket messages arrived in between.

export class FeatureSet {
  /**
   * @param {import('maplibre-gl').Map} map
   * @param {string} sourceId  a GeoJSON source already added to the map
   * @param {() => void} [onFlush]  called after each flush (the list and the KPI panel redraw from it)
   */
  constructor(map, sourceId, onFlush = () => {}) {
    this.map = map;
    this.sourceId = sourceId;
    this.onFlush = onFlush;
    /** id → GeoJSON Feature, as it should be on the map. */
    this.features = new Map();
    this.inSource = new Set();
    this.dirty = new Set();
    this.resetPending = false;
    this.frame = 0;
  }

  values() {
    return this.features.values();
  }

  /** Adds or replaces one feature (its `id` must be set). */
  set(feature) {
    this.features.set(feature.id, feature);
    this.dirty.add(feature.id);
    this.schedule();
  }

  delete(id) {
    if (this.features.delete(id)) {
      this.dirty.add(id);
      this.schedule();
    }
  }

  /** Replaces every feature (a snapshot). */
  reset(features) {
    this.features = new Map(features.map((f) => [f.id, f]));
    this.dirty.clear();
    this.resetPending = true;
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    const source = this.map.getSource(this.sourceId);
    if (!source) return;
    if (this.resetPending) {
      this.resetPending = false;
      this.inSource = new Set(this.features.keys());
      source.setData({ type: 'FeatureCollection', features: [...this.features.values()] });
    } else if (this.dirty.size) {
      const remove = [];
      const add = [];
      for (const id of this.dirty) {
        if (this.inSource.has(id)) remove.push(id);
        const feature = this.features.get(id);
        if (feature) add.push(feature);
      }
      for (const id of remove) this.inSource.delete(id);
      for (const feature of add) this.inSource.add(feature.id);
      source.updateData({ remove, add });
    }
    this.dirty.clear();
    this.onFlush();
  }
}
