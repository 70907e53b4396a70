//! Operations endpoints: `/healthz` (public) and `/metrics` (on the admin listener, see
//! [`admin_router`]). `/openapi.json` is assembled in [`super`].

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::App;

/// The health report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` while the server serves; `shutting_down` after a shutdown signal.
    pub status: &'static str,
    /// Open rooms.
    pub rooms: usize,
}

/// Whether the server serves.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn healthz(State(app): State<Arc<App>>) -> Json<Health> {
    let status = if app.shutdown.is_cancelled() {
        "shutting_down"
    } else {
        "ok"
    };
    Json(Health {
        status,
        rooms: app.registry.len(),
    })
}

/// Prometheus metrics (text exposition format 0.0.4).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    let text = app.metrics.render(app.gauges());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

/// The router of the operations listener (`--admin-bind`): `/metrics` and `/healthz`.
pub fn admin_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .fallback(super::error::not_found)
        .method_not_allowed_fallback(super::error::method_not_allowed)
        .with_state(app)
}
