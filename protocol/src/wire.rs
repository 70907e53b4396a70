//! Field types of game data: what a replicated component, an input or an event is made of.
//!
//! A game describes each of its data types as a list of [`Field`]s, each of one [`WireType`].
//! The schema message carries those lists to the client, so that a client decodes any game
//! without generated code. In Rust, [`wire_struct!`](crate::wire_struct) derives the [`Wire`]
//! implementation of a plain struct whose fields implement [`WireValue`].

use serde::{Deserialize, Serialize};

use crate::checksum::{fnv1a64, mix64};
use crate::cursor::{Cursor, Malformed, put_signed, put_varint};
use crate::quant::QPos;

/// How one field travels (PROTOCOL.md "Wire types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WireType {
    /// 1 byte, 0 or 1.
    Bool,
    /// 1 byte.
    U8,
    /// 1 byte, two's complement.
    I8,
    /// varint.
    U16,
    /// zigzag varint.
    I16,
    /// varint.
    U32,
    /// zigzag varint.
    I32,
    /// A quantized position: `x` then `y`, each a zigzag varint `i32` in quanta.
    Pos,
    /// A UTF-8 string of at most `max_len` bytes: varint length, then the bytes.
    Str {
        /// Longest length in bytes.
        max_len: u8,
    },
    /// A fixed-point number: a zigzag varint `i32` raw value standing for `raw / scale`.
    Fixed {
        /// Raw units per 1.0; at least 1.
        scale: u32,
    },
}

/// A decoded field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A [`WireType::Bool`].
    Bool(bool),
    /// Every integer type, and the raw value of a [`WireType::Fixed`].
    Int(i64),
    /// A [`WireType::Pos`].
    Pos(QPos),
    /// A [`WireType::Str`].
    Str(String),
}

impl Value {
    /// The 64-bit word this value adds to a checksum (PROTOCOL.md §7): a bool is 0 or 1, an
    /// integer its value sign-extended to 64 bits, a position `x | y << 32` (each as 32 bits),
    /// a string the FNV-1a 64 hash of its bytes.
    pub fn hash_word(&self) -> u64 {
        match self {
            Value::Bool(b) => u64::from(*b),
            Value::Int(v) => *v as u64,
            Value::Pos(p) => pos_word(*p),
            Value::Str(s) => fnv1a64(s.as_bytes()),
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }

    /// The position, if this is one.
    pub fn as_pos(&self) -> Option<QPos> {
        match self {
            Value::Pos(p) => Some(*p),
            _ => None,
        }
    }
}

/// The checksum word of a position.
pub const fn pos_word(p: QPos) -> u64 {
    p.x as u32 as u64 | ((p.y as u32 as u64) << 32)
}

impl WireType {
    /// Reads one value of this type, refusing anything PROTOCOL.md does not allow.
    pub fn read(self, c: &mut Cursor<'_>) -> Result<Value, Malformed> {
        Ok(match self {
            WireType::Bool => match c.u8()? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(Malformed("bool other than 0 or 1")),
            },
            WireType::U8 => Value::Int(i64::from(c.u8()?)),
            WireType::I8 => Value::Int(i64::from(c.u8()? as i8)),
            WireType::U16 => Value::Int(i64::from(c.u16()?)),
            WireType::I16 => Value::Int(i64::from(c.i16()?)),
            WireType::U32 => Value::Int(i64::from(c.u32()?)),
            WireType::I32 | WireType::Fixed { .. } => Value::Int(i64::from(c.i32()?)),
            WireType::Pos => Value::Pos(QPos::new(c.i32()?, c.i32()?)),
            WireType::Str { max_len } => Value::Str(read_str(c, max_len)?.to_owned()),
        })
    }

