//! The receive phase: joins, leaves and inputs from the inbox, and players past their grace.

use bevy_ecs::prelude::*;
use protocol::Input;

use super::components::*;
use super::link::RoomCommand;
use super::roster::Roster;
use crate::game::sync::InputQueue;
use crate::game::{Player, PlayerLeft};

/// Most commands one tick drains; the rest wait for the next tick.
const MAX_COMMANDS_PER_TICK: usize = 16_384;

/// Drains the inboxes: departures first (every one), then joins, resumes and inputs; players
/// whose connection takes no more frames are dropped as if they had said so. Then removes the
/// dropped players whose grace period is over (one system, not two: every system a room runs
/// costs the executor's overhead each tick).
pub fn receive(
    mut commands: Commands,
    mut despawned: RemovedComponents<Player>,
    mut inbox: ResMut<Inbox>,
    mut players: ResMut<Players>,
    mut queues: Query<&'static mut InputQueue>,
    config: Res<RoomConfig>,
    schema: Res<GameSchema>,
    clock: Res<TickClock>,
) {
    let book = &mut *players.0;
    for mut q in &mut queues {
        if !q.fields.is_empty() {
            q.bypass_change_detection().fields.clear();
        }
    }
    let mut roster = Roster {
        commands: &mut commands,
        book,
        queues: &mut queues,
        config: &config,
        schema: &schema,
        clock: &clock,
        fresh: Vec::new(),
    };
    while let Ok(departure) = inbox.0.departures.try_recv() {
        roster.depart(departure);
    }
    roster.reap_closed();
    let despawned: Vec<Entity> = despawned.read().collect();
    roster.reap_despawned(&despawned);
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
    roster.flush_fresh();
    let metrics = &config.shared.metrics;
    metrics.inputs_applied.increment(applied);
    metrics.inputs_dropped.increment(ignored);
    expire_dropped(&mut commands, book, &config, clock.tick);
}

/// Removes dropped players whose grace period is over at `tick`: each leaves ([`PlayerLeft`])
/// and its entity is despawned.
fn expire_dropped(commands: &mut Commands, book: &mut PlayerBook, config: &RoomConfig, tick: u32) {
    let shared = &config.shared;
    book.dropped.0.retain(|token, d| {
        // Wrapping comparison: still valid while the deadline is ahead of the clock.
        let alive = (d.expires_at_tick.wrapping_sub(tick) as i32) > 0;
        if !alive {
            shared.resume_index.remove(token);
            commands.trigger(PlayerLeft {
                entity: d.entity,
                player: d.player_id,
            });
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

/// Queues one input if its sequence number is above `ack` (the last applied, which it then
/// becomes) and the per-tick cap allows; returns whether it was applied.
pub fn apply_input(ack: &mut u32, q: &mut InputQueue, input: Input, cap: u8) -> bool {
    if input.seq <= *ack || q.fields.len() >= usize::from(cap) {
        return false;
    }
    *ack = input.seq;
    q.fields.push(input.fields);
    true
}
