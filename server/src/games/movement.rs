//! The movement game: every player steers a dot that moves at most `max_speed` quanta per tick.
//!
//! Its input, [`Steer`], and its systems ([`steer`], [`integrate`]) are public so that other
//! games (such as [`super::coins`]) move their players the same way.

use crate::game::prelude::*;

/// The game's name.
pub const NAME: &str = "movement";

/// Largest magnitude of an intent axis; `-128` is read as `-127`.
pub const MAX_INTENT: i8 = 127;

wire_struct! {
    /// What a player wants: an intent per axis (−127 ..= 127; `y` grows upwards) and buttons
    /// (unused by this game).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Steer {
        /// Horizontal intent, −127 (left) to 127 (right).
        pub move_x: i8,
        /// Vertical intent, −127 (down) to 127 (up).
        pub move_y: i8,
        /// Button bits.
        pub buttons: u8,
    }
}

/// How far a player's avatar moves per tick, in quanta (not replicated).
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Velocity {
    /// Along x.
    pub x: i32,
    /// Along y.
    pub y: i32,
}

/// The movement game.
#[derive(Debug, Clone, Copy, Default)]
pub struct Movement;

impl Game for Movement {
    fn name(&self) -> &'static str {
        NAME
    }

    fn build(&self, game: &mut GameBuilder) {
        let max_speed = game.room().max_speed;
        game.input::<Steer>()
            .param("max_speed", i64::from(max_speed))
            .on_join(give_velocity)
            .add_systems((steer, integrate).chain());
    }
}

/// Gives a joining player's avatar a [`Velocity`].
pub fn give_velocity(joined: On<PlayerJoined>, mut commands: Commands) {
    commands.entity(joined.entity).insert(Velocity::default());
}

/// Turns each changed input into a velocity of at most the maximum speed.
pub fn steer(
    mut players: Query<(&PlayerInput<Steer>, &mut Velocity), Changed<PlayerInput<Steer>>>,
    room: Res<RoomInfo>,
) {
    for (input, mut v) in &mut players {
        let Steer { move_x, move_y, .. } = input.latest;
        v.set_if_neq(intent_velocity(move_x, move_y, room.max_speed));
    }
}

/// Moves every entity with a velocity, keeping it inside the world bounds.
pub fn integrate(mut movers: Query<(&Velocity, &mut Position)>, room: Res<RoomInfo>) {
    for (v, mut p) in &mut movers {
        if v.x != 0 || v.y != 0 {
            let next = QPos::new(p.0.x.saturating_add(v.x), p.0.y.saturating_add(v.y));
            p.set_if_neq(Position(room.bounds.clamp(next)));
        }
    }
}

/// The velocity for an intent: the intent vector limited to length 127, scaled so that 127 is
/// `max_speed` quanta per tick, rounded toward zero.
pub fn intent_velocity(move_x: i8, move_y: i8, max_speed: i32) -> Velocity {
    let (x, y) = (
        i64::from(move_x.max(-MAX_INTENT)),
        i64::from(move_y.max(-MAX_INTENT)),
    );
    let len_sq = x * x + y * y;
    let full = i64::from(MAX_INTENT);
    let max = i64::from(max_speed);
    if len_sq <= full * full {
        return Velocity {
            x: (x * max / full) as i32,
            y: (y * max / full) as i32,
        };
    }
    // Longer than 127 (a diagonal): scale down to length 127 first.
    let len = (len_sq as f64).sqrt();
    let scale = max as f64 / len;
    Velocity {
        x: (x as f64 * scale).trunc() as i32,
        y: (y as f64 * scale).trunc() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn velocity_never_exceeds_max_speed() {
        for (x, y) in [
            (127, 127),
            (-128, -128),
            (127, 0),
            (0, -128),
            (90, 90),
            (1, 1),
        ] {
            let v = intent_velocity(x, y, 34);
            let len = ((v.x * v.x + v.y * v.y) as f64).sqrt();
            assert!(len <= 34.0 + 1e-9, "({x},{y}) -> {v:?}");
        }
        assert_eq!(intent_velocity(127, 0, 34), Velocity { x: 34, y: 0 });
        assert_eq!(intent_velocity(-128, 0, 34), Velocity { x: -34, y: 0 });
    }

    #[test]
    fn the_game_builds() {
        let schema = crate::game::check(&Movement).unwrap();
        assert_eq!(schema.input.len(), 3);
        assert_eq!(schema.components.len(), 1, "only the position");
    }
}
