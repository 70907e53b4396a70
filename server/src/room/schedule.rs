//! The engine's systems in a room's tick schedule, in their phases; the game adds its own.
//!
//! Every system a room runs costs the executor's overhead each tick (its run conditions, its
//! parameters, a sync point after it when it has commands), which in a small room is as much as
//! the work itself. So the engine runs as few systems as its fixed order allows: one receives
//! (and expires dropped players), one replicates and publishes to spectators, one fans out; the
//! bot systems are in the schedule only when the room may get bots.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::SingleThreadedExecutor;
use bevy_ecs::system::SystemState;

use super::components::ReplicationState;
use super::replication::{self, EntityChanges};
use super::spectator::{self, Spectating};
use super::{bots, systems};
use crate::game::TickSet;

/// The engine's systems in their phases.
pub fn engine_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    // The systems after the last sync point (replicate, publish, fan out) have no commands:
    // a final apply would only walk them.
    schedule.set_apply_final_deferred(false);
    schedule.configure_sets(
        (
            TickSet::Receive,
            TickSet::Simulate,
            TickSet::Replicate,
            TickSet::Send,
        )
            .chain(),
    );
    schedule.add_systems((
        systems::receive.in_set(TickSet::Receive),
        replicate_and_publish.in_set(TickSet::Replicate),
        replication::fan_out.in_set(TickSet::Send),
    ));
    schedule
}

/// Adds the bot balancing of a room that may get bots and plays a game with a bot brain.
pub fn add_bots(schedule: &mut Schedule) {
    schedule.add_systems(
        bots::balance_bots
            .run_if(bots::in_play)
            .in_set(TickSet::Receive)
            .after(systems::receive),
    );
}

/// The replicate phase ([`replication::replicate`]), then the spectator update
/// ([`spectator::publish`], which reads the replica the first has just written).
fn replicate_and_publish(
    world: &mut World,
    entities: &mut SystemState<EntityChanges>,
    mut spectating: Local<Spectating>,
    mut spare: Local<Box<ReplicationState>>,
) {
    replication::replicate(world, entities, &mut spare);
    spectator::publish(world, &mut spectating);
}
