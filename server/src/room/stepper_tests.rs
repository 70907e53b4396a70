//! Deterministic tests of one room, ticked by hand without threads or sockets.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use protocol::{CloseCode, Input, ServerMsg, WorldView};
use tokio::sync::oneshot;

use super::components::{Replication, Shared};
use super::queue::{FrameReceiver, frame_queue};
use super::{ClientConn, CloseSignal, Departure, Room, RoomCommand, RoomHandle, RoomSettings};
use crate::config::Config;
use crate::game::Game;
use crate::games::movement::{Movement, Steer};

struct Stepper {
    room: Room,
    handle: Arc<RoomHandle>,
}

struct TestClient {
    player_id: u32,
    conn_id: u64,
    frames: FrameReceiver,
    close: CloseSignal,
    world: Option<WorldView>,
}

fn stepper(config: Config) -> Stepper {
    stepper_of(config, &Movement)
}

fn stepper_of(config: Config, game: &dyn Game) -> Stepper {
    let (handle, rx) = RoomHandle::new(7, "test".into(), config.room_capacity, 1024);
    let shared = Shared {
        metrics: Arc::default(),
        resume_index: Arc::default(),
        rooms: Arc::default(),
    };
    shared.rooms.insert(7, handle.clone());
    let room = Room::new(
        handle.clone(),
        RoomSettings::from_config(&config),
        rx,
        shared,
        game,
    )
    .unwrap();
    Stepper { room, handle }
}

impl Stepper {
    fn tick(&mut self, n: usize) {
        for _ in 0..n {
            self.room.tick();
        }
    }

    fn join(&mut self, queue: usize) -> TestClient {
        let player_id = self.handle.try_reserve().expect("a free seat");
        let (tx, frames) = frame_queue(queue);
        let close = CloseSignal::new();
        let conn_id = u64::from(player_id) * 100;
        let conn = ClientConn {
            conn_id,
            frames: tx,
            close: close.clone(),
        };
        let (reply, mut answer) = oneshot::channel();
        self.send_join(player_id, conn, reply);
        self.tick(1);
        answer
            .try_recv()
            .expect("answered within the tick")
            .expect("accepted");
        TestClient {
            player_id,
            conn_id,
            frames,
            close,
            world: None,
        }
    }

    fn send_join(&self, player_id: u32, conn: ClientConn, reply: super::link::JoinReply) {
        self.handle
            .try_send(RoomCommand::Join {
                player_id,
                name: format!("p{player_id}"),
                conn,
                reply,
            })
            .unwrap();
    }

    fn input(&self, c: &TestClient, seq: u32, move_x: i8, move_y: i8) {
        let steer = Steer {
            move_x,
            move_y,
            buttons: 0,
        };
        let input = Input::new(seq, seq, &steer);
        self.handle
            .try_send(RoomCommand::Input {
                player_id: c.player_id,
                conn_id: c.conn_id,
                input,
            })
            .unwrap();
    }
}

impl TestClient {
    /// Drains the queue, applying every frame (the schema makes the mirror); returns the raw
    /// messages.
    fn drain(&mut self) -> Vec<Bytes> {
        let mut out = Vec::new();
        while let Some(bytes) = self.frames.try_recv() {
            if protocol::world::is_frame(&bytes) {
                let world = self.world.as_mut().expect("a schema before any frame");
                world.apply(&bytes).unwrap();
            } else if let ServerMsg::Schema(schema) = protocol::decode_server(&bytes).unwrap() {
                self.world = Some(WorldView::new(Arc::new(schema), self.player_id));
            }
            out.push(bytes);
        }
        out
    }

    fn world(&self) -> &WorldView {
        self.world.as_ref().expect("joined")
    }

    fn has(&self, id: u32) -> bool {
        self.world().get(id).is_some()
    }

    fn pos(&self) -> protocol::QPos {
        self.world()
            .get(self.player_id)
            .unwrap()
            .position()
            .unwrap()
    }
}

/// The entities a client sees, with their components.
fn seen(w: &WorldView) -> Vec<(u32, u32, protocol::frame::Components)> {
    w.entities()
        .map(|e| {
            let comps = e.components().map(|(i, v)| (i, v.to_vec())).collect();
            (e.id, e.kind, comps)
        })
        .collect()
}

