//! [`Room`]: one world, one schedule, one tick at a time.

use std::sync::Arc;
use std::time::Duration;

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;
use bytes::Bytes;
use protocol::clock::unix_micros;
use protocol::replica::Interest;
use protocol::{Bounds, CloseCode, Replica, ServerMsg};

use super::components::*;
use super::handle::{RoomHandle, RoomInbox, SpectatorEvent};
use super::schedule::{add_bots, engine_schedule};
use super::spectator;
use crate::config::Config;
use crate::game::{Game, GameError, RoomInfo};

/// Settings every room of a server shares, derived from [`Config`].
#[derive(Debug, Clone)]
pub struct RoomSettings {
    /// Ticks per second.
    pub tick_rate: u16,
    /// The playable rectangle.
    pub bounds: Bounds,
    /// Quanta per tick per axis at full intent.
    pub max_speed: i32,
    /// Inputs applied per player per tick.
    pub inputs_per_tick: u8,
    /// Ticks a dropped player's entity is kept.
    pub resume_grace_ticks: u32,
    /// Ticks a client may be skipped in a row before it is closed.
    pub lag_limit_ticks: u32,
    /// Ticks an empty room waits before it closes.
    pub idle_close_ticks: u32,
    /// Spectator updates per second.
    pub spectator_hz: u16,
    /// Ticks between spectator updates.
    pub spectator_every_ticks: u32,
    /// Spectator updates between two whole-room updates of a room with an interest radius
    /// (`--spectator-full-room-hz`; at least 1).
    pub spectator_full_room_every: u32,
    /// Spectator delay in milliseconds.
    pub spectator_delay_ms: u64,
    /// Players every room is kept filled to with bots (`--bots-per-room`).
    pub bots_per_room: u32,
    /// Interest radius in quanta (0: everyone sees everything); the registry sets it per mode.
    pub interest_radius: i32,
    /// Whether rooms may get bots (`--bots-per-room`, `--fill-with-bots-after` or `--demo`);
    /// a room that may not runs no bot system.
    pub bots_asked: bool,
}

impl RoomSettings {
    /// The settings a configuration asks for.
    pub fn from_config(c: &Config) -> Self {
        let ticks = |d: Duration| {
            (d.as_secs_f64() * f64::from(c.tick_rate))
                .ceil()
                .clamp(1.0, f64::from(u32::MAX / 2)) as u32
        };
        Self {
            tick_rate: c.tick_rate,
            bounds: Bounds {
                width: c.world_quanta(),
                height: c.world_quanta(),
            },
            max_speed: c.max_speed_per_tick(),
            inputs_per_tick: c.inputs_per_tick.max(1),
            resume_grace_ticks: ticks(c.resume_grace),
            lag_limit_ticks: c.lag_limit_ticks,
            idle_close_ticks: ticks(c.room_idle_secs),
            spectator_hz: c.spectator_hz,
            spectator_every_ticks: (u32::from(c.tick_rate) / u32::from(c.spectator_hz.max(1)))
                .max(1),
            spectator_full_room_every: (f64::from(c.spectator_hz)
                / f64::from(c.spectator_full_room_hz.clamp(1, c.spectator_hz.max(1))))
            .round()
            .max(1.0) as u32,
            spectator_delay_ms: c.spectator_delay_ms,
            bots_per_room: c.bots_per_room,
            interest_radius: protocol::quant::quanta_of(c.interest_radius),
            bots_asked: c.bots_per_room > 0 || c.fill_with_bots_after.is_some() || c.demo,
        }
    }
}

impl RoomSettings {
    /// Spectator updates between two whole-room updates: 1 (every update) unless the room has
    /// an interest radius.
    pub fn whole_room_every_captures(&self) -> u32 {
        if self.interest_radius > 0 {
            self.spectator_full_room_every.max(1)
        } else {
            1
        }
    }

    /// Updates per second of the whole-room spectator stream: the spectator rate, or the rate
    /// the whole-room updates of a room with an interest radius actually come at.
    pub fn whole_room_hz(&self) -> u16 {
        match self.whole_room_every_captures() {
            1 => self.spectator_hz,
            every => {
                let ticks = f64::from(self.spectator_every_ticks.max(1)) * f64::from(every);
                (f64::from(self.tick_rate) / ticks).round().max(1.0) as u16
            }
        }
    }
}