    /// Appends `value` in this type's encoding; fails when the value is of another type or out
    /// of the type's range.
    pub fn write(self, value: &Value, out: &mut Vec<u8>) -> Result<(), Malformed> {
        let int = |lo: i64, hi: i64| match value {
            Value::Int(v) if (lo..=hi).contains(v) => Ok(*v),
            _ => Err(Malformed("value of another type or out of range")),
        };
        match self {
            WireType::Bool => match value {
                Value::Bool(b) => out.push(u8::from(*b)),
                _ => return Err(Malformed("not a bool")),
            },
            WireType::U8 => out.push(int(0, 255)? as u8),
            WireType::I8 => out.push(int(-128, 127)? as i8 as u8),
            WireType::U16 => put_varint(out, int(0, 65_535)? as u64),
            WireType::I16 => put_signed(out, int(-32_768, 32_767)?),
            WireType::U32 => put_varint(out, int(0, i64::from(u32::MAX))? as u64),
            WireType::I32 | WireType::Fixed { .. } => {
                put_signed(out, int(i64::from(i32::MIN), i64::from(i32::MAX))?)
            }
            WireType::Pos => match value {
                Value::Pos(p) => {
                    put_signed(out, i64::from(p.x));
                    put_signed(out, i64::from(p.y));
                }
                _ => return Err(Malformed("not a position")),
            },
            WireType::Str { max_len } => match value {
                Value::Str(s) if s.len() <= usize::from(max_len) => {
                    put_varint(out, s.len() as u64);
                    out.extend_from_slice(s.as_bytes());
                }
                _ => return Err(Malformed("not a string, or too long")),
            },
        }
        Ok(())
    }

    /// The most bytes one value of this type takes on the wire (longest varint forms).
    pub fn max_encoded_len(self) -> usize {
        match self {
            WireType::Bool | WireType::U8 | WireType::I8 => 1,
            WireType::U16 | WireType::I16 => 3,
            WireType::U32 | WireType::I32 | WireType::Fixed { .. } => 5,
            WireType::Pos => 10,
            WireType::Str { max_len } => 3 + usize::from(max_len),
        }
    }

    /// The value a field of this type holds before anything is set.
    pub fn default_value(self) -> Value {
        match self {
            WireType::Bool => Value::Bool(false),
            WireType::Pos => Value::Pos(QPos::default()),
            WireType::Str { .. } => Value::Str(String::new()),
            _ => Value::Int(0),
        }
    }
}

fn read_str<'a>(c: &mut Cursor<'a>, max_len: u8) -> Result<&'a str, Malformed> {
    let len = c.len()?;
    if len > usize::from(max_len) {
        return Err(Malformed("string longer than its field allows"));
    }
    std::str::from_utf8(c.take(len)?).map_err(|_| Malformed("string is not UTF-8"))
}

/// One field of a game data type, as the Rust side declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The field's name, as clients see it in the schema.
    pub name: &'static str,
    /// How it travels.
    pub ty: WireType,
}

/// A game data type that travels field by field: a replicated component, an input or an event.
///
/// Implement it with [`wire_struct!`](crate::wire_struct) rather than by hand.
pub trait Wire: Sized {
    /// The type's name in the schema.
    const NAME: &'static str;
    /// Its fields, in wire order.
    const FIELDS: &'static [Field];
    /// Appends every field, in [`Wire::FIELDS`] order.
    fn write(&self, w: &mut FieldWriter<'_>);
    /// Reads every field, in [`Wire::FIELDS`] order.
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed>;
}

/// A Rust type that one field can have.
pub trait WireValue: Sized {
    /// Its wire type.
    const TYPE: WireType;
    /// Appends the value.
    fn write(&self, w: &mut FieldWriter<'_>);
    /// Reads a value.
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed>;
}

/// Appends field values to a buffer and folds them into a checksum hash as it goes
/// (PROTOCOL.md §7: `h = mix64(h ^ word)` per field).
#[derive(Debug)]
pub struct FieldWriter<'a> {
    out: &'a mut Vec<u8>,
    hash: u64,
}

impl<'a> FieldWriter<'a> {
    /// A writer appending to `out`, its hash starting at `seed`.
    pub fn new(out: &'a mut Vec<u8>, seed: u64) -> Self {
        Self { out, hash: seed }
    }

    /// The hash of the seed and every field written so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    fn word(&mut self, w: u64) {
        self.hash = mix64(self.hash ^ w);
    }

