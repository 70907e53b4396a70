//! The receive and simulate phases.

use bevy_ecs::prelude::*;
use bytes::Bytes;
use protocol::message::{KNOWN_BUTTONS, MAX_INTENT};
use protocol::{CloseCode, EntityKind, Input, NetId, QPos, ServerMsg, Welcome};
use rand::RngExt as _;
use std::sync::atomic::Ordering::Relaxed;

use super::components::*;
use super::link::{ClientConn, JoinAccepted, JoinRefused, JoinReply, RoomCommand};
use super::random_token;

/// Most commands one tick drains; the rest wait for the next tick.
const MAX_COMMANDS_PER_TICK: usize = 16_384;

/// Drains the inbox: joins, resumes, inputs, drops and leaves.
pub fn receive(
    mut commands: Commands,
    mut inbox: ResMut<Inbox>,
    mut players: ResMut<Players>,
    mut controllers: Query<&mut Controller>,
    config: Res<RoomConfig>,
    clock: Res<TickClock>,
) {
    let PlayerBook {
        clients,
        dropped,
        index,
    } = &mut *players.0;
    let shared = &config.shared;
    for mut c in &mut controllers {
        c.bypass_change_detection().inputs_this_tick = 0;
    }
    let settings = &config.settings;
    let (mut applied, mut ignored) = (0u64, 0u64);
    for _ in 0..MAX_COMMANDS_PER_TICK {
        let Ok(cmd) = inbox.0.try_recv() else { break };
        match cmd {
            RoomCommand::Input {
                player_id,
                conn_id,
                input,
            } => {
                let entity = clients
                    .0
                    .get(&player_id)
                    .filter(|l| l.conn.conn_id == conn_id)
                    .map(|l| l.entity);
                let ok = entity
                    .and_then(|e| controllers.get_mut(e).ok())
                    .is_some_and(|mut c| apply_input(&mut c, input, settings.inputs_per_tick));
                if ok {
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
            } => {
                if clients.0.contains_key(&player_id) {
                    let _ = reply.send(Err(JoinRefused::BadToken("this seat is already taken")));
                    continue;
                }
                let spawn = random_spawn(settings);
                let entity = commands
                    .spawn((
                        Replicated {
                            id: player_id,
                            kind: EntityKind::Player,
                        },
                        Position(spawn),
                        Velocity::default(),
                        Controller::default(),
                        PlayerName(name),
                    ))
                    .id();
                index.0.insert(entity, player_id);
                admit(clients, &config, &clock, player_id, entity, conn, reply);
            }
            RoomCommand::Resume { token, conn, reply } => {
                let Some((player_id, entity)) = reclaim(clients, dropped, &token) else {
                    let _ = reply.send(Err(JoinRefused::BadToken(
                        "unknown or expired resume token",
                    )));
                    continue;
                };
                shared.resume_index.remove(&token);
                admit(clients, &config, &clock, player_id, entity, conn, reply);
            }
            RoomCommand::Disconnected { player_id, conn_id } => {
                let Some(link) = take_link(clients, player_id, conn_id) else {
                    continue;
                };
                if let Ok(mut c) = controllers.get_mut(link.entity) {
                    (c.move_x, c.move_y, c.buttons) = (0, 0, 0);
                }
                let expires_at_tick = clock.tick.wrapping_add(settings.resume_grace_ticks);
                dropped.0.insert(
                    link.resume_token,
                    DroppedPlayer {
                        player_id,
                        entity: link.entity,
                        expires_at_tick,
                    },
                );
                tracing::debug!(
                    room = config.handle.id,
                    player_id,
                    "player dropped; kept for the grace period"
                );
            }
            RoomCommand::Leave { player_id, conn_id } => {
                let Some(link) = take_link(clients, player_id, conn_id) else {
                    continue;
                };
                shared.resume_index.remove(&link.resume_token);
                commands.entity(link.entity).despawn();
                config.handle.release();
                tracing::debug!(room = config.handle.id, player_id, "player left");
            }
        }
    }
    shared.metrics.inputs_applied.fetch_add(applied, Relaxed);
    shared.metrics.inputs_dropped.fetch_add(ignored, Relaxed);
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

fn random_spawn(settings: &super::RoomSettings) -> QPos {
    let mut rng = rand::rng();
    QPos::new(
        rng.random_range(0..=settings.bounds.width),
        rng.random_range(0..=settings.bounds.height),
    )
}

/// Takes the player a resume token names out of the room's books: a dropped player, or a
/// connected one whose connection is then closed as replaced (a client that lost its network
/// without a FIN comes back before its old connection times out).
fn reclaim(clients: &mut Clients, dropped: &mut Dropped, token: &str) -> Option<(NetId, Entity)> {
    if let Some(d) = dropped.0.remove(token) {
        return Some((d.player_id, d.entity));
    }
    let player_id = clients
        .0
        .iter()
        .find(|(_, l)| l.resume_token == token)
        .map(|(id, _)| *id)?;
    let link = clients.0.remove(&player_id)?;
    link.conn.close.close(CloseCode::Kicked, REPLACED_REASON);
    Some((player_id, link.entity))
}

/// The close reason of a connection whose player resumed on another connection.
const REPLACED_REASON: &str = "replaced: this player resumed on another connection";

fn take_link(clients: &mut Clients, player_id: NetId, conn_id: u64) -> Option<ClientLink> {
    match clients.0.get(&player_id) {
        Some(l) if l.conn.conn_id == conn_id => clients.0.remove(&player_id),
        _ => None,
    }
}

/// Links a connection to a player's entity: a new resume token, a welcome now, a snapshot at the
/// end of the tick.
fn admit(
    clients: &mut Clients,
    config: &RoomConfig,
    clock: &TickClock,
    player_id: NetId,
    entity: Entity,
    conn: ClientConn,
    reply: JoinReply,
) {
    let settings = &config.settings;
    let shared = &config.shared;
    let resume_token = random_token();
    let welcome = ServerMsg::Welcome(Welcome {
        player_id,
        room_id: config.handle.id,
        tick_rate: settings.tick_rate,
        bounds: settings.bounds,
        max_speed: settings.max_speed,
        tick: clock.tick,
        resume_token: resume_token.clone(),
    });
    match protocol::encode_server(&welcome) {
        Ok(bytes) => {
            // The queue is new and empty: this cannot be full.
            let _ = conn.frames.try_send(Bytes::from(bytes));
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a welcome");
            conn.close.close(CloseCode::Kicked, "internal error");
        }
    }
    shared
        .resume_index
        .insert(resume_token.clone(), config.handle.id);
    let link = ClientLink {
        conn,
        entity,
        resume_token,
        needs_snapshot: true,
        behind: 0,
        kicked: false,
    };
    clients.0.insert(player_id, link);
    let _ = reply.send(Ok(JoinAccepted { player_id }));
    tracing::debug!(room = config.handle.id, player_id, "player joined");
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
