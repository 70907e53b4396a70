//! The spectate phase: at the spectator rate, publish the room's state once for all spectators.
//!
//! The latest full state goes into a `watch` channel (a new spectator's first snapshot); what
//! changed since the previous update is encoded to JSON once and sent through a `broadcast`
//! channel. Neither ever waits: a spectator that falls behind misses updates and starts over from
//! a snapshot. With `--spectator-delay-ms`, states wait in a queue until they are old enough.

use std::cmp::Ordering as IdOrder;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use protocol::api::{SpectatorDelta, SpectatorEntity, SpectatorMove, SpectatorSnapshot};

use super::components::*;
use super::handle::SpectatorEvent;
use crate::game::{NetEntity, Player, Position};

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
}

/// Captures the state at the spectator rate and publishes what is old enough.
pub fn publish(
    entities: Query<(&NetEntity, &Position, Option<&Player>)>,
    schema: Res<GameSchema>,
    mut state: ResMut<SpectatorState>,
    clock: Res<TickClock>,
    config: Res<RoomConfig>,
) {
    let state = &mut *state.0;
    let feed = &config.handle.spectators;
    if feed.watchers.load(Ordering::Relaxed) == 0 {
        if !state.pending.is_empty() || feed.latest.borrow().is_some() {
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
            .map(|(net, p, player)| SpectatorEntity {
                id: net.id,
                kind: schema
                    .schema
                    .kinds
                    .get(net.kind as usize)
                    .cloned()
                    .unwrap_or_default(),
                x: p.0.x,
                y: p.0.y,
                name: player.map(|pl| pl.name.clone()),
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
        // The previous update is the one spectators hold: the delta's baseline.
        let previous = feed.latest.borrow().clone();
        if let Some(before) = previous {
            let delta = diff(&before, &snapshot);
            match serde_json::to_string(&delta) {
                Ok(json) => {
                    // No receiver is not an error: spectators come and go.
                    let _ = feed.events.send(SpectatorEvent::Delta {
                        tick: c.tick,
                        baseline: before.tick,
                        json: json.into(),
                    });
                }
                Err(e) => tracing::error!(error = %e, "cannot encode a spectator delta"),
            }
        }
        feed.latest.send_replace(Some(Arc::new(snapshot)));
    }
}

/// What changed from `before` to `after`; both list entities by ascending id.
fn diff(before: &SpectatorSnapshot, after: &SpectatorSnapshot) -> SpectatorDelta {
    let mut delta = SpectatorDelta {
        tick: after.tick,
        baseline: before.tick,
        moved: Vec::new(),
        spawned: Vec::new(),
        despawned: Vec::new(),
    };
    let (mut old, mut new) = (
        before.entities.iter().peekable(),
        after.entities.iter().peekable(),
    );
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => IdOrder::Less,
            (None, Some(_)) => IdOrder::Greater,
            (Some(o), Some(n)) => o.id.cmp(&n.id),
        };
        match order {
            IdOrder::Less => delta.despawned.extend(old.next().map(|o| o.id)),
            IdOrder::Greater => delta.spawned.extend(new.next().cloned()),
            IdOrder::Equal => {
                if let (Some(o), Some(n)) = (old.next(), new.next())
                    && (o.x, o.y) != (n.x, n.y)
                {
                    delta.moved.push(SpectatorMove {
                        id: n.id,
                        x: n.x,
                        y: n.y,
                    });
                }
            }
        }
    }
    delta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(tick: u32, entities: &[(u32, i32)]) -> SpectatorSnapshot {
        SpectatorSnapshot {
            room_id: 1,
            tick,
            tick_rate: 30,
            update_hz: 10,
            width: 100,
            height: 100,
            entities: entities
                .iter()
                .map(|&(id, x)| SpectatorEntity {
                    id,
                    kind: "player".into(),
                    x,
                    y: 0,
                    name: None,
                })
                .collect(),
        }
    }

    #[test]
    fn diff_finds_moves_spawns_and_despawns() {
        let d = diff(
            &snapshot(3, &[(1, 0), (2, 5), (4, 9)]),
            &snapshot(6, &[(2, 6), (3, 1), (4, 9)]),
        );
        assert_eq!((d.baseline, d.tick), (3, 6));
        assert_eq!(d.despawned, [1]);
        assert_eq!(d.moved, [SpectatorMove { id: 2, x: 6, y: 0 }]);
        assert_eq!(d.spawned.iter().map(|e| e.id).collect::<Vec<_>>(), [3]);
    }
}
