//! `/api/v1/rooms`: the live rooms.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use protocol::api::{ErrorBody, RoomList, RoomView};

use super::error::{ApiError, ApiPath};
use crate::app::App;
use crate::room::RoomHandle;

/// The API view of a room.
pub fn view(app: &App, room: &RoomHandle) -> RoomView {
    let base = super::public::request_base().unwrap_or_else(|| app.base_url.clone());
    let humans = room.occupancy();
    // A seat reserved since the room's last tick already counts; the bot it displaces leaves
    // at the next tick.
    let bots = room.bots().min(room.capacity.saturating_sub(humans));
    RoomView {
        room_id: room.id,
        mode: room.mode.clone(),
        players: humans + bots,
        bots,
        capacity: room.capacity,
        tick: room.tick(),
        spectate_url: format!("{base}/spectate/{}", room.id),
        events_url: format!("{base}/api/v1/rooms/{}/events", room.id),
    }
}

/// Every live room, by id.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", operation_id = "list_rooms", responses((status = 200, body = RoomList)))]
pub async fn list(State(app): State<Arc<App>>) -> Json<RoomList> {
    Json(RoomList {
        rooms: app.registry.list().iter().map(|r| view(&app, r)).collect(),
    })
}

/// One live room.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", operation_id = "get_room",
    params(("id" = u32, Path, description = "room id")),
    responses((status = 200, body = RoomView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Json<RoomView>, ApiError> {
    let room = app
        .registry
        .get(id)
        .ok_or_else(|| ApiError::not_found("room"))?;
    Ok(Json(view(&app, &room)))
}