/// One room: its world and schedule.
pub struct Room {
    world: World,
    schedule: Schedule,
    handle: Arc<RoomHandle>,
    /// Ticks an empty room waits before it closes (from its settings, which never change).
    idle_close_ticks: u32,
}

impl std::fmt::Debug for Room {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room")
            .field("id", &self.handle.id)
            .finish_non_exhaustive()
    }
}

impl Room {
    /// A room playing `game` that drains `inbox`; fails when the game's definition is broken
    /// (the server checks every game when it starts, so this is not expected).
    pub fn new(
        handle: Arc<RoomHandle>,
        settings: RoomSettings,
        inbox: RoomInbox,
        shared: Shared,
        game: &dyn Game,
    ) -> Result<Self, GameError> {
        let (bots, idle_close_ticks) = (settings.bots_asked, settings.idle_close_ticks);
        let mut world = World::new();
        world.insert_resource(RoomInfo {
            room_id: handle.id,
            mode: handle.mode.clone(),
            tick_rate: settings.tick_rate,
            tick: 0,
            bounds: settings.bounds,
            max_speed: settings.max_speed,
            capacity: handle.capacity,
            interest_radius: settings.interest_radius,
        });
        world.insert_resource(RoomConfig(Arc::new(RoomContext {
            settings,
            handle: handle.clone(),
            shared,
        })));
        world.insert_resource(TickClock::default());
        world.init_resource::<crate::game::RoomControl>();
        world.insert_resource(Inbox(inbox));
        world.init_resource::<Players>();
        world.init_resource::<spectator::SpectatorState>();

        let mut schedule = engine_schedule();
        let mut startup = Schedule::default();
        startup.set_executor(SingleThreadedExecutor::new());
        let built = crate::game::build(game, &mut world, &mut schedule, &mut startup, bots)?;
        if bots && built.bot_brain {
            add_bots(&mut schedule);
        }
        let message =
            protocol::encode_server(&ServerMsg::Schema(built.schema.clone())).map_err(|e| {
                GameError {
                    game: game.name().to_owned(),
                    reason: format!("cannot encode the schema: {e}"),
                }
            })?;
        let replica = match world.resource::<RoomConfig>().settings.interest_radius {
            0 => Replica::new(&built.schema),
            radius => Replica::with_interest(
                &built.schema,
                Interest::new(radius, world.resource::<RoomConfig>().settings.bounds),
            ),
        };
        world.insert_resource(Replication(Box::new(ReplicationState {
            replica,
            index: Default::default(),
            syncs: built.syncs,
            outbox: Outbox::default(),
        })));
        let schema = Arc::new(built.schema);
        handle.set_schema(schema.clone());
        world.insert_resource(GameSchema {
            schema,
            message: Bytes::from(message),
        });
        startup.run(&mut world);
        Ok(Self {
            world,
            schedule,
            handle,
            idle_close_ticks,
        })
    }

    /// Runs one tick. Returns `false` once the room has closed (it stayed without humans too
    /// long; bots do not keep it open, unless it is kept open).
    pub fn tick(&mut self) -> bool {
        if self.handle.is_closed() {
            return false;
        }
        if self.handle.is_evicted() {
            self.close(
                CloseCode::RoomClosed,
                "the node lost its place in the cluster",
            );
            return false;
        }
        let tick = {
            let mut clock = self.world.resource_mut::<TickClock>();
            clock.tick = clock.tick.wrapping_add(1);
            clock.server_time_us = unix_micros();
            clock.tick
        };
        self.world.resource_mut::<RoomInfo>().tick = tick;
        self.schedule.run(&mut self.world);
        self.world.clear_trackers();
        if let Some(reason) = self.world.resource::<crate::game::RoomControl>().closing() {
            self.close(CloseCode::RoomClosed, reason);
            return false;
        }
        self.check_idle()
    }

    /// The room's id.
    pub fn id(&self) -> u32 {
        self.handle.id
    }

