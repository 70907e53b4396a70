//! How a bot moves.

use std::f64::consts::TAU;

use clap::ValueEnum;
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};

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
        }
    }

    /// Whether this behaviour sends inputs at all.
    pub fn sends_inputs(&self) -> bool {
        self.behavior != Behavior::Idle
    }

    /// The next movement intent.
    pub fn next_intent(&mut self) -> (i8, i8) {
        match self.behavior {
            Behavior::Idle => return (0, 0),
            Behavior::Circle => self.angle += self.turn_per_input,
            Behavior::RandomWalk => {
                if self.inputs_until_turn == 0 {
                    self.angle = self.rng.random_range(0.0..TAU);
                    let secs = self.rng.random_range(0.5..1.5);
                    self.inputs_until_turn = (secs * self.input_hz).max(1.0) as u32;
                }
                self.inputs_until_turn -= 1;
            }
        }
        (
            (self.angle.cos() * 127.0) as i8,
            (self.angle.sin() * 127.0) as i8,
        )
    }
}
