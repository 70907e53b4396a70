//! Deterministic tests of one room, ticked by hand without threads or sockets.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use protocol::{CloseCode, Input, ServerMsg, WorldView};
use tokio::sync::oneshot;

use super::components::Shared;
use super::queue::{FrameReceiver, frame_queue};
use super::{ClientConn, CloseSignal, Room, RoomCommand, RoomHandle, RoomSettings};
use crate::config::Config;

struct Stepper {
    room: Room,
    handle: Arc<RoomHandle>,
}

struct TestClient {
    player_id: u32,
    conn_id: u64,
    frames: FrameReceiver,
    close: CloseSignal,
    world: WorldView,
}

fn stepper(config: Config) -> Stepper {
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
    );
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
        self.handle
            .try_send(RoomCommand::Join {
                player_id,
                name: format!("p{player_id}"),
                conn,
                reply,
            })
            .unwrap();
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
            world: WorldView::new(),
        }
    }

    fn input(&self, c: &TestClient, seq: u32, move_x: i8, move_y: i8) {
        let input = Input {
            seq,
            client_tick: seq,
            move_x,
            move_y,
            buttons: 0,
        };
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
    /// Drains the queue, applying every frame; returns the raw frames.
    fn drain(&mut self) -> Vec<Bytes> {
        let mut out = Vec::new();
        while let Some(bytes) = self.frames.try_recv() {
            match protocol::decode_server(&bytes).unwrap() {
                ServerMsg::Snapshot(s) => self.world.apply_snapshot(&s).unwrap(),
                ServerMsg::Delta(d) => self.world.apply_delta(&d).unwrap(),
                _ => {}
            }
            out.push(bytes);
        }
        out
    }
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
        ServerMsg::Snapshot(_)
    ));
    b.drain();
    s.input(&a, 1, 127, 0);
    s.tick(1);
    let (fa, fb) = (a.drain(), b.drain());
    assert_eq!(fa.len(), 1);
    assert_eq!(
        fa[0].as_ptr(),
        fb[0].as_ptr(),
        "one encoding of the delta shared by both clients"
    );
    assert_eq!(a.world, b.world);
    assert_eq!(a.world.checksum(), s.room.checksum());
    assert_eq!(a.world.get(a.player_id).unwrap().ack, 1);
}

#[test]
fn inputs_are_validated_capped_and_deduplicated() {
    let mut s = stepper(Config {
        inputs_per_tick: 2,
        ..Config::default()
    });
    let mut a = s.join(64);
    a.drain();
    let start = a.world.get(a.player_id).unwrap().pos;
    // Five inputs in one tick: only two apply; the last applied (seq 2) sets the intent.
    for seq in 1..=5 {
        s.input(&a, seq, i8::MIN, 0);
    }
    s.tick(1);
    a.drain();
    let e = *a.world.get(a.player_id).unwrap();
    assert_eq!(e.ack, 2, "capped at two inputs per tick");
    let max = RoomSettings::from_config(&Config::default()).max_speed;
    assert!(start.x - e.pos.x <= max, "moved at most the maximum speed");
    // Stale and duplicate sequence numbers are ignored.
    s.input(&a, 2, 127, 0);
    s.input(&a, 1, 127, 0);
    s.tick(1);
    a.drain();
    assert_eq!(a.world.get(a.player_id).unwrap().ack, 2);
}

#[test]
fn a_full_queue_skips_the_client_then_resyncs_it_and_a_long_lag_closes_it() {
    let mut s = stepper(Config {
        lag_limit_ticks: 5,
        ..Config::default()
    });
    let mut slow = s.join(2);
    let mut fast = s.join(64);
    fast.drain();
    // The slow client's queue (welcome + snapshot) is full: it is skipped, the fast one is not.
    s.input(&fast, 1, 127, 127);
    s.tick(3);
    assert_eq!(fast.drain().len(), 3, "the fast client got every tick");
    slow.drain();
    s.tick(1);
    let resync = slow.drain();
    assert!(
        matches!(
            protocol::decode_server(&resync[0]).unwrap(),
            ServerMsg::Snapshot(_)
        ),
        "a resync snapshot"
    );
    fast.drain();
    assert_eq!(slow.world, fast.world);
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
    s.handle
        .try_send(RoomCommand::Disconnected {
            player_id: a.player_id,
            conn_id: a.conn_id,
        })
        .unwrap();
    s.tick(3);
    b.drain();
    assert!(
        b.world.get(a.player_id).is_some(),
        "kept during the grace period"
    );
    s.tick(5);
    b.drain();
    assert!(b.world.get(a.player_id).is_none(), "removed after it");
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
    s.handle
        .try_send(RoomCommand::Leave {
            player_id: a.player_id,
            conn_id: a.conn_id,
        })
        .unwrap();
    s.tick(2);
    assert!(!s.handle.is_closed());
    s.tick(3);
    assert!(
        s.handle.is_closed(),
        "closed once empty for longer than the idle time"
    );
    assert!(!s.room.tick(), "a closed room does not tick");
}
