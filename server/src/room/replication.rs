//! The replicate and send phases: each tick's changes go into the replica, which writes the
//! shared part of the delta once; each client's frame is that part plus its own (its ack,
//! owner-only components and events), queued without waiting.

use std::ops::Range;

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemState;
use bytes::Bytes;
use protocol::Replica;
use protocol::codec::MAX_SERVER_MSG;
use protocol::replica::{EventBatch, ReplicaFrame};
use protocol::{CloseCode, NetId};

use super::components::*;
use super::queue::PushError;
use crate::game::sync::NetIndex;
use crate::game::{Audience, GameEvents, NetEntity, Owner, Replicate};

/// Most bytes of events a client that is not reading may have waiting; past it, the client is
/// closed as lagging rather than holding the server's memory.
const MAX_PENDING_EVENT_BYTES: usize = 256 * 1024;

/// Entities the game asked to replicate that have no network id yet, and entities that became
/// replicated, changed owner, or stopped being replicated.
pub type EntityChanges = (
    Query<'static, 'static, (Entity, &'static Replicate), Without<NetEntity>>,
    Query<'static, 'static, (Entity, &'static NetEntity, Option<&'static Owner>), Added<NetEntity>>,
    Query<'static, 'static, (&'static NetEntity, Option<&'static Owner>), Changed<Owner>>,
    RemovedComponents<'static, 'static, NetEntity>,
    RemovedComponents<'static, 'static, Owner>,
);

/// Records this tick's changes into the replica and writes the delta's shared part once.
/// `state` is a spare replication state the caller keeps between ticks: the world's leaves the
/// world while the syncs read it (a swap of two boxes: cheaper than removing and inserting the
/// resource), and returns at the end.
pub fn replicate(
    world: &mut World,
    entities: &mut SystemState<EntityChanges>,
    state: &mut Box<ReplicationState>,
) {
    std::mem::swap(&mut world.resource_mut::<Replication>().0, state);
    {
        let clock = *world.resource::<TickClock>();
        let ReplicationState {
            replica,
            index,
            syncs,
            outbox,
        } = &mut **state;
        let mut frame = replica.begin(clock.tick, clock.server_time_us);
        let spawned = sync_entities(world, entities, index, &mut frame);
        for &(entity, id) in &spawned {
            for sync in syncs.iter() {
                sync.spawn(world, entity, id, &mut frame);
            }
        }
        for sync in syncs.iter_mut() {
            sync.sync(world, index, &mut frame);
        }
        outbox.delta.clear();
        frame.finish(&mut outbox.delta);
        outbox.snapshot = None;
    }
    std::mem::swap(&mut world.resource_mut::<Replication>().0, state);
    let config = world.resource::<RoomConfig>();
    config.handle.set_tick(world.resource::<TickClock>().tick);
}

/// Applies despawns, spawns and owner changes to the frame, giving the entities the game asked
/// to replicate their network ids; returns the new entities.
fn sync_entities(
    world: &mut World,
    entities: &mut SystemState<EntityChanges>,
    index: &mut NetIndex,
    frame: &mut ReplicaFrame<'_>,
) -> Vec<(Entity, NetId)> {
    // Queries and removal readers always validate.
    let Ok((unassigned, added, owned, mut gone, mut unowned)) = entities.get_mut(world) else {
        return Vec::new();
    };
    for entity in gone.read() {
        if let Some(id) = index.remove(&entity) {
            frame.despawn(id);
        }
    }
    let mut spawned = Vec::new();
    for (entity, net, owner) in &added {
        // Entities this phase assigned an id last tick come back here once: already done.
        if index.insert(entity, net.id()) != Some(net.id()) {
            frame.spawn(net.id(), net.kind(), owner.map(|o| o.0));
            spawned.push((entity, net.id()));
        }
    }
    for (net, owner) in &owned {
        frame.spawn(net.id(), net.kind(), owner.map(|o| o.0));
    }
    let wanted: Vec<(Entity, &'static str)> = unassigned.iter().map(|(e, r)| (e, r.kind)).collect();
    let unowned: Vec<Entity> = unowned.read().collect();
    for entity in unowned {
        if let Some(net) = world.get::<NetEntity>(entity)
            && world.get::<Owner>(entity).is_none()
        {
            frame.spawn(net.id(), net.kind(), None);
        }
    }
    for (entity, kind) in wanted {
        if let Some(net) = assign_net_id(world, entity, kind) {
            let owner = world.get::<Owner>(entity).map(|o| o.0);
            index.insert(entity, net.id());
            frame.spawn(net.id(), net.kind(), owner);
            spawned.push((entity, net.id()));
        }
    }
    spawned
}

/// Gives `entity`, which the game asked to replicate as `kind`, a network id and its kind's
/// index; none (and no more asking) for an undeclared kind or when the room has used every id.
fn assign_net_id(world: &mut World, entity: Entity, kind: &'static str) -> Option<NetEntity> {
    let handle = world.resource::<RoomConfig>().handle.clone();
    let kind_index = world.resource::<GameSchema>().schema.kind_index(kind);
    let id = kind_index.and_then(|_| handle.allocate_id());
    let (Some(kind_index), Some(id)) = (kind_index, id) else {
        tracing::error!(
            room = handle.id,
            kind,
            "the entity is not replicated: its kind was never declared, or the room has used \
             every network id"
        );
        world.entity_mut(entity).remove::<Replicate>();
        return None;
    };
    let net = NetEntity::new(id, kind_index);
    world.entity_mut(entity).insert(net);
    Some(net)
}

/// Queues this tick's frame to every client without waiting: the shared delta plus the client's
/// own part, or a snapshot for a client that must resync. Every frame of the tick is written into
/// one buffer, so the tick allocates once, not once per client, and clients whose frames are the
/// same bytes (no events, no owner-only data, the same ack advance: most of them) share one. A
/// client with too many frames waiting is skipped: it keeps its events for the next frame and is
/// marked for a resync; one behind for longer than the limit is closed as lagging.
pub fn fan_out(
    mut players: ResMut<Players>,
    mut replication: ResMut<Replication>,
    mut events: ResMut<GameEvents>,
    config: Res<RoomConfig>,
    mut size_hint: Local<usize>,
    mut frames: Local<Vec<(NetId, u32, Range<usize>)>>,
    mut common: Local<CommonFrames>,
) {
    let clients = &mut players.0.clients.0;
    if replication.0.replica.interest().is_some() {
        fan_out_area(
            clients,
            &replication.0.replica,
            &events,
            &config,
            &mut size_hint,
        );
        events.clear();
        return;
    }
    let mut arena = Vec::with_capacity(*size_hint);
    common.0.clear();
    frames.clear();
    for (&player, link) in clients.iter_mut().filter(|(_, l)| !l.kicked) {
        queue_events(&events, player, &mut link.pending_events);
        let ack = link.ack;
        let range = match common.key(&replication.0, link, player) {
            Some(advance) => common.get_or_write(advance, &mut arena, |arena| {
                write_frame(&mut replication.0, link, player, ack, arena)
            }),
            None => {
                let start = arena.len();
                write_frame(&mut replication.0, link, player, ack, &mut arena);
                start..arena.len()
            }
        };
        frames.push((player, ack, range));
    }
    events.clear();
    *size_hint = arena.len();
    let arena = Bytes::from(arena);
    // The same clients in the same order as above (nothing changed the map in between).
    let links = clients.iter_mut().filter(|(_, l)| !l.kicked);
    if frames.len() > MAX_SENDS_ON_ONE_THREAD {
        return send_on_two_threads(links, &mut frames, &arena, &config);
    }
    // A small room (most of them) sends on this thread, without gathering its sends.
    let mut sent = Sent::default();
    for ((&player, link), (id, ack, range)) in links.zip(frames.drain(..)) {
        debug_assert_eq!(player, id, "clients walked in the same order twice");
        sent.send(link, player, ack, arena.slice(range), &config);
    }
    sent.record(&config);
}

/// Sends the frames of a room of many clients (`frames`, in the order of `links`) over two
/// threads. Kept out of [`fan_out`], whose small rooms never come here.
#[inline(never)]
fn send_on_two_threads<'a>(
    links: impl Iterator<Item = (&'a NetId, &'a mut ClientLink)>,
    frames: &mut Vec<(NetId, u32, Range<usize>)>,
    arena: &Bytes,
    config: &RoomConfig,
) {
    let mut sends: Vec<Send<'_>> = links
        .zip(frames.drain(..))
        .map(|((&player, link), (id, ack, range))| {
            debug_assert_eq!(player, id, "clients walked in the same order twice");
            (link, player, ack, arena.slice(range))
        })
        .collect();
    on_two_threads(&mut sends, |part| send_all(part, config)).record(config);
}

/// The send phase of a room with an interest radius: every client's area frame, over two
/// threads past [`MAX_SENDS_ON_ONE_THREAD`] clients. `bytes_per_client` is the last tick's
/// average frame, to size this tick's buffers by.
#[inline(never)]
fn fan_out_area(
    clients: &mut std::collections::HashMap<NetId, ClientLink>,
    replica: &Replica,
    events: &GameEvents,
    config: &RoomConfig,
    bytes_per_client: &mut usize,
) {
    let mut links: Vec<(NetId, &mut ClientLink)> = clients
        .iter_mut()
        .filter(|(_, l)| !l.kicked)
        .map(|(&player, link)| (player, link))
        .collect();
    let each = *bytes_per_client;
    let sent = on_two_threads(&mut links, |part| {
        area_part(part, replica, events, config, each)
    });
    *bytes_per_client = (sent.bytes / sent.frames.max(1)) as usize;
    sent.record(config);
}

/// One client's frame of the tick: its link, player id, ack and bytes.
type Send<'a> = (&'a mut ClientLink, NetId, u32, Bytes);

