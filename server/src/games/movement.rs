//! The movement game: every player steers a dot that moves at most `max_speed` quanta per tick.
//!
//! Its input, [`Steer`], its systems ([`steer`], [`integrate`]) and its bots' steering
//! ([`wander`], [`steer_toward`]) are public so that other games (such as [`super::coins`])
//! move their players and bots the same way. Its bot brain is a random walk ([`random_walk`]).

use std::f64::consts::TAU;

use rand::RngExt as _;

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
            .bot_brain(random_walk)
            .add_systems((steer, integrate).chain());
    }
}

/// The bot brain: every bot walks straight and turns to a random heading about once a second.
pub fn random_walk(mut bots: Query<&mut PlayerInput<Steer>, With<Bot>>, room: Res<RoomInfo>) {
    let mut rng = rand::rng();
    for mut input in &mut bots {
        wander(&mut input, room.tick_rate, &mut rng);
    }
}

/// Keeps a bot's heading, turning at random with a chance of one in `tick_rate` per tick
/// (about once a second), or at once when it stands still.
pub fn wander(input: &mut Mut<PlayerInput<Steer>>, tick_rate: u16, rng: &mut impl rand::Rng) {
    let idle = input.latest == Steer::default();
    if idle || rng.random_ratio(1, u32::from(tick_rate.max(1))) {
        let angle: f64 = rng.random_range(0.0..TAU);
        input.apply(intent(angle.cos(), angle.sin()));
    }
}

/// Full-stick steering from `own` toward `target` (standing still when already there).
pub fn steer_toward(own: QPos, target: QPos) -> Steer {
    let dx = f64::from(target.x) - f64::from(own.x);
    let dy = f64::from(target.y) - f64::from(own.y);
    let len = dx.hypot(dy);
    if len == 0.0 {
        return Steer::default();
    }
    intent(dx / len, dy / len)
}

/// The full-stick input along the unit vector `(x, y)`.
fn intent(x: f64, y: f64) -> Steer {
    let axis = |d: f64| (d * f64::from(MAX_INTENT)).round() as i8;
    Steer {
        move_x: axis(x),
        move_y: axis(y),
        buttons: 0,
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
    fn steering_points_at_the_target_at_full_stick() {
        let own = QPos::new(1_000, 1_000);
        let at = |x, y| steer_toward(own, QPos::new(x, y));
        assert_eq!((at(5_000, 1_000).move_x, at(5_000, 1_000).move_y), (127, 0));
        assert_eq!(
            (at(1_000, -9_000).move_x, at(1_000, -9_000).move_y),
            (0, -127)
        );
        assert_eq!((at(0, 0).move_x, at(0, 0).move_y), (-90, -90));
        assert_eq!(steer_toward(own, own), Steer::default());
        let far = steer_toward(QPos::new(i32::MIN, i32::MAX), QPos::new(i32::MAX, i32::MIN));
        assert_eq!((far.move_x, far.move_y), (90, -90));
    }

    #[test]
    fn the_game_builds() {
        let schema = crate::game::check(&Movement).unwrap();
        assert_eq!(schema.input.len(), 3);
        assert_eq!(schema.components.len(), 1, "only the position");
    }
}
