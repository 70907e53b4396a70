//! The spectate phase: at the spectator rate, publish the room's state once for all spectators.
//!
//! The latest full state goes into a `watch` channel (a new spectator's first snapshot); what
//! changed since the previous update is encoded to JSON once and sent through a `broadcast`
//! channel. Neither ever waits: a spectator that falls behind misses updates and starts over from
//! a snapshot. With `--spectator-delay-ms`, states wait in a queue until they are old enough.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use protocol::api::{SpectatorDelta, SpectatorEntity, SpectatorMove, SpectatorSnapshot};

use super::components::*;
use super::handle::SpectatorEvent;

/// One captured state waiting to be published.
#[derive(Debug)]
struct Captured {
    at: Instant,
    tick: u32,
    entities: Vec<SpectatorEntity>,
}

/// The spectator publisher's state (boxed: a resource's slots are preallocated).
#[derive(Resource, Debug, Default)]
pub struct SpectatorState(Box<Publisher>);

#[derive(Debug, Default)]
struct Publisher {
    ticks_until_capture: u32,
    pending: VecDeque<Captured>,
    last: Option<(u32, HashMap<u32, SpectatorEntity>)>,
}

/// Captures the state at the spectator rate and publishes what is old enough.
pub fn publish(
    entities: Query<(&Replicated, &Position, Option<&PlayerName>)>,
    mut state: ResMut<SpectatorState>,
    clock: Res<TickClock>,
    config: Res<RoomConfig>,
) {
    let state = &mut *state.0;
    let feed = &config.handle.spectators;
    if feed.watchers.load(Ordering::Relaxed) == 0 {
        if state.last.is_some() || !state.pending.is_empty() {
            *state = Publisher::default();
            feed.latest.send_replace(None);
        }
        return;
    }
    let settings = &config.settings;
    if state.ticks_until_capture == 0 {
        state.ticks_until_capture = settings.spectator_every_ticks.max(1);
        let mut captured: Vec<SpectatorEntity> = entities
            .iter()
            .map(|(r, p, name)| SpectatorEntity {
                id: r.id,
                kind: "player".to_owned(),
                x: p.0.x,
                y: p.0.y,
                name: name.map(|n| n.0.clone()),
            })
            .collect();
        captured.sort_unstable_by_key(|e| e.id);
        state.pending.push_back(Captured {
            at: Instant::now(),
            tick: clock.tick,
            entities: captured,
        });
    }
    state.ticks_until_capture -= 1;

    let delay = Duration::from_millis(settings.spectator_delay_ms);
    while state
        .pending
        .front()
        .is_some_and(|c| c.at.elapsed() >= delay)
    {
        let Some(c) = state.pending.pop_front() else {
            break;
        };
        let snapshot = SpectatorSnapshot {
            room_id: config.handle.id,
            tick: c.tick,
            tick_rate: settings.tick_rate,
            update_hz: settings.spectator_hz,
            width: settings.bounds.width,
            height: settings.bounds.height,
            entities: c.entities,
        };
        let now: HashMap<u32, SpectatorEntity> = snapshot
            .entities
            .iter()
            .map(|e| (e.id, e.clone()))
            .collect();
        if let Some((baseline, before)) = &state.last {
            let delta = diff(*baseline, before, &snapshot);
            match serde_json::to_string(&delta) {
                Ok(json) => {
                    // No receiver is not an error: spectators come and go.
                    let _ = feed.events.send(SpectatorEvent::Delta {
                        tick: c.tick,
                        baseline: *baseline,
                        json: json.into(),
                    });
                }
                Err(e) => tracing::error!(error = %e, "cannot encode a spectator delta"),
            }
        }
        state.last = Some((c.tick, now));
        feed.latest.send_replace(Some(Arc::new(snapshot)));
    }
}

/// What changed from `before` (at `baseline`) to `after`.
fn diff(
    baseline: u32,
    before: &HashMap<u32, SpectatorEntity>,
    after: &SpectatorSnapshot,
) -> SpectatorDelta {
    let mut delta = SpectatorDelta {
        tick: after.tick,
        baseline,
        moved: Vec::new(),
        spawned: Vec::new(),
        despawned: Vec::new(),
    };
    for e in &after.entities {
        match before.get(&e.id) {
            None => delta.spawned.push(e.clone()),
            Some(old) if (old.x, old.y) != (e.x, e.y) => delta.moved.push(SpectatorMove {
                id: e.id,
                x: e.x,
                y: e.y,
            }),
            Some(_) => {}
        }
    }
    let alive: std::collections::HashSet<u32> = after.entities.iter().map(|e| e.id).collect();
    delta.despawned = before
        .keys()
        .copied()
        .filter(|id| !alive.contains(id))
        .collect();
    delta.despawned.sort_unstable();
    delta
}