/// Most clients whose frames one thread writes in a tick: a room with more assembles and writes
/// the other half on a second thread, so that one room of thousands is not held to one core by
/// its sockets' system calls.
const MAX_SENDS_ON_ONE_THREAD: usize = 512;

/// Runs `work` over `items`: on this thread, or, past [`MAX_SENDS_ON_ONE_THREAD`] items, over
/// each half on a thread of its own (this one and a scoped second one).
fn on_two_threads<T: std::marker::Send>(
    items: &mut [T],
    work: impl Fn(&mut [T]) -> Sent + Sync,
) -> Sent {
    if items.len() <= MAX_SENDS_ON_ONE_THREAD {
        return work(items);
    }
    let (first, second) = items.split_at_mut(items.len() / 2);
    // Whichever thread takes the second half works it: the helper, or this one when no helper
    // could be started (the system's thread limit).
    let second = std::sync::Mutex::new(Some(second));
    let take = || second.lock().ok().and_then(|mut half| half.take());
    std::thread::scope(|s| {
        let helper = std::thread::Builder::new()
            .name("room-send".into())
            .spawn_scoped(s, || take().map(&work).unwrap_or_default());
        let mut sent = work(first);
        match helper {
            Ok(other) => match other.join() {
                Ok(more) => sent.add(&more),
                // A panic on the other thread is this tick's panic, as if it happened here.
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(e) => {
                tracing::warn!(error = %e, "no second send thread; sending on one");
                sent.add(&take().map(&work).unwrap_or_default());
            }
        }
        sent
    })
}

/// Writes every frame of `sends`.
fn send_all(sends: &mut [Send<'_>], config: &RoomConfig) -> Sent {
    let mut sent = Sent::default();
    for (link, player, ack, frame) in sends.iter_mut() {
        sent.send(link, *player, *ack, std::mem::take(frame), config);
    }
    sent
}

/// Assembles and sends the frames of some clients of a room with an interest radius: each
/// client's area delta (or snapshot) from the tick's pieces, into one buffer for them all
/// (sized for `bytes_per_client` each).
fn area_part(
    links: &mut [(NetId, &mut ClientLink)],
    replica: &Replica,
    events: &GameEvents,
    config: &RoomConfig,
    bytes_per_client: usize,
) -> Sent {
    let mut arena = Vec::with_capacity(bytes_per_client * links.len());
    let mut ranges = Vec::with_capacity(links.len());
    for (player, link) in links.iter_mut() {
        queue_events(events, *player, &mut link.pending_events);
        let start = arena.len();
        let ack = link.ack;
        write_area_frame(replica, link, *player, ack, &mut arena);
        ranges.push(start..arena.len());
    }
    let arena = Bytes::from(arena);
    let mut sent = Sent::default();
    for ((player, link), range) in links.iter_mut().zip(ranges) {
        let ack = link.ack;
        sent.send(link, *player, ack, arena.slice(range), config);
    }
    sent
}

/// The frames of one tick that several clients share, by ack advance (a tick usually has one or
/// two distinct advances).
#[derive(Debug, Default)]
pub struct CommonFrames(Vec<(u32, Range<usize>)>);

impl CommonFrames {
    /// The ack advance under which `link`'s frame is shared, if it is the same bytes as every
    /// other client's with that advance: a delta, no events, no owner-only data.
    fn key(&self, state: &ReplicationState, link: &ClientLink, player: NetId) -> Option<u32> {
        let common = !link.needs_snapshot
            && link.pending_events.count == 0
            && state.replica.own_delta_is_common(player);
        common.then(|| link.ack.wrapping_sub(link.sent_ack))
    }

    /// Where the frame shared under `advance` lies in `arena`, written by `write` on first need.
    fn get_or_write(
        &mut self,
        advance: u32,
        arena: &mut Vec<u8>,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Range<usize> {
        if let Some((_, range)) = self.0.iter().find(|(a, _)| *a == advance) {
            return range.clone();
        }
        let start = arena.len();
        write(arena);
        self.0.push((advance, start..arena.len()));
        start..arena.len()
    }
}

/// Appends `link`'s frame of this tick to `out`: the shared snapshot (written once per tick, on
/// first need) or delta, then the client's own part.
fn write_frame(
    state: &mut ReplicationState,
    link: &ClientLink,
    player: NetId,
    ack: u32,
    out: &mut Vec<u8>,
) {
    let ReplicationState {
        replica, outbox, ..
    } = state;
    let batch = EventBatch {
        count: link.pending_events.count,
        bytes: &link.pending_events.bytes,
    };
    if link.needs_snapshot {
        let shared = outbox.snapshot.get_or_insert_with(|| {
            let mut shared = Vec::with_capacity(outbox.delta.len() * 4);
            replica.write_snapshot_shared(&mut shared);
            shared
        });
        out.extend_from_slice(shared);
        replica.write_own_snapshot(player, ack, batch, out);
    } else {
        out.extend_from_slice(&outbox.delta);
        replica.write_own_delta(player, link.sent_ack, ack, batch, out);
    }
}

/// Appends `link`'s frame of this tick in a room with an interest radius: a snapshot or an area
/// delta of what the client sees, assembled from the pieces encoded once per cell.
fn write_area_frame(
    replica: &Replica,
    link: &mut ClientLink,
    player: NetId,
    ack: u32,
    out: &mut Vec<u8>,
) {
    let batch = EventBatch {
        count: link.pending_events.count,
        bytes: &link.pending_events.bytes,
    };
    if link.needs_snapshot {
        replica.write_area_snapshot(&mut link.view, player, ack, batch, out);
    } else {
        replica.write_area_delta(&mut link.view, player, link.sent_ack, ack, batch, out);
    }
}

/// Appends this tick's events for `player` to its pending ones.
fn queue_events(events: &GameEvents, player: NetId, pending: &mut PendingEvents) {
    if events.is_empty() {
        return;
    }
    for (audience, bytes) in events.raised() {
        if audience == Audience::All || audience == Audience::Player(player) {
            pending.count += 1;
            pending.bytes.extend_from_slice(bytes);
        }
    }
}

/// What one send phase queued.
#[derive(Debug, Default)]
struct Sent {
    frames: u64,
    bytes: u64,
    resyncs: u64,
    drops: u64,
}

impl Sent {
    /// Sends one client's frame, or skips the client when too many of its frames wait.
    #[inline(always)]
    fn send(
        &mut self,
        link: &mut ClientLink,
        player: NetId,
        ack: u32,
        frame: Bytes,
        config: &RoomConfig,
    ) {
        if frame.len() > MAX_SERVER_MSG {
            // Clients refuse it: better a clear close than a connection that cannot follow.
            tracing::error!(
                room = config.handle.id,
                player,
                bytes = frame.len(),
                "frame over the message size limit"
            );
            link.kicked = true;
            link.conn
                .close
                .close(CloseCode::Kicked, "the game state is too large to send");
            return;
        }
        let len = frame.len() as u64;
        match link.conn.frames.try_send(frame) {
            Ok(()) => {
                self.frames += 1;
                self.bytes += len;
                if link.needs_snapshot {
                    // A snapshot after skipped frames is a resync; the first one of a join is not.
                    self.resyncs += u64::from(link.behind > 0);
                    link.needs_snapshot = false;
                }
                link.behind = 0;
                link.sent_ack = ack;
                link.pending_events.clear();
            }
            Err(PushError::Full(_)) => {
                self.drops += 1;
                link.needs_snapshot = true;
                link.behind += 1;
                if link.behind > config.settings.lag_limit_ticks
                    || link.pending_events.bytes.len() > MAX_PENDING_EVENT_BYTES
                {
                    link.kicked = true;
                    link.conn
                        .close
                        .close(CloseCode::Lagging, "fell too far behind the game");
                    tracing::info!(room = config.handle.id, player, "closing a lagging client");
                }
            }
            // The connection is closing, gone or broken; the next receive phase drops the player.
            Err(PushError::Closed(_)) => {}
        }
    }

    /// Adds what another thread sent in the same tick.
    fn add(&mut self, other: &Sent) {
        self.frames += other.frames;
        self.bytes += other.bytes;
        self.resyncs += other.resyncs;
        self.drops += other.drops;
    }

    fn record(&self, config: &RoomConfig) {
        let m = &config.shared.metrics;
        m.frames_sent.increment(self.frames);
        m.bytes_sent.increment(self.bytes);
        m.resyncs.increment(self.resyncs);
        m.queue_drops.increment(self.drops);
    }
}
