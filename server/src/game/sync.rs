//! The type-erased parts of a game: how each replicated component reaches the replica, and how
//! raw inputs become the game's input type. [`super::GameBuilder`] creates one of each per
//! registered type, so the engine never names a game's types.

use std::collections::HashMap;

use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemState;
use protocol::NetId;
use protocol::cursor::Cursor;
use protocol::replica::ReplicaFrame;
use protocol::wire::Wire;

use super::engine::{Disconnected, NetEntity, PlayerInput, Position};

/// Network ids of replicated entities, to name despawned ones.
pub type NetIndex = HashMap<Entity, NetId>;

/// Copies one replicated component type's changes into a replica frame.
pub trait ComponentSync: Send + Sync {
    /// Writes the component of a newly replicated entity, if it has one.
    fn spawn(&self, world: &World, entity: Entity, id: NetId, frame: &mut ReplicaFrame<'_>);
    /// Writes this tick's changes and removals.
    fn sync(&mut self, world: &mut World, index: &NetIndex, frame: &mut ReplicaFrame<'_>);
}

type Changes<C> = (
    Query<'static, 'static, (&'static NetEntity, &'static C), Changed<C>>,
    RemovedComponents<'static, 'static, C>,
);

/// The [`ComponentSync`] of a game component `C`, schema index `index`.
pub struct Synced<C: Component + Wire> {
    index: usize,
    changes: SystemState<Changes<C>>,
}

impl<C: Component + Wire> Synced<C> {
    /// The sync of `C` as component `index` of `world`.
    pub fn new(world: &mut World, index: usize) -> Self {
        Self {
            index,
            changes: SystemState::new(world),
        }
    }
}

impl<C: Component + Wire> ComponentSync for Synced<C> {
    fn spawn(&self, world: &World, entity: Entity, id: NetId, frame: &mut ReplicaFrame<'_>) {
        if let Some(c) = world.get::<C>(entity) {
            frame.set_component(id, self.index, |w| c.write(w));
        }
    }

    fn sync(&mut self, world: &mut World, index: &NetIndex, frame: &mut ReplicaFrame<'_>) {
        // Queries and removal readers always validate.
        let Ok((changed, mut removed)) = self.changes.get_mut(world) else {
            return;
        };
        for entity in removed.read() {
            if let Some(&id) = index.get(&entity) {
                frame.remove_component(id, self.index);
            }
        }
        for (net, c) in &changed {
            frame.set_component(net.id(), self.index, |w| c.write(w));
        }
    }
}

type PositionChanges = (
    Query<'static, 'static, (&'static NetEntity, &'static Position), Changed<Position>>,
    RemovedComponents<'static, 'static, Position>,
);

/// The [`ComponentSync`] of the engine's [`Position`], component 0.
pub struct PositionSync(SystemState<PositionChanges>);

impl PositionSync {
    /// The position sync of `world`.
    pub fn new(world: &mut World) -> Self {
        Self(SystemState::new(world))
    }
}

impl ComponentSync for PositionSync {
    fn spawn(&self, world: &World, entity: Entity, id: NetId, frame: &mut ReplicaFrame<'_>) {
        if let Some(p) = world.get::<Position>(entity) {
            frame.set_position(id, p.0);
        }
    }

    fn sync(&mut self, world: &mut World, index: &NetIndex, frame: &mut ReplicaFrame<'_>) {
        let Ok((changed, mut removed)) = self.0.get_mut(world) else {
            return;
        };
        for entity in removed.read() {
            if let Some(&id) = index.get(&entity) {
                frame.remove_component(id, 0);
            }
        }
        for (net, p) in &changed {
            frame.set_position(net.id(), p.0);
        }
    }
}

/// The inputs a player's connection delivered this tick, validated against the schema but not
/// yet decoded. (The last `seq` applied, the client's ack, is the player's link's.)
#[derive(Component, Debug, Default)]
pub struct InputQueue {
    /// Encoded input fields applied this tick, in order.
    pub fields: Vec<protocol::message::InputFields>,
}

/// A player's raw inputs, decoded input, and whether it is disconnected.
type InputSlots<I> = (
    &'static InputQueue,
    &'static mut PlayerInput<I>,
    Option<Ref<'static, Disconnected>>,
);

/// Decodes every player's inputs of this tick into [`PlayerInput<I>`], and resets the input of a
/// player who just dropped. (The receive phase empties each [`InputQueue`] at the start of the
/// tick.)
pub fn decode_inputs<I: Wire + Clone + Default + Send + Sync + 'static>(
    mut players: Query<InputSlots<I>>,
) {
    for (queue, mut input, dropped) in &mut players {
        if dropped.is_some_and(|d| d.is_added()) {
            input.latest = I::default();
        }
        if queue.fields.is_empty() {
            if !input.this_tick.is_empty() {
                input.bypass_change_detection().this_tick.clear();
            }
            continue;
        }
        let input = &mut *input;
        input.this_tick.clear();
        for fields in &queue.fields {
            // The connection checked the fields against the schema; a failure here is a game
            // whose `Wire` implementation disagrees with its own field list.
            match I::read(&mut Cursor::new(fields)) {
                Ok(decoded) => input.this_tick.push(decoded),
                Err(e) => tracing::error!(error = %e, "cannot decode an input"),
            }
        }
        if let Some(last) = input.this_tick.last() {
            input.latest = last.clone();
        }
    }
}
