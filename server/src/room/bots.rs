//! Server-side bots: avatars with no connection that keep a room filled while humans are few.
//!
//! A room's bot target is `--bots-per-room`, or more when the room asked to be filled
//! ([`super::RoomHandle::fill_with_bots`]: a quick match that waited too long, the demo room),
//! never more than its capacity. Humans (every seat taken: players present or within their
//! grace, and seats reserved) come first: each tick the room holds `target − humans` bots. A
//! bot is spawned like a human ([`super::roster::spawn_avatar`], marked [`Bot`]) and leaves
//! like one ([`PlayerLeft`], then despawned); it has no link, so no frame is encoded for it.
//! The game's bot brain steers it. Only a room that may get bots
//! ([`super::RoomSettings::bots_asked`]) of a game with a brain gets this system.

use bevy_ecs::prelude::*;
use protocol::NetId;

use super::components::RoomConfig;
use super::roster::spawn_avatar;
use crate::game::{Bot, Player, PlayerLeft};

/// Whether the room wants bots: [`balance_bots`] has work to do (a room without bots pays only
/// this check). A room has bots only while it wants some: `--bots-per-room` is fixed and a
/// room's fill never shrinks.
pub fn in_play(config: Res<RoomConfig>) -> bool {
    config.settings.bots_per_room > 0 || config.handle.bot_fill() > 0
}

/// Spawns or removes bots so that the room holds its target (the newest bots leave first),
/// and tells the room's handle how many there are.
pub fn balance_bots(
    mut commands: Commands,
    bots: Query<(Entity, &Player), With<Bot>>,
    config: Res<RoomConfig>,
) {
    let handle = &config.handle;
    let target = config
        .settings
        .bots_per_room
        .max(handle.bot_fill())
        .min(handle.capacity)
        .saturating_sub(handle.occupancy()) as usize;
    let present = bots.iter().len();
    if present > target {
        let mut newest: Vec<(NetId, Entity)> = bots.iter().map(|(e, p)| (p.id, e)).collect();
        newest.sort_unstable_by(|a, b| b.cmp(a));
        for &(player, entity) in &newest[..present - target] {
            commands.trigger(PlayerLeft { entity, player });
            commands.entity(entity).despawn();
        }
    }
    let mut count = present.min(target);
    while count < target {
        let Some(id) = handle.allocate_id() else {
            break;
        };
        let bot = Player {
            id,
            name: format!("bot-{id}"),
        };
        spawn_avatar(&mut commands, bot, &config.settings, Bot);
        count += 1;
    }
    handle.set_bots(count as u32);
}