#[test]
fn a_join_gets_a_welcome_then_a_snapshot_then_shared_deltas() {
    let mut s = stepper(Config::default());
    let mut a = s.join(8);
    let mut b = s.join(8);
    let first = a.drain();
    assert!(matches!(
        protocol::decode_server(&first[0]).unwrap(),
        ServerMsg::Welcome(_)
    ));
    assert!(matches!(
        protocol::decode_server(&first[1]).unwrap(),
        ServerMsg::Schema(_)
    ));
    assert_eq!(first[2][0], protocol::message::tag::SNAPSHOT);
    b.drain();
    s.input(&a, 1, 127, 0);
    s.tick(1);
    let (fa, fb) = (a.drain(), b.drain());
    assert_eq!(fa.len(), 1);
    let shared = s
        .room
        .world_mut()
        .resource::<Replication>()
        .0
        .outbox
        .delta
        .clone();
    assert!(
        fa[0].starts_with(&shared) && fb[0].starts_with(&shared),
        "both frames start with the one encoding of the delta's shared part"
    );
    assert_eq!(seen(a.world()), seen(b.world()));
    assert_eq!(a.world().ack(), 1);
    assert_eq!(b.world().ack(), 0, "each client gets its own ack");
}

#[test]
fn clients_whose_frames_are_the_same_bytes_share_one_buffer() {
    let mut s = stepper(Config::default());
    let mut clients: Vec<TestClient> = (0..3).map(|_| s.join(8)).collect();
    for c in &mut clients {
        c.drain();
    }
    s.input(&clients[0], 1, 50, 0);
    s.input(&clients[1], 1, 0, 50);
    s.tick(1);
    let frames: Vec<Bytes> = clients.iter_mut().map(|c| c.drain().remove(0)).collect();
    assert_eq!(
        frames[0].as_ptr(),
        frames[1].as_ptr(),
        "one ack advance, one frame"
    );
    assert_ne!(
        frames[0], frames[2],
        "the third client's ack did not advance"
    );
    assert_eq!(clients[0].world().ack(), 1);
    assert_eq!(clients[1].world().ack(), 1);
    assert_eq!(clients[2].world().ack(), 0);
    assert_eq!(clients[0].world().checksum(), clients[2].world().checksum());
}

#[test]
fn inputs_are_validated_capped_and_deduplicated() {
    let mut s = stepper(Config {
        inputs_per_tick: 2,
        ..Config::default()
    });
    let mut a = s.join(64);
    a.drain();
    let start = a.pos();
    // Five inputs in one tick: only two apply; the last applied (seq 2) sets the intent.
    for seq in 1..=5 {
        s.input(&a, seq, i8::MIN, 0);
    }
    s.tick(1);
    a.drain();
    assert_eq!(a.world().ack(), 2, "capped at two inputs per tick");
    let max = RoomSettings::from_config(&Config::default()).max_speed;
    assert!(
        start.x - a.pos().x <= max,
        "moved at most the maximum speed"
    );
    // Stale and duplicate sequence numbers are ignored.
    s.input(&a, 2, 127, 0);
    s.input(&a, 1, 127, 0);
    s.tick(1);
    a.drain();
    assert_eq!(a.world().ack(), 2);
}

#[test]
fn a_full_queue_skips_the_client_then_resyncs_it_and_a_long_lag_closes_it() {
    let mut s = stepper(Config {
        lag_limit_ticks: 5,
        ..Config::default()
    });
    let mut slow = s.join(3);
    let mut fast = s.join(64);
    fast.drain();
    // The slow client's queue (welcome, schema + snapshot) is full: it is skipped, the fast
    // one is not.
    s.input(&fast, 1, 127, 127);
    s.tick(3);
    assert_eq!(fast.drain().len(), 3, "the fast client got every tick");
    slow.drain();
    s.tick(1);
    let resync = slow.drain();
    assert_eq!(
        resync[0][0],
        protocol::message::tag::SNAPSHOT,
        "a resync snapshot"
    );
    fast.drain();
    assert_eq!(seen(slow.world()), seen(fast.world()));
    assert!(slow.close.requested().is_none());
    // Now it stops reading for longer than the lag limit.
    s.tick(10);
    assert_eq!(
        slow.close.requested().map(|r| r.code),
        Some(CloseCode::Lagging)
    );
    assert_eq!(fast.drain().len(), 10);
}

