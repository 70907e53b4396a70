//! Fixed-point positions.
//!
//! Positions travel and are simulated as integers: one quantum is 1/100 of a world unit (a
//! centimetre when a unit is a metre). An `i32` holds ±21,474,836.47 units; the server keeps every
//! entity inside [`Bounds`], which start at the origin.

use serde::{Deserialize, Serialize};

/// World units per quantum: a quantized coordinate `q` stands for `q as f32 * QUANTUM` units.
pub const QUANTUM: f32 = 0.01;

/// Quanta per world unit (the inverse of [`QUANTUM`]).
pub const QUANTA_PER_UNIT: i32 = 100;

/// A quantized position in quanta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct QPos {
    /// Horizontal coordinate, in quanta.
    pub x: i32,
    /// Vertical coordinate, in quanta.
    pub y: i32,
}

impl QPos {
    /// A position from its two coordinates in quanta.
    pub const fn new(x: i32, y: i32) -> Self {
        Self { x, y }
    }

    /// Quantizes a position given in world units, rounding to the nearest quantum.
    pub fn from_units(x: f32, y: f32) -> Self {
        Self::new(quantize(x), quantize(y))
    }

    /// The position in world units.
    pub fn to_units(self) -> (f32, f32) {
        (self.x as f32 * QUANTUM, self.y as f32 * QUANTUM)
    }
}

/// Quantizes one coordinate given in world units, saturating at the `i32` range.
pub fn quantize(units: f32) -> i32 {
    (units * QUANTA_PER_UNIT as f32).round() as i32
}

/// Quanta of a length or coordinate given in world units, rounded, saturating at the `i32`
/// range.
pub fn quanta_of(units: f64) -> i32 {
    (units * f64::from(QUANTA_PER_UNIT)).round() as i32
}

/// World units of `quanta`.
pub fn units_of(quanta: i32) -> f64 {
    f64::from(quanta) / f64::from(QUANTA_PER_UNIT)
}

/// The playable rectangle, from `(0, 0)` to `(width, height)` inclusive, in quanta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Width in quanta; always positive.
    pub width: i32,
    /// Height in quanta; always positive.
    pub height: i32,
}

impl Bounds {
    /// Whether `p` lies inside the rectangle (edges included).
    pub fn contains(self, p: QPos) -> bool {
        (0..=self.width).contains(&p.x) && (0..=self.height).contains(&p.y)
    }

    /// The nearest position inside the rectangle.
    pub fn clamp(self, p: QPos) -> QPos {
        QPos::new(p.x.clamp(0, self.width), p.y.clamp(0, self.height))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_round_trip_to_the_nearest_quantum() {
        let p = QPos::from_units(12.345, -0.004);
        assert_eq!(p, QPos::new(1235, 0));
        let (x, y) = p.to_units();
        assert!((x - 12.35).abs() < 1e-4 && y == 0.0, "({x}, {y})");
    }

    #[test]
    fn clamp_keeps_positions_inside_bounds() {
        let b = Bounds {
            width: 100,
            height: 50,
        };
        assert_eq!(b.clamp(QPos::new(-5, 70)), QPos::new(0, 50));
        assert!(b.contains(b.clamp(QPos::new(i32::MAX, i32::MIN))));
    }
}
