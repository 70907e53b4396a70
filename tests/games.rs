//! Games over real WebSockets: the built-in coins game, a game written here with only the public
//! game API, the game catalog (`--mode-game`), and rooms of different games in one process.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use client_sim::{Event, GameClient};
use protocol::frame::EventValue;
use protocol::{Value, WireType};
use server::game::GameCatalog;
use server::game::prelude::*;
use tests::{TestServer, close_code, config, next_frame, play_for, start, start_games};

/// Reads `client`'s next frame, asserting it applied and its checksum verified; returns its tick.
async fn verified_frame(client: &mut GameClient) -> u32 {
    let Event::Frame { tick, desync, .. } = next_frame(client).await else {
        unreachable!("next_frame returns frames")
    };
    assert_eq!(desync, None, "desync at tick {tick}");
    tick
}

/// The events of `client`'s last frame of type `name`, as field values.
fn events_named(client: &GameClient, name: &str) -> Vec<Vec<Value>> {
    let index = client.schema().event_index(name).expect("a known event");
    client
        .world()
        .events()
        .iter()
        .filter(|e: &&EventValue| e.event == index)
        .map(|e| e.values.clone())
        .collect()
}

/// The values of component `name` of entity `id` in `client`'s mirror, if it holds them.
fn component(client: &GameClient, id: u32, name: &str) -> Option<Vec<Value>> {
    let index = client
        .schema()
        .component_index(name)
        .expect("a known component");
    client
        .world()
        .get(id)
        .and_then(|e| e.component(index))
        .map(<[Value]>::to_vec)
}