#[test]
fn a_dropped_player_is_removed_after_the_grace_period_and_its_seat_freed() {
    let config = Config {
        resume_grace: Duration::from_millis(500),
        tick_rate: 10,
        ..Config::default()
    };
    let mut s = stepper(config);
    let a = s.join(8);
    let mut b = s.join(64);
    assert_eq!(s.handle.occupancy(), 2);
    s.handle.depart(Departure::Dropped {
        player_id: a.player_id,
        conn_id: a.conn_id,
    });
    s.tick(3);
    b.drain();
    assert!(b.has(a.player_id), "kept during the grace period");
    s.tick(5);
    b.drain();
    assert!(!b.has(a.player_id), "removed after it");
    assert_eq!(s.handle.occupancy(), 1);
}

#[test]
fn an_empty_room_closes_after_its_idle_time() {
    let mut s = stepper(Config {
        room_idle_secs: Duration::from_millis(200),
        tick_rate: 10,
        ..Config::default()
    });
    let a = s.join(8);
    s.handle.depart(Departure::Left {
        player_id: a.player_id,
        conn_id: a.conn_id,
    });
    s.tick(2);
    assert!(!s.handle.is_closed());
    s.tick(3);
    assert!(
        s.handle.is_closed(),
        "closed once empty for longer than the idle time"
    );
    assert!(!s.room.tick(), "a closed room does not tick");
}

fn grace_config() -> Config {
    Config {
        resume_grace: Duration::from_millis(500),
        tick_rate: 10,
        ..Config::default()
    }
}

#[test]
fn a_connection_whose_task_is_gone_is_dropped_without_its_departure() {
    let mut s = stepper(grace_config());
    let a = s.join(8);
    let mut b = s.join(64);
    let a_id = a.player_id;
    // The connection's task ends without a word (it panicked, or its departure never came).
    drop(a);
    s.tick(3);
    b.drain();
    assert!(b.has(a_id), "kept during the grace period");
    s.tick(5);
    b.drain();
    assert!(!b.has(a_id), "removed after it");
    assert_eq!(s.handle.occupancy(), 1, "its seat is free again");
}

#[test]
fn a_join_whose_connection_gave_up_waiting_is_not_admitted_and_frees_its_seat() {
    let mut s = stepper(Config::default());
    let mut b = s.join(64);
    let player_id = s.handle.try_reserve().expect("a free seat");
    let (tx, _frames) = frame_queue(8);
    let conn = ClientConn {
        conn_id: 1,
        frames: tx,
        close: CloseSignal::new(),
    };
    let (reply, answer) = oneshot::channel();
    s.send_join(player_id, conn, reply);
    // The connection stopped waiting for the answer before the room read the join.
    drop(answer);
    s.tick(2);
    b.drain();
    assert!(!b.has(player_id), "not admitted");
    assert_eq!(s.handle.occupancy(), 1, "its seat is given back");
}

#[test]
fn a_leave_is_never_lost_when_the_inbox_is_full() {
    let mut s = stepper(Config::default());
    let a = s.join(8);
    let mut b = s.join(64);
    while s
        .handle
        .try_send(RoomCommand::Input {
            player_id: a.player_id,
            conn_id: a.conn_id,
            input: Input::default(),
        })
        .is_ok()
    {}
    s.handle.depart(Departure::Left {
        player_id: a.player_id,
        conn_id: a.conn_id,
    });
    s.tick(1);
    b.drain();
    assert!(!b.has(a.player_id), "the player is gone");
    assert_eq!(s.handle.occupancy(), 1);
}

#[test]
fn a_leave_after_the_drop_was_noticed_still_removes_the_player() {
    let mut s = stepper(grace_config());
    let TestClient {
        player_id,
        conn_id,
        frames,
        ..
    } = s.join(8);
    let mut b = s.join(64);
    drop(frames);
    s.tick(1);
    s.handle.depart(Departure::Left { player_id, conn_id });
    s.tick(1);
    b.drain();
    assert!(!b.has(player_id), "removed at once, not after the grace");
    assert_eq!(s.handle.occupancy(), 1);
}

