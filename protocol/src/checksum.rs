//! The world checksum: an order-independent sum of per-entity hashes.
//!
//! Because it is a wrapping sum, both ends update it in O(changed entities): subtract an entity's
//! old hash, add its new one. `PROTOCOL.md` gives the same algorithm for other languages.

use crate::frame::EntityState;

/// The splitmix64 finalizer: a cheap, well-mixing bijection on 64-bit integers.
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash of one entity's quantized state.
pub const fn entity_hash(e: &EntityState) -> u64 {
    let key = e.id as u64 | ((e.kind as u8 as u64) << 32);
    let pos = e.pos.x as u32 as u64 | ((e.pos.y as u32 as u64) << 32);
    mix64(mix64(mix64(key) ^ pos) ^ e.ack as u64)
}

/// The checksum of a whole world: the wrapping sum of [`entity_hash`] over its entities (0 when
/// empty).
pub fn world_checksum<'a>(entities: impl IntoIterator<Item = &'a EntityState>) -> u64 {
    entities
        .into_iter()
        .fold(0u64, |sum, e| sum.wrapping_add(entity_hash(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::EntityKind;
    use crate::quant::QPos;

    #[test]
    fn known_vector() {
        // Also in PROTOCOL.md; computed independently with the Python given there.
        let e = EntityState {
            id: 1,
            kind: EntityKind::Player,
            pos: QPos::new(100, -2),
            ack: 7,
        };
        assert_eq!(
            entity_hash(&e),
            0x63b3_ea42_6d41_49c2,
            "{:#018x}",
            entity_hash(&e)
        );
    }

    #[test]
    fn order_does_not_matter() {
        let a = EntityState {
            id: 1,
            kind: EntityKind::Player,
            pos: QPos::new(1, 2),
            ack: 0,
        };
        let b = EntityState { id: 2, ..a };
        assert_eq!(world_checksum([&a, &b]), world_checksum([&b, &a]));
        assert_ne!(world_checksum([&a]), world_checksum([&b]));
    }
}
