//! What a viewport stream shows of a captured state: the entities whose position lies inside
//! its rectangle, and every entity without a position. Its deltas are taken between two
//! captured states seen through the rectangle, so an entity that enters arrives as a spawn with
//! its full state and one that leaves as a despawn. Each stream's own task does this work: one
//! pass over the room's entities per update, cloning only what it sends.

use protocol::api::{
    MAX_VIEWPORT_UNITS, SpectatorDelta, SpectatorEntity, SpectatorSnapshot, SpectatorViewport,
};

use super::diff::diff_entities;
use crate::room::handle::LiveState;

/// Why a viewport was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ViewportError {
    /// A coordinate is not finite or lies beyond [`MAX_VIEWPORT_UNITS`].
    #[error("`{field}` must be a finite number from -{MAX_VIEWPORT_UNITS} to {MAX_VIEWPORT_UNITS}")]
    OutOfRange {
        /// The query parameter (`x` or `y`).
        field: &'static str,
    },
    /// A width or height is not more than 0, or more than [`MAX_VIEWPORT_UNITS`].
    #[error("`{field}` must be a number more than 0 and at most {MAX_VIEWPORT_UNITS}")]
    BadSize {
        /// The query parameter (`w` or `h`).
        field: &'static str,
    },
}

impl ViewportError {
    /// The query parameter at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::OutOfRange { field } | Self::BadSize { field } => field,
        }
    }
}

/// A spectator's rectangle, also in quanta: `x0 ≤ x < x1`, `y0 ≤ y < y1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    units: SpectatorViewport,
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Viewport {
    /// The rectangle `units`, if its corner is finite and within ±[`MAX_VIEWPORT_UNITS`] and its
    /// width and height are more than 0 and at most [`MAX_VIEWPORT_UNITS`].
    pub fn new(units: SpectatorViewport) -> Result<Self, ViewportError> {
        for (field, v) in [("x", units.x), ("y", units.y)] {
            if !(v.is_finite() && v.abs() <= MAX_VIEWPORT_UNITS) {
                return Err(ViewportError::OutOfRange { field });
            }
        }
        for (field, v) in [("w", units.w), ("h", units.h)] {
            if !(v.is_finite() && v > 0.0 && v <= MAX_VIEWPORT_UNITS) {
                return Err(ViewportError::BadSize { field });
            }
        }
        let quanta = |v: f64| i64::from(protocol::quant::quanta_of(v));
        let (x0, y0) = (quanta(units.x), quanta(units.y));
        Ok(Self {
            units,
            x0,
            y0,
            x1: x0 + quanta(units.w).max(1),
            y1: y0 + quanta(units.h).max(1),
        })
    }

    /// The rectangle in world units, as asked for.
    pub fn units(&self) -> SpectatorViewport {
        self.units
    }

    /// Whether the stream shows `e`: its position is inside, or it has none.
    pub fn shows(&self, e: &SpectatorEntity) -> bool {
        match (e.x, e.y) {
            (Some(x), Some(y)) => {
                (self.x0..self.x1).contains(&i64::from(x))
                    && (self.y0..self.y1).contains(&i64::from(y))
            }
            _ => true,
        }
    }

    /// The first event of a viewport stream: what `live` holds inside the rectangle.
    pub fn snapshot(&self, live: &LiveState) -> SpectatorSnapshot {
        let state = &*live.state;
        SpectatorSnapshot {
            room_id: state.room_id,
            tick: state.tick,
            tick_rate: state.tick_rate,
            update_hz: live.update_hz,
            width: state.width,
            height: state.height,
            interest_radius: state.interest_radius,
            viewport: Some(self.units),
            entities: state
                .entities
                .iter()
                .filter(|e| self.shows(e))
                .cloned()
                .collect(),
        }
    }

    /// What changed inside the rectangle from `before` to `after`.
    pub fn delta(&self, before: &SpectatorSnapshot, after: &SpectatorSnapshot) -> SpectatorDelta {
        diff_entities(
            (
                before.tick,
                before.entities.iter().filter(|e| self.shows(e)),
            ),
            (after.tick, after.entities.iter().filter(|e| self.shows(e))),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn rect(x: f64, y: f64, w: f64, h: f64) -> Result<Viewport, ViewportError> {
        Viewport::new(SpectatorViewport { x, y, w, h })
    }

    fn entity(id: u32, at: Option<(i32, i32)>) -> SpectatorEntity {
        SpectatorEntity {
            id,
            kind: "player".into(),
            x: at.map(|p| p.0),
            y: at.map(|p| p.1),
            name: None,
            fields: Default::default(),
        }
    }

    fn state(tick: u32, entities: Vec<SpectatorEntity>) -> SpectatorSnapshot {
        SpectatorSnapshot {
            room_id: 1,
            tick,
            tick_rate: 30,
            update_hz: 2,
            width: 10_000,
            height: 10_000,
            interest_radius: 10.0,
            viewport: None,
            entities,
        }
    }

    #[test]
    fn bad_rectangles_name_their_parameter() {
        let huge = MAX_VIEWPORT_UNITS * 2.0;
        for (r, field) in [
            (rect(f64::NAN, 0.0, 1.0, 1.0), "x"),
            (rect(0.0, f64::INFINITY, 1.0, 1.0), "y"),
            (rect(-huge, 0.0, 1.0, 1.0), "x"),
            (rect(0.0, 0.0, 0.0, 1.0), "w"),
            (rect(0.0, 0.0, 1.0, -1.0), "h"),
            (rect(0.0, 0.0, huge, 1.0), "w"),
        ] {
            assert_eq!(r.map_err(|e| e.field()).err(), Some(field));
        }
        let far = rect(
            MAX_VIEWPORT_UNITS,
            -MAX_VIEWPORT_UNITS,
            MAX_VIEWPORT_UNITS,
            1.0,
        );
        assert!(far.is_ok(), "the largest rectangle is accepted");
    }

    #[test]
    fn left_and_bottom_edges_are_inside_right_and_top_are_not() {
        let v = rect(1.0, 2.0, 3.0, 4.0).unwrap();
        assert!(v.shows(&entity(1, Some((100, 200)))));
        assert!(v.shows(&entity(1, Some((399, 599)))));
        assert!(!v.shows(&entity(1, Some((400, 300)))));
        assert!(!v.shows(&entity(1, Some((200, 600)))));
        assert!(!v.shows(&entity(1, Some((99, 300)))));
        assert!(v.shows(&entity(1, None)), "no position: always shown");
    }

    #[test]
    fn entering_spawns_and_leaving_despawns() {
        let v = rect(0.0, 0.0, 10.0, 10.0).unwrap();
        let before = state(
            3,
            vec![
                entity(1, Some((50, 50))),
                entity(2, Some((5_000, 50))),
                entity(3, None),
            ],
        );
        let after = state(
            6,
            vec![
                entity(1, Some((5_000, 50))),
                entity(2, Some((60, 60))),
                entity(3, None),
            ],
        );
        let d = v.delta(&before, &after);
        assert_eq!((d.baseline, d.tick), (3, 6));
        assert_eq!(d.despawned, [1]);
        assert_eq!(d.spawned, [entity(2, Some((60, 60)))]);
        assert!(d.moved.is_empty() && d.changed.is_empty());

        let live = LiveState {
            state: Arc::new(after),
            update_hz: 10,
        };
        let s = v.snapshot(&live);
        assert_eq!(s.entities.iter().map(|e| e.id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!((s.update_hz, s.viewport), (10, Some(v.units())));
    }
}
