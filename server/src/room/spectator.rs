//! The spectate phase: at the spectator rate, publish the room's state once for all spectators.
//!
//! The state is read from the room's replica and decoded with the game's schema, so it shows any
//! game: every replicated entity with its kind, its position if it has one, and its shared
//! fields (owner-only components stay private).
//! The latest whole-room state goes into a `watch` channel (a new spectator's first snapshot);
//! what changed since the previous update is encoded to JSON once and sent through a `broadcast`
//! channel. Neither ever waits: a spectator that falls behind misses updates and starts over from
//! a snapshot. With `--spectator-delay-ms`, states wait in a queue until they are old enough.
//!
//! A room with an interest radius updates the whole-room stream at the lower
//! `--spectator-full-room-hz`; every state captured at the full spectator rate goes into a second
//! `watch` channel (`live`), from which each viewport stream's own task takes what lies in its
//! rectangle ([`viewport`]). The captures between whole-room updates are taken only while a
//! viewport stream watches. The room does no per-spectator work.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemState;
use protocol::api::{SpectatorEntity, SpectatorSnapshot};

use super::components::*;
use super::handle::{LiveState, SpectatorEvent, SpectatorFeed};
use crate::game::Player;

mod diff;
mod view;
pub mod viewport;

use diff::diff;

/// One captured state waiting to be published.
#[derive(Debug)]
struct Captured {
    at: Instant,
    tick: u32,
    /// Published to the whole-room stream too (not only to viewport streams).
    whole_room: bool,
    entities: Vec<SpectatorEntity>,
}

/// The spectator publisher's state (boxed: a resource's slots are preallocated).
#[derive(Resource, Debug, Default)]
pub struct SpectatorState(Box<Publisher>);

#[derive(Debug, Default)]
struct Publisher {
    ticks_until_capture: u32,
    captures_until_whole_room: u32,
    pending: VecDeque<Captured>,
}

/// What [`publish`] reads and writes of the world.
type Spectate = (
    Query<'static, 'static, &'static Player>,
    Res<'static, Replication>,
    Res<'static, GameSchema>,
    ResMut<'static, SpectatorState>,
    Res<'static, TickClock>,
    Res<'static, RoomConfig>,
);

/// What [`publish`] keeps between ticks: the room's context (its watcher count is read without
/// a resource lookup), its world access, and whether it may hold a state to clear.
pub struct Spectating {
    config: RoomConfig,
    access: SystemState<Spectate>,
    holds: bool,
}

impl FromWorld for Spectating {
    fn from_world(world: &mut World) -> Self {
        Self {
            config: world.resource::<RoomConfig>().clone(),
            access: SystemState::new(world),
            holds: true,
        }
    }
}

/// Captures the state at the spectator rate and publishes what is old enough. A room that
/// nobody watches and that holds no state for spectators who have left pays one atomic load.
pub fn publish(world: &mut World, spectating: &mut Spectating) {
    let feed = &spectating.config.handle.spectators;
    if feed.watchers.load(Ordering::Relaxed) == 0 && !spectating.holds {
        return;
    }
    // Queries and resources the room always holds validate.
    if let Ok((players, replication, schema, state, clock, config)) =
        spectating.access.get_mut(world)
    {
        spectating.holds = capture_and_send(players, replication, schema, state, clock, config);
    }
}

/// The body of [`publish`]; returns whether it holds a state (none once nobody watches).
fn capture_and_send(
    players: Query<&Player>,
    replication: Res<Replication>,
    schema: Res<GameSchema>,
    mut state: ResMut<SpectatorState>,
    clock: Res<TickClock>,
    config: Res<RoomConfig>,
) -> bool {
    let state = &mut *state.0;
    let feed = &config.handle.spectators;
    if feed.watchers.load(Ordering::Relaxed) == 0 {
        if !state.pending.is_empty() || feed.latest.borrow().is_some() {
            *state = Publisher::default();
            feed.latest.send_replace(None);
            feed.live.send_replace(None);
        }
        return false;
    }
    let settings = &config.settings;
    if state.ticks_until_capture == 0 {
        state.ticks_until_capture = settings.spectator_every_ticks.max(1);
        let whole_room = state.captures_until_whole_room == 0;
        if whole_room {
            state.captures_until_whole_room = settings.whole_room_every_captures();
        }
        state.captures_until_whole_room -= 1;
        // Only viewport streams want the captures between whole-room updates.
        if whole_room || feed.viewers.load(Ordering::Relaxed) > 0 {
            let names: HashMap<_, _> = players.iter().map(|p| (p.id, p.name.clone())).collect();
            state.pending.push_back(Captured {
                at: Instant::now(),
                tick: clock.tick,
                whole_room,
                entities: view::entities(&replication.0.replica, &schema.schema, &names),
            });
        }
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
        let whole_room = c.whole_room;
        let snapshot = Arc::new(SpectatorSnapshot {
            room_id: config.handle.id,
            tick: c.tick,
            tick_rate: settings.tick_rate,
            update_hz: settings.whole_room_hz(),
            width: settings.bounds.width,
            height: settings.bounds.height,
            interest_radius: protocol::quant::units_of(settings.interest_radius),
            viewport: None,
            entities: c.entities,
        });
        feed.live.send_replace(Some(LiveState {
            state: snapshot.clone(),
            update_hz: settings.spectator_hz,
        }));
        if whole_room {
            publish_whole_room(feed, snapshot);
        }
    }
    true
}

/// Sends whole-room spectators what changed since the previous whole-room update, and makes
/// `snapshot` the state new ones start from.
fn publish_whole_room(feed: &SpectatorFeed, snapshot: Arc<SpectatorSnapshot>) {
    // The previous update is the one spectators hold: the delta's baseline.
    let previous = feed.latest.borrow().clone();
    if let Some(before) = previous {
        let delta = diff(&before, &snapshot);
        match serde_json::to_string(&delta) {
            Ok(json) => {
                // No receiver is not an error: spectators come and go.
                let _ = feed.events.send(SpectatorEvent::Delta {
                    tick: snapshot.tick,
                    baseline: before.tick,
                    json: json.into(),
                });
            }
            Err(e) => tracing::error!(error = %e, "cannot encode a spectator delta"),
        }
    }
    feed.latest.send_replace(Some(snapshot));
}