/// Reads frames of both clients in turn until each mirrors the other's player.
async fn until_both_see_each_other(a: &mut GameClient, b: &mut GameClient) {
    let (a_id, b_id) = (a.welcome().player_id, b.welcome().player_id);
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.world().get(b_id).is_none() || b.world().get(a_id).is_none() {
        assert!(Instant::now() < deadline, "the players see each other");
        verified_frame(a).await;
        verified_frame(b).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The coins game.

/// What one client saw at one tick.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    coin_taken: Vec<Vec<Value>>,
    score_of_taker: Option<Vec<Value>>,
    purse_of_taker: Option<Vec<Value>>,
}

fn seen(client: &GameClient, taker: u32) -> Seen {
    Seen {
        coin_taken: events_named(client, "CoinTaken"),
        score_of_taker: component(client, taker, "Score"),
        purse_of_taker: component(client, taker, "Purse"),
    }
}

/// The intent that steers `client`'s player toward the nearest coin, if it sees one.
fn toward_nearest_coin(client: &GameClient) -> Option<(i8, i8)> {
    let coin = client.schema().kind_index("coin").expect("a coin kind");
    client_sim::behavior::toward_nearest(client.world(), coin)
}

#[tokio::test]
async fn coins_over_sockets_a_taken_coin_reaches_both_players_in_the_same_tick() {
    let server = start(config()).await;
    let mut a = server.player("ada", "coins").await;
    let mut b = server.player("bob", "coins").await;
    assert_eq!(a.schema().game, "coins");
    assert_eq!(b.schema().game, "coins");
    let a_id = a.welcome().player_id;
    until_both_see_each_other(&mut a, &mut b).await;
    let coin = a.schema().kind_index("coin").unwrap();
    assert!(
        a.world().entities().any(|e| e.kind == coin),
        "coins are on the field"
    );

    let mut by_a: BTreeMap<u32, Seen> = BTreeMap::new();
    let mut by_b: BTreeMap<u32, Seen> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seq = 0;
    let taken_at = loop {
        assert!(Instant::now() < deadline, "ada takes a coin in time");
        let tick = verified_frame(&mut a).await;
        by_a.insert(tick, seen(&a, a_id));
        let tick_b = verified_frame(&mut b).await;
        by_b.insert(tick_b, seen(&b, a_id));
        let mine = |e: &Vec<Value>| e[0] == Value::Int(i64::from(a_id));
        if by_a[&tick].coin_taken.iter().any(mine) {
            break tick;
        }
        if let Some((move_x, move_y)) = toward_nearest_coin(&a) {
            seq += 1;
            let input = a
                .input(
                    seq,
                    tick,
                    &[
                        ("move_x", Value::Int(move_x.into())),
                        ("move_y", Value::Int(move_y.into())),
                    ],
                )
                .unwrap();
            a.send_input(input).await.unwrap();
        }
    };
    while by_b.last_key_value().is_none_or(|(t, _)| *t < taken_at) {
        let tick = verified_frame(&mut b).await;
        by_b.insert(tick, seen(&b, a_id));
    }

    let (at_a, at_b) = (&by_a[&taken_at], &by_b[&taken_at]);
    assert_eq!(
        at_a.coin_taken, at_b.coin_taken,
        "both get the same CoinTaken events in the frame of tick {taken_at}"
    );
    let taken = at_a
        .coin_taken
        .iter()
        .find(|e| e[0] == Value::Int(i64::from(a_id)))
        .unwrap();
    let points = taken[2].clone();
    assert_eq!(
        at_a.score_of_taker,
        Some(vec![points.clone()]),
        "ada's score"
    );
    assert_eq!(
        at_b.score_of_taker,
        Some(vec![points]),
        "ada's score seen by bob"
    );
    for (who, by) in [("ada", &by_a), ("bob", &by_b)] {
        let before = by
            .range(..taken_at)
            .next_back()
            .map(|(_, s)| &s.score_of_taker);
        assert_ne!(
            before,
            Some(&by[&taken_at].score_of_taker),
            "{who} sees ada's score change at tick {taken_at}"
        );
    }
    let Some(purse) = &at_a.purse_of_taker else {
        panic!("ada sees her own purse");
    };
    assert!(purse[0].as_int().unwrap() >= 1, "the purse counts the coin");
    assert!(
        by_b.values().all(|s| s.purse_of_taker.is_none()),
        "bob never sees ada's purse"
    );
    let b_id = b.welcome().player_id;
    assert_eq!(component(&a, b_id, "Purse"), None, "ada never sees bob's");
    assert!(component(&b, b_id, "Purse").is_some(), "bob sees his own");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// A game written here, with only the public API.

/// The game's name.
const RELAY: &str = "relay";

wire_struct! {
    /// Every wire type in one replicated component.
    #[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
    pub struct Badge {
        pub label: Text<16>,
        pub level: u8,
        pub tilt: i8,
        pub charge: i16,
        pub count: u16,
        pub total: u32,
        pub balance: i32,
        pub speed: Fixed<100>,
        pub lit: bool,
    }
}

wire_struct! {
    /// Owner-only: how many inputs the player sent, plus 7.
    #[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Secret {
        pub code: u32,
    }
}

wire_struct! {
    /// The input: shout to everyone, and an amount echoed to the sender alone.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Act {
        pub shout: bool,
        pub amount: i8,
    }
}

wire_struct! {
    /// To everyone: a shout, numbered in the room.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Shout {
        pub from: u32,
        pub number: u16,
    }
}

wire_struct! {
    /// To the acting player alone.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Echo {
        pub amount: i8,
    }
}

wire_struct! {
    /// To everyone: a player left (raised by the leave hook).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Gone {
        pub player: u32,
    }
}

/// Shouts so far in the room.
#[derive(Resource, Default)]
struct Shouts(u16);

/// The code every player's [`Secret`] starts at.
const FIRST_CODE: u32 = 7;

struct Relay;

impl Game for Relay {
    fn name(&self) -> &'static str {
        RELAY
    }

    fn build(&self, game: &mut GameBuilder) {
        game.replicate::<Badge>()
            .replicate_to_owner::<Secret>()
            .input::<Act>()
            .event::<Shout>()
            .event::<Echo>()
            .event::<Gone>()
            .insert_resource(Shouts::default())
            .on_join(badge)
            .on_leave(gone)
            .add_systems(act);
    }
}

fn badge(joined: On<PlayerJoined>, players: Query<&Player>, mut commands: Commands) {
    let name = players
        .get(joined.entity)
        .map(|p| p.name.as_str())
        .unwrap_or("");
    let badge = Badge {
        label: Text::truncated(name),
        level: 3,
        ..Badge::default()
    };
    let secret = Secret { code: FIRST_CODE };
    commands.entity(joined.entity).insert((badge, secret));
}

