//! The coins game, the reference for writing a game on this server: coins spawn at random
//! places; touching one adds to the player's score; the first to the target wins the round; a
//! new round starts after a pause.
//!
//! It uses every part of the game API:
//! - kinds `coin` and `round` besides `player`; the round is an entity without a position;
//! - replicated components [`Score`], [`Nameplate`] (a string), [`Coin`], [`Round`], and the
//!   owner-only [`Purse`] (every coin a player took, in all rounds: only that player sees it);
//! - the movement game's input and steering ([`super::movement::Steer`]);
//! - events to everyone ([`CoinTaken`], [`RoundOver`]) and to one player ([`Hello`], on join);
//! - join hooks, a startup system, resources, params, and end-of-round rules;
//! - a bot brain: bots chase the nearest coin ([`chase_nearest_coin`]).

use rand::RngExt as _;

use super::movement::{self, Steer};
use crate::game::prelude::*;

/// The game's name.
pub const NAME: &str = "coins";
/// The kind of a coin.
pub const COIN: &str = "coin";
/// The kind of the round's scoreboard entity.
pub const ROUND: &str = "round";

wire_struct! {
    /// A player's points in this round.
    #[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Score {
        /// Coins taken this round.
        pub points: u16,
    }
}

wire_struct! {
    /// Every coin a player has taken, in all rounds: owner-only, only that player sees it.
    #[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Purse {
        /// Coins taken since joining.
        pub coins: u32,
    }
}

wire_struct! {
    /// A player's name, for scoreboards.
    #[derive(Component, Debug, Clone, PartialEq, Eq, Default)]
    pub struct Nameplate {
        /// The name the player matchmade with.
        pub name: Text<32>,
    }
}

wire_struct! {
    /// A coin on the field.
    #[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Coin {
        /// Points it is worth.
        pub value: u8,
    }
}

wire_struct! {
    /// The round's state, on the one entity of kind `round`.
    #[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Round {
        /// The round's number, from 1.
        pub number: u16,
        /// The score that wins it.
        pub target: u16,
        /// Whether coins can be taken (false during the pause after a win).
        pub running: bool,
    }
}

wire_struct! {
    /// To everyone: a player took a coin.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct CoinTaken {
        /// The player.
        pub player: u32,
        /// The coin's entity id.
        pub coin: u32,
        /// The player's score after it.
        pub points: u16,
    }
}

wire_struct! {
    /// To everyone: a player reached the target; the next round starts after the pause.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RoundOver {
        /// The round that ended.
        pub round: u16,
        /// The player who won it.
        pub winner: u32,
    }
}

wire_struct! {
    /// To a joining player alone: the round it joins.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Hello {
        /// The current round.
        pub round: u16,
        /// The score that wins it.
        pub target: u16,
    }
}

/// The game's rules, derived from the room's settings.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Rules {
    /// The score that wins a round.
    pub target: u16,
    /// Coins on the field while a round runs.
    pub coins: usize,
    /// How close (in quanta) a player must come to take a coin.
    pub reach: i32,
    /// Ticks between a round's end and the next one.
    pub pause_ticks: u32,
}

impl Rules {
    fn for_room(room: &RoomInfo) -> Self {
        Self {
            target: 10,
            coins: 5,
            reach: 150,
            pause_ticks: 3 * u32::from(room.tick_rate),
        }
    }
}

/// When the paused round resumes.
#[derive(Resource, Debug, Clone, Copy, Default)]
struct Pause {
    until_tick: Option<u32>,
}

/// The coins game.
#[derive(Debug, Clone, Copy, Default)]
pub struct Coins;

impl Game for Coins {
    fn name(&self) -> &'static str {
        NAME
    }

    fn build(&self, game: &mut GameBuilder) {
        let rules = Rules::for_room(game.room());
        let max_speed = game.room().max_speed;
        game.kind(COIN)
            .kind(ROUND)
            .replicate::<Score>()
            .replicate::<Nameplate>()
            .replicate::<Coin>()
            .replicate::<Round>()
            .replicate_to_owner::<Purse>()
            .input::<Steer>()
            .event::<CoinTaken>()
            .event::<RoundOver>()
            .event::<Hello>()
            .param("max_speed", i64::from(max_speed))
            .param("target", i64::from(rules.target))
            .param("reach", i64::from(rules.reach))
            .insert_resource(rules)
            .insert_resource(Pause::default())
            .add_startup_systems(open_round)
            .on_join(movement::give_velocity)
            .on_join(greet)
            .bot_brain(chase_nearest_coin)
            .add_systems(
                (
                    movement::steer,
                    movement::integrate,
                    take_coins,
                    next_round,
                    spawn_coins,
                )
                    .chain(),
            );
    }
}