#[test]
fn a_join_beyond_the_rooms_seats_is_refused_with_4004() {
    let mut s = stepper(Config {
        room_capacity: 1,
        ..Config::default()
    });
    let mut a = s.join(8);
    // A join the seat accounting should never let through: the room holds its capacity itself.
    let (tx, _frames) = frame_queue(8);
    let conn = ClientConn {
        conn_id: 1,
        frames: tx,
        close: CloseSignal::new(),
    };
    let (reply, mut answer) = oneshot::channel();
    s.send_join(99, conn, reply);
    s.tick(1);
    let refused = answer.try_recv().unwrap().unwrap_err();
    assert_eq!(refused.close_code(), CloseCode::RoomFull);
    assert_eq!(refused.close_code().code(), 4004);
    a.drain();
    assert!(!a.has(99), "not admitted");
}

#[test]
fn the_first_valid_seq_is_1() {
    let mut s = stepper(Config::default());
    let mut a = s.join(8);
    a.drain();
    s.input(&a, 0, 127, 0);
    s.tick(1);
    a.drain();
    assert_eq!(a.world().ack(), 0, "seq 0 is never applied");
    s.input(&a, 1, 127, 0);
    s.tick(1);
    a.drain();
    assert_eq!(a.world().ack(), 1);
}

mod coins {
    use bevy_ecs::prelude::*;

    use super::*;
    use crate::game::{Player, Position};
    use crate::games::coins::{Coin, Coins};

    /// Moves player `id`'s avatar onto some coin of the room.
    fn step_on_a_coin(s: &mut Stepper, id: u32) {
        let world = s.room.world_mut();
        let coin = world
            .query_filtered::<&Position, With<Coin>>()
            .iter(world)
            .next()
            .copied()
            .expect("coins on the field");
        let mut players = world.query::<(&Player, &mut Position)>();
        for (p, mut pos) in players.iter_mut(world) {
            if p.id == id {
                *pos = coin;
            }
        }
    }

    fn event_names(c: &TestClient) -> Vec<String> {
        let schema = c.world().schema();
        c.world()
            .events()
            .iter()
            .map(|e| schema.events[e.event].name.clone())
            .collect()
    }

    #[test]
    fn a_coin_scores_for_everyone_to_see_and_the_purse_only_for_its_owner() {
        let mut s = stepper_of(Config::default(), &Coins);
        let mut a = s.join(64);
        a.drain();
        assert_eq!(
            event_names(&a),
            ["Hello"],
            "a greeting to the joining player"
        );
        let mut b = s.join(64);
        a.drain();
        // (a may have spawned within reach of a coin: only the greeting is checked.)
        assert!(
            !event_names(&a).iter().any(|n| n == "Hello"),
            "b's greeting is b's alone"
        );
        b.drain();
        assert_eq!(event_names(&b), ["Hello"]);
        s.tick(1);
        a.drain();
        let schema = a.world().schema().clone();
        let coin_kind = schema.kind_index("coin").unwrap();
        let coins = a.world().entities().filter(|e| e.kind == coin_kind).count();
        assert_eq!(coins, 5, "the field is stocked");

        step_on_a_coin(&mut s, a.player_id);
        s.tick(1);
        a.drain();
        b.drain();
        assert_eq!(event_names(&a), ["CoinTaken"]);
        assert_eq!(
            event_names(&b),
            ["CoinTaken"],
            "a broadcast reaches everyone"
        );
        let score = schema.component_index("Score").unwrap();
        let purse = schema.component_index("Purse").unwrap();
        let a_in_b = b.world().get(a.player_id).unwrap();
        assert_eq!(a_in_b.component(score).unwrap()[0].as_int(), Some(1));
        assert!(a_in_b.component(purse).is_none(), "b never sees a's purse");
        let a_in_a = a.world().get(a.player_id).unwrap();
        assert_eq!(a_in_a.component(purse).unwrap()[0].as_int(), Some(1));
    }

