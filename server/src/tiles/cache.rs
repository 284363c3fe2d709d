//! A byte-bounded LRU cache of encoded tiles, with per-layer epochs that make invalidation exact.
//!
//! Keys are `(layer, z, x, y)`; each key holds one entry per caller scope (a worker token and an
//! admin see different tiles). The budget counts the raw and gzip bodies of every entry; the least
//! recently used entries go first. A budget of 0 caches nothing.
//!
//! Why epochs: a tile rendered from the world before a write and inserted after that write's
//! invalidation would be stale. A renderer reads its layer's epoch *before* reading the world and
//! inserts only if the epoch is unchanged; invalidation bumps the epoch and removes the entries
//! under the same lock, so every stale render is either refused or removed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use gridwatch_tiles::TileId;
use rustc_hash::FxHashMap;

use super::invalidate::TileRect;

/// Whose view a tile was drawn for: everything, or the sorted grid ids a token may see.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScopeKey {
    All,
    Grids(Arc<[i64]>),
}

/// An encoded tile, ready to send. The bodies are `Bytes` so a cache hit hands them to the response
/// without copying.
#[derive(Debug)]
pub struct Encoded {
    pub raw: Bytes,
    /// `raw` gzip-compressed (empty when `raw` is empty).
    pub gzip: Bytes,
    /// Strong validator of `raw`: the first 16 hex digits of its SHA-256.
    pub etag: String,
    /// After this time the tile may be wrong (see `RenderCtx::expires`): not served from the cache.
    pub expires: Option<chrono::DateTime<chrono::Utc>>,
}

impl Encoded {
    fn bytes(&self, scope: &ScopeKey) -> usize {
        let scope_bytes = match scope {
            ScopeKey::All => 0,
            ScopeKey::Grids(g) => g.len() * 8,
        };
        // The fixed part approximates the map entry, the LRU entry and the strings.
        self.raw.len() + self.gzip.len() + self.etag.len() + scope_bytes + 128
    }
}

type Key = (usize, TileId);

#[derive(Debug, Default)]
struct Inner {
    entries: FxHashMap<Key, Vec<(ScopeKey, Arc<Encoded>, u64)>>,
    /// Last use tick → key and scope, oldest first.
    lru: BTreeMap<u64, (Key, ScopeKey)>,
    tick: u64,
    bytes: usize,
    epochs: Vec<u64>,
}

/// The tile cache. See the module docs.
#[derive(Debug)]
pub struct TileCache {
    budget_bytes: usize,
    inner: Mutex<Inner>,
}

