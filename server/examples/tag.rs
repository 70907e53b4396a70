//! Tag, a whole game in one file on the game API: one player is "it" and runs faster; touching
//! another player passes "it" on (no tag-backs for a second), and everyone hears who tagged whom.
//!
//! ```sh
//! cargo run -p server --example tag -- --mode-game tag=tag
//! cargo run -p client-sim -- --url http://127.0.0.1:8080 --bots 8 --duration 10 --game-mode tag
//! ```
//!
//! The game is the code from here to `main`; `main` is `game-server` with one more game.

use server::game::prelude::*;

wire_struct! {
    /// Replicated on every player: is it "it", and how many times it has been.
    #[derive(Component, Clone, Debug, Default)]
    struct Tag { it: bool, times_it: u16 }
}
wire_struct! {
    /// The input: the field names client-sim's bots fill in.
    #[derive(Clone, Debug, Default)]
    struct Run { move_x: i8, move_y: i8 }
}
wire_struct! {
    /// Broadcast when "it" passes from one player to another.
    #[derive(Clone, Debug)]
    struct Tagged { by: u32, player: u32 }
}

/// How close "it" must come to tag, in quanta (3 world units).
const REACH: i64 = 300;

/// The tick of the last tag: the tagged player cannot tag back for a second.
#[derive(Resource, Default)]
struct LastTag(u32);

struct TagGame;

impl Game for TagGame {
    fn name(&self) -> &'static str {
        "tag"
    }
    fn build(&self, game: &mut GameBuilder) {
        game.replicate::<Tag>()
            .input::<Run>()
            .event::<Tagged>()
            .insert_resource(LastTag::default())
            .on_join(|joined: On<PlayerJoined>, mut commands: Commands| {
                commands.entity(joined.entity).insert(Tag::default());
            })
            .on_drop(|dropped: On<PlayerDropped>, mut tags: Query<&mut Tag>| {
                // A player without a connection cannot chase: "it" passes on.
                if let Ok(mut tag) = tags.get_mut(dropped.entity) {
                    tag.it = false;
                }
            })
            .add_systems((choose_it, run, tag).chain());
    }
}

/// Makes the first connected player "it" whenever no connected player is (the room just
/// opened, or "it" left or dropped).
fn choose_it(mut players: Query<&mut Tag, Without<Disconnected>>) {
    if !players.iter().any(|t| t.it)
        && let Some(mut first) = players.iter_mut().next()
    {
        first.it = true;
        first.times_it = first.times_it.saturating_add(1);
    }
}

/// Moves every player by its input: `max_speed` quanta per tick at full intent, "it" 25 % faster.
fn run(mut players: Query<(&PlayerInput<Run>, &Tag, &mut Position)>, room: Res<RoomInfo>) {
    for (input, tag, mut pos) in &mut players {
        let speed = if tag.it {
            room.max_speed * 5 / 4
        } else {
            room.max_speed
        };
        let Run { move_x, move_y } = input.latest;
        let step = |axis: i8| i32::from(axis.max(-127)) * speed / 127;
        let next = QPos::new(pos.0.x + step(move_x), pos.0.y + step(move_y));
        pos.set_if_neq(Position(room.bounds.clamp(next)));
    }
}

/// "It" tags the first player within [`REACH`], unless it was tagged just now.
fn tag(
    mut players: Query<(&Player, &Position, &mut Tag), Without<Disconnected>>,
    mut last: ResMut<LastTag>,
    mut events: ResMut<GameEvents>,
    room: Res<RoomInfo>,
) {
    if room.tick.wrapping_sub(last.0) < u32::from(room.tick_rate) {
        return;
    }
    let Some((by, at)) = players
        .iter()
        .find(|p| p.2.it)
        .map(|(p, pos, _)| (p.id, pos.0))
    else {
        return;
    };
    let d = |a: i32, b: i32| i64::from(a - b).pow(2);
    let near = |p: &Position| d(p.0.x, at.x) + d(p.0.y, at.y) <= REACH * REACH;
    let Some((player, ..)) = players.iter().find(|p| p.0.id != by && near(p.1)) else {
        return;
    };
    let player = player.id;
    for (p, _, mut t) in &mut players {
        t.it = p.id == player;
        t.times_it = t.times_it.saturating_add(u16::from(t.it));
    }
    last.0 = room.tick;
    events.broadcast(&Tagged { by, player });
}

fn main() -> anyhow::Result<()> {
    use clap::Parser as _;
    let config = server::Config::parse();
    server::logging::init(config.log_format);
    let mut games = server::game::GameCatalog::builtin();
    games.add(TagGame);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(server::shutdown::cancel_on_signal(shutdown.clone()));
        server::run_with(listener, config, games, shutdown).await?;
        Ok(())
    })
}
