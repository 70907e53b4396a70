//! `/api/v1/matchmaking`: quick-match tickets and join-or-create.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use protocol::api::{CreateTicket, ErrorBody, JoinOrCreate, SeatGrant, TicketView};

use super::error::{ApiError, ApiJson, ApiPath};
use crate::app::App;

/// Starts searching for a match.
#[utoipa::path(post, path = "/api/v1/matchmaking/tickets", tag = "matchmaking", request_body = CreateTicket,
    responses(
        (status = 202, description = "searching", body = TicketView),
        (status = 400, description = "a field breaks its rule", body = ErrorBody),
        (status = 422, description = "the body is not a ticket request", body = ErrorBody),
        (status = 429, description = "too many requests or tickets", body = ErrorBody),
        (status = 503, description = "the cluster store is unavailable", body = ErrorBody),
    ))]
pub async fn create_ticket(
    State(app): State<Arc<App>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<CreateTicket>,
) -> Result<Response, ApiError> {
    let ticket = app.matchmaker.create(req, addr.ip()).await?;
    Ok((StatusCode::ACCEPTED, Json(ticket)).into_response())
}

/// Reads a ticket; once matched it holds the seats.
#[utoipa::path(get, path = "/api/v1/matchmaking/tickets/{id}", tag = "matchmaking",
    params(("id" = String, Path, description = "ticket id")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn get_ticket(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(seat_urls_for_this_request(
        &app,
        app.matchmaker.get(&id).await?,
    ))
    .into_response())
}

/// Cancels a searching ticket. The ticket stays readable, with status `cancelled`, for a while
/// after (as matched and expired ones do), so a client polling it learns what happened.
#[utoipa::path(delete, path = "/api/v1/matchmaking/tickets/{id}", tag = "matchmaking",
    params(("id" = String, Path, description = "ticket id")),
    responses((status = 200, body = TicketView), (status = 404, body = ErrorBody), (status = 409, description = "already matched", body = ErrorBody), (status = 503, description = "the cluster store is unavailable", body = ErrorBody)))]
pub async fn cancel_ticket(
    State(app): State<Arc<App>>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(seat_urls_for_this_request(
        &app,
        app.matchmaker.cancel(&id).await?,
    ))
    .into_response())
}

/// A ticket's seat URLs as this request's client reaches the server (the matcher booked them
/// between requests; see [`crate::lobby::seats::SeatBook::rebase`]).
fn seat_urls_for_this_request(app: &App, mut view: TicketView) -> TicketView {
    for seat in &mut view.seats {
        app.seats.rebase(seat);
    }
    view.ws_url = view.seats.first().map(|seat| seat.ws_url.clone());
    view
}

/// A seat right now: in an open room of the mode, or in a new one.
#[utoipa::path(post, path = "/api/v1/matchmaking/join-or-create", tag = "matchmaking", request_body = JoinOrCreate,
    responses(
        (status = 200, body = SeatGrant),
        (status = 400, body = ErrorBody),
        (status = 503, description = "no room can be opened now, or the cluster store is unavailable", body = ErrorBody),
    ))]
pub async fn join_or_create(
    State(app): State<Arc<App>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<JoinOrCreate>,
) -> Result<Json<SeatGrant>, ApiError> {
    let seat = match &app.cluster {
        Some(cluster) => {
            crate::cluster::join::join_or_create(&app, cluster, &req, addr.ip()).await?
        }
        None => app.matchmaker.join_or_create(&req, addr.ip()).await?,
    };
    Ok(Json(seat))
}