    /// A [`WireType::Bool`].
    pub fn bool(&mut self, v: bool) {
        self.out.push(u8::from(v));
        self.word(u64::from(v));
    }

    /// A [`WireType::U8`].
    pub fn u8(&mut self, v: u8) {
        self.out.push(v);
        self.word(u64::from(v));
    }

    /// A [`WireType::I8`].
    pub fn i8(&mut self, v: i8) {
        self.out.push(v as u8);
        self.word(i64::from(v) as u64);
    }

    /// A [`WireType::U16`] or [`WireType::U32`].
    pub fn unsigned(&mut self, v: u32) {
        put_varint(self.out, u64::from(v));
        self.word(u64::from(v));
    }

    /// A [`WireType::I16`], [`WireType::I32`] or the raw value of a [`WireType::Fixed`].
    pub fn signed(&mut self, v: i32) {
        put_signed(self.out, i64::from(v));
        self.word(i64::from(v) as u64);
    }

    /// A [`WireType::Pos`].
    pub fn pos(&mut self, p: QPos) {
        put_signed(self.out, i64::from(p.x));
        put_signed(self.out, i64::from(p.y));
        self.word(pos_word(p));
    }

    /// A [`WireType::Str`]; the caller keeps it within the field's `max_len`.
    pub fn str(&mut self, s: &str) {
        put_varint(self.out, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
        self.word(fnv1a64(s.as_bytes()));
    }
}

macro_rules! small_int {
    ($($t:ty => $wt:ident, $write:ident, $read:ident);* $(;)?) => {$(
        impl WireValue for $t {
            const TYPE: WireType = WireType::$wt;
            fn write(&self, w: &mut FieldWriter<'_>) {
                w.$write((*self).into());
            }
            fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
                r.$read()
            }
        }
    )*};
}

small_int! {
    u16 => U16, unsigned, u16;
    u32 => U32, unsigned, u32;
    i16 => I16, signed, i16;
    i32 => I32, signed, i32;
}

impl WireValue for u8 {
    const TYPE: WireType = WireType::U8;
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.u8(*self);
    }
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
        r.u8()
    }
}

impl WireValue for i8 {
    const TYPE: WireType = WireType::I8;
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.i8(*self);
    }
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
        Ok(r.u8()? as i8)
    }
}

impl WireValue for bool {
    const TYPE: WireType = WireType::Bool;
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.bool(*self);
    }
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Malformed("bool other than 0 or 1")),
        }
    }
}

impl WireValue for QPos {
    const TYPE: WireType = WireType::Pos;
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.pos(*self);
    }
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
        Ok(QPos::new(r.i32()?, r.i32()?))
    }
}

/// A string of at most `N` bytes (`N` ≤ 255): a [`WireType::Str`] field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<const N: usize>(String);

impl<const N: usize> Text<N> {
    /// `s` cut to at most `N` bytes, at a character boundary.
    pub fn truncated(s: &str) -> Self {
        let mut end = s.len().min(N);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        Self(s[..end].to_owned())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const N: usize> WireValue for Text<N> {
    const TYPE: WireType = WireType::Str {
        max_len: {
            assert!(N <= 255, "a Text field holds at most 255 bytes");
            N as u8
        },
    };
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.str(&self.0);
    }
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
        Ok(Self(read_str(r, N.min(255) as u8)?.to_owned()))
    }
}

/// A fixed-point number with `SCALE` raw units per 1.0: a [`WireType::Fixed`] field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Fixed<const SCALE: u32>(pub i32);

impl<const SCALE: u32> Fixed<SCALE> {
    /// The nearest fixed-point value to `v`, saturating at the `i32` range.
    pub fn from_f64(v: f64) -> Self {
        Self((v * f64::from(SCALE)).round() as i32)
    }

    /// The value as a float.
    pub fn to_f64(self) -> f64 {
        f64::from(self.0) / f64::from(SCALE)
    }
}

impl<const SCALE: u32> WireValue for Fixed<SCALE> {
    const TYPE: WireType = WireType::Fixed {
        scale: {
            assert!(SCALE >= 1, "a Fixed scale is at least 1");
            SCALE
        },
    };
    fn write(&self, w: &mut FieldWriter<'_>) {
        w.signed(self.0);
    }
    fn read(r: &mut Cursor<'_>) -> Result<Self, Malformed> {
        Ok(Self(r.i32()?))
    }
}