fn gone(left: On<PlayerLeft>, mut events: ResMut<GameEvents>) {
    events.broadcast(&Gone {
        player: left.player,
    });
}

fn act(
    mut players: Query<(&Player, &PlayerInput<Act>, &mut Badge, &mut Secret)>,
    mut shouts: ResMut<Shouts>,
    mut events: ResMut<GameEvents>,
) {
    for (player, input, mut badge, mut secret) in &mut players {
        for act in &input.this_tick {
            if act.shout {
                shouts.0 += 1;
                events.broadcast(&Shout {
                    from: player.id,
                    number: shouts.0,
                });
            }
            events.send_to(player.id, &Echo { amount: act.amount });
            badge.tilt = act.amount;
            badge.charge += i16::from(act.amount);
            badge.count += 1;
            badge.total += 1000;
            badge.balance -= 7;
            badge.speed = Fixed(i32::from(badge.count) * 25);
            badge.lit = !badge.lit;
            secret.code += 1;
        }
    }
}

/// The built-in games, [`Relay`], and rooms of mode `relay` playing it.
fn relay_server_config() -> (server::Config, GameCatalog) {
    let mut games = GameCatalog::builtin();
    games.add(Relay);
    let config = server::Config {
        mode_games: vec![(RELAY.into(), RELAY.into())],
        ..config()
    };
    (config, games)
}

async fn relay_server() -> TestServer {
    let (config, games) = relay_server_config();
    start_games(config, false, games).await
}

/// An input of the relay game.
fn act_input(client: &GameClient, seq: u32, shout: bool, amount: i8) -> protocol::Input {
    client
        .input(
            seq,
            seq,
            &[
                ("shout", Value::Bool(shout)),
                ("amount", Value::Int(amount.into())),
            ],
        )
        .unwrap()
}

