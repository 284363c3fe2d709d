//! The keyframe writer: a service on every node that keeps `replay_keyframes` one frame each
//! [`KEYFRAME_EVERY`] events behind the log.
//!
//! It starts from the store's last keyframe, or, on a store that has none, writes the first from the
//! world as it was loaded. Then, every [`TICK`], it reads the events after its frame from the log, applies
//! them, and writes the frame at each seq that is a multiple of [`KEYFRAME_EVERY`]. Every node folds the
//! same log from the same keyframe, so two nodes write the same frame at the same seq and the second
//! insert is ignored. A store it cannot read is tried again at the next tick, and one known to be
//! unreachable is not asked at all; nothing else waits on it.

use std::time::Duration;

use super::{Frame, KEYFRAME_EVERY, Keyframe};
use crate::core::WeakCore;
use crate::services::Shutdown;
use crate::store::StoreError;

/// How often the writer reads the log.
const TICK: Duration = Duration::from_secs(5);
/// Events read per page.
const PAGE: u32 = 1_000;

/// Runs until `shutdown` says stop, or the core is gone.
pub async fn run(core: WeakCore, mut shutdown: Shutdown) {
    let mut frame: Option<Frame> = None;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.stopping() => return,
            _ = ticker.tick() => {}
        }
        let Some(core) = core.upgrade() else { return };
        // While the database is known to be unreachable (the store watch asks it every second),
        // derived data waits: its reads would only hold connections the writes need when it answers.
        if !core.store().reachable() {
            continue;
        }
        if let Err(error) = step(&core, &mut frame).await {
            tracing::warn!(%error, "the replay keyframes could not be brought up to date; trying again");
        }
    }
}

/// Brings `frame` (and the store's keyframes) up to the log's end.
async fn step(core: &crate::Core, frame: &mut Option<Frame>) -> Result<(), StoreError> {
    let mut current = match frame.take() {
        Some(frame) => frame,
        None => start(core).await?,
    };
    fold(core.store().as_ref(), &mut current).await?;
    // On an error the frame is dropped: the next tick starts again from the last keyframe stored, so
    // a keyframe whose insert failed is written then.
    *frame = Some(current);
    Ok(())
}

/// The frame to fold on from: the store's last keyframe, or, on a store without one, the world's map
/// stored as the first.
async fn start(core: &crate::Core) -> Result<Frame, StoreError> {
    let store = core.store();
    if let Some(stored) = store.keyframe_at(i64::MAX).await? {
        return Frame::decode(&stored.state).map_err(|e| StoreError::Corrupt {
            table: "replay_keyframes",
            reason: format!("keyframe {}: {e}", stored.seq),
        });
    }
    let (first, at) = {
        let world = core.world();
        (Frame::of_world(&world), core.now())
    };
    store
        .insert_keyframe(&Keyframe {
            seq: first.seq,
            at,
            state: first.encode(),
        })
        .await?;
    tracing::info!(seq = first.seq, "the replay history starts here");
    Ok(first)
}

/// Applies every event after `frame.seq`, writing a keyframe at each multiple of [`KEYFRAME_EVERY`].
pub async fn fold(store: &dyn crate::store::Store, frame: &mut Frame) -> Result<(), StoreError> {
    loop {
        let page = store.events_since(frame.seq, PAGE).await?;
        if page.is_empty() {
            return Ok(());
        }
        for event in &page {
            frame.apply(event);
            if event.seq % KEYFRAME_EVERY == 0 {
                store
                    .insert_keyframe(&Keyframe {
                        seq: event.seq,
                        at: event.at,
                        state: frame.encode(),
                    })
                    .await?;
            }
        }
    }
}
