//! [`RoomIds`]: where new room ids come from. Alone, one counter of this process; in a cluster,
//! blocks of [`BLOCK`] ids that the node leases from Redis, so ids are unique across the
//! cluster without a round trip per room.

use std::sync::Mutex;

/// Ids in one block leased from the cluster.
pub const BLOCK: u32 = 4096;

/// Free ids left in the current block below which the node asks for the next one.
const LOW_WATER: u32 = BLOCK / 2;

/// The ids still free: the current range and at most one spare block.
#[derive(Debug)]
struct Ranges {
    next: u32,
    end: u32,
    spare: Option<u32>,
    highest: u32,
}

/// New room ids.
#[derive(Debug)]
pub struct RoomIds {
    ranges: Mutex<Ranges>,
    clustered: bool,
}

impl RoomIds {
    /// Ids of a node serving alone: 1, 2, 3, ...
    pub fn local() -> Self {
        Self {
            ranges: Mutex::new(Ranges {
                next: 1,
                end: u32::MAX,
                spare: None,
                highest: 0,
            }),
            clustered: false,
        }
    }

    /// Ids of a cluster node: none until [`RoomIds::add_block`] gives some.
    pub fn clustered() -> Self {
        Self {
            ranges: Mutex::new(Ranges {
                next: 0,
                end: 0,
                spare: None,
                highest: 0,
            }),
            clustered: true,
        }
    }

    fn ranges(&self) -> std::sync::MutexGuard<'_, Ranges> {
        self.ranges
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next free id; none when a cluster node has used up its blocks (the next arrives
    /// with the next lease renewal).
    pub fn take(&self) -> Option<u32> {
        let mut r = self.ranges();
        if r.next >= r.end {
            let block = r.spare.take()?;
            // A block past the id space gives no ids (never a wrapped, reused one).
            r.next = block.checked_mul(BLOCK)?;
            r.end = r.next.checked_add(BLOCK)?;
        }
        let id = r.next;
        r.next = id.checked_add(1)?;
        Some(id)
    }

    /// Whether a cluster node should lease another block now (no spare, the current one
    /// half used).
    pub fn wants_block(&self) -> bool {
        let r = self.ranges();
        self.clustered && r.spare.is_none() && r.end.saturating_sub(r.next) < LOW_WATER
    }

    /// Adds block number `block` (ids `block × BLOCK ..`) as the spare.
    pub fn add_block(&self, block: u32) {
        let mut r = self.ranges();
        r.spare = Some(block);
        r.highest = r.highest.max(block);
    }

    /// The highest block this node has leased, for the cluster's counter to stay above it
    /// after Redis lost its data.
    pub fn highest_block(&self) -> u32 {
        self.ranges().highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_node_takes_ids_from_its_blocks_only() {
        let ids = RoomIds::clustered();
        assert_eq!(ids.take(), None, "no block yet");
        assert!(ids.wants_block());
        ids.add_block(3);
        assert!(!ids.wants_block(), "a spare is waiting");
        assert_eq!(ids.take(), Some(3 * BLOCK));
        assert!(!ids.wants_block(), "most of the block is left");
        for _ in 1..LOW_WATER + 1 {
            assert!(ids.take().is_some());
        }
        assert!(ids.wants_block(), "half used, no spare");
        for _ in LOW_WATER + 1..BLOCK {
            assert!(ids.take().is_some());
        }
        assert_eq!(ids.take(), None, "block used up");
        ids.add_block(7);
        assert_eq!(ids.take(), Some(7 * BLOCK));
        assert_eq!(ids.highest_block(), 7);
    }
}
