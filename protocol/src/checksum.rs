//! The checksum of what one client sees: an order-independent wrapping sum of hashes.
//!
//! One hash per entity (its id and kind), one per component of each entity (a chain over its
//! field values, see [`crate::wire::FieldWriter`]). It covers world state only: the client's
//! acknowledged input travels in the frame and is not part of it, so clients that see the same
//! entities share one checksum (and one frame). Because it is a wrapping sum, both ends update it in O(changes): subtract the old hash, add
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::QPos;
    use crate::wire::{FieldWriter, Value, pos_word};

    #[test]
    fn known_vectors() {
        // Also in PROTOCOL.md; computed independently with the Python given there.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"coin"), 0x0bda_f091_196b_d10c);
        assert_eq!(mix64(1), 0x5692_161d_100b_05e5);
        assert_eq!(entity_hash(3, 0), 0x1e53_5eed_e314_28f0);
        assert_eq!(entity_hash(12, 1), 0xf55b_dad0_f1d0_e35e);
        assert_eq!(component_seed(3, 1), 0xc7fa_2782_1904_85ab);
        assert_ne!(entity_hash(1, 0), component_seed(1, 0));
    }

    #[test]
    fn component_chains_match_protocol_md() {
        // A `u16` field holding 5, as component 1 of entity 3.
        let mut out = Vec::new();
        let mut w = FieldWriter::new(&mut out, component_seed(3, 1));
        w.unsigned(5);
        assert_eq!(w.hash(), 0x3f8d_422e_f05b_f99e);
        // A `pos` field holding (5000, 250), as component 0 of entity 12.
        let mut w = FieldWriter::new(&mut out, component_seed(12, 0));
        w.pos(QPos::new(5000, 250));
        assert_eq!(w.hash(), 0xa739_d22b_e7da_6150);
        // The same chains through decoded values.
        let chain = |seed, v: Value| mix64(seed ^ v.hash_word());
        assert_eq!(
            chain(component_seed(3, 1), Value::Int(5)),
            0x3f8d_422e_f05b_f99e
        );
        assert_eq!(
            chain(component_seed(12, 0), Value::Pos(QPos::new(5000, 250))),
            0xa739_d22b_e7da_6150
        );
        assert_eq!(Value::Int(-3).hash_word(), 0xffff_ffff_ffff_fffd);
    }

    #[test]
    fn protocol_md_worked_example_checksum_is_the_sum_of_its_terms() {
        // Player 3's view after tick 301 in PROTOCOL.md §8.
        let pos = |id, x, y| mix64(component_seed(id, 0) ^ pos_word(QPos::new(x, y)));
        let int = |id, index, v: u64| mix64(component_seed(id, index) ^ v);
        let terms = [
            entity_hash(3, 0),
            pos(3, 1012, 1993),
            int(3, 1, 5),
            int(3, 2, 3),
            entity_hash(4, 0),
            pos(4, 3000, 530),
            int(4, 1, 0),
            entity_hash(12, 1),
            pos(12, 5000, 250),
        ];
        let sum = terms.iter().fold(0u64, |a, t| a.wrapping_add(*t));
        assert_eq!(sum, 0x97d9_12b4_5738_d334);
    }
}
