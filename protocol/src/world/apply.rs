//! The [`Sink`] that applies a frame to a mirror as [`walk`](crate::walk::walk) reads it,
//! updating values and the checksum in place.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::{Desync, EntityView, Held, HeldPos};
use crate::checksum::{component_seed, entity_hash, mix64};
use crate::frame::{EventValue, NetId};
use crate::walk::{Header, List, Sink};
use crate::wire::Value;

/// What a mirror holds besides its entities.
#[derive(Debug, Clone, Default)]
pub(super) struct Mirror {
    /// The tick held, if any.
    pub tick: Option<u32>,
    /// The player's acked input seq.
    pub ack: u32,
    /// Wrapping sum of the hashes of every entity and component held: the checksum.
    pub sum: u64,
    /// Event slots, reused from frame to frame; the first `n_events` are the last frame's.
    pub events: Vec<EventValue>,
    /// How many of `events` the last frame had.
    pub n_events: usize,
}

/// Applies one frame; records the first desync and ignores everything after it, while the
/// walker goes on checking that the bytes are well-formed.
pub(super) struct Apply<'a> {
    /// The mirror's entities.
    pub entities: &'a mut BTreeMap<NetId, EntityView>,
    /// The rest of the mirror.
    pub mirror: &'a mut Mirror,
    /// The frame's header, once read.
    pub header: Option<Header>,
    /// The first desync met.
    pub desync: Option<Desync>,
    /// The current entry names an entity the client does not hold, in a piece of an area
    /// delta: its values are read and ignored.
    pub skipping: bool,
}

impl Apply<'_> {
    fn fail(&mut self, desync: Desync) {
        self.desync.get_or_insert(desync);
    }

    /// Whether `id` names an entity the client does not hold in a piece of an area delta,
    /// where the server sends the moves and changes of every entity of a cell and the client
    /// takes those of the entities it holds.
    fn not_held_in_piece(&self, id: NetId) -> bool {
        self.header.is_some_and(|h| h.area) && !self.entities.contains_key(&id)
    }

    /// The entity `id` if no desync happened yet; `UnknownEntity` otherwise.
    fn live_entity(&mut self, id: NetId) -> Option<&mut EntityView> {
        if self.desync.is_some() {
            return None;
        }
        if !self.entities.contains_key(&id) {
            self.fail(Desync::UnknownEntity(id));
        }
        self.entities.get_mut(&id)
    }
}

/// The hash chain of component `index` of `id` over `values`.
fn chain(id: NetId, index: usize, values: &[Value]) -> u64 {
    values
        .iter()
        .fold(component_seed(id, index), |h, v| mix64(h ^ v.hash_word()))
}

impl Sink for Apply<'_> {
    fn header(&mut self, header: Header) {
        self.header = Some(header);
        match (header.baseline, self.mirror.tick) {
            (None, _) => {
                self.entities.clear();
                self.mirror.sum = 0;
            }
            (Some(_), None) => self.fail(Desync::NoBaseline { tick: header.tick }),
            (Some(baseline), Some(held)) if baseline != held => {
                self.fail(Desync::WrongBaseline { baseline, held });
            }
            (Some(_), Some(_)) => {}
        }
        self.mirror.n_events = 0;
    }

    fn piece(&mut self) {}

    fn despawn(&mut self, id: NetId) {
        if let Some(hash) = self.live_entity(id).map(|e| e.hash()) {
            self.entities.remove(&id);
            self.mirror.sum = self.mirror.sum.wrapping_sub(hash);
        }
    }

    fn moved(&mut self, id: NetId, dx: i32, dy: i32) {
        // One lookup: this runs for every move of every frame.
        if self.desync.is_some() {
            return;
        }
        let area = self.header.is_some_and(|h| h.area);
        let Some(e) = self.entities.get_mut(&id) else {
            if !area {
                self.fail(Desync::UnknownEntity(id));
            }
            return;
        };
        let Some(held) = e.pos.as_mut() else {
            return self.fail(Desync::MissingComponent { id, component: 0 });
        };
        let Value::Pos(p) = &mut held.values[0] else {
            return self.fail(Desync::MissingComponent { id, component: 0 });
        };
        p.x = p.x.wrapping_add(dx);
        p.y = p.y.wrapping_add(dy);
        let new = chain(id, 0, &held.values);
        let old = std::mem::replace(&mut held.hash, new);
        self.mirror.sum = self.mirror.sum.wrapping_sub(old).wrapping_add(new);
    }

    fn entry(&mut self, list: List, id: NetId, kind: u32) {
        self.skipping = list == List::Changed && self.not_held_in_piece(id);
        if self.desync.is_some() || self.skipping {
            return;
        }
        if list != List::Spawned {
            self.live_entity(id);
            return;
        }
        match self.entities.entry(id) {
            Entry::Occupied(_) => self.fail(Desync::DuplicateEntity(id)),
            Entry::Vacant(slot) => {
                let (pos, held) = (None, Vec::new());
                slot.insert(EntityView {
                    id,
                    kind,
                    pos,
                    held,
                });
                self.mirror.sum = self.mirror.sum.wrapping_add(entity_hash(id, kind));
            }
        }
    }

    fn component(
        &mut self,
        list: List,
        id: NetId,
        index: usize,
        values: &mut Vec<Value>,
        hash: u64,
    ) {
        if self.skipping {
            return;
        }
        let Some(e) = self.live_entity(id) else {
            return;
        };
        if index == 0 {
            // The schema's component 0 is one `pos` field (checked with the schema).
            let Some(value) = values.pop() else {
                return self.fail(Desync::MissingComponent { id, component: 0 });
            };
            let old = e.pos.replace(HeldPos {
                values: [value],
                hash,
            });
            let old = old.map_or(0, |p| p.hash);
            self.mirror.sum = self.mirror.sum.wrapping_sub(old).wrapping_add(hash);
            return;
        }
        let old = match e.find(index) {
            Ok(i) => {
                std::mem::swap(&mut e.held[i].values, values);
                std::mem::replace(&mut e.held[i].hash, hash)
            }
            Err(_) if list == List::Changed => {
                return self.fail(Desync::MissingComponent {
                    id,
                    component: index,
                });
            }
            Err(i) => {
                let values = std::mem::take(values);
                e.held.insert(
                    i,
                    Held {
                        index,
                        values,
                        hash,
                    },
                );
                0
            }
        };
        self.mirror.sum = self.mirror.sum.wrapping_sub(old).wrapping_add(hash);
    }

    fn ack(&mut self, ack: u32) {
        match self.header.map(|h| h.baseline) {
            Some(Some(_)) => self.mirror.ack = self.mirror.ack.wrapping_add(ack),
            _ => self.mirror.ack = ack,
        }
    }

    fn event(&mut self, event: usize, values: &mut Vec<Value>) {
        let n = self.mirror.n_events;
        match self.mirror.events.get_mut(n) {
            Some(slot) => {
                slot.event = event;
                std::mem::swap(&mut slot.values, values);
            }
            None => self.mirror.events.push(EventValue {
                event,
                values: std::mem::take(values),
            }),
        }
        self.mirror.n_events = n + 1;
    }

    fn checksum(&mut self, server: u64) {
        let mirror = self.mirror.sum;
        if self.desync.is_none() && mirror != server {
            let tick = self.header.map_or(0, |h| h.tick);
            self.fail(Desync::Checksum {
                tick,
                mirror,
                server,
            });
        }
    }
}