#[tokio::test]
async fn a_game_defined_here_is_decoded_generically_and_its_events_reach_the_right_players() {
    let server = relay_server().await;
    let mut a = server.player("ada", RELAY).await;
    let mut b = server.player("bob", RELAY).await;
    let (a_id, b_id) = (a.welcome().player_id, b.welcome().player_id);
    let schema = a.schema().clone();
    assert_eq!(schema.game, RELAY);
    let badge = &schema.components[schema.component_index("Badge").unwrap()];
    let types: Vec<WireType> = badge.fields.iter().map(|f| f.ty).collect();
    assert!(types.contains(&WireType::Str { max_len: 16 }), "{types:?}");
    assert!(types.contains(&WireType::Fixed { scale: 100 }), "{types:?}");
    assert!(schema.components[schema.component_index("Secret").unwrap()].owner_only);
    until_both_see_each_other(&mut a, &mut b).await;

    // Ada acts six times, one input per frame; bob reads along.
    const ACTS: u16 = 6;
    let (mut a_shouts, mut a_echoes, mut b_shouts, mut b_echoes) = (vec![], vec![], vec![], vec![]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seq = 0;
    while b_shouts.len() < usize::from(ACTS) || a_echoes.len() < usize::from(ACTS) {
        assert!(Instant::now() < deadline, "every event arrives");
        if seq < u32::from(ACTS) {
            seq += 1;
            let amount = i8::try_from(seq).unwrap();
            a.send_input(act_input(&a, seq, true, amount))
                .await
                .unwrap();
        }
        verified_frame(&mut a).await;
        verified_frame(&mut b).await;
        a_shouts.extend(events_named(&a, "Shout"));
        a_echoes.extend(events_named(&a, "Echo"));
        b_shouts.extend(events_named(&b, "Shout"));
        b_echoes.extend(events_named(&b, "Echo"));
    }
    let shouts: Vec<Vec<Value>> = (1..=ACTS)
        .map(|n| vec![Value::Int(a_id.into()), Value::Int(n.into())])
        .collect();
    assert_eq!(b_shouts, shouts, "bob gets every shout, in order");
    let echoes: Vec<Vec<Value>> = (1..=i64::from(ACTS)).map(|n| vec![Value::Int(n)]).collect();
    assert_eq!(a_echoes, echoes, "ada gets her echoes, in order");
    assert!(b_echoes.is_empty(), "bob never gets ada's echoes");

    // Bob's mirror of ada's badge, field by field, once the last act is replicated.
    while component(&b, a_id, "Badge").is_none_or(|v| v[4] != Value::Int(ACTS.into())) {
        verified_frame(&mut b).await;
    }
    let expected = vec![
        Value::Str("ada".into()),
        Value::Int(3),
        Value::Int(6),
        Value::Int(21),
        Value::Int(6),
        Value::Int(6000),
        Value::Int(-42),
        Value::Int(150),
        Value::Bool(false),
    ];
    assert_eq!(component(&b, a_id, "Badge"), Some(expected));
    while component(&a, a_id, "Secret") != Some(vec![Value::Int(i64::from(FIRST_CODE) + 6)]) {
        verified_frame(&mut a).await;
    }
    assert_eq!(component(&b, a_id, "Secret"), None, "ada's secret is hers");
    assert_eq!(
        component(&b, b_id, "Secret"),
        Some(vec![Value::Int(FIRST_CODE.into())])
    );

    // Bob leaves: the leave hook's event reaches ada.
    b.leave().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "ada hears that bob left");
        verified_frame(&mut a).await;
        if events_named(&a, "Gone").contains(&vec![Value::Int(b_id.into())]) {
            break;
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn a_relay_input_with_a_bad_bool_closes_with_4000() {
    let server = relay_server().await;
    let mut c = server.player("c", RELAY).await;
    verified_frame(&mut c).await;
    // seq 1, client_tick 1, shout = 1, amount 0: accepted.
    c.send_raw(vec![1, 1, 1, 1, 0]).await.unwrap();
    while c.acked_seq() != 1 {
        verified_frame(&mut c).await;
    }
    // seq 2, client_tick 2, shout = 2 (a bool is 0 or 1), amount 0.
    c.send_raw(vec![1, 2, 2, 2, 0]).await.unwrap();
    assert_eq!(close_code(&mut c, Duration::from_secs(5)).await, 4000);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The catalog.

#[tokio::test]
async fn a_mode_naming_an_unknown_game_stops_the_server_at_start() {
    let listeners = server::Listeners {
        public: tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        admin: None,
    };
    let config = server::Config {
        mode_games: vec![("x".into(), "nosuchgame".into())],
        ..config()
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let run = server::serve_with(listeners, config, GameCatalog::builtin(), shutdown.clone());
    let result = tokio::time::timeout(Duration::from_secs(10), run).await;
    shutdown.cancel();
    let error = result
        .expect("the server refuses at once")
        .expect_err("the server refuses to start");
    assert!(error.to_string().contains("nosuchgame"), "{error}");
}

#[tokio::test]
async fn rooms_of_three_modes_play_three_games_in_one_process() {
    let server = relay_server().await;
    let mut mover = server.player("mover", "duel").await;
    let mut coiner = server.player("coiner", "coins").await;
    let mut relayer = server.player("relayer", RELAY).await;
    let games = [&mover, &coiner, &relayer].map(|c| c.schema().game.clone());
    assert_eq!(games, ["movement", "coins", RELAY]);
    let rooms = [&mover, &coiner, &relayer].map(|c| c.welcome().room_id);
    assert!(rooms[0] != rooms[1] && rooms[1] != rooms[2] && rooms[0] != rooms[2]);

    // All three rooms tick at once, each client verifying its own game's frames. The input
    // goes after the first frame: the server drops an input that reaches the room in the tick
    // that admits the player (its entity is not spawned yet).
    verified_frame(&mut relayer).await;
    relayer
        .send_input(act_input(&relayer, 1, false, -3))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !events_named(&relayer, "Echo").contains(&vec![Value::Int(-3)]) {
        assert!(
            Instant::now() < deadline,
            "the relay room answers (acked seq {}, events of the last frame {:?})",
            relayer.acked_seq(),
            relayer.world().events()
        );
        verified_frame(&mut relayer).await;
        verified_frame(&mut mover).await;
        verified_frame(&mut coiner).await;
    }
    for c in [&mut mover, &mut coiner, &mut relayer] {
        assert!(play_for(c, Duration::from_millis(200)).await > 0);
    }
    server.stop().await;
}
