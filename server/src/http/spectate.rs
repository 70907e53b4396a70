//! `GET /api/v1/rooms/{id}/events`: the SSE spectator feed.
//!
//! The stream starts with a `snapshot` event, then carries `delta` events (ids are ticks) and
//! `end` when the room closes. A spectator that falls behind skips to a fresh snapshot; the room
//! never waits for it. One that stops reading is cut off by the connection's write deadline
//! (`--write-timeout`), which frees its slot. Streams are capped per room, per client address
//! and on the whole server. With `?x=&y=&w=&h=` (`query`) the stream shows only that
//! rectangle of the world, at the full spectator rate (`view_feed`).

mod query;
mod view_feed;

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
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use protocol::api::{ErrorBody, SpectatorSnapshot};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use super::addr_slots::{AddrSlot, AddrSlots};
use super::error::{ApiError, ApiPath, ApiQuery};
use crate::app::App;
use crate::room::RoomHandle;
use crate::room::handle::SpectatorEvent;
use crate::room::spectator::viewport::Viewport;
use view_feed::ViewFeed;

/// Keep-alive comment interval.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Spectator streams per client address (`--spectators-per-addr`), shared by every request.
#[derive(Debug, Clone)]
pub struct SpectatorSlots(pub Arc<AddrSlots>);

/// Counts a spectator on its room, its address and the server while it lives.
pub struct Watcher {
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
    params(("id" = u32, Path, description = "room id"), ("last-event-id" = Option<String>, Header, description = "resume: a fresh snapshot follows"),
        ("x" = Option<f64>, Query, description = "viewport: left edge in world units (x, y, w and h all or none); the stream then carries only the entities whose position lies inside (and every one without a position), at the full spectator rate"),
        ("y" = Option<f64>, Query, description = "viewport: bottom edge in world units (y grows upwards)"),
        ("w" = Option<f64>, Query, description = "viewport: width in world units, more than 0"),
        ("h" = Option<f64>, Query, description = "viewport: height in world units, more than 0")),
    responses(
        (status = 200, description = "events `snapshot` (SpectatorSnapshot), `delta` (SpectatorDelta), `end`; without a viewport, a room with an interest radius updates at `--spectator-full-room-hz` (the snapshot's `update_hz`)", content_type = "text/event-stream", body = String),
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
    ApiQuery(params): ApiQuery<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let viewport = query::viewport(&params)?;
    let Some(room) = app.registry.get(id) else {
        let (_, view) = super::rooms::remote(&app, id).await?;
        let url = match &viewport {
            Some(v) => format!("{}?{}", view.events_url, query::to_query(v)),
            None => view.events_url,
        };
        return Ok(Redirect::temporary(&url).into_response());
    };
    feed(&app, room, viewport, &slots, peer.ip(), &headers)
}

/// The SSE stream of a room of this node: the whole room, or what `viewport` shows of it.
fn feed(
    app: &Arc<App>,
    room: Arc<RoomHandle>,
    viewport: Option<Viewport>,
    slots: &SpectatorSlots,
    ip: IpAddr,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let id = room.id;
    let watcher = Watcher::admit(app, &room, slots, ip)?;
    if let Some(last) = headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        tracing::debug!(
            room = id,
            last_event_id = last,
            "spectator reconnects; sending a fresh snapshot"
        );
    }
    let shutdown = app.shutdown.clone();
    let stream = match viewport {
        Some(viewport) => {
            let feed = ViewFeed::new(&room, viewport, shutdown, watcher);
            futures_util::stream::unfold(feed, |mut feed| async move {
                let event = feed.next_event().await?;
                Some((Ok(event), feed))
            })
            .boxed()
        }
        None => {
            let feed = Feed {
                events: room.spectators.events.subscribe(),
                latest: room.spectators.latest.subscribe(),
                tick: None,
                done: false,
                shutdown,
                _watcher: watcher,
            };
            futures_util::stream::unfold(feed, |mut feed| async move {
                let event = feed.next_event().await?;
                Some((Ok(event), feed))
            })
            .boxed()
        }
    };
    let stream: BoxStream<'static, Result<Event, Infallible>> = stream;
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
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
        json_event("snapshot", snapshot.tick, &*snapshot).or_else(|| self.end())
    }

    fn end(&mut self) -> Option<Event> {
        self.done = true;
        Some(end_event())
    }
}

/// An event `name` of `tick` carrying `body` as JSON; none (logged) if it cannot be encoded.
fn json_event(name: &'static str, tick: u32, body: &impl Serialize) -> Option<Event> {
    match serde_json::to_string(body) {
        Ok(json) => Some(Event::default().event(name).id(tick.to_string()).data(json)),
        Err(e) => {
            tracing::error!(error = %e, event = name, "cannot encode a spectator event");
            None
        }
    }
}

/// The last event of a stream: the room closed (or the server shuts down).
fn end_event() -> Event {
    Event::default().event("end").data("{}")
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
