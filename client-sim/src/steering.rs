//! [`Steering`]: a game's `move_x`/`move_y` input, resolved once per connection from the schema
//! so that building each input is a copy and two integer writes, not a search by name.

use protocol::schema::FieldDef;
use protocol::{Input, Schema, Value, WireType};

/// The input field a bot steers along the horizontal axis.
pub const MOVE_X: &str = "move_x";
/// The input field a bot steers along the vertical axis.
pub const MOVE_Y: &str = "move_y";

/// One steering axis: its field's type and place in the game's input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Axis {
    /// Its type (a signed integer type wide enough for an `i8`).
    ty: WireType,
    /// Its index among the input fields.
    field: usize,
}

/// Encodes the steering inputs of one game: every field other than `move_x`/`move_y` keeps its
/// type's default, encoded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Steering {
    /// The encoded default of every input field, in schema order.
    fields: Vec<Vec<u8>>,
    /// The horizontal axis.
    x: Axis,
    /// The vertical axis.
    y: Axis,
    /// Bytes of every encoded default (about an input's size).
    len: usize,
}

impl Steering {
    /// The steering of `schema`'s game, or `None` when its input has no `move_x` and `move_y`
    /// fields of a signed integer type (the game cannot be steered).
    pub fn new(schema: &Schema) -> Option<Self> {
        let x = axis(&schema.input, MOVE_X)?;
        let y = axis(&schema.input, MOVE_Y)?;
        let mut fields = Vec::with_capacity(schema.input.len());
        for f in &schema.input {
            let mut bytes = Vec::new();
            // A type's own default always fits it.
            f.ty.write(&f.ty.default_value(), &mut bytes).ok()?;
            fields.push(bytes);
        }
        let len = fields.iter().map(Vec::len).sum();
        Some(Self { fields, x, y, len })
    }

    /// The input `seq` (also sent as its client tick) that steers by `(move_x, move_y)`.
    pub fn input(&self, seq: u32, (move_x, move_y): (i8, i8)) -> Input {
        let mut bytes = Vec::with_capacity(self.len + 2);
        for (i, default) in self.fields.iter().enumerate() {
            let value = if i == self.x.field {
                Some((self.x.ty, move_x))
            } else if i == self.y.field {
                Some((self.y.ty, move_y))
            } else {
                None
            };
            match value {
                // Every signed type holds an i8: the write cannot fail.
                Some((ty, v)) => {
                    let _ = ty.write(&Value::Int(v.into()), &mut bytes);
                }
                None => bytes.extend_from_slice(default),
            }
        }
        Input {
            seq,
            client_tick: seq,
            fields: bytes.into(),
        }
    }
}

/// The field `name` of `input` if it is a signed integer type (it can carry -127..=127).
fn axis(input: &[FieldDef], name: &str) -> Option<Axis> {
    let field = input.iter().position(|f| f.name == name)?;
    let ty = input[field].ty;
    matches!(ty, WireType::I8 | WireType::I16 | WireType::I32).then_some(Axis { ty, field })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(input: &[(&str, WireType)]) -> Schema {
        Schema {
            game: "test".into(),
            params: Vec::new(),
            kinds: vec!["player".into()],
            components: vec![Schema::position()],
            input: input
                .iter()
                .map(|(name, ty)| FieldDef {
                    name: (*name).into(),
                    ty: *ty,
                })
                .collect(),
            events: Vec::new(),
        }
    }

    #[test]
    fn steering_writes_the_axes_and_the_other_defaults_in_schema_order() {
        let s = schema(&[
            ("buttons", WireType::U8),
            (MOVE_Y, WireType::I16),
            (MOVE_X, WireType::I8),
            ("flag", WireType::Bool),
        ]);
        let steering = Steering::new(&s).unwrap();
        let input = steering.input(7, (-5, 100));
        let mut expected = Vec::new();
        for (ty, v) in [
            (WireType::U8, Value::Int(0)),
            (WireType::I16, Value::Int(100)),
            (WireType::I8, Value::Int(-5)),
            (WireType::Bool, Value::Bool(false)),
        ] {
            ty.write(&v, &mut expected).unwrap();
        }
        assert_eq!((input.seq, input.client_tick), (7, 7));
        assert_eq!(input.fields.as_slice(), expected.as_slice());
    }

    #[test]
    fn a_game_without_signed_axes_cannot_be_steered() {
        assert_eq!(Steering::new(&schema(&[("fire", WireType::Bool)])), None);
        assert_eq!(Steering::new(&schema(&[(MOVE_X, WireType::I8)])), None);
        let unsigned = schema(&[(MOVE_X, WireType::U8), (MOVE_Y, WireType::U8)]);
        assert_eq!(Steering::new(&unsigned), None);
    }
}
