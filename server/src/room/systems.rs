//! The receive and simulate phases.

use bevy_ecs::prelude::*;
use protocol::message::{KNOWN_BUTTONS, MAX_INTENT};
use protocol::{Input, QPos};

use super::components::*;
use super::link::RoomCommand;
use super::roster::Roster;

/// Most commands one tick drains; the rest wait for the next tick.
const MAX_COMMANDS_PER_TICK: usize = 16_384;

/// Drains the inboxes: departures first (every one), then joins, resumes and inputs; players
/// whose connection task is gone are dropped as if they had said so.
pub fn receive(
    mut commands: Commands,
    mut inbox: ResMut<Inbox>,
    mut players: ResMut<Players>,
    mut controllers: Query<&'static mut Controller>,
    config: Res<RoomConfig>,
    clock: Res<TickClock>,
) {
    let book = &mut *players.0;
    for mut c in &mut controllers {
        c.bypass_change_detection().inputs_this_tick = 0;
    }
    let mut roster = Roster {
        commands: &mut commands,
        book,
        controllers: &mut controllers,
        config: &config,
        clock: &clock,
    };
    while let Ok(departure) = inbox.0.departures.try_recv() {
        roster.depart(departure);
    }
    roster.reap_closed();
    let (mut applied, mut ignored) = (0u64, 0u64);
    for _ in 0..MAX_COMMANDS_PER_TICK {
        let Ok(cmd) = inbox.0.commands.try_recv() else {
            break;
        };
        match cmd {
            RoomCommand::Input {
                player_id,
                conn_id,
                input,
            } => {
                if roster.apply(player_id, conn_id, input) {
                    applied += 1;
                } else {
                    ignored += 1;
                }
            }
            RoomCommand::Join {
                player_id,
                name,
                conn,
                reply,
            } => roster.join(player_id, name, conn, reply),
            RoomCommand::Resume { token, conn, reply } => roster.resume(&token, conn, reply),
        }
    }
    let metrics = &config.shared.metrics;
    metrics.inputs_applied.increment(applied);
    metrics.inputs_dropped.increment(ignored);
}

/// Removes dropped players whose grace period is over.
pub fn expire_dropped(
    mut commands: Commands,
    mut players: ResMut<Players>,
    config: Res<RoomConfig>,
    clock: Res<TickClock>,
) {
    let shared = &config.shared;
    players.0.dropped.0.retain(|token, d| {
        // Wrapping comparison: still valid while the deadline is ahead of the clock.
        let alive = (d.expires_at_tick.wrapping_sub(clock.tick) as i32) > 0;
        if !alive {
            shared.resume_index.remove(token);
            commands.entity(d.entity).despawn();
            config.handle.release();
            tracing::debug!(
                room = config.handle.id,
                player_id = d.player_id,
                "grace period over; entity removed"
            );
        }
        alive
    });
}

/// Turns each controller's intent into a velocity of at most the maximum speed.
pub fn steer(
    mut players: Query<(&Controller, &mut Velocity), Changed<Controller>>,
    config: Res<RoomConfig>,
) {
    let max = config.settings.max_speed;
    for (c, mut v) in &mut players {
        v.set_if_neq(intent_velocity(c.move_x, c.move_y, max));
    }
}

/// Moves every entity by its velocity and keeps it inside the world bounds.
pub fn integrate(mut movers: Query<(&Velocity, &mut Position)>, config: Res<RoomConfig>) {
    let bounds = config.settings.bounds;
    for (v, mut p) in &mut movers {
        if v.x != 0 || v.y != 0 {
            let next = QPos::new(p.0.x.saturating_add(v.x), p.0.y.saturating_add(v.y));
            p.set_if_neq(Position(bounds.clamp(next)));
        }
    }
}

/// Applies one input if its sequence number is new and the per-tick cap allows; returns whether
/// it was applied.
pub fn apply_input(c: &mut Mut<Controller>, input: Input, cap: u8) -> bool {
    if input.seq <= c.ack || c.inputs_this_tick >= cap {
        return false;
    }
    let c = &mut **c;
    c.move_x = input.move_x.max(-MAX_INTENT);
    c.move_y = input.move_y.max(-MAX_INTENT);
    c.buttons = input.buttons & KNOWN_BUTTONS;
    c.ack = input.seq;
    c.inputs_this_tick += 1;
    true
}

/// The velocity for an intent: the intent vector limited to length 127, scaled so that 127 is
/// `max_speed` quanta per tick, rounded toward zero.
pub fn intent_velocity(move_x: i8, move_y: i8, max_speed: i32) -> Velocity {
    let (x, y) = (
        i64::from(move_x.max(-MAX_INTENT)),
        i64::from(move_y.max(-MAX_INTENT)),
    );
    let len_sq = x * x + y * y;
    let full = i64::from(MAX_INTENT);
    let max = i64::from(max_speed);
    if len_sq <= full * full {
        return Velocity {
            x: (x * max / full) as i32,
            y: (y * max / full) as i32,
        };
    }
    // Longer than 127 (a diagonal): scale down to length 127 first.
    let len = (len_sq as f64).sqrt();
    let scale = max as f64 / len;
    Velocity {
        x: (x as f64 * scale).trunc() as i32,
        y: (y as f64 * scale).trunc() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn velocity_never_exceeds_max_speed() {
        for (x, y) in [
            (127, 127),
            (-128, -128),
            (127, 0),
            (0, -128),
            (90, 90),
            (1, 1),
        ] {
            let v = intent_velocity(x, y, 34);
            let len = ((v.x * v.x + v.y * v.y) as f64).sqrt();
            assert!(len <= 34.0 + 1e-9, "({x},{y}) -> {v:?}");
        }
        assert_eq!(intent_velocity(127, 0, 34), Velocity { x: 34, y: 0 });
        assert_eq!(intent_velocity(-128, 0, 34), Velocity { x: -34, y: 0 });
    }
}
