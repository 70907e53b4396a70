//! One viewport stream: its own task takes each state the room captured at the full spectator
//! rate and sends what lies inside its rectangle, a snapshot first, then deltas from the last
//! state it sent. A slow reader skips states (the `watch` channel keeps only the newest), and
//! its next delta covers everything since the state it holds.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::response::sse::Event;
use protocol::api::SpectatorSnapshot;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::{Watcher, end_event, ended, json_event};
use crate::room::RoomHandle;
use crate::room::handle::{LiveState, SpectatorEvent};
use crate::room::spectator::viewport::Viewport;

/// Counts a viewport stream on its room while it lives, so the room captures every update.
pub struct Viewer(Arc<RoomHandle>);

impl Viewer {
    /// Counts one more viewport stream of `room`.
    pub fn new(room: Arc<RoomHandle>) -> Self {
        room.spectators.viewers.fetch_add(1, Ordering::AcqRel);
        Self(room)
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        self.0.spectators.viewers.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One viewport spectator's position in the room's captured states.
pub struct ViewFeed {
    viewport: Viewport,
    live: watch::Receiver<Option<LiveState>>,
    /// Only to learn that the room ended.
    events: broadcast::Receiver<SpectatorEvent>,
    /// The last state sent, whole: the next delta's baseline.
    shown: Option<Arc<SpectatorSnapshot>>,
    done: bool,
    shutdown: CancellationToken,
    _viewer: Viewer,
    _watcher: Watcher,
}

impl ViewFeed {
    /// A stream of `room` through `viewport`, counted by `watcher`.
    pub fn new(
        room: &Arc<RoomHandle>,
        viewport: Viewport,
        shutdown: CancellationToken,
        watcher: Watcher,
    ) -> Self {
        let mut live = room.spectators.live.subscribe();
        // A state captured before this stream opened is its first snapshot.
        live.mark_changed();
        Self {
            viewport,
            live,
            events: room.spectators.events.subscribe(),
            shown: None,
            done: false,
            shutdown,
            _viewer: Viewer::new(room.clone()),
            _watcher: watcher,
        }
    }

    /// The next event: a snapshot, a delta, or `end` (then nothing).
    pub async fn next_event(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            let changed = tokio::select! {
                _ = self.shutdown.cancelled() => return self.end(),
                () = ended(&mut self.events) => return self.end(),
                c = self.live.changed() => c,
            };
            if changed.is_err() {
                return self.end();
            }
            let Some(live) = self.live.borrow_and_update().clone() else {
                continue;
            };
            let event = match &self.shown {
                None => json_event("snapshot", live.state.tick, &self.viewport.snapshot(&live)),
                Some(before) if live.state.tick > before.tick => {
                    let delta = self.viewport.delta(before, &live.state);
                    json_event("delta", live.state.tick, &delta)
                }
                Some(_) => continue,
            };
            self.shown = Some(live.state);
            return event.or_else(|| self.end());
        }
    }

    fn end(&mut self) -> Option<Event> {
        self.done = true;
        Some(end_event())
    }
}