/// The bot brain: every bot steers toward the coin nearest to it, and wanders while there is
/// none (between rounds).
pub fn chase_nearest_coin(
    mut bots: Query<(&Position, &mut PlayerInput<Steer>), With<Bot>>,
    coins: Query<&Position, With<Coin>>,
    room: Res<RoomInfo>,
) {
    let mut rng = rand::rng();
    for (at, mut input) in &mut bots {
        let nearest = coins.iter().map(|c| c.0).min_by_key(|c| {
            let dx = i64::from(c.x) - i64::from(at.0.x);
            let dy = i64::from(c.y) - i64::from(at.0.y);
            dx * dx + dy * dy
        });
        match nearest {
            Some(coin) => {
                let steer = movement::steer_toward(at.0, coin);
                if input.latest != steer {
                    input.apply(steer);
                }
            }
            None => movement::wander(&mut input, room.tick_rate, &mut rng),
        }
    }
}

/// Spawns the round's scoreboard when the room opens.
fn open_round(mut commands: Commands, rules: Res<Rules>) {
    commands.spawn((
        Replicate::kind(ROUND),
        Round {
            number: 1,
            target: rules.target,
            running: true,
        },
    ));
}

/// Gives a joining player its score, purse and name, and tells it which round it joins.
fn greet(
    joined: On<PlayerJoined>,
    players: Query<&Player>,
    round: Query<&Round>,
    mut commands: Commands,
    mut events: ResMut<GameEvents>,
) {
    let name = players
        .get(joined.entity)
        .map(|p| Text::truncated(&p.name))
        .unwrap_or_default();
    commands
        .entity(joined.entity)
        .insert((Score::default(), Purse::default(), Nameplate { name }));
    if let Ok(round) = round.single() {
        let hello = Hello {
            round: round.number,
            target: round.target,
        };
        events.send_to(joined.player, &hello);
    }
}

/// Lets every connected player take the coins within its reach; ends the round when a score
/// reaches the target.
#[allow(clippy::too_many_arguments)]
fn take_coins(
    mut commands: Commands,
    mut players: Query<(&Player, &Position, &mut Score, &mut Purse), Without<Disconnected>>,
    coins: Query<(Entity, &NetEntity, &Position, &Coin)>,
    mut round: Query<&mut Round>,
    mut pause: ResMut<Pause>,
    mut events: ResMut<GameEvents>,
    rules: Res<Rules>,
    room: Res<RoomInfo>,
) {
    let Ok(mut round) = round.single_mut() else {
        return;
    };
    if !round.running {
        return;
    }
    let reach = i64::from(rules.reach);
    let mut taken = Vec::new();
    for (coin, net, at, value) in &coins {
        let near = |p: &Position| {
            let (dx, dy) = (i64::from(p.0.x - at.0.x), i64::from(p.0.y - at.0.y));
            dx * dx + dy * dy <= reach * reach
        };
        let Some((player, _, mut score, mut purse)) = players.iter_mut().find(|p| near(p.1)) else {
            continue;
        };
        commands.entity(coin).despawn();
        taken.push(coin);
        score.points = score.points.saturating_add(u16::from(value.value));
        purse.coins = purse.coins.saturating_add(u32::from(value.value));
        events.broadcast(&CoinTaken {
            player: player.id,
            coin: net.id(),
            points: score.points,
        });
        if score.points >= round.target {
            round.running = false;
            pause.until_tick = Some(room.tick.wrapping_add(rules.pause_ticks));
            events.broadcast(&RoundOver {
                round: round.number,
                winner: player.id,
            });
            for (coin, ..) in coins.iter().filter(|c| !taken.contains(&c.0)) {
                commands.entity(coin).despawn();
            }
            return;
        }
    }
}

/// Starts the next round when the pause is over: scores back to 0.
fn next_round(
    mut round: Query<&mut Round>,
    mut scores: Query<&mut Score>,
    mut pause: ResMut<Pause>,
    room: Res<RoomInfo>,
) {
    let Some(until) = pause.until_tick else {
        return;
    };
    // Wrapping comparison: over once the clock passed the deadline.
    if (room.tick.wrapping_sub(until) as i32) < 0 {
        return;
    }
    pause.until_tick = None;
    for mut score in &mut scores {
        score.set_if_neq(Score::default());
    }
    if let Ok(mut round) = round.single_mut() {
        round.number = round.number.wrapping_add(1);
        round.running = true;
    }
}

/// Keeps the field stocked with coins while the round runs.
fn spawn_coins(
    mut commands: Commands,
    coins: Query<(), With<Coin>>,
    round: Query<&Round>,
    rules: Res<Rules>,
    room: Res<RoomInfo>,
) {
    if !round.single().is_ok_and(|r| r.running) {
        return;
    }
    let mut rng = rand::rng();
    for _ in coins.iter().count()..rules.coins {
        let at = QPos::new(
            rng.random_range(0..=room.bounds.width),
            rng.random_range(0..=room.bounds.height),
        );
        commands.spawn((Replicate::kind(COIN), Position(at), Coin { value: 1 }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_game_builds_with_an_owner_only_purse() {
        let schema = crate::game::check(&Coins).unwrap();
        let purse = schema.component_index("Purse").unwrap();
        assert!(schema.components[purse].owner_only);
        assert_eq!(schema.kinds, ["player", "coin", "round"]);
        assert_eq!(schema.events.len(), 3);
    }
}