    #[test]
    fn events_raised_while_a_client_is_skipped_arrive_with_its_resync() {
        let mut s = stepper_of(Config::default(), &Coins);
        let mut a = s.join(64);
        a.drain();
        let mut slow = s.join(3);
        // The slow client's queue is full (welcome, schema, snapshot): it misses the next frames.
        s.tick(1);
        step_on_a_coin(&mut s, a.player_id);
        s.tick(1);
        a.drain();
        assert_eq!(event_names(&a), ["CoinTaken"]);
        slow.drain();
        s.tick(1);
        slow.drain();
        assert_eq!(
            event_names(&slow),
            ["CoinTaken"],
            "the skipped tick's event rides the resync snapshot"
        );
    }

    #[test]
    fn the_first_to_the_target_wins_and_a_new_round_starts_after_the_pause() {
        let mut s = stepper_of(
            Config {
                tick_rate: 10,
                ..Config::default()
            },
            &Coins,
        );
        let mut a = s.join(4096);
        s.tick(1);
        let mut names = Vec::new();
        // Ten coins win (fewer ticks when two coins lie within reach of each other).
        for _ in 0..10 {
            step_on_a_coin(&mut s, a.player_id);
            s.tick(1);
            a.drain();
            names.extend(event_names(&a));
            if names.iter().any(|n| n == "RoundOver") {
                break;
            }
        }
        assert_eq!(names.last().map(String::as_str), Some("RoundOver"));
        let schema = a.world().schema().clone();
        let round_kind = schema.kind_index("round").unwrap();
        let round = schema.component_index("Round").unwrap();
        let state = |a: &TestClient| {
            let e = a.world().entities().find(|e| e.kind == round_kind).unwrap();
            e.component(round).unwrap().to_vec()
        };
        assert_eq!(state(&a)[2], protocol::Value::Bool(false), "paused");
        s.tick(31);
        a.drain();
        assert_eq!(state(&a)[0].as_int(), Some(2), "round 2");
        assert_eq!(state(&a)[2], protocol::Value::Bool(true));
    }
}

#[test]
fn a_moving_player_costs_at_most_4_bytes_per_tick() {
    let mut s = stepper(Config::default());
    let mut clients: Vec<TestClient> = (0..10).map(|_| s.join(64)).collect();
    s.tick(1);
    for c in &mut clients {
        c.drain();
    }
    // A tick where nobody sends an input and nobody moves.
    s.tick(1);
    let idle: Vec<usize> = clients.iter_mut().map(|c| c.drain()[0].len()).collect();
    // Everyone steers (its velocity applies from this tick on), then a tick where everyone
    // moves and has one more input acknowledged.
    for seq in 1..=2 {
        for c in &clients {
            s.input(c, seq, 100, 0);
        }
        s.tick(1);
        for c in &mut clients {
            c.drain();
        }
    }
    for c in &clients {
        s.input(c, 3, 100, 0);
    }
    s.tick(1);
    for (c, idle) in clients.iter_mut().zip(idle) {
        let busy = c.drain()[0].len();
        assert_eq!(c.world().ack(), 3);
        // Ten moving players and this client's ack: at most 4 bytes per moving player
        // (version 1 sent 5: 3 for the move and 2 for each player's ack).
        let per_player = (busy - idle) as f64 / 10.0;
        assert!(per_player <= 4.0, "{per_player} bytes per moving player");
    }
}

#[test]
fn a_player_whose_avatar_the_game_despawns_is_closed_and_its_seat_freed() {
    use bevy_ecs::prelude::*;

    use crate::game::{GameBuilder, Player};

    struct Perilous;
    impl Game for Perilous {
        fn name(&self) -> &'static str {
            "perilous"
        }
        fn build(&self, game: &mut GameBuilder) {
            game.add_systems(
                |players: Query<Entity, With<Player>>,
                 info: Res<crate::game::RoomInfo>,
                 mut commands: Commands| {
                    if info.tick == 4 {
                        for p in &players {
                            commands.entity(p).despawn();
                        }
                    }
                },
            );
        }
    }
    let mut s = stepper_of(grace_config(), &Perilous);
    let mut a = s.join(64);
    let b = s.join(64);
    s.handle.depart(Departure::Dropped {
        player_id: b.player_id,
        conn_id: b.conn_id,
    });
    s.tick(4);
    a.drain();
    assert!(!a.has(a.player_id), "the avatar is gone for everyone");
    let closed = a.close.requested().expect("its connection is closed");
    assert_eq!(closed.code, CloseCode::Kicked);
    assert_eq!(s.handle.occupancy(), 0, "both seats are free again");
}

