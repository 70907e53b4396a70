//! The replicate and send phases: one delta per tick, encoded once, fanned out without waiting.

use super::queue::PushError;
use bevy_ecs::prelude::*;
use bytes::Bytes;
use protocol::{CloseCode, EntityState, ServerMsg};

use super::components::*;

/// Replicated entities whose position or controller changed this tick.
type ChangedEntities<'w, 's> = Query<
    'w,
    's,
    (&'static Replicated, &'static Position, &'static Controller),
    Or<(Changed<Position>, Changed<Controller>)>,
>;

/// Records this tick's changes into the replica and encodes the delta once.
pub fn replicate(
    mut removed: RemovedComponents<Replicated>,
    changed: ChangedEntities,
    mut players: ResMut<Players>,
    mut replication: ResMut<Replication>,
    clock: Res<TickClock>,
    config: Res<RoomConfig>,
    mut size_hint: Local<usize>,
) {
    let ReplicationState { replica, outbox } = &mut *replication.0;
    let index = &mut players.0.index;
    let mut frame = replica.0.begin_frame(clock.tick, clock.server_time_us);
    for entity in removed.read() {
        if let Some(id) = index.0.remove(&entity) {
            frame.remove(id);
        }
    }
    for (r, p, c) in &changed {
        frame.upsert(EntityState {
            id: r.id,
            kind: r.kind,
            pos: p.0,
            ack: c.ack,
        });
    }
    let delta = frame.finish();
    outbox.delta = encode(&ServerMsg::Delta(delta), &mut size_hint);
    outbox.snapshot = None;
    config.handle.set_tick(clock.tick);
}

/// Queues this tick's frame to every client without waiting: the shared delta, or the shared
/// snapshot for a client that must resync. A full queue skips the client and marks it for a
/// resync; a client behind for longer than the limit is closed as lagging.
pub fn fan_out(
    mut players: ResMut<Players>,
    mut replication: ResMut<Replication>,
    clock: Res<TickClock>,
    config: Res<RoomConfig>,
    mut size_hint: Local<usize>,
) {
    let lag_limit = config.settings.lag_limit_ticks;
    let (mut frames, mut bytes, mut resyncs, mut drops) = (0u64, 0u64, 0u64, 0u64);
    let ReplicationState { replica, outbox } = &mut *replication.0;
    let clients = &mut players.0.clients;
    for (player_id, link) in clients.0.iter_mut().filter(|(_, l)| !l.kicked) {
        let frame = if link.needs_snapshot {
            outbox
                .snapshot
                .get_or_insert_with(|| {
                    encode(
                        &ServerMsg::Snapshot(replica.0.snapshot(clock.server_time_us)),
                        &mut size_hint,
                    )
                })
                .clone()
        } else {
            outbox.delta.clone()
        };
        let len = frame.len() as u64;
        match link.conn.frames.try_send(frame) {
            Ok(()) => {
                frames += 1;
                bytes += len;
                if link.needs_snapshot {
                    // A snapshot after skipped frames is a resync; the first one of a join is not.
                    resyncs += u64::from(link.behind > 0);
                    link.needs_snapshot = false;
                }
                link.behind = 0;
            }
            Err(PushError::Full(_)) => {
                drops += 1;
                link.needs_snapshot = true;
                link.behind += 1;
                if link.behind > lag_limit {
                    link.kicked = true;
                    link.conn
                        .close
                        .close(CloseCode::Lagging, "fell too far behind the game");
                    tracing::info!(
                        room = config.handle.id,
                        player_id,
                        "closing a lagging client"
                    );
                }
            }
            // The connection's task is gone; the next receive phase drops the player.
            Err(PushError::Closed(_)) => {}
        }
    }
    let m = &config.shared.metrics;
    m.frames_sent.increment(frames);
    m.bytes_sent.increment(bytes);
    m.resyncs.increment(resyncs);
    m.queue_drops.increment(drops);
}

/// Encodes a server message into shared bytes, sized by the last frame of this kind
/// (`size_hint`), and remembers its size for the next one.
fn encode(msg: &ServerMsg, size_hint: &mut usize) -> Bytes {
    let mut buf = Vec::with_capacity(*size_hint);
    if let Err(e) = protocol::codec::encode_into(msg, &mut buf) {
        // Only unsorted ids can fail, which the frame builder rules out.
        tracing::error!(error = %e, "cannot encode a frame");
        buf.clear();
    }
    *size_hint = buf.len();
    Bytes::from(buf)
}