impl TileCache {
    /// A cache of at most `budget_bytes` for `layers` layers.
    #[must_use]
    pub fn new(budget_bytes: usize, layers: usize) -> Self {
        Self {
            budget_bytes,
            inner: Mutex::new(Inner {
                epochs: vec![0; layers],
                ..Inner::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The layer's epoch: read it before reading the world to render, pass it to [`Self::insert`].
    #[must_use]
    pub fn epoch(&self, layer: usize) -> u64 {
        self.lock().epochs[layer]
    }

    /// The cached tile, marking it used; `None` if absent or expired before `now`.
    #[must_use]
    pub fn get(
        &self,
        layer: usize,
        tile: TileId,
        scope: &ScopeKey,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Arc<Encoded>> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let list = inner.entries.get_mut(&(layer, tile))?;
        let slot = list.iter_mut().find(|(s, _, _)| s == scope)?;
        if slot.1.expires.is_some_and(|e| now > e) {
            return None;
        }
        let old = std::mem::replace(&mut slot.2, tick);
        let encoded = Arc::clone(&slot.1);
        if let Some(v) = inner.lru.remove(&old) {
            inner.lru.insert(tick, v);
        }
        Some(encoded)
    }

    /// Caches a tile rendered after reading `epoch`, unless the layer was invalidated since (then the
    /// render may be stale and is not kept). Evicts least recently used entries to fit the budget.
    pub fn insert(
        &self,
        layer: usize,
        tile: TileId,
        scope: ScopeKey,
        epoch: u64,
        encoded: Arc<Encoded>,
    ) -> bool {
        let size = encoded.bytes(&scope);
        if size > self.budget_bytes {
            return false;
        }
        let mut inner = self.lock();
        if inner.epochs[layer] != epoch {
            return false;
        }
        let key = (layer, tile);
        inner.remove_one(key, &scope);
        inner.tick += 1;
        let tick = inner.tick;
        inner
            .entries
            .entry(key)
            .or_default()
            .push((scope.clone(), encoded, tick));
        inner.lru.insert(tick, (key, scope));
        inner.bytes += size;
        while inner.bytes > self.budget_bytes {
            let Some((_, (key, scope))) = inner.lru.pop_first() else {
                break;
            };
            inner.remove_one(key, &scope);
        }
        true
    }

    /// Removes every scope's entry of the layer's tiles in `rects` and bumps the layer's epoch.
    pub fn invalidate(&self, layer: usize, rects: &[TileRect]) {
        let mut inner = self.lock();
        inner.epochs[layer] += 1;
        let total: u64 = rects.iter().map(TileRect::count).sum();
        // Enumerate small sets; scan the cache for large ones (a district at zoom 20).
        let keys: Vec<Key> = if total <= inner.entries.len() as u64 {
            rects
                .iter()
                .flat_map(TileRect::tiles)
                .map(|t| (layer, t))
                .filter(|k| inner.entries.contains_key(k))
                .collect()
        } else {
            inner
                .entries
                .keys()
                .filter(|(l, t)| *l == layer && rects.iter().any(|r| r.contains(*t)))
                .copied()
                .collect()
        };
        for key in keys {
            if let Some(list) = inner.entries.remove(&key) {
                for (scope, encoded, tick) in list {
                    inner.lru.remove(&tick);
                    inner.bytes -= encoded.bytes(&scope);
                }
            }
        }
    }

    /// Drops everything (a new city) and bumps every epoch.
    pub fn clear(&self) {
        let mut inner = self.lock();
        for epoch in &mut inner.epochs {
            *epoch += 1;
        }
        inner.entries.clear();
        inner.lru.clear();
        inner.bytes = 0;
    }

    /// Bytes held now.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

impl Inner {
    fn remove_one(&mut self, key: Key, scope: &ScopeKey) {
        let Some(list) = self.entries.get_mut(&key) else {
            return;
        };
        if let Some(i) = list.iter().position(|(s, _, _)| s == scope) {
            let (scope, encoded, tick) = list.swap_remove(i);
            self.lru.remove(&tick);
            self.bytes -= encoded.bytes(&scope);
        }
        if list.is_empty() {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(n: usize) -> Arc<Encoded> {
        Arc::new(Encoded {
            raw: vec![1; n].into(),
            gzip: Bytes::new(),
            etag: String::new(),
            expires: None,
        })
    }

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time")
    }

    #[test]
    fn an_entry_is_not_served_from_its_expiry_on() {
        let cache = TileCache::new(1 << 20, 1);
        let expires = now() + chrono::Duration::seconds(60);
        let e = Arc::new(Encoded {
            raw: vec![1].into(),
            gzip: Bytes::new(),
            etag: String::new(),
            expires: Some(expires),
        });
        assert!(cache.insert(0, t(1, 0, 0), ScopeKey::All, 0, e));
        assert!(cache.get(0, t(1, 0, 0), &ScopeKey::All, now()).is_some());
        assert!(
            cache.get(0, t(1, 0, 0), &ScopeKey::All, expires).is_some(),
            "a case is not overdue at its deadline"
        );
        let after = expires + chrono::Duration::milliseconds(1);
        assert!(
            cache.get(0, t(1, 0, 0), &ScopeKey::All, after).is_none(),
            "past the deadline it is stale"
        );
    }

    fn t(z: u8, x: u32, y: u32) -> TileId {
        TileId::new(z, x, y).expect("a valid tile")
    }

    #[test]
    fn evicts_least_recently_used_to_stay_within_budget() {
        // Each entry costs 1000 + 128 bytes: three fit in 3500.
        let cache = TileCache::new(3500, 1);
        for x in 0..3 {
            assert!(cache.insert(0, t(2, x, 0), ScopeKey::All, 0, enc(1000)));
        }
        assert!(
            cache.get(0, t(2, 0, 0), &ScopeKey::All, now()).is_some(),
            "touch the oldest"
        );
        assert!(cache.insert(0, t(2, 3, 0), ScopeKey::All, 0, enc(1000)));
        assert!(cache.bytes() <= 3500);
        assert!(
            cache.get(0, t(2, 0, 0), &ScopeKey::All, now()).is_some(),
            "recently used, kept"
        );
        assert!(
            cache.get(0, t(2, 1, 0), &ScopeKey::All, now()).is_none(),
            "least recently used, evicted"
        );
        assert!(cache.get(0, t(2, 2, 0), &ScopeKey::All, now()).is_some());
    }

    #[test]
    fn invalidation_removes_every_scope_and_refuses_renders_started_before_it() {
        let cache = TileCache::new(1 << 20, 2);
        let scoped = ScopeKey::Grids(Arc::from(vec![1_i64, 2]));
        let epoch = cache.epoch(0);
        assert!(cache.insert(0, t(3, 1, 1), ScopeKey::All, epoch, enc(10)));
        assert!(cache.insert(0, t(3, 1, 1), scoped.clone(), epoch, enc(10)));
        assert!(cache.insert(1, t(3, 1, 1), ScopeKey::All, cache.epoch(1), enc(10)));
        cache.invalidate(
            0,
            &[TileRect {
                z: 3,
                x0: 1,
                y0: 1,
                x1: 1,
                y1: 1,
            }],
        );
        assert!(cache.get(0, t(3, 1, 1), &ScopeKey::All, now()).is_none());
        assert!(cache.get(0, t(3, 1, 1), &scoped, now()).is_none());
        assert!(
            cache.get(1, t(3, 1, 1), &ScopeKey::All, now()).is_some(),
            "another layer keeps its tile"
        );
        assert!(
            !cache.insert(0, t(3, 2, 2), ScopeKey::All, epoch, enc(10)),
            "a render from before is refused"
        );
        assert_eq!(cache.bytes(), 10 + 128);
    }

    #[test]
    fn a_zero_budget_caches_nothing() {
        let cache = TileCache::new(0, 1);
        assert!(!cache.insert(0, t(0, 0, 0), ScopeKey::All, 0, enc(1)));
        assert!(cache.get(0, t(0, 0, 0), &ScopeKey::All, now()).is_none());
    }
}