    /// The room's world, for benchmarks and tests that set entities up directly.
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    /// Closes the room: every client is closed with `code`, its players' resume tokens are
    /// forgotten, spectators get `end`, and the room leaves the registry. Also safe after a
    /// panicked tick: it reads the world's resources without changing them (it changes only the
    /// shared registry, resume index and close signals).
    pub fn close(&mut self, code: CloseCode, reason: &'static str) {
        self.handle.mark_closed();
        let shared = &self.world.resource::<RoomConfig>().shared;
        shared.rooms.remove(&self.handle.id);
        if let Some(players) = self.world.get_resource::<Players>() {
            for link in players.0.clients.0.values() {
                link.conn.close.close(code, reason);
                shared.resume_index.remove(&link.resume_token);
            }
            for token in players.0.dropped.0.keys() {
                shared.resume_index.remove(token);
            }
        }
        let _ = self.handle.spectators.events.send(SpectatorEvent::End);
        tracing::info!(room = self.handle.id, mode = %self.handle.mode, "room closed");
    }

    fn check_idle(&mut self) -> bool {
        let empty = self.handle.occupancy() == 0 && !self.handle.keeps_open();
        let mut clock = self.world.resource_mut::<TickClock>();
        clock.idle_ticks = if empty { clock.idle_ticks + 1 } else { 0 };
        if clock.idle_ticks > self.idle_close_ticks {
            self.close(CloseCode::RoomClosed, "the room closed");
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::any::TypeId;

    use super::*;
    use crate::games::movement::{Movement, random_walk};
    use crate::room::bots::balance_bots;

    /// A movement room under `config`, ticked once (its schedule is built).
    fn movement_room(config: &Config) -> Room {
        let (handle, rx) = RoomHandle::new(1, "test".into(), config.room_capacity, 16);
        let shared = Shared {
            metrics: Arc::default(),
            resume_index: Arc::default(),
            rooms: Arc::default(),
        };
        let settings = RoomSettings::from_config(config);
        let mut room = Room::new(handle, settings, rx, shared, &Movement).unwrap();
        room.tick();
        room
    }

    /// Whether the room's tick schedule holds the system of type `system`.
    fn runs(room: &Room, system: TypeId) -> bool {
        let mut systems = room.schedule.systems().unwrap();
        systems.any(|(_, s)| s.system_type() == system)
    }

    #[test]
    fn a_room_that_can_never_get_bots_has_no_bot_system() {
        let balance = IntoSystem::system_type_id(&balance_bots);
        let brain = IntoSystem::system_type_id(&random_walk);
        let none = movement_room(&Config::default());
        assert!(!runs(&none, balance) && !runs(&none, brain));
        let asked = [
            Config {
                bots_per_room: 2,
                ..Config::default()
            },
            Config {
                fill_with_bots_after: Some(Duration::from_secs(5)),
                ..Config::default()
            },
            Config {
                demo: true,
                ..Config::default()
            },
        ];
        for config in &asked {
            let room = movement_room(config);
            assert!(runs(&room, balance) && runs(&room, brain), "{config:?}");
        }
    }

    fn settings(spectator_hz: u16, full_room_hz: u16, radius: f64) -> RoomSettings {
        RoomSettings::from_config(&Config {
            tick_rate: 30,
            spectator_hz,
            spectator_full_room_hz: full_room_hz,
            interest_radius: radius,
            ..Config::default()
        })
    }

    #[test]
    fn the_whole_room_rate_is_what_the_captures_come_at() {
        let s = settings(10, 2, 10.0);
        assert_eq!((s.whole_room_every_captures(), s.whole_room_hz()), (5, 2));
        // 10 / 3 rounds to every 3rd update: 9 ticks apart, 3.3 per second, said as 3.
        let s = settings(10, 3, 10.0);
        assert_eq!((s.whole_room_every_captures(), s.whole_room_hz()), (3, 3));
        let s = settings(10, 30, 10.0);
        assert_eq!(
            (s.whole_room_every_captures(), s.whole_room_hz()),
            (1, 10),
            "at most --spectator-hz"
        );
        let s = settings(10, 2, 0.0);
        assert_eq!(
            (s.whole_room_every_captures(), s.whole_room_hz()),
            (1, 10),
            "a room without a radius keeps the spectator rate"
        );
    }
}
