//! [`Roster`]: who enters and leaves a room during the receive phase: joins, resumes (also of a
//! player whose old connection is still open), drops, leaves, and inputs of present players.

use bevy_ecs::prelude::*;
use bytes::Bytes;
use protocol::{CloseCode, Input, NetId, QPos, ServerMsg, Welcome};
use rand::RngExt as _;

use super::components::*;
use super::link::{ClientConn, Departure, JoinAccepted, JoinRefused, JoinReply};
use super::random_token;
use super::systems::apply_input;
use crate::game::sync::InputQueue;
use crate::game::{
    Disconnected, NetEntity, Owner, Player, PlayerDropped, PlayerJoined, PlayerLeft, PlayerResumed,
    Position,
};

/// The close reason of a connection whose player resumed on another connection.
const REPLACED_REASON: &str = "replaced: this player resumed on another connection";

/// The room's books and world access for one receive phase.
pub struct Roster<'a, 'w, 's, 'qw, 'qs> {
    /// Spawns and despawns entities.
    pub commands: &'a mut Commands<'w, 's>,
    /// Connected and dropped players.
    pub book: &'a mut PlayerBook,
    /// Every player's input queue.
    pub queues: &'a mut Query<'qw, 'qs, &'static mut InputQueue>,
    /// The room's settings and shared state.
    pub config: &'a RoomConfig,
    /// The room's game schema, sent after each welcome.
    pub schema: &'a GameSchema,
    /// The tick being computed.
    pub clock: &'a TickClock,
    /// Input queues of avatars spawned during this receive phase (their entity does not exist
    /// until the phase's commands apply): inputs that arrive in the same phase go here.
    pub fresh: Vec<(Entity, InputQueue)>,
}