#[test]
fn a_game_can_close_its_room() {
    use bevy_ecs::prelude::*;

    use crate::game::{GameBuilder, RoomControl};

    struct Short;
    impl Game for Short {
        fn name(&self) -> &'static str {
            "short"
        }
        fn build(&self, game: &mut GameBuilder) {
            game.add_systems(
                |info: Res<crate::game::RoomInfo>, mut control: ResMut<RoomControl>| {
                    if info.tick == 3 {
                        control.close("the match is over");
                    }
                },
            );
        }
    }
    let mut s = stepper_of(Config::default(), &Short);
    let a = s.join(64);
    s.tick(1);
    assert!(a.close.requested().is_none());
    s.tick(1);
    let closed = a.close.requested().expect("closed by the game");
    assert_eq!(closed.code, CloseCode::RoomClosed);
    assert_eq!(closed.reason, "the match is over");
    assert!(s.handle.is_closed());
}

#[test]
fn an_input_that_arrives_in_the_tick_of_the_join_is_applied() {
    let mut s = stepper(Config::default());
    let player_id = s.handle.try_reserve().expect("a free seat");
    let (tx, frames) = frame_queue(64);
    let close = CloseSignal::new();
    let conn = ClientConn {
        conn_id: 1,
        frames: tx,
        close: close.clone(),
    };
    let (reply, _answer) = oneshot::channel();
    s.send_join(player_id, conn, reply);
    let mut a = TestClient {
        player_id,
        conn_id: 1,
        frames,
        close,
        world: None,
    };
    // The input is in the inbox before the tick that admits the join reads it.
    s.input(&a, 1, 127, 0);
    s.tick(1);
    a.drain();
    assert_eq!(a.world().ack(), 1, "applied in the admitting tick");
}

// ---------------------------------------------------------------------------------------------
// Server-side bots.

/// The ids of the room's bots and whether each got its game's components on join.
fn bots_in(s: &mut Stepper) -> Vec<(u32, bool)> {
    use bevy_ecs::prelude::*;

    use crate::game::{Bot, Player};
    use crate::games::movement::Velocity;

    let world = s.room.world_mut();
    let mut bots = world.query_filtered::<(&Player, Has<Velocity>), With<Bot>>();
    let mut ids: Vec<(u32, bool)> = bots.iter(world).map(|(p, v)| (p.id, v)).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn bots_fill_the_room_give_way_to_a_human_and_come_back() {
    let mut s = stepper(Config {
        room_capacity: 4,
        bots_per_room: 4,
        ..Config::default()
    });
    s.tick(1);
    let bots = bots_in(&mut s);
    assert_eq!(bots.len(), 4, "the room is filled with bots");
    assert!(
        bots.iter().all(|b| b.1),
        "the game's join observer ran for every bot"
    );
    assert_eq!(
        (s.handle.bots(), s.handle.occupancy()),
        (4, 0),
        "bots take no seat"
    );
    let mut a = s.join(64);
    s.tick(1);
    a.drain();
    assert_eq!(s.handle.bots(), 3, "a bot made room for the human");
    let seen_bots: Vec<u32> = bots_in(&mut s).iter().map(|b| b.0).collect();
    assert!(
        seen_bots.iter().all(|&id| a.has(id)),
        "the human sees the bots"
    );
    let start: Vec<_> = seen_bots
        .iter()
        .map(|&id| a.world().get(id).and_then(|e| e.position()))
        .collect();
    s.tick(40);
    a.drain();
    let now: Vec<_> = seen_bots
        .iter()
        .map(|&id| a.world().get(id).and_then(|e| e.position()))
        .collect();
    assert!(
        start
            .iter()
            .zip(&now)
            .all(|(before, after)| before != after),
        "every bot moved: {start:?} -> {now:?}"
    );
    let links = s.room.world_mut().resource::<super::components::Players>();
    assert_eq!(links.0.clients.0.len(), 1, "only the human has a link");
    s.handle.depart(Departure::Left {
        player_id: a.player_id,
        conn_id: a.conn_id,
    });
    s.tick(2);
    assert_eq!(s.handle.bots(), 4, "the bots came back");
}

#[test]
fn a_game_without_a_bot_brain_gets_no_bots() {
    use crate::game::GameBuilder;

    struct Still;
    impl Game for Still {
        fn name(&self) -> &'static str {
            "still"
        }
        fn build(&self, _: &mut GameBuilder) {}
    }
    let mut s = stepper_of(
        Config {
            bots_per_room: 4,
            ..Config::default()
        },
        &Still,
    );
    s.handle.fill_with_bots(10);
    s.tick(3);
    assert_eq!(s.handle.bots(), 0);
    assert!(bots_in(&mut s).is_empty());
}

