//! `GET /api/v1/rooms/{id}/events`: the SSE spectator feed.
//!
//! The stream starts with a `snapshot` event, then carries `delta` events (ids are ticks) and
//! `end` when the room closes. A spectator that falls behind skips to a fresh snapshot; the room
//! never waits for it. One that stops reading is cut off by the connection's write deadline
//! (`--write-timeout`), which frees its slot. Streams are capped per room, per client address
//! and on the whole server.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Redirect, Response};
use futures_util::Stream;
use protocol::api::{ErrorBody, SpectatorSnapshot};
use tokio::sync::{broadcast, watch};

use super::addr_slots::{AddrSlot, AddrSlots};
use super::error::{ApiError, ApiPath};
use crate::app::App;
use crate::room::RoomHandle;
use crate::room::handle::SpectatorEvent;

/// Keep-alive comment interval.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Spectator streams per client address (`--spectators-per-addr`), shared by every request.
#[derive(Debug, Clone)]
pub struct SpectatorSlots(pub Arc<AddrSlots>);

/// Counts a spectator on its room, its address and the server while it lives.
struct Watcher {
    app: Arc<App>,
    room: Arc<RoomHandle>,
    _slot: AddrSlot,
}

impl Watcher {
    fn admit(
        app: &Arc<App>,
        room: &Arc<RoomHandle>,
        slots: &SpectatorSlots,
        ip: IpAddr,
    ) -> Result<Self, ApiError> {
        let slot = slots.0.try_acquire(ip).ok_or_else(|| ApiError {
            retry_after: Some(10),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_spectators",
                "this address already watches with as many streams as it may",
            )
        })?;
        let watcher = Self {
            app: app.clone(),
            room: room.clone(),
            _slot: slot,
        };
        let per_room = room.spectators.watchers.fetch_add(1, Ordering::AcqRel) + 1;
        let total = app.spectators.fetch_add(1, Ordering::AcqRel) + 1;
        if per_room > app.config.spectators_per_room || total > app.config.max_spectators {
            // Dropping the watcher undoes every count.
            drop(watcher);
            return Err(ApiError {
                retry_after: Some(10),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "spectators_full",
                    "no spectator slot is free; try again later",
                )
            });
        }
        Ok(watcher)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.room.spectators.watchers.fetch_sub(1, Ordering::AcqRel);
        self.app.spectators.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A room's live state as server-sent events.
#[utoipa::path(get, path = "/api/v1/rooms/{id}/events", tag = "rooms", operation_id = "room_events",
    params(("id" = u32, Path, description = "room id"), ("last-event-id" = Option<String>, Header, description = "resume: a fresh snapshot follows")),
    responses(
        (status = 200, description = "events `snapshot` (SpectatorSnapshot), `delta` (SpectatorDelta), `end`", content_type = "text/event-stream", body = String),
        (status = 404, body = ErrorBody),
        (status = 429, description = "this address holds `--spectators-per-addr` streams", body = ErrorBody),
        (status = 307, description = "the room runs on another node of the cluster: its feed there"),
        (status = 503, description = "spectator slots full, or the cluster store is unavailable", body = ErrorBody),
    ))]
pub async fn events(
    State(app): State<Arc<App>>,
    Extension(slots): Extension<SpectatorSlots>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(id): ApiPath<u32>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(room) = app.registry.get(id) else {
        let (_, view) = super::rooms::remote(&app, id).await?;
        return Ok(Redirect::temporary(&view.events_url).into_response());
    };
    Ok(feed(&app, room, &slots, peer.ip(), &headers)?.into_response())
}

/// The SSE stream of a room of this node.
fn feed(
    app: &Arc<App>,
    room: Arc<RoomHandle>,
    slots: &SpectatorSlots,
    ip: IpAddr,
    headers: &HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>> + use<>>, ApiError> {
    let id = room.id;
    let watcher = Watcher::admit(app, &room, slots, ip)?;
    if let Some(last) = headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        tracing::debug!(
            room = id,
            last_event_id = last,
            "spectator reconnects; sending a fresh snapshot"
        );
    }
    let feed = Feed {
        events: room.spectators.events.subscribe(),
        latest: room.spectators.latest.subscribe(),
        tick: None,
        done: false,
        shutdown: app.shutdown.clone(),
        _watcher: watcher,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next_event().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One spectator's position in the room's feed.
struct Feed {
    events: broadcast::Receiver<SpectatorEvent>,
    latest: watch::Receiver<Option<Arc<SpectatorSnapshot>>>,
    tick: Option<u32>,
    done: bool,
    shutdown: tokio_util::sync::CancellationToken,
    _watcher: Watcher,
}

impl Feed {
    async fn next_event(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            let Some(tick) = self.tick else {
                return self.snapshot().await;
            };
            let received = tokio::select! {
                _ = self.shutdown.cancelled() => return self.end(),
                r = self.events.recv() => r,
            };
            match received {
                Ok(SpectatorEvent::Delta { tick: t, .. }) if t <= tick => continue,
                Ok(SpectatorEvent::Delta {
                    tick: t,
                    baseline,
                    json,
                }) if baseline == tick => {
                    self.tick = Some(t);
                    return Some(
                        Event::default()
                            .event("delta")
                            .id(t.to_string())
                            .data(json.as_ref()),
                    );
                }
                // A gap (a delta from another baseline) or a lag: start over from a snapshot.
                Ok(SpectatorEvent::Delta { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    self.tick = None
                }
                Ok(SpectatorEvent::End) | Err(broadcast::error::RecvError::Closed) => {
                    return self.end();
                }
            }
        }
    }

    /// Waits for the room's latest state and sends it whole.
    async fn snapshot(&mut self) -> Option<Event> {
        let Feed {
            events,
            latest,
            shutdown,
            ..
        } = self;
        let snapshot = tokio::select! {
            _ = shutdown.cancelled() => None,
            () = ended(events) => None,
            s = latest.wait_for(Option::is_some) => s.ok().and_then(|s| s.clone()),
        };
        let Some(snapshot) = snapshot else {
            return self.end();
        };
        self.tick = Some(snapshot.tick);
        match serde_json::to_string(&*snapshot) {
            Ok(json) => Some(
                Event::default()
                    .event("snapshot")
                    .id(snapshot.tick.to_string())
                    .data(json),
            ),
            Err(e) => {
                tracing::error!(error = %e, "cannot encode a spectator snapshot");
                self.end()
            }
        }
    }

    fn end(&mut self) -> Option<Event> {
        self.done = true;
        Some(Event::default().event("end").data("{}"))
    }
}

/// Resolves when the room's feed ends (deltas before the first snapshot are of no use).
async fn ended(events: &mut broadcast::Receiver<SpectatorEvent>) {
    loop {
        match events.recv().await {
            Ok(SpectatorEvent::End) | Err(broadcast::error::RecvError::Closed) => return,
            Ok(SpectatorEvent::Delta { .. }) | Err(broadcast::error::RecvError::Lagged(_)) => {}
        }
    }
}
