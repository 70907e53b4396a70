//! `/api/v1/rooms`: the live rooms.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use protocol::api::{ErrorBody, RoomList, RoomView};

use super::error::{ApiError, ApiPath};
use crate::app::App;
use crate::cluster::directory::RoomEntry;
use crate::room::RoomHandle;

/// The API view of a room of this node, its pages on the base this request reached.
pub fn view(app: &App, room: &RoomHandle) -> RoomView {
    let base = super::public::request_base().unwrap_or_else(|| app.base_url.clone());
    RoomEntry::of(room).view(&base, app.cluster.as_ref().map(|c| c.url()))
}

/// Every live room, by id; in a cluster, the rooms of every live node.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "rooms", operation_id = "list_rooms",
    responses((status = 200, body = RoomList), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn list(State(app): State<Arc<App>>) -> Result<Json<RoomList>, ApiError> {
    let rooms = match &app.cluster {
        Some(cluster) => cluster.listing().await?.views(),
        None => app.registry.list().iter().map(|r| view(&app, r)).collect(),
    };
    Ok(Json(RoomList { rooms }))
}

/// One live room.
#[utoipa::path(get, path = "/api/v1/rooms/{id}", tag = "rooms", operation_id = "get_room",
    params(("id" = u32, Path, description = "room id")),
    responses((status = 200, body = RoomView), (status = 404, body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn get(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<u32>,
) -> Result<Json<RoomView>, ApiError> {
    if let Some(room) = app.registry.get(id) {
        return Ok(Json(view(&app, &room)));
    }
    Ok(Json(remote(&app, id).await?.1))
}

/// A room that runs on another node of the cluster, and that node's base URL; 404 when no live
/// node lists it (or this node serves alone).
pub async fn remote(app: &App, id: u32) -> Result<(String, RoomView), ApiError> {
    let cluster = app
        .cluster
        .as_ref()
        .ok_or_else(|| ApiError::not_found("room"))?;
    let directory = cluster.listing().await?;
    // A room this node's last renewal still lists, but that closed here, is gone: no
    // redirect back to this node.
    let (node, room) = directory
        .find(id)
        .filter(|(node, _)| node.info.url != cluster.url())
        .ok_or_else(|| ApiError::not_found("room"))?;
    let base = node.info.url.clone();
    let view = room.view(&base, Some(&base));
    Ok((base, view))
}
