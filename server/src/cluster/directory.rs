//! The room directory: what each live node publishes about itself and its rooms, and the
//! cluster-wide view read back in one atomic script.

use protocol::api::RoomView;
use serde::{Deserialize, Serialize};

use crate::room::RoomHandle;

/// A node's lease value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The node id.
    pub id: u64,
    /// Its public base URL (`--public-url`).
    pub url: String,
    /// A random value of this registration, so a node can tell its own lease from another's.
    pub incarnation: String,
}

/// One room as its node lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomEntry {
    /// The room id (unique in the cluster).
    pub room_id: u32,
    /// Its mode.
    pub mode: String,
    /// Seats taken (by humans, and reserved).
    pub players: u32,
    /// Seats bots fill, for as long as no human wants them.
    #[serde(default)]
    pub bots: u32,
    /// Seats in all.
    pub capacity: u32,
    /// Its tick when listed.
    pub tick: u32,
}

impl RoomEntry {
    /// The room as listed now. A seat reserved since the room's last tick already counts in
    /// `players`; the bot it displaces leaves at the next tick, so `bots` counts only the seats
    /// left to bots.
    pub fn of(room: &RoomHandle) -> Self {
        let players = room.occupancy();
        Self {
            room_id: room.id,
            mode: room.mode.clone(),
            players,
            bots: room.bots().min(room.capacity.saturating_sub(players)),
            capacity: room.capacity,
            tick: room.tick(),
        }
    }

    /// The API view of the room, its pages under `base`; `node_url` is its node's public URL in a
    /// cluster.
    pub fn view(&self, base: &str, node_url: Option<&str>) -> RoomView {
        RoomView {
            room_id: self.room_id,
            mode: self.mode.clone(),
            players: self.players + self.bots,
            bots: self.bots,
            capacity: self.capacity,
            tick: self.tick,
            spectate_url: format!("{base}/spectate/{}", self.room_id),
            events_url: format!("{base}/api/v1/rooms/{}/events", self.room_id),
            node_url: node_url.map(str::to_owned),
        }
    }
}

/// One live node and its rooms.
#[derive(Debug, Clone)]
pub struct LiveNode {
    /// The lease.
    pub info: NodeInfo,
    /// Its rooms as of its last renewal.
    pub rooms: Vec<RoomEntry>,
}

impl LiveNode {
    /// Seats taken on the node: what "least loaded" compares.
    pub fn load(&self) -> u64 {
        self.rooms.iter().map(|r| u64::from(r.players)).sum()
    }
}

/// Every live node, as one read saw them.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// The nodes, by id.
    pub nodes: Vec<LiveNode>,
}

impl Directory {
    /// Builds the view from the script's answer: lease and room list of each node. A value that
    /// does not parse (written by a node of another version) leaves that node out, with a
    /// warning.
    pub fn from_pairs(values: Vec<String>) -> Self {
        let mut nodes: Vec<LiveNode> = values
            .chunks_exact(2)
            .filter_map(|node| {
                match (
                    serde_json::from_str(&node[0]),
                    serde_json::from_str(&node[1]),
                ) {
                    (Ok(info), Ok(rooms)) => Some(LiveNode { info, rooms }),
                    _ => {
                        tracing::warn!("a node's directory entry does not parse; skipped");
                        None
                    }
                }
            })
            .collect();
        nodes.sort_by_key(|n| n.info.id);
        Self { nodes }
    }

    /// The room with id `room_id` and the node that runs it.
    pub fn find(&self, room_id: u32) -> Option<(&LiveNode, &RoomEntry)> {
        self.nodes.iter().find_map(|n| {
            n.rooms
                .iter()
                .find(|r| r.room_id == room_id)
                .map(|r| (n, r))
        })
    }

    /// Rooms of `mode` with a free seat, the fullest first (so players meet), with their nodes.
    pub fn open_rooms(&self, mode: &str) -> Vec<(&LiveNode, &RoomEntry)> {
        let mut open: Vec<_> = self
            .nodes
            .iter()
            .flat_map(|n| n.rooms.iter().map(move |r| (n, r)))
            .filter(|(_, r)| r.mode == mode && r.players < r.capacity)
            .collect();
        open.sort_by_key(|(_, r)| std::cmp::Reverse(r.players));
        open
    }

    /// The live node with the fewest seats taken; `prefer` wins a tie (no hop to another node).
    pub fn least_loaded(&self, prefer: u64) -> Option<&LiveNode> {
        self.nodes
            .iter()
            .min_by_key(|n| (n.load(), n.info.id != prefer, n.info.id))
    }

    /// Every room of the cluster as the API shows it, by id.
    pub fn views(&self) -> Vec<RoomView> {
        let mut views: Vec<RoomView> = self
            .nodes
            .iter()
            .flat_map(|n| {
                n.rooms
                    .iter()
                    .map(move |r| r.view(&n.info.url, Some(&n.info.url)))
            })
            .collect();
        views.sort_by_key(|v| v.room_id);
        views
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64, rooms: &[(u32, u32)]) -> LiveNode {
        LiveNode {
            info: NodeInfo {
                id,
                url: format!("http://n{id}"),
                incarnation: String::new(),
            },
            rooms: rooms
                .iter()
                .map(|&(room_id, players)| RoomEntry {
                    room_id,
                    mode: "default".into(),
                    players,
                    bots: 0,
                    capacity: 4,
                    tick: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn open_rooms_fullest_first_and_least_loaded_prefers_this_node_on_a_tie() {
        let d = Directory {
            nodes: vec![
                node(1, &[(10, 1), (11, 4)]),
                node(2, &[(20, 3)]),
                node(3, &[]),
            ],
        };
        let open: Vec<u32> = d
            .open_rooms("default")
            .iter()
            .map(|(_, r)| r.room_id)
            .collect();
        assert_eq!(open, vec![20, 10], "full room 11 left out");
        assert!(d.open_rooms("coins").is_empty());
        assert_eq!(d.least_loaded(2).map(|n| n.info.id), Some(3));
        let tie = Directory {
            nodes: vec![node(1, &[]), node(2, &[])],
        };
        assert_eq!(tie.least_loaded(2).map(|n| n.info.id), Some(2));
        assert_eq!(d.find(20).map(|(n, _)| n.info.id), Some(2));
        assert_eq!(d.views().len(), 3);
    }
}