#[test]
fn bots_join_and_leave_through_the_games_observers() {
    use bevy_ecs::prelude::*;

    use crate::game::{Bot, GameBuilder, PlayerJoined, PlayerLeft};

    /// Bots the game saw join and leave.
    #[derive(Resource, Default)]
    struct Seen {
        joined: usize,
        left: usize,
    }

    struct Counted;
    impl Game for Counted {
        fn name(&self) -> &'static str {
            "counted"
        }
        fn build(&self, game: &mut GameBuilder) {
            game.insert_resource(Seen::default())
                .bot_brain(|_: Query<(), With<Bot>>| {})
                .on_join(
                    |j: On<PlayerJoined>, bots: Query<(), With<Bot>>, mut seen: ResMut<Seen>| {
                        seen.joined += usize::from(bots.contains(j.entity));
                    },
                )
                .on_leave(
                    |l: On<PlayerLeft>, bots: Query<(), With<Bot>>, mut seen: ResMut<Seen>| {
                        seen.left += usize::from(bots.contains(l.entity));
                    },
                );
        }
    }
    let config = Config {
        room_capacity: 2,
        bots_per_room: 2,
        ..Config::default()
    };
    let mut s = stepper_of(config, &Counted);
    s.tick(1);
    let seen = |s: &mut Stepper| {
        let seen = s.room.world_mut().resource::<Seen>();
        (seen.joined, seen.left)
    };
    assert_eq!(seen(&mut s), (2, 0), "two bots joined, marked as bots");
    let _human = s.join(64);
    s.tick(1);
    assert_eq!(seen(&mut s), (2, 1), "one left for the human");
}

/// Rooms with an interest radius: every client's mirror holds exactly what the server's world
/// puts within the radius of its avatar, tick by tick.
mod interest {
    use std::collections::BTreeMap;

    use protocol::QPos;

    use super::*;
    use crate::game::{NetEntity, Position};

    /// The radius of these rooms: 10 units.
    const RADIUS: i64 = 1_000;

    fn radius_room(capacity: u32) -> Stepper {
        stepper(Config {
            interest_radius: 10.0,
            room_capacity: capacity,
            ..Config::default()
        })
    }

    impl Stepper {
        /// Moves the avatar of `player` to `at` (the movement game leaves a still player where
        /// it is).
        fn place(&mut self, player: u32, at: QPos) {
            let world = self.room.world_mut();
            let mut q = world.query::<(&NetEntity, &mut Position)>();
            for (net, mut pos) in q.iter_mut(world) {
                if net.id() == player {
                    pos.0 = at;
                }
            }
        }

        /// Every replicated entity's position, by id, as the server's world holds it.
        fn positions(&mut self) -> BTreeMap<u32, QPos> {
            let world = self.room.world_mut();
            let mut q = world.query::<(&NetEntity, &Position)>();
            q.iter(world).map(|(n, p)| (n.id(), p.0)).collect()
        }
    }

    /// What the server's world puts within the radius of `player`'s avatar.
    fn in_radius(all: &BTreeMap<u32, QPos>, player: u32) -> BTreeMap<u32, QPos> {
        let me = all[&player];
        all.iter()
            .filter(|(_, p)| {
                let (dx, dy) = (i64::from(p.x - me.x), i64::from(p.y - me.y));
                dx * dx + dy * dy <= RADIUS * RADIUS
            })
            .map(|(&id, &p)| (id, p))
            .collect()
    }