impl Roster<'_, '_, '_, '_, '_> {
    /// Applies one input of a connected player; returns whether it was applied.
    pub fn apply(&mut self, player_id: NetId, conn_id: u64, input: Input) -> bool {
        #[cfg(feature = "fault-injection")]
        super::fault::on_input(&self.config.handle.mode);
        let cap = self.config.settings.inputs_per_tick;
        let Some(link) = self
            .book
            .clients
            .0
            .get_mut(&player_id)
            .filter(|l| l.conn.conn_id == conn_id)
        else {
            return false;
        };
        if let Some((_, q)) = self.fresh.iter_mut().find(|(e, _)| *e == link.entity) {
            return apply_input(&mut link.ack, q, input, cap);
        }
        self.queues
            .get_mut(link.entity)
            .is_ok_and(|mut q| apply_input(&mut link.ack, &mut q, input, cap))
    }

    /// Gives the avatars spawned in this phase the inputs that arrived for them.
    pub fn flush_fresh(&mut self) {
        for (entity, queue) in self.fresh.drain(..) {
            if !queue.fields.is_empty() {
                // `try_`: the player may have left in the same phase.
                self.commands.entity(entity).try_insert(queue);
            }
        }
    }

    /// Spawns the player who redeemed a seat, unless its connection is gone or the room holds
    /// as many players as seats. A seat whose join is not admitted is given back here: once the
    /// join is queued, the room owns its seat.
    pub fn join(&mut self, player_id: NetId, name: String, conn: ClientConn, reply: JoinReply) {
        let handle = &self.config.handle;
        if self.book.clients.0.contains_key(&player_id) {
            let _ = reply.send(Err(JoinRefused::BadToken("this seat is already taken")));
            return;
        }
        let present = self.book.clients.0.len() + self.book.dropped.0.len();
        if present >= handle.capacity as usize {
            handle.release();
            let _ = reply.send(Err(JoinRefused::RoomFull));
            return;
        }
        if !conn.is_open() || reply.send(Ok(JoinAccepted { player_id })).is_err() {
            handle.release();
            tracing::debug!(room = handle.id, player_id, "join of a closed connection");
            return;
        }
        let player = Player {
            id: player_id,
            name,
        };
        let entity = spawn_avatar(self.commands, player, &self.config.settings, ());
        self.fresh.push((entity, InputQueue::default()));
        self.admit(player_id, entity, conn, 0, PendingEvents::default());
    }

    /// Gives the entity a resume token names to a new connection: a dropped player's, or a
    /// connected one's, whose old connection is then closed as replaced (a client that lost its
    /// network without a FIN comes back before its old connection times out).
    pub fn resume(&mut self, token: &str, conn: ClientConn, reply: JoinReply) {
        let Some(player_id) = self.holder_of(token) else {
            let _ = reply.send(Err(JoinRefused::BadToken(
                "unknown or expired resume token",
            )));
            return;
        };
        if !conn.is_open() || reply.send(Ok(JoinAccepted { player_id })).is_err() {
            // The new connection is gone: the token stays valid, nothing changes.
            return;
        }
        let (entity, ack, pending) = if let Some(d) = self.book.dropped.0.remove(token) {
            (d.entity, d.ack, PendingEvents::default())
        } else if let Some(link) = self.book.clients.0.remove(&player_id) {
            link.conn.close.close(CloseCode::Kicked, REPLACED_REASON);
            // Events the old connection had not been sent yet go to the new one.
            (link.entity, link.ack, link.pending_events)
        } else {
            return;
        };
        self.config.shared.resume_index.remove(token);
        self.commands.entity(entity).remove::<Disconnected>();
        self.commands.trigger(PlayerResumed {
            entity,
            player: player_id,
        });
        self.admit(player_id, entity, conn, ack, pending);
    }

    /// The player a resume token belongs to, dropped or connected.
    fn holder_of(&self, token: &str) -> Option<NetId> {
        if let Some(d) = self.book.dropped.0.get(token) {
            return Some(d.player_id);
        }
        self.book
            .clients
            .0
            .iter()
            .find(|(_, l)| l.resume_token == token)
            .map(|(id, _)| *id)
    }

    /// Handles a connection's departure: a drop keeps the entity for the grace period, a leave
    /// removes it (also when the drop was noticed first).
    pub fn depart(&mut self, departure: Departure) {
        match departure {
            Departure::Dropped { player_id, conn_id } => {
                if let Some(link) = self.take_link(player_id, conn_id) {
                    self.keep_for_grace(player_id, link);
                }
            }
            Departure::Left { player_id, conn_id } => self.leave(player_id, conn_id),
        }
    }

    /// Ends every player whose avatar the game despawned: its connection is closed (4005) and
    /// its seat freed.
    pub fn reap_despawned(&mut self, despawned: &[Entity]) {
        if despawned.is_empty() {
            return;
        }
        let gone: Vec<NetId> = self
            .book
            .clients
            .0
            .iter()
            .filter(|(_, l)| despawned.contains(&l.entity))
            .map(|(id, _)| *id)
            .collect();
        for player_id in gone {
            if let Some(link) = self.book.clients.0.remove(&player_id) {
                link.conn
                    .close
                    .close(CloseCode::Kicked, "the game removed this player");
                self.forget(player_id, &link.resume_token);
            }
        }
        let tokens: Vec<String> = self
            .book
            .dropped
            .0
            .iter()
            .filter(|(_, d)| despawned.contains(&d.entity))
            .map(|(t, _)| t.clone())
            .collect();
        for token in tokens {
            if let Some(d) = self.book.dropped.0.remove(&token) {
                self.forget(d.player_id, &token);
            }
        }
    }

    /// Frees the seat and resume token of a player whose avatar is gone.
    fn forget(&mut self, player_id: NetId, token: &str) {
        self.config.shared.resume_index.remove(token);
        self.config.handle.release();
        tracing::info!(
            room = self.config.handle.id,
            player_id,
            "the game despawned a player's avatar; player removed"
        );
    }

    /// Drops every connected player whose connection takes no more frames (closing, gone or
    /// broken), as if it had reported the drop.
    pub fn reap_closed(&mut self) {
        let gone: Vec<(NetId, u64)> = self
            .book
            .clients
            .0
            .iter()
            .filter(|(_, l)| !l.conn.frames.is_open())
            .map(|(id, l)| (*id, l.conn.conn_id))
            .collect();
        for (player_id, conn_id) in gone {
            self.depart(Departure::Dropped { player_id, conn_id });
        }
    }

    fn leave(&mut self, player_id: NetId, conn_id: u64) {
        let (token, entity) = if let Some(link) = self.take_link(player_id, conn_id) {
            (link.resume_token, link.entity)
        } else {
            let dropped = &mut self.book.dropped.0;
            let Some(token) = dropped
                .iter()
                .find(|(_, d)| d.player_id == player_id && d.conn_id == conn_id)
                .map(|(t, _)| t.clone())
            else {
                return;
            };
            let Some(d) = dropped.remove(&token) else {
                return;
            };
            (token, d.entity)
        };
        self.config.shared.resume_index.remove(&token);
        self.commands.trigger(PlayerLeft {
            entity,
            player: player_id,
        });
        self.commands.entity(entity).despawn();
        self.config.handle.release();
        tracing::debug!(room = self.config.handle.id, player_id, "player left");
    }

    fn keep_for_grace(&mut self, player_id: NetId, link: ClientLink) {
        // `try_`: never a panic, whatever the game did to the avatar.
        self.commands.entity(link.entity).try_insert(Disconnected);
        self.commands.trigger(PlayerDropped {
            entity: link.entity,
            player: player_id,
        });
        let grace = self.config.settings.resume_grace_ticks;
        self.book.dropped.0.insert(
            link.resume_token,
            DroppedPlayer {
                player_id,
                entity: link.entity,
                expires_at_tick: self.clock.tick.wrapping_add(grace),
                conn_id: link.conn.conn_id,
                ack: link.ack,
            },
        );
        tracing::debug!(
            room = self.config.handle.id,
            player_id,
            "player dropped; kept for the grace period"
        );
    }

    fn take_link(&mut self, player_id: NetId, conn_id: u64) -> Option<ClientLink> {
        let clients = &mut self.book.clients.0;
        match clients.get(&player_id) {
            Some(l) if l.conn.conn_id == conn_id => clients.remove(&player_id),
            _ => None,
        }
    }

    /// Links a connection to a player's entity, carrying over the player's `ack` and the events
    /// not sent yet: a new resume token, a welcome now, a snapshot at the end of the tick.
    fn admit(
        &mut self,
        player_id: NetId,
        entity: Entity,
        conn: ClientConn,
        ack: u32,
        pending_events: PendingEvents,
    ) {
        let config = self.config;
        let settings = &config.settings;
        let resume_token = random_token();
        let welcome = ServerMsg::Welcome(Welcome {
            player_id,
            room_id: config.handle.id,
            tick_rate: settings.tick_rate,
            bounds: settings.bounds,
            tick: self.clock.tick,
            resume_token: resume_token.clone(),
        });
        // Indexed before the welcome goes out: a client may resume as soon as it reads it.
        config
            .shared
            .resume_index
            .insert(resume_token.clone(), config.handle.id);
        match protocol::encode_server(&welcome) {
            Ok(bytes) => {
                // Nothing waits on a new connection: neither can be refused as behind.
                let _ = conn.frames.try_send(Bytes::from(bytes));
                let _ = conn.frames.try_send(self.schema.message.clone());
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a welcome");
                conn.close.close(CloseCode::Kicked, "internal error");
            }
        }
        let link = ClientLink {
            conn,
            entity,
            resume_token,
            needs_snapshot: true,
            behind: 0,
            kicked: false,
            ack,
            sent_ack: 0,
            pending_events,
            view: protocol::replica::View::new(),
        };
        self.book.clients.0.insert(player_id, link);
        tracing::debug!(room = config.handle.id, player_id, "player joined");
    }
}

/// Spawns a player's avatar (with `extra`, e.g. the [`crate::game::Bot`] marker) at a random
/// place and triggers [`PlayerJoined`]: the one way into a room, for humans and bots.
pub fn spawn_avatar(
    commands: &mut Commands,
    player: Player,
    settings: &super::RoomSettings,
    extra: impl Bundle,
) -> Entity {
    let player_id = player.id;
    let entity = commands
        .spawn((
            player,
            NetEntity::new(player_id, 0),
            Owner(player_id),
            Position(random_spawn(settings)),
            InputQueue::default(),
            extra,
        ))
        .id();
    commands.trigger(PlayerJoined {
        entity,
        player: player_id,
    });
    entity
}

fn random_spawn(settings: &super::RoomSettings) -> QPos {
    let mut rng = rand::rng();
    QPos::new(
        rng.random_range(0..=settings.bounds.width),
        rng.random_range(0..=settings.bounds.height),
    )
}
