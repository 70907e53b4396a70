//! `/api/v1/lobbies`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use protocol::api::{
    CreateLobby, ErrorBody, JoinLobby, LobbyMembership, LobbyPage, LobbyQuery, LobbyView,
};

use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::app::App;

/// Header that carries a member key.
pub const MEMBER_KEY: &str = "x-member-key";
/// Header that carries the owner key.
pub const OWNER_KEY: &str = "x-owner-key";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn required<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, ApiError> {
    header(headers, name).ok_or_else(|| ApiError {
        field: Some(name.to_owned()),
        ..ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_header",
            format!("header `{name}` is required"),
        )
    })
}

/// Creates a lobby; the caller is its owner and first member.
#[utoipa::path(post, path = "/api/v1/lobbies", tag = "lobbies", operation_id = "create_lobby", request_body = CreateLobby,
    responses((status = 201, body = LobbyMembership), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn create(
    State(app): State<Arc<App>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<CreateLobby>,
) -> Result<(StatusCode, Json<LobbyMembership>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(app.lobbies.create(req, addr.ip()).await?),
    ))
}

/// Lists public lobbies, oldest first.
#[utoipa::path(get, path = "/api/v1/lobbies", tag = "lobbies", operation_id = "list_lobbies", params(LobbyQuery),
    responses((status = 200, body = LobbyPage), (status = 400, body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn list(
    State(app): State<Arc<App>>,
    ApiQuery(q): ApiQuery<LobbyQuery>,
) -> Result<Json<LobbyPage>, ApiError> {
    Ok(Json(app.lobbies.list(&q).await?))
}

/// One lobby; with a member's `X-Member-Key` also its join code and the member's seat.
#[utoipa::path(get, path = "/api/v1/lobbies/{id}", tag = "lobbies", operation_id = "get_lobby",
    params(("id" = String, Path, description = "lobby id"), ("x-member-key" = Option<String>, Header, description = "a member key")),
    responses((status = 200, body = LobbyView), (status = 404, body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn get(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let view = app.lobbies.get(&id, header(&headers, MEMBER_KEY)).await?;
    Ok(Json(seat_url_for_this_request(&app, view)).into_response())
}

/// Joins a lobby (a private one needs `join_code`).
#[utoipa::path(post, path = "/api/v1/lobbies/{id}/join", tag = "lobbies", operation_id = "join_lobby", request_body = JoinLobby,
    params(("id" = String, Path, description = "lobby id")),
    responses((status = 200, body = LobbyMembership), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "full, started or name taken", body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn join(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<JoinLobby>,
) -> Result<Response, ApiError> {
    Ok(Json(app.lobbies.join(&id, req).await?).into_response())
}

/// Leaves a lobby; when the owner leaves, the next member becomes the owner (their member key
/// then serves as `X-Owner-Key`), and the last member leaving closes the lobby.
#[utoipa::path(post, path = "/api/v1/lobbies/{id}/leave", tag = "lobbies", operation_id = "leave_lobby",
    params(("id" = String, Path, description = "lobby id"), ("x-member-key" = String, Header, description = "the member key")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn leave(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.lobbies
        .leave(&id, required(&headers, MEMBER_KEY)?)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Starts the game: opens a room and gives every member a seat (read it with `GET` and the
/// member key). `X-Owner-Key` is the creator's owner key, or after a hand-over the new owner's
/// member key.
#[utoipa::path(post, path = "/api/v1/lobbies/{id}/start", tag = "lobbies", operation_id = "start_lobby",
    params(("id" = String, Path, description = "lobby id"), ("x-owner-key" = String, Header, description = "the owner key")),
    responses((status = 200, body = LobbyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn start(
    State(app): State<Arc<App>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let owner_key = required(&headers, OWNER_KEY)?;
    let view = app.lobbies.start(&id, owner_key, addr.ip()).await?;
    Ok(Json(seat_url_for_this_request(&app, view)).into_response())
}

/// The member's seat URL as this request's client reaches the server: the owner's `start`
/// booked every member's seat (see [`crate::lobby::seats::SeatBook::rebase`]).
fn seat_url_for_this_request(app: &App, mut view: LobbyView) -> LobbyView {
    if let Some(seat) = &mut view.seat {
        app.seats.rebase(seat);
    }
    view
}
