//! How a bot moves.

use std::f64::consts::TAU;

use clap::ValueEnum;
use protocol::{QPos, Schema, WorldView};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

/// The entity kind [`Behavior::ChaseCoins`] steers toward.
pub const COIN_KIND: &str = "coin";

/// A movement pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behavior {
    /// Walks straight, turning to a random direction about once a second.
    RandomWalk,
    /// Walks in circles.
    Circle,
    /// Stands still, sending only keep-alive pings.
    Idle,
    /// Steers toward the nearest entity of kind `coin` in the mirrored world (any game whose
    /// schema has that kind); walks randomly while it sees none.
    #[value(alias = "chase")]
    ChaseCoins,
}

impl Behavior {
    /// The behaviour for `game_mode` when none is asked for: coin chasing in the mode `coins`,
    /// a random walk otherwise.
    pub fn default_for(game_mode: &str) -> Self {
        if game_mode == "coins" {
            Behavior::ChaseCoins
        } else {
            Behavior::RandomWalk
        }
    }
}

/// One bot's movement state.
#[derive(Debug)]
pub struct Mover {
    behavior: Behavior,
    rng: StdRng,
    angle: f64,
    turn_per_input: f64,
    inputs_until_turn: u32,
    input_hz: f64,
    /// The schema's index of [`COIN_KIND`] in the current connection's game, if it has coins.
    coin_kind: Option<u32>,
}

impl Mover {
    /// A mover for `behavior`, deterministic for a given seed.
    pub fn new(behavior: Behavior, seed: u64, input_hz: f64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let angle = rng.random_range(0.0..TAU);
        // A circle of about 4 s per turn.
        let turn_per_input = TAU / (4.0 * input_hz.max(1.0));
        Self {
            behavior,
            rng,
            angle,
            turn_per_input,
            inputs_until_turn: 0,
            input_hz,
            coin_kind: None,
        }
    }

    /// Learns the game of a new connection: where its coins are among the entity kinds.
    pub fn learn(&mut self, schema: &Schema) {
        self.coin_kind = schema.kind_index(COIN_KIND);
    }

    /// Whether this behaviour sends inputs at all.
    pub fn sends_inputs(&self) -> bool {
        self.behavior != Behavior::Idle
    }

    /// The next movement intent, seeing `world` (this bot's mirror).
    pub fn next_intent(&mut self, world: &WorldView) -> (i8, i8) {
        match self.behavior {
            Behavior::Idle => return (0, 0),
            Behavior::Circle => self.angle += self.turn_per_input,
            Behavior::ChaseCoins => match self.coin_kind.and_then(|k| toward_nearest(world, k)) {
                Some(intent) => return intent,
                None => self.wander(),
            },
            Behavior::RandomWalk => self.wander(),
        }
        (
            (self.angle.cos() * 127.0) as i8,
            (self.angle.sin() * 127.0) as i8,
        )
    }

    /// Keeps the heading, turning at random about once a second.
    fn wander(&mut self) {
        if self.inputs_until_turn == 0 {
            self.angle = self.rng.random_range(0.0..TAU);
            let secs = self.rng.random_range(0.5..1.5);
            self.inputs_until_turn = (secs * self.input_hz).max(1.0) as u32;
        }
        self.inputs_until_turn -= 1;
    }
}

/// Full-stick steering of the mirror's own player toward the nearest entity of kind `kind`,
/// when both have a position.
pub fn toward_nearest(world: &WorldView, kind: u32) -> Option<(i8, i8)> {
    let own = world.get(world.player_id())?.position()?;
    let targets = world
        .entities()
        .filter(|e| e.kind == kind)
        .filter_map(|e| e.position());
    Some(steer_toward(own, nearest(own, targets)?))
}

/// The position among `candidates` nearest to `own` (the first of equals), if any.
pub fn nearest(own: QPos, candidates: impl IntoIterator<Item = QPos>) -> Option<QPos> {
    candidates.into_iter().min_by_key(|p| {
        let dx = i128::from(p.x) - i128::from(own.x);
        let dy = i128::from(p.y) - i128::from(own.y);
        dx * dx + dy * dy
    })
}

/// Full-stick steering from `own` toward `target` (`(0, 0)` when already there).
pub fn steer_toward(own: QPos, target: QPos) -> (i8, i8) {
    let dx = f64::from(target.x) - f64::from(own.x);
    let dy = f64::from(target.y) - f64::from(own.y);
    let len = dx.hypot(dy);
    if len == 0.0 {
        return (0, 0);
    }
    let axis = |d: f64| (d / len * 127.0).round().clamp(-127.0, 127.0) as i8;
    (axis(dx), axis(dy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steering_points_at_the_target_at_full_stick() {
        let own = QPos::new(1_000, 1_000);
        assert_eq!(steer_toward(own, QPos::new(5_000, 1_000)), (127, 0));
        assert_eq!(steer_toward(own, QPos::new(1_000, -9_000)), (0, -127));
        assert_eq!(steer_toward(own, QPos::new(0, 0)), (-90, -90));
        assert_eq!(steer_toward(own, own), (0, 0));
        // Extreme coordinates neither overflow nor leave the stick's range.
        let (x, y) = steer_toward(QPos::new(i32::MIN, i32::MAX), QPos::new(i32::MAX, i32::MIN));
        assert_eq!((x, y), (90, -90));
    }

    #[test]
    fn nearest_picks_the_closest_candidate() {
        let own = QPos::new(0, 0);
        let coins = [QPos::new(300, 0), QPos::new(-100, 100), QPos::new(0, 500)];
        assert_eq!(nearest(own, coins), Some(QPos::new(-100, 100)));
        assert_eq!(nearest(own, []), None);
        let far = [QPos::new(i32::MAX, i32::MAX), QPos::new(i32::MIN, i32::MIN)];
        assert_eq!(nearest(QPos::new(i32::MAX, 0), far), Some(far[0]));
    }

    #[test]
    fn coins_mode_chases_by_default() {
        assert_eq!(Behavior::default_for("coins"), Behavior::ChaseCoins);
        assert_eq!(Behavior::default_for("default"), Behavior::RandomWalk);
        assert_eq!(Behavior::from_str("chase", true), Ok(Behavior::ChaseCoins));
    }
}