    /// Reads every client's frames, then checks that each one holds exactly the entities
    /// within the radius of its avatar in `all`, the server's positions (`when` names the
    /// moment in a failure).
    fn drain_and_check(clients: &mut [TestClient], all: &BTreeMap<u32, QPos>, when: &str) {
        for c in clients.iter_mut() {
            c.drain();
        }
        for c in clients.iter() {
            assert_eq!(
                mirror(c),
                in_radius(all, c.player_id),
                "{when}, player {}",
                c.player_id
            );
        }
    }

    fn mirror(c: &TestClient) -> BTreeMap<u32, QPos> {
        c.world()
            .entities()
            .filter_map(|e| Some((e.id, e.position()?)))
            .collect()
    }

    #[test]
    fn a_player_at_the_edge_of_the_radius_sees_exactly_what_the_world_puts_in_it() {
        let mut s = radius_room(12);
        let mut clients: Vec<TestClient> = (0..12).map(|_| s.join(64)).collect();
        let ids: Vec<u32> = clients.iter().map(|c| c.player_id).collect();
        let centre = QPos::new(5_000, 5_000);
        // A stands still; B walks out across the edge of A's radius and back, a quantum per
        // tick; the others stand around the edge at fixed places.
        s.place(ids[0], centre);
        for (k, &id) in ids.iter().enumerate().skip(2) {
            let angle = k as f64;
            let r = 990.0 + (k % 3) as f64 * 10.0;
            let at = QPos::new(
                5_000 + (r * angle.cos()) as i32,
                5_000 + (r * angle.sin()) as i32,
            );
            s.place(id, at);
        }
        let mut crossings = 0;
        let mut was_in = None;
        for t in 0..60i32 {
            let d = 970 + (t - 30).abs() * 2;
            s.place(ids[1], QPos::new(5_000 + d, 5_000 + (t % 2)));
            s.tick(1);
            drain_and_check(&mut clients, &s.positions(), &format!("tick {t}"));
            let is_in = clients[0].has(ids[1]);
            crossings += usize::from(was_in.is_some_and(|w| w != is_in));
            was_in = Some(is_in);
        }
        assert!(
            crossings >= 2,
            "B crossed A's edge out and back in ({crossings} crossings)"
        );
    }

    #[test]
    fn a_teleport_across_the_map_swaps_what_the_player_holds() {
        let mut s = radius_room(10);
        let mut clients: Vec<TestClient> = (0..10).map(|_| s.join(64)).collect();
        let ids: Vec<u32> = clients.iter().map(|c| c.player_id).collect();
        for (k, &id) in ids.iter().enumerate().skip(1) {
            let base = if k % 2 == 0 { 1_000 } else { 8_000 };
            s.place(id, QPos::new(base + k as i32 * 50, base));
        }
        s.place(ids[0], QPos::new(1_000, 1_100));
        s.tick(1);
        for c in &mut clients {
            c.drain();
        }
        let near: Vec<u32> = ids.iter().copied().step_by(2).collect();
        assert_eq!(mirror(&clients[0]).into_keys().collect::<Vec<_>>(), near);
        s.place(ids[0], QPos::new(8_200, 8_100));
        s.tick(1);
        drain_and_check(&mut clients, &s.positions(), "after the teleport");
        let far: Vec<u32> = std::iter::once(ids[0])
            .chain(ids.iter().copied().skip(1).step_by(2))
            .collect();
        assert_eq!(mirror(&clients[0]).into_keys().collect::<Vec<_>>(), far);
    }
}

/// A room with more clients than one thread writes per tick sends every frame, split over two
/// threads; with an interest radius too, each client's frame its own (its checksum verified by
/// `drain`).
#[test]
fn a_room_of_hundreds_sends_every_client_its_frame() {
    for radius in [0.0, 10.0] {
        let mut s = stepper(Config {
            room_capacity: 600,
            interest_radius: radius,
            ..Config::default()
        });
        let mut clients: Vec<TestClient> = (0..600).map(|_| s.join(1024)).collect();
        for c in &mut clients {
            c.drain();
        }
        s.tick(2);
        for c in &mut clients {
            let frames = c.drain();
            assert_eq!(frames.len(), 2, "player {} got both frames", c.player_id);
            assert!(c.has(c.player_id), "and holds itself");
            if radius == 0.0 {
                assert_eq!(c.world().len(), 600, "and every player");
            }
        }
    }
}
