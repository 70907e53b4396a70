//! Sprint: every player's distance run is replicated, and everyone hears each 10 units.
use server::game::prelude::*;

wire_struct! {
    #[derive(Component, Clone, Debug, Default)]
    struct Distance { run: u32 }                     // replicated to every player, in quanta
}
wire_struct! {
    #[derive(Clone, Debug, Default)]
    struct Run { move_x: i8, move_y: i8 }           // what players send each tick
}
wire_struct! {
    #[derive(Clone, Debug)]
    struct Milestone { player: u32, units: u32 }    // an event for everyone
}

struct Sprint;

impl Game for Sprint {
    fn name(&self) -> &'static str {
        "sprint"
    }
    fn build(&self, game: &mut GameBuilder) {
        game.replicate::<Distance>()
            .input::<Run>()
            .event::<Milestone>()
            .on_join(|joined: On<PlayerJoined>, mut commands: Commands| {
                commands.entity(joined.entity).insert(Distance::default());
            })
            .add_systems(run);
    }
}

type Runner<'a> = (
    &'a Player,
    &'a PlayerInput<Run>,
    &'a mut Position,
    &'a mut Distance,
);

fn run(mut players: Query<Runner>, room: Res<RoomInfo>, mut events: ResMut<GameEvents>) {
    for (player, input, mut pos, mut distance) in &mut players {
        let step = |axis: i8| i32::from(axis.max(-127)) * room.max_speed / 127;
        let (x, y) = (
            pos.0.x + step(input.latest.move_x),
            pos.0.y + step(input.latest.move_y),
        );
        let next = room.bounds.clamp(QPos::new(x, y));
        if next != pos.0 {
            let before = distance.run / 1000;
            distance.run += (next.x - pos.0.x).unsigned_abs() + (next.y - pos.0.y).unsigned_abs();
            pos.0 = next;
            if distance.run / 1000 > before {
                let units = distance.run / 100;
                events.broadcast(&Milestone {
                    player: player.id,
                    units,
                });
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = <server::Config as clap::Parser>::parse();
    config.mode_games.push(("sprint".into(), "sprint".into()));
    let mut games = server::GameCatalog::builtin();
    games.add(Sprint);
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(server::shutdown::cancel_on_signal(shutdown.clone()));
    Ok(server::run_with(listener, config, games, shutdown).await?)
}
