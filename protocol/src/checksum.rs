//! The checksum of what one client sees: an order-independent wrapping sum of hashes.
//!
//! One hash per entity (its id and kind), one per component of each entity (a chain over its
//! field values, see [`crate::wire::FieldWriter`]), and one for the client's acknowledged input.
//! Because it is a wrapping sum, both ends update it in O(changes): subtract the old hash, add
//! the new one. `PROTOCOL.md` §7 gives the same algorithm for other languages.

/// The splitmix64 finalizer: a cheap, well-mixing bijection on 64-bit integers.
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a, 64-bit: the checksum word of a string's bytes.
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The hash of an entity's existence: `mix64(id | kind << 32)`.
pub const fn entity_hash(id: u32, kind: u32) -> u64 {
    mix64(id as u64 | ((kind as u64) << 32))
}

/// Where the hash chain of component `index` of entity `id` starts:
/// `mix64(id | (256 + index) << 32)`. Each field then folds in as `h = mix64(h ^ word)`.
pub const fn component_seed(id: u32, index: usize) -> u64 {
    mix64(id as u64 | ((256 + index as u64) << 32))
}

/// The hash of a client's acknowledged input sequence:
/// `mix64(mix64(player | 512 << 32) ^ ack)`.
pub const fn ack_hash(player: u32, ack: u32) -> u64 {
    mix64(mix64(player as u64 | (512u64 << 32)) ^ ack as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Also in PROTOCOL.md; computed independently with the Python given there.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(entity_hash(1, 0), component_seed(1, 0));
        assert_ne!(component_seed(1, 0), ack_hash(1, 0));
    }
}