/// Declares a struct and implements [`Wire`] for it, field by field in declaration order.
/// Every field's type must implement [`WireValue`] (`bool`, `u8`, `i8`, `u16`, `i16`, `u32`,
/// `i32`, [`QPos`], [`Text`], [`Fixed`]). Attributes (derives, docs) pass through.
///
/// ```
/// protocol::wire_struct! {
///     /// Hit points.
///     #[derive(Debug, Clone, PartialEq)]
///     pub struct Health {
///         pub points: u16,
///         pub shield: bool,
///     }
/// }
/// use protocol::wire::{Wire, WireType};
/// assert_eq!(Health::NAME, "Health");
/// assert_eq!(Health::FIELDS[0].ty, WireType::U16);
/// ```
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty),*
        }

        impl $crate::wire::Wire for $name {
            const NAME: &'static str = stringify!($name);
            const FIELDS: &'static [$crate::wire::Field] = &[
                $($crate::wire::Field {
                    name: stringify!($field),
                    ty: <$ty as $crate::wire::WireValue>::TYPE,
                }),*
            ];
            #[allow(unused_variables)]
            fn write(&self, w: &mut $crate::wire::FieldWriter<'_>) {
                $(<$ty as $crate::wire::WireValue>::write(&self.$field, w);)*
            }
            #[allow(unused_variables)]
            fn read(
                r: &mut $crate::cursor::Cursor<'_>,
            ) -> ::core::result::Result<Self, $crate::cursor::Malformed> {
                Ok(Self {
                    $($field: <$ty as $crate::wire::WireValue>::read(r)?),*
                })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::wire_struct! {
        #[derive(Debug, Clone, PartialEq)]
        struct Sample {
            flag: bool,
            small: i8,
            count: u16,
            delta: i32,
            at: QPos,
            name: Text<8>,
            speed: Fixed<100>,
        }
    }

    crate::wire_struct! {
        #[derive(Debug, Clone, PartialEq)]
        struct Marker {}
    }

    fn sample() -> Sample {
        Sample {
            flag: true,
            small: -3,
            count: 300,
            delta: -70_000,
            at: QPos::new(5, -6),
            name: Text::truncated("héllo wörld"),
            speed: Fixed::from_f64(1.25),
        }
    }

    #[test]
    fn a_wire_struct_reads_back_what_it_wrote() {
        let mut out = Vec::new();
        sample().write(&mut FieldWriter::new(&mut out, 0));
        let mut c = Cursor::new(&out);
        assert_eq!(Sample::read(&mut c), Ok(sample()));
        assert_eq!(c.remaining(), 0);
        assert_eq!(
            sample().name.as_str(),
            "héllo w",
            "cut at a character boundary"
        );
    }

    #[test]
    fn generic_values_decode_the_same_bytes_with_the_same_hash() {
        let mut out = Vec::new();
        let mut w = FieldWriter::new(&mut out, 7);
        sample().write(&mut w);
        let typed_hash = w.hash();
        let mut c = Cursor::new(&out);
        let mut hash = 7;
        let mut again = Vec::new();
        for f in Sample::FIELDS {
            let v = f.ty.read(&mut c).unwrap();
            hash = mix64(hash ^ v.hash_word());
            f.ty.write(&v, &mut again).unwrap();
        }
        assert_eq!(hash, typed_hash);
        assert_eq!(again, out);
        assert_eq!(Marker::FIELDS.len(), 0);
    }

    #[test]
    fn out_of_range_values_do_not_encode() {
        let mut out = Vec::new();
        assert!(WireType::U8.write(&Value::Int(256), &mut out).is_err());
        assert!(WireType::Bool.read(&mut Cursor::new(&[2])).is_err());
        let long = Value::Str("123456789".into());
        assert!(WireType::Str { max_len: 8 }.write(&long, &mut out).is_err());
        assert!(out.is_empty());
    }
}
